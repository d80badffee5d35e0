#include "proxy/worker.hpp"

#include "net/log.hpp"
#include "proxy/session.hpp"

#include <algorithm>

#include <boost/asio/post.hpp>
#include <boost/assert.hpp>

namespace gatehouse::proxy {

namespace {

// Access log lines are handed to the sink in batches of about this size (or every tick).
constexpr std::size_t log_batch_bytes = 16 * 1024;
constexpr auto maintenance_tick = std::chrono::milliseconds(250);

}  // namespace

awaitable<void> accept_loop(worker* w, std::size_t slot) {
    auto& entry = w->acceptors_[slot];
    const std::size_t listener = entry.listener;
    for (;;) {
        auto limit = w->snapshot_->listeners()[listener].config->limits.max_connections;
        while (w->connections_[listener] >= limit && !w->stopping_) {
            // Over the listener's limit: wait until a connection closes.
            entry.resume->expires_after(std::chrono::seconds(1));
            co_await entry.resume->async_wait(use_nothrow);
        }
        if (w->stopping_ || !entry.acceptor->is_open()) co_return;
        auto [ec, socket] = co_await entry.acceptor->async_accept(use_nothrow);
        if (ec == asio::error::operation_aborted || w->stopping_) co_return;
        if (ec) {
            // Out of descriptors or memory: back off briefly instead of spinning.
            GATEHOUSE_LOG(warning, "proxy") << "accept failed: " << ec.message();
            asio::steady_timer pause(w->context_, std::chrono::milliseconds(50));
            co_await pause.async_wait(use_nothrow);
            continue;
        }
        client_address_limiter::slot hold;
        const auto& limits = w->snapshot_->listeners()[listener].config->limits;
        if (auto cap = limits.max_connections_per_client) {
            error_code peer_ec;
            auto peer = socket.remote_endpoint(peer_ec);
            if (peer_ec) continue;  // already gone
            hold = entry.per_client->try_acquire(peer.address(), cap);
            if (!hold.held()) {
                // Refused with a reset: the client learns at once, and no TIME_WAIT stays here.
                // Counted first, so that whoever sees the reset also sees the count.
                w->counters_.refused_per_client.add();
                error_code ignored;
                socket.set_option(asio::socket_base::linger(true, 0), ignored);
                socket.close(ignored);
                continue;
            }
        }
        asio::co_spawn(w->context_, run_session(w, std::move(socket), listener, std::move(hold)),
                       log_session_end);
    }
}

awaitable<void> maintenance_loop(worker* w) {
    while (!w->finished_) {
        w->maintenance_.expires_after(maintenance_tick);
        co_await w->maintenance_.async_wait(use_nothrow);
        if (w->finished_) break;
        w->pool_.sweep(steady_clock::now());
        w->counters_.upstream_idle.store(w->pool_.idle(), std::memory_order_relaxed);
        w->flush_log();
    }
}

// Asks the connections that have waited park_delay for their next request to compact, and the
// parked ones whose timeout has passed to expire. While connections are idle it ticks at half
// park_delay, so a connection parks after waiting between 1 and 1.5 park_delay: never between
// the requests of a busy connection. Otherwise it sleeps until the first parked timeout (or
// until idle_begin() wakes it).
awaitable<void> compaction_loop(worker* w) {
    while (!w->finished_) {
        if (w->idle_.head) {
            w->compaction_.expires_after(worker::park_delay / 2);
        } else {
            auto next = steady_clock::time_point::max();
            for (const auto& p : w->parked_)
                if (p.list.head) next = std::min(next, p.list.head->idle_since_ + p.timeout);
            w->compaction_.expires_at(next);
            w->compaction_asleep_ = true;
        }
        co_await w->compaction_.async_wait(use_nothrow);
        w->compaction_asleep_ = false;
        if (w->finished_) break;
        // Completions are posted, never run here: the lists change only as done below.
        const auto now = steady_clock::now();
        while (w->idle_.head && w->idle_.head->idle_since_ + worker::park_delay <= now) {
            auto* c = w->idle_.head;
            w->idle_end(*c);
            c->compact();
        }
        for (auto& p : w->parked_) {
            while (p.list.head && p.list.head->idle_since_ + p.timeout <= now) {
                auto* c = p.list.head;
                w->idle_end(*c);
                c->expire();
            }
        }
    }
}

worker::worker(unsigned index, access_log_sink* log)
    : index_(index), maintenance_(context_), compaction_(context_), stop_deadline_(context_),
      log_(log) {}

worker::~worker() {
    flush_log();
}

void worker::add_acceptor(std::unique_ptr<tcp::acceptor> acceptor, std::size_t listener,
                          client_address_limiter* per_client) {
    BOOST_ASSERT(per_client != nullptr);
    if (connections_.size() <= listener) connections_.resize(listener + 1, 0);
    acceptors_.push_back({std::move(acceptor), listener,
                          std::make_unique<asio::steady_timer>(context_), per_client});
}

void worker::run() {
    if (connections_.size() < snapshot_->listeners().size())
        connections_.resize(snapshot_->listeners().size(), 0);
    for (std::size_t i = 0; i < acceptors_.size(); ++i)
        asio::co_spawn(context_, accept_loop(this, i), asio::detached);
    asio::co_spawn(context_, maintenance_loop(this), asio::detached);
    asio::co_spawn(context_, compaction_loop(this), asio::detached);
    for (;;) {
        try {
            context_.run();
            break;
        } catch (const std::exception& e) {
            // A handler threw past its coroutine: log it and keep serving the others.
            GATEHOUSE_LOG(error, "proxy") << "worker " << index_ << ": " << e.what();
        }
    }
    flush_log();
}

void worker::post_snapshot(std::shared_ptr<const snapshot> s) {
    asio::post(context_, [this, s = std::move(s)]() mutable { snapshot_ = std::move(s); });
}

void worker::post_stop(milliseconds deadline) {
    asio::post(context_, [this, deadline] { begin_stop(deadline); });
}

void worker::begin_stop(milliseconds deadline) {
    if (stopping_) return;
    stopping_ = true;
    error_code ignored;
    for (auto& a : acceptors_) {
        a.acceptor->close(ignored);
        a.resume->cancel();
    }
    // Idle connections go now; the others after their current response.
    auto open = connections_open_;
    for (auto* c : open) c->close_if_idle();
    stop_deadline_.expires_after(deadline);
    stop_deadline_.async_wait([this](error_code ec) {
        if (ec) return;
        auto left = connections_open_;
        if (!left.empty()) {
            GATEHOUSE_LOG(info, "proxy")
                << "stop deadline: closing " << left.size() << " connection(s) still busy";
        }
        for (auto* c : left) c->abort();
    });
    finish_if_drained();
}

void worker::finish_if_drained() {
    if (!stopping_ || finished_ || !connections_open_.empty()) return;
    finished_ = true;
    stop_deadline_.cancel();
    maintenance_.cancel();
    compaction_.cancel();
    pool_.clear();
    read_buffers_.clear();
    counters_.upstream_idle.store(0, std::memory_order_relaxed);
    flush_log();
}

void worker::attach(connection_handle& c, std::size_t listener) {
    c.registry_index_ = connections_open_.size();
    connections_open_.push_back(&c);
    ++connections_[listener];
}

void worker::connection_list::push_back(connection_handle& c) noexcept {
    c.prev_ = tail;
    c.next_ = nullptr;
    (tail ? tail->next_ : head) = &c;
    tail = &c;
}

void worker::connection_list::erase(connection_handle& c) noexcept {
    (c.prev_ ? c.prev_->next_ : head) = c.next_;
    (c.next_ ? c.next_->prev_ : tail) = c.prev_;
    c.prev_ = c.next_ = nullptr;
}

void worker::idle_begin(connection_handle& c, steady_clock::time_point now,
                        steady_clock::duration timeout) noexcept {
    BOOST_ASSERT(c.list_ == connection_handle::unlisted);
    c.idle_since_ = now;
    c.idle_timeout_ = timeout;
    idle_.push_back(c);
    c.list_ = connection_handle::idle_list;
    wake_compaction();  // back to ticking
}

void worker::wake_compaction() noexcept {
    if (!compaction_asleep_) return;
    compaction_asleep_ = false;
    compaction_.cancel();
}

void worker::park(connection_handle& c) {
    BOOST_ASSERT(c.list_ == connection_handle::unlisted);
    // Few distinct timeouts exist (per listener: header and keep-alive): a linear search.
    std::size_t i = 0;
    while (i < parked_.size() && parked_[i].timeout != c.idle_timeout_) ++i;
    if (i == parked_.size()) parked_.push_back({c.idle_timeout_, {}});
    // Connections park in the order they became idle, so each list stays in deadline order.
    parked_[i].list.push_back(c);
    c.list_ = static_cast<int>(i);
    wake_compaction();  // its timeout may come before the one the loop sleeps until
}

void worker::idle_end(connection_handle& c) noexcept {
    if (c.list_ == connection_handle::unlisted) return;
    (c.list_ == connection_handle::idle_list ? idle_ : parked_[c.list_].list).erase(c);
    c.list_ = connection_handle::unlisted;
}

void worker::detach(connection_handle& c, std::size_t listener) {
    idle_end(c);
    auto i = c.registry_index_;
    BOOST_ASSERT(i < connections_open_.size() && connections_open_[i] == &c);
    connections_open_[i] = connections_open_.back();
    connections_open_[i]->registry_index_ = i;
    connections_open_.pop_back();
    --connections_[listener];
    for (auto& a : acceptors_)
        if (a.listener == listener) a.resume->cancel();
    finish_if_drained();
}

beast::flat_buffer worker::take_read_buffer() {
    if (read_buffers_.empty()) return beast::flat_buffer();
    beast::flat_buffer b = std::move(read_buffers_.back());
    read_buffers_.pop_back();
    return b;
}

void worker::give_read_buffer(beast::flat_buffer&& buffer) {
    // Keep as many as the busiest moment needed, within reason; the rest are freed.
    constexpr std::size_t keep = 1024;
    if (buffer.capacity() == 0) return;
    buffer.clear();
    if (read_buffers_.size() < keep) read_buffers_.push_back(std::move(buffer));
    buffer = beast::flat_buffer();
}

void worker::log(const access_record& record) {
    if (!log_) return;
    append_w3c_line(record, log_buffer_);
    if (log_buffer_.size() >= log_batch_bytes) flush_log();
}

void worker::flush_log() {
    if (!log_ || log_buffer_.empty()) return;
    log_->write(log_buffer_);
    log_buffer_.clear();
}

}  // namespace gatehouse::proxy
