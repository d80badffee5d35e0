#pragma once
// One worker thread: its own io_context, its own acceptor per listener (SO_REUSEPORT), its own
// upstream connection pool, relay buffers, request ids and counters. Nothing here is shared
// with another worker except the configuration snapshot (immutable) and server runtime state
// (atomics). Members marked "worker thread" may only be used from code running on context().

#include "proxy/access_log.hpp"
#include "proxy/buffer_pool.hpp"
#include "proxy/client_address_limiter.hpp"
#include "proxy/request_id.hpp"
#include "proxy/snapshot.hpp"
#include "proxy/stats.hpp"
#include "proxy/upstream_pool.hpp"

#include <array>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>

namespace gatehouse::proxy {

struct alignas(64) worker_counters {
    counter connections_opened;
    counter connections_closed;
    counter requests;
    counter redirects;
    counter aborted_by_rule;
    counter upstream_opened;
    counter refused_per_client;  // closed at once: the client address was at its cap
    std::array<counter, generated_response_kinds> generated{};
    std::atomic<std::uint64_t> upstream_idle{0};  // a gauge, stored by the worker
    std::atomic<std::uint64_t> connections_parked{0};  // a gauge: compacted idle connections
};

class worker;
awaitable<void> compaction_loop(worker* w);

// What a worker needs of a client connection to stop it.
class connection_handle {
public:
    // Graceful stop: close the connection if it waits for a request with nothing read.
    virtual void close_if_idle() noexcept = 0;
    // The connection has waited on the worker's idle list for its next request long enough:
    // it gives up what it holds for serving one (see session::park). It left the list first.
    virtual void compact() noexcept = 0;
    // A parked connection's wait passed its timeout (see worker::park): end the wait. It left
    // the parked list first.
    virtual void expire() noexcept = 0;
    // Stop deadline passed: close the client connection and any back-end connection now.
    virtual void abort() noexcept = 0;

protected:
    ~connection_handle() = default;

private:
    friend class worker;
    friend awaitable<void> compaction_loop(worker* w);
    std::size_t registry_index_ = 0;
    // On the idle list or a parked list (see worker::idle_begin and park), oldest first.
    static constexpr int unlisted = -2;
    static constexpr int idle_list = -1;  // a parked list is named by its index
    connection_handle* prev_ = nullptr;
    connection_handle* next_ = nullptr;
    steady_clock::time_point idle_since_{};
    steady_clock::duration idle_timeout_{};
    int list_ = unlisted;
};

class worker {
public:
    worker(unsigned index, access_log_sink* log);
    ~worker();
    worker(const worker&) = delete;
    worker& operator=(const worker&) = delete;

    unsigned index() const noexcept { return index_; }
    asio::io_context& context() noexcept { return context_; }
    const worker_counters& counters() const noexcept { return counters_; }
    std::uint64_t relay_buffers_in_use() const noexcept { return buffers_.in_use(); }

    // Before run(), from the thread that starts the proxy.
    // `per_client` counts the listener's connections per client address (shared by workers).
    void add_acceptor(std::unique_ptr<tcp::acceptor> acceptor, std::size_t listener,
                      client_address_limiter* per_client);
    void set_initial_snapshot(std::shared_ptr<const snapshot> s) { snapshot_ = std::move(s); }
    // The thread body: serves until a stop has drained every connection.
    void run();

    // From any thread.
    void post_snapshot(std::shared_ptr<const snapshot> s);
    // Stop accepting, close idle connections, let requests in flight finish; after `deadline`
    // close whatever is left.
    void post_stop(milliseconds deadline);

    // Worker thread only.
    const std::shared_ptr<const snapshot>& current() const noexcept { return snapshot_; }
    upstream_pool& pool() noexcept { return pool_; }
    buffer_pool& buffers() noexcept { return buffers_; }
    request_id_generator& ids() noexcept { return ids_; }
    worker_counters& counters() noexcept { return counters_; }
    bool stopping() const noexcept { return stopping_; }
    // Read buffers of plain client connections, lent while a request is being read and given
    // back while the connection waits for the next one: an idle connection holds no buffer, a
    // busy worker allocates none.
    beast::flat_buffer take_read_buffer();
    void give_read_buffer(beast::flat_buffer&& buffer);
    bool logging() const noexcept { return log_ != nullptr; }
    void log(const access_record& record);
    void attach(connection_handle& c, std::size_t listener);
    void detach(connection_handle& c, std::size_t listener);
    // A connection that waits since `now` for its next request, for at most `timeout`, joins
    // the idle list; one that has waited park_delay is asked to compact(). A compacted
    // connection that parks hands its timeout to the worker with park(): it is asked to
    // expire() when the timeout has passed (within a compaction tick). idle_end() (also done
    // by detach) takes a connection off either list.
    void idle_begin(connection_handle& c, steady_clock::time_point now,
                    steady_clock::duration timeout) noexcept;
    void park(connection_handle& c);
    void idle_end(connection_handle& c) noexcept;
    static constexpr auto park_delay = std::chrono::milliseconds(10);

private:
    friend awaitable<void> accept_loop(worker* w, std::size_t slot);
    friend awaitable<void> maintenance_loop(worker* w);
    friend awaitable<void> compaction_loop(worker* w);

    void begin_stop(milliseconds deadline);
    void wake_compaction() noexcept;
    void finish_if_drained();
    void flush_log();

    struct acceptor_slot {
        std::unique_ptr<tcp::acceptor> acceptor;
        std::size_t listener = 0;
        std::unique_ptr<asio::steady_timer> resume;  // cancelled when a connection closes
        client_address_limiter* per_client = nullptr;
    };

    unsigned index_;
    // One thread runs it: no locking in the reactor's descriptor operations (posts from other
    // threads still go through the scheduler's lock).
    asio::io_context context_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    std::shared_ptr<const snapshot> snapshot_;
    std::vector<acceptor_slot> acceptors_;
    std::vector<std::uint32_t> connections_;  // per listener
    asio::steady_timer maintenance_;
    asio::steady_timer compaction_;
    asio::steady_timer stop_deadline_;
    upstream_pool pool_;
    buffer_pool buffers_;
    std::vector<beast::flat_buffer> read_buffers_;
    request_id_generator ids_;
    worker_counters counters_;
    access_log_sink* log_;
    std::string log_buffer_;
    bool stopping_ = false;
    bool finished_ = false;
    std::vector<connection_handle*> connections_open_;
    struct connection_list {
        connection_handle* head = nullptr;  // waiting longest
        connection_handle* tail = nullptr;
        void push_back(connection_handle& c) noexcept;
        void erase(connection_handle& c) noexcept;
    };
    connection_list idle_;
    // Parked connections, one list per timeout in use: each list is in deadline order.
    struct parked_list {
        steady_clock::duration timeout{};
        connection_list list;
    };
    std::vector<parked_list> parked_;
    bool compaction_asleep_ = false;  // compaction_loop waits for a parked timeout, not a tick
};

}  // namespace gatehouse::proxy
