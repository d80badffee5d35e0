#include "proxy/session.hpp"

#include "net/deadline_clock.hpp"
#include "net/http_io.hpp"
#include "net/log.hpp"
#include "proxy/affinity.hpp"
#include "proxy/error_triple.hpp"
#include "proxy/exchange_protection.hpp"
#include "proxy/farm_health.hpp"
#include "proxy/forwarding.hpp"
#include "proxy/request_validator.hpp"
#include "proxy/worker.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <optional>

#include <boost/asio/ssl/error.hpp>
#include <openssl/ssl.h>

namespace gatehouse::proxy {

namespace {

// Response heads from back ends may be larger than what we accept from clients (Exchange sends
// many Set-Cookie lines), but never unbounded: beyond this the response is invalid (12152).
constexpr net::parser_limits response_limits{64 * 1024, 64 * 1024, 64 * 1024, 1000, 8 * 1024, {}};

// Interim (1xx) responses relayed for one request before the back end counts as broken.
constexpr unsigned max_interim_responses = 32;

// How long a finished response waits for the request-body pump to finish its last write
// before the connection is given up (the client stopped sending a body nobody read).
constexpr auto pump_grace = std::chrono::seconds(1);

// Body bytes leaving with the response head are copied behind it, to go out as one buffer, when
// they are no more than this; more go out beside the head, uncopied.
constexpr std::size_t coalesce_bytes = 8192;

void log_failure(std::exception_ptr e, std::string_view what) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        GATEHOUSE_LOG(error, "proxy") << what << ": " << ex.what();
    } catch (...) {
        GATEHOUSE_LOG(error, "proxy") << what;
    }
}

bool is_idempotent(std::string_view method) {
    for (auto m : {"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})
        if (method == m) return true;
    return false;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && net::iequals(s.substr(0, prefix.size()), prefix);
}

// Connection-bound authentication: NTLM, or Negotiate (which may carry NTLM).
bool connection_auth(std::string_view value) {
    return starts_with_ci(value, "NTLM") || starts_with_ci(value, "Negotiate");
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// A malformed message (as opposed to a connection that failed or closed).
bool is_parse_error(const error_code& ec) {
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return false;
    static const auto& beast_http = error_code(http::error::bad_method).category();
    return ec.category() == net::http_category() || ec.category() == beast_http;
}

error_triple triple_for_parse_error(const error_code& ec) {
    switch (net::status_for_parse_error(ec)) {
        case 414:
            return errors::uri_too_long;
        case 431:
            return errors::header_too_large;
        default:
            return errors::bad_request;
    }
}

// Maps a failure while talking to an established back-end connection.
error_triple upstream_failure(const error_code& ec) {
    if (ec == asio::error::timed_out) return errors::timeout;
    if (is_parse_error(ec) || ec == http::error::body_limit) return errors::invalid_response;
    return errors::connection_error;
}

enum class pump_result {
    none,             // no body, or still running
    done,             // the whole body reached the back end
    client_gone,      // the client closed or reset
    client_timeout,   // the client stopped sending mid-body
    client_bad,       // malformed chunked framing from the client
    too_large,        // over max_allowed_content_length (chunked bodies)
    upstream_failed,  // the back end stopped taking the body
    stopped,          // stopped by stop_pump(): the request's outcome is decided elsewhere
};

struct log_state {
    error_triple triple{};
    std::uint64_t sc_bytes = 0;
    std::uint64_t cs_bytes = 0;
    std::string_view farm{};
    std::string_view server{};
    // The server the outcome is reported against (live traffic test, outlier ejection).
    const farm_snapshot* outcome_farm = nullptr;
    std::size_t outcome_server = 0;
};

// Per-attempt accounting of one request against one server (ARR's monitoring counters).
class server_accounting {
public:
    void begin(server_runtime* s, unsigned thread) {
        server_ = s;
        thread_ = thread;
        server_->counters(thread).requests.add();
        server_->in_flight.fetch_add(1, std::memory_order_relaxed);
    }
    void end(bool failed, std::uint64_t sent, std::uint64_t received, std::uint64_t time_taken_ms) {
        if (!server_) return;
        auto& c = server_->counters(thread_);
        c.finished.add();
        if (failed) c.failed.add();
        c.bytes_sent.add(sent);
        c.bytes_received.add(received);
        c.time_taken_ms.add(time_taken_ms);
        server_->in_flight.fetch_sub(1, std::memory_order_relaxed);
        server_->traffic_bytes.fetch_add(sent + received, std::memory_order_relaxed);
        server_ = nullptr;
    }
    bool active() const noexcept { return server_ != nullptr; }
    ~server_accounting() { end(false, 0, 0, 0); }

private:
    server_runtime* server_ = nullptr;
    unsigned thread_ = 0;
};

// The working memory of one request: heads, parsers, scratch strings. Connections borrow one
// per request from a per-thread pool and give it back when they go idle, so an idle connection
// holds none of it and a busy worker allocates none. (Worker threads are dedicated, so the
// thread's pool is the worker's.)
struct request_state {
    net::http_head request{};
    net::http_head response{};
    std::optional<net::request_parser> request_parser{};
    std::optional<net::response_parser> response_parser{};
    std::string out{};  // heads and generated responses on their way out
    std::string target_storage{};
    std::string host_storage{};
    rule_scratch scratch{};
    exchange_scratch exchange{};
    std::string hash_scratch{};
    std::vector<server_load> loads{};
    std::vector<bool> tried{};

    // The request in progress (serve_one() resets what is not simply overwritten).
    std::string_view target{};
    std::string_view host{};
    std::string_view affinity_cookie{};  // the request's affinity cookie value (request head)
    std::array<char, 36> request_id{};
    log_state log{};
    std::string forwarded_for{};  // X-Forwarded-For's value for this client
    std::string local_ip{};       // the access log's s-ip
    std::string reply_text{};     // a generated answer's description (a redirect's)
    std::string reply_headers{};  // a generated answer's extra header lines
    std::array<asio::const_buffer, 5> pieces{};  // a response's next write to the client
    std::string chunk_line{};                    // a re-chunked body's chunk-size line
};

std::vector<std::unique_ptr<request_state>>& state_pool() {
    thread_local std::vector<std::unique_ptr<request_state>> pool;
    return pool;
}

std::unique_ptr<request_state> take_state() {
    auto& pool = state_pool();
    if (pool.empty()) return std::make_unique<request_state>();
    auto st = std::move(pool.back());
    pool.pop_back();
    return st;
}

void give_state(std::unique_ptr<request_state> st) {
    constexpr std::size_t keep = 1024;
    if (!st) return;
    st->request_parser.reset();
    st->response_parser.reset();
    auto& pool = state_pool();
    if (pool.size() < keep) pool.push_back(std::move(st));
}

class session final : public connection_handle {
public:
    // Registers with the worker; `hold` (the client address's slot) is kept until the end.
    session(worker& w, tcp::socket socket, std::size_t listener,
            client_address_limiter::slot hold);
    ~session();
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    // Serves a new connection until it closes (see run_session).
    static awaitable<void> start(worker* w, tcp::socket socket, std::size_t listener,
                                 client_address_limiter::slot hold);

    void close_if_idle() noexcept override {
        if (idle_ && client_) client_->close();
    }
    void compact() noexcept override;
    void expire() noexcept override;
    void abort() noexcept override;

private:
    // The wait for a parked connection's next request (see park()); owns the session.
    struct parked_wait {
        std::unique_ptr<session> s;
        void operator()(error_code ec);
        using allocator_type = exact_allocator<void>;
        allocator_type get_allocator() const noexcept { return {}; }
    };

    const listener_limits& limits() const { return snap_->listeners()[listener_].config->limits; }

    // The connection's coroutine: from a new connection (`woke` empty), or from a parked one
    // whose wait ended with `woke`. It returns when the connection has closed, or when it has
    // parked the connection (see park()).
    static awaitable<void> serve(std::unique_ptr<session> s, std::optional<error_code> woke);
    // An idle plain connection asked to compact: its coroutine ends, and only the session and a
    // readiness wait on its socket (no buffer) stay until the next request's bytes arrive.
    static void park(std::unique_ptr<session> s);
    awaitable<bool> handshake();
    // Around the wait for the first byte of the next request; false: the connection is done.
    void begin_wait();
    bool end_wait(const error_code& ec, std::span<const char> first_bytes);
    awaitable<bool> serve_one();
    awaitable<void> close();
    // After an internal error: make sure no coroutine still refers to this session.
    awaitable<void> wind_down();
    // What decide() made of a request: an answer of the proxy's own, a route, or an abort.
    struct decision {
        enum class action { respond, forward, abort } what = action::respond;
        error_triple triple{};
        bool close = true;
        std::string_view reason{};
        std::string_view description{};    // may point into the request state
        std::string_view extra_headers{};  // may point into the request state
        rule_result route{};
    };
    // Validates the request and gives it to the rules. Not a coroutine: serve_one() awaits
    // what it decides (one coroutine frame fewer per request).
    decision decide();
    // True when the SNI name and the request's host select different certificates.
    bool misdirected();
    // The current request as the rules and the request-hash balancer see it.
    request_view request_view_of() const;
    awaitable<bool> forward(const rule_result& route);
    // forward()'s steps that do not wait, kept out of its coroutine frame (a frame over Asio's
    // 1020-byte recycling limit is allocated and freed on every request).
    struct request_traits {
        bool expect_continue = false;  // HTTP/1.1 with Expect: 100-continue
        bool connection_auth = false;  // Authorization with NTLM or Negotiate
    };
    request_traits traits_of_request() const;
    void prepare_forwarded_for(const proxy_settings& settings);
    // Picks a server by the farm's algorithm among those eligible and not tried; -1: none.
    int balance(const farm_snapshot& farm, unsigned thread);
    void write_request_head(const proxy_settings& settings, const server_slot& slot,
                            std::string_view target, bool keep_alive, bool forward_expect);
    // Whether a 401 asks for NTLM or Negotiate (the connection is then pinned to the client).
    bool response_pins() const;
    void note_response_time(const server_slot& slot, steady_clock::time_point sent_at);
    // The server the request's affinity cookie names, when it may still take the client (not
    // tried yet, healthy, Available or Draining); -1 otherwise. Sets st_->affinity_cookie.
    int affinity_server(const farm_snapshot& farm);
    // Host-name affinity: leaves eligible in st_->loads only the servers the request's host is
    // allocated to.
    void restrict_to_host(const farm_snapshot& farm, steady_clock::time_point now);
    // How a response goes to the client, decided with its head (written to st_->out).
    struct response_plan {
        bool head_only = false;    // no body to relay
        bool rechunk = false;      // the body goes out chunked
        bool until_close = false;  // the back end delimits the body by closing
        bool close = false;        // the client connection closes after it
    };
    response_plan write_response_head(const farm_snapshot& farm, const server_slot& slot);
    // Fills st_->pieces with what goes to the client next: the head (when `with_head`), the
    // `body` bytes (framed as a chunk when `rechunk`), and the last chunk (when `last`).
    // Returns how many pieces.
    std::size_t gather_response_pieces(bool with_head, std::span<const char> body, bool rechunk,
                                       bool last);
    awaitable<bool> relay_response(const farm_snapshot& farm, const server_slot& slot,
                                   std::uint64_t threshold, bool pin_requested);
    awaitable<void> pump_body();
    void start_pump();
    awaitable<bool> wait_pump(steady_clock::duration limit);
    awaitable<void> stop_pump();
    // Gives up the back-end connection (stopping the body pump first).
    awaitable<void> drop_upstream();

    awaitable<std::tuple<error_triple, std::unique_ptr<upstream_connection>>> connect(
        const farm_snapshot& farm, const server_slot& slot);

    awaitable<error_code> write_client(std::span<const asio::const_buffer> buffers);
    awaitable<error_code> write_client(std::string_view bytes);
    // Before and after a write to the client (write_client() is both around one write; the
    // response path calls them around its own, sparing a coroutine frame).
    void before_client_write();
    error_code client_written(const net::stream::io_result& result);
    // Sends a proxy-generated response; returns whether the connection may stay open.
    awaitable<bool> respond(const error_triple& e, bool close, std::string_view reason = {},
                            std::string_view description = {}, std::string_view extra_headers = {});
    void finish_log();
    steady_clock::duration client_write_timeout() const;
    std::uint64_t request_head_bytes() const;

    worker& w_;
    std::size_t listener_;
    bool https_;
    std::shared_ptr<const snapshot> snap_;
    std::optional<net::stream> client_;
    beast::flat_buffer client_buffer_;
    std::unique_ptr<request_state> st_;  // lent while a request is handled
    std::unique_ptr<client_address_limiter::slot> hold_;  // only when a slot is held

    std::string client_ip_;
    std::uint16_t client_port_ = 0;
    std::uint16_t local_port_ = 0;

    bool idle_ = false;
    bool park_requested_ = false;  // compact() cancelled the wait to park
    bool parked_ = false;
    bool aborted_ = false;
    bool client_keep_alive_ = true;
    unsigned served_ = 0;

    // NTLM/Negotiate: back-end connections bound to this client connection, one per farm.
    struct pinned_connection {
        const farm_runtime* farm = nullptr;
        std::unique_ptr<upstream_connection> connection{};
    };
    std::vector<pinned_connection> pinned_;

    // The request in progress.
    std::unique_ptr<upstream_connection> upstream_;
    steady_clock::time_point started_{};
    milliseconds timeout_{30'000};
    std::uint64_t body_limit_ = 0;
    std::uint64_t body_sent_ = 0;
    std::uint64_t head_sent_ = 0;
    bool has_body_ = false;
    bool linger_ = false;  // refused before the request's framing was checked
    bool awaiting_head_ = false;
    bool pump_running_ = false;
    bool pump_stopping_ = false;  // stop_pump() cancelled the pump's operations
    pump_result pump_ = pump_result::none;
    std::unique_ptr<asio::steady_timer> pump_timer_;  // made by the first body pump
};

session::session(worker& w, tcp::socket socket, std::size_t listener,
                 client_address_limiter::slot hold)
    : w_(w), listener_(listener), snap_(w.current()) {
    const auto& ls = snap_->listeners()[listener_];
    https_ = ls.config->tls;
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (https_)
        client_.emplace(std::move(socket), ls.tls->context());
    else
        client_.emplace(std::move(socket));
    const auto& remote = client_->remote_endpoint();
    client_ip_ = remote.address().to_string();
    client_port_ = remote.port();
    local_port_ = client_->local_endpoint().port();
    if (hold.held()) hold_ = std::make_unique<client_address_limiter::slot>(std::move(hold));
    // Last: nothing above may throw once the worker knows the session.
    w_.attach(*this, listener_);
    w_.counters().connections_opened.add();
}

session::~session() {
    w_.counters().connections_closed.add();
    w_.detach(*this, listener_);
}

void session::compact() noexcept {
    if (!idle_ || parked_ || park_requested_ || !client_ || !client_->is_open()) return;
    park_requested_ = true;
    error_code ignored;
    client_->socket().cancel(ignored);
}

void session::expire() noexcept {
    error_code ignored;
    if (parked_ && client_) client_->socket().cancel(ignored);
}

void session::park(std::unique_ptr<session> s) {
    s->park_requested_ = false;
    s->parked_ = true;
    // The worker keeps the wait's deadline (see expire()): no timer and no timer wait stay.
    s->client_->release_deadline();
    s->w_.park(*s);
    s->w_.counters().connections_parked.fetch_add(1, std::memory_order_relaxed);
    auto& socket = s->client_->socket();
    // A readiness wait re-arms the descriptor, so bytes that arrived before it still wake it.
    socket.async_wait(tcp::socket::wait_read, parked_wait{std::move(s)});
}

void session::parked_wait::operator()(error_code ec) {
    s->parked_ = false;
    s->w_.idle_end(*s);
    s->w_.counters().connections_parked.fetch_sub(1, std::memory_order_relaxed);
    auto& context = s->w_.context();
    asio::co_spawn(context, serve(std::move(s), ec), log_session_end);
}

void session::abort() noexcept {
    aborted_ = true;
    if (client_) client_->close();
    if (upstream_) upstream_->stream.close();
    for (auto& p : pinned_)
        if (p.connection) p.connection->stream.close();
}

steady_clock::duration session::client_write_timeout() const {
    // While the body pump reads from the same stream, both share its deadline: take the longer.
    auto send = limits().send_timeout;
    return pump_running_ ? std::max<steady_clock::duration>(send, timeout_) : send;
}

void session::before_client_write() {
    client_->expires_after(client_write_timeout());
}

error_code session::client_written(const net::stream::io_result& result) {
    auto [ec, n] = result;
    st_->log.sc_bytes += n;
    // A client that stopped reading (slow read): drop what the kernel still buffers for it
    // with a reset instead of a FIN queued behind it.
    if (ec == asio::error::timed_out) client_->reset();
    return ec;
}

awaitable<error_code> session::write_client(std::span<const asio::const_buffer> buffers) {
    before_client_write();
    auto written = co_await client_->write(buffers);
    co_return client_written(written);
}

awaitable<error_code> session::write_client(std::string_view bytes) {
    asio::const_buffer b(bytes.data(), bytes.size());
    co_return co_await write_client(std::span<const asio::const_buffer>(&b, 1));
}

std::uint64_t session::request_head_bytes() const {
    // The received head re-counted: request line, fields with ": " and CRLF, empty line.
    return st_->request.method.size() + st_->request.target.size() + 12 +
           st_->request.fields.bytes() + 4 * st_->request.fields.size() + 2;
}

// GCC 12 inlines Asio's frame allocator and deallocator into this ramp and then mistakes the
// pair for mismatched (asio::detail::thread_info_base recycles frames with aligned_new/delete).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
awaitable<void> nothing() {
    co_return;
}

// Not a coroutine: a new connection's first wait holds only serve()'s frame.
awaitable<void> session::start(worker* w, tcp::socket socket, std::size_t listener,
                               client_address_limiter::slot hold) {
    std::unique_ptr<session> s;
    try {
        s = std::make_unique<session>(*w, std::move(socket), listener, std::move(hold));
    } catch (const std::exception& e) {
        GATEHOUSE_LOG(error, "proxy") << "cannot serve a connection: " << e.what();
        return nothing();
    }
    return serve(std::move(s), std::nullopt);
}

// While a connection waits for its next request, this frame, the session and the pending read
// are what it costs; once parked, only the session and a readiness wait.
awaitable<void> session::serve(std::unique_ptr<session> s, std::optional<error_code> woke) {
    // A plain idle connection's first read: no read buffer is held while waiting for it.
    std::array<char, 256> first_bytes;
    std::exception_ptr failure;
    try {
        bool open = woke ? s->end_wait(*woke, {}) : !s->https_ || co_await s->handshake();
        while (open && !s->aborted_) {
            if (s->client_buffer_.size() == 0) {
                give_state(std::move(s->st_));
                s->begin_wait();
                error_code ec;
                std::size_t n = 0;
                if (s->https_) {
                    std::tie(ec, n) = co_await s->client_->read_some(
                        s->client_buffer_.prepare(net::read_chunk_bytes));
                } else {
                    std::tie(ec, n) = co_await s->client_->read_some(asio::buffer(first_bytes));
                    if (ec == asio::error::operation_aborted && s->park_requested_ &&
                        !s->aborted_ && !s->client_->expired() && s->client_->is_open()) {
                        park(std::move(s));
                        co_return;
                    }
                }
                if (!s->end_wait(ec, std::span<const char>(first_bytes.data(), n))) break;
            }
            if (!s->st_) s->st_ = take_state();
            bool keep = co_await s->serve_one();
            ++s->served_;
            if (!keep || s->w_.stopping()) break;
        }
        co_await s->close();
    } catch (...) {
        failure = std::current_exception();
    }
    if (failure) {
        log_failure(failure, "connection ended by an internal error");
        if (s) co_await s->wind_down();
    }
}
#pragma GCC diagnostic pop

awaitable<bool> session::handshake() {
    client_->expires_after(limits().header_timeout);
    idle_ = true;  // a stop may close a connection that is still shaking hands
    auto ec = co_await client_->handshake(asio::ssl::stream_base::server);
    idle_ = false;
    if (ec) {
        GATEHOUSE_LOG(debug, "proxy")
            << "TLS handshake with " << client_ip_ << " failed: " << ec.message();
        co_return false;
    }
    co_return true;
}

void session::begin_wait() {
    snap_ = w_.current();
    const auto& lim = limits();
    // The keep-alive timeout runs until the first byte of the next request (the header timeout
    // for a new plain connection).
    idle_ = true;
    park_requested_ = false;
    const auto now = net::deadline_now();
    const auto timeout = served_ == 0 && !https_ ? lim.header_timeout : lim.keep_alive_timeout;
    client_->expires_at(now + timeout);
    if (!https_) {
        w_.give_read_buffer(std::move(client_buffer_));
        // TLS connections keep their coroutine while idle: a TLS read cannot be split into a
        // readiness wait and a read.
        w_.idle_begin(*this, now, timeout);
    }
}

bool session::end_wait(const error_code& ec, std::span<const char> first_bytes) {
    idle_ = false;
    park_requested_ = false;
    w_.idle_end(*this);
    if (ec || aborted_) return false;
    if (https_) {
        client_buffer_.commit(first_bytes.size());
    } else {
        // The first bytes (none after a parked wait) move into a buffer lent by the worker.
        client_buffer_ = w_.take_read_buffer();
        if (!first_bytes.empty()) {
            auto room = client_buffer_.prepare(net::read_chunk_bytes);
            std::memcpy(room.data(), first_bytes.data(), first_bytes.size());
            client_buffer_.commit(first_bytes.size());
        }
    }
    return true;
}

awaitable<void> session::close() {
    // The pump reads the request's parser: it stops before the request state goes back.
    if (pump_running_) co_await stop_pump();
    give_state(std::move(st_));
    upstream_.reset();
    pinned_.clear();
    if (!aborted_ && client_->is_open()) {
        // The client may still be sending what was not read: a request body cut short, or
        // whatever followed a request refused before its framing was known.
        if (linger_ || (has_body_ && pump_ != pump_result::done))
            co_await client_->linger_close(limits().lingering_time);
        else
            co_await client_->shutdown();
    }
    if (client_buffer_.size() == 0) w_.give_read_buffer(std::move(client_buffer_));
}

awaitable<void> session::wind_down() {
    abort();
    if (pump_running_) co_await wait_pump(std::chrono::seconds(5));
}

awaitable<bool> session::serve_one() {
    snap_ = w_.current();  // each request runs on the newest configuration
    const auto& lim = limits();
    started_ = steady_clock::now();
    st_->log = {};
    st_->target = st_->host = st_->affinity_cookie = {};
    st_->forwarded_for.clear();
    upstream_.reset();
    body_sent_ = 0;
    head_sent_ = 0;
    pump_ = pump_result::none;
    has_body_ = false;
    auto id = w_.ids().next();
    std::copy(id.begin(), id.end(), st_->request_id.begin());

    client_->expires_after(lim.header_timeout);
    net::parser_limits pl;
    pl.head_bytes = lim.head_bytes;
    pl.request_line_bytes = lim.request_line_bytes;
    pl.field_bytes = lim.field_bytes;
    pl.fields = lim.fields;
    pl.chunk_extension_bytes = lim.chunk_extension_bytes;
    st_->request_parser.emplace(st_->request, pl);
    // The head is usually at hand already (read by the keep-alive wait): no coroutine then.
    error_code ec;
    if (auto done = net::parse_head(client_buffer_, *st_->request_parser))
        ec = *done;
    else
        ec = co_await net::read_head(*client_, client_buffer_, *st_->request_parser);
    if (ec) {
        if (ec == asio::error::timed_out) {
            GATEHOUSE_LOG(debug, "proxy") << "request head from " << client_ip_ << " timed out";
            co_await respond(errors::request_timeout, true);
            finish_log();
            co_return false;
        }
        if (!is_parse_error(ec)) co_return false;  // the client went away
        GATEHOUSE_LOG(info, "proxy") << "refused a request from " << client_ip_ << " ("
                                     << to_string(triple_for_parse_error(ec))
                                     << "): " << ec.message();
        linger_ = true;
        co_await respond(triple_for_parse_error(ec), true);
        finish_log();
        co_return false;
    }
    w_.counters().requests.add();
    st_->log.cs_bytes = request_head_bytes();
    const decision d = decide();
    bool keep = false;
    switch (d.what) {
        case decision::action::forward:
            keep = co_await forward(d.route);
            break;
        case decision::action::respond:
            keep = co_await respond(d.triple, d.close, d.reason, d.description, d.extra_headers);
            break;
        case decision::action::abort:
            break;
    }
    finish_log();
    co_return keep;
}

session::decision session::decide() {
    // An answer of the proxy's own.
    const auto answer = [](error_triple triple, bool close, std::string_view reason = {},
                           std::string_view description = {}, std::string_view extra_headers = {}) {
        decision d;
        d.triple = triple;
        d.close = close;
        d.reason = reason;
        d.description = description;
        d.extra_headers = extra_headers;
        return d;
    };
    auto& parser = *st_->request_parser;
    // Framing, target, Host and field rules Beast leaves to us (smuggling defences).
    validation_options vo;
    vo.reject_underscore_names = snap_->settings().request_filtering.reject_underscore_headers;
    if (auto bad = validate_request(st_->request, vo)) {
        GATEHOUSE_LOG(info, "proxy")
            << "refused a request from " << client_ip_ << " (" << to_string(bad->triple)
            << "): " << bad->reason;
        linger_ = true;
        return answer(bad->triple, true);
    }

    // Target and host. An absolute-form target names the host itself (RFC 9112 §3.2.2).
    st_->target = st_->request.target;
    st_->host = st_->request.fields.find("Host").value_or(std::string_view{});
    if (starts_with_ci(st_->target, "http://") || starts_with_ci(st_->target, "https://")) {
        auto rest = st_->target.substr(st_->target.find("//") + 2);
        auto slash = rest.find_first_of("/?");
        st_->host_storage.assign(rest.substr(0, slash));
        st_->target_storage.assign(slash == std::string_view::npos ? std::string_view("/")
                                                                   : rest.substr(slash));
        if (!st_->target_storage.starts_with('/')) st_->target_storage.insert(0, 1, '/');
        st_->target = st_->target_storage;
        st_->host = st_->host_storage;
    }

    // A TLS connection speaks only for the names of the certificate its client checked (RFC
    // 9110 §15.5.20): a Host served by another certificate is misdirected (domain fronting).
    if (https_ && misdirected())
        return answer(error_triple{421, 0, 0}, true, {},
                      "The Host is not served by this connection's certificate");

    // The Exchange protection preset (opt-in), before any rule sees the request.
    if (const auto& ep = snap_->settings().exchange_protection; ep.enabled) {
        if (auto v = check_exchange_request(ep, st_->target, st_->request.fields, st_->exchange)) {
            GATEHOUSE_LOG(warning, "proxy")
                << "exchange_protection " << v.rule << " (" << v.reason << ") blocked "
                << st_->request.method << " " << st_->request.target << " from " << client_ip_;
            return answer(v.triple, true);
        }
        strip_internal_fields(st_->request.fields);
    }

    has_body_ = parser.chunked() || parser.content_length().value_or(0) > 0;
    client_keep_alive_ = parser.keep_alive();

    auto result = snap_->rules().evaluate(request_view_of(), st_->scratch);
    // A request whose body stays unread cannot leave the connection usable.
    const bool close_after_local = has_body_ || !client_keep_alive_ || w_.stopping();
    switch (result.outcome) {
        case rule_outcome::not_published:
            return answer(errors::not_found, close_after_local);
        case rule_outcome::abort: {
            w_.counters().aborted_by_rule.add();
            client_->reset();
            aborted_ = true;
            decision d;
            d.what = decision::action::abort;
            return d;
        }
        case rule_outcome::custom_response: {
            const auto& a = snap_->rules().rule(static_cast<std::size_t>(result.rule)).action;
            return answer(error_triple{a.status, a.substatus, 0}, close_after_local, a.reason,
                          a.description);
        }
        case rule_outcome::redirect: {
            const auto& a = snap_->rules().rule(static_cast<std::size_t>(result.rule)).action;
            w_.counters().redirects.add();
            auto& location = st_->reply_headers;
            location.assign("Location: ").append(result.url).append("\r\n");
            auto& moved = st_->reply_text;
            moved.assign("The document has moved to ").append(result.url);
            return answer(error_triple{a.redirect_type, 0, 0}, close_after_local, {}, moved,
                          location);
        }
        case rule_outcome::route: {
            decision d;
            d.what = decision::action::forward;
            d.route = result;
            return d;
        }
    }
    decision d;  // not reached: every outcome is handled above
    d.what = decision::action::abort;
    return d;
}

request_view session::request_view_of() const {
    request_view view;
    view.method = st_->request.method;
    view.target = st_->target;
    view.host = st_->host;
    view.https = https_;
    view.server_port = local_port_;
    view.remote_address = client_ip_;
    view.remote_port = client_port_;
    view.fields = &st_->request.fields;
    return view;
}

bool session::misdirected() {
    const char* sni = SSL_get_servername(client_->ssl(), TLSEXT_NAMETYPE_host_name);
    const auto& tls = snap_->listeners()[listener_].tls;
    if (!sni || !tls || st_->host.empty()) return false;  // no SNI: the default certificate serves all
    std::string_view name = st_->host;
    if (name.front() == '[')
        name = name.substr(0, name.find(']') + 1);
    else
        name = name.substr(0, name.find(':'));
    return !net::iequals(name, sni) && tls->names_for(sni) != tls->names_for(name);
}

awaitable<bool> session::respond(const error_triple& e, bool close, std::string_view reason,
                                 std::string_view description, std::string_view extra_headers) {
    if (pump_running_) {
        co_await stop_pump();
        close = true;
    }
    if (has_body_ && pump_ != pump_result::done) close = true;
    if (!client_keep_alive_ || w_.stopping()) close = true;
    st_->log.triple = e;
    w_.counters().generated[static_cast<std::size_t>(classify(e))].add();
    st_->out.clear();
    append_error_response(e, close, std::string_view(st_->request_id.data(), st_->request_id.size()),
                          st_->out, reason, description, extra_headers);
    std::string_view bytes = st_->out;
    if (st_->request.method == "HEAD") bytes = bytes.substr(0, bytes.find("\r\n\r\n") + 4);
    auto ec = co_await write_client(bytes);
    co_return !ec && !close;
}

void session::finish_log() {
    if (st_->log.outcome_farm)
        record_outcome(*st_->log.outcome_farm, st_->log.outcome_server,
                       outcome_of(st_->log.triple.status, st_->log.triple.substatus, st_->log.triple.win32),
                       net::deadline_now());
    if (w_.logging()) {
        access_record r;
        r.when = std::chrono::system_clock::now();
        st_->local_ip = client_->local_endpoint().address().to_string();
        r.server_ip = st_->local_ip;
        r.server_port = local_port_;
        r.method = st_->request.method;
        r.target = st_->request.target;
        r.client_ip = client_ip_;
        r.user_agent = st_->request.fields.find("User-Agent").value_or(std::string_view{});
        r.status = st_->log.triple.status;
        r.substatus = st_->log.triple.substatus;
        r.win32 = st_->log.triple.win32;
        r.sc_bytes = st_->log.sc_bytes;
        r.cs_bytes = st_->log.cs_bytes + body_sent_;
        r.time_taken_ms = static_cast<std::uint64_t>(
            std::chrono::duration_cast<milliseconds>(steady_clock::now() - started_).count());
        r.farm = st_->log.farm;
        r.server = st_->log.server;
        r.request_id = std::string_view(st_->request_id.data(), st_->request_id.size());
        w_.log(r);
    }
}

awaitable<std::tuple<error_triple, std::unique_ptr<upstream_connection>>> session::connect(
    const farm_snapshot& farm, const server_slot& slot) {
    using result = std::tuple<error_triple, std::unique_ptr<upstream_connection>>;
    if (!slot.endpoint) co_return result{errors::name_not_resolved, nullptr};
    tcp::socket socket(w_.context());
    std::unique_ptr<upstream_connection> c;
    if (farm.tls)
        c = std::make_unique<upstream_connection>(std::move(socket), *farm.tls, slot.runtime);
    else
        c = std::make_unique<upstream_connection>(std::move(socket), slot.runtime);
    c->stream.expires_after(farm.settings.connect_timeout);
    auto [ec] = co_await c->stream.socket().async_connect(*slot.endpoint, use_nothrow);
    if (ec) {
        co_return result{ec == asio::error::operation_aborted && c->stream.expired()
                             ? errors::timeout
                             : errors::cannot_connect,
                         nullptr};
    }
    error_code ignored;
    c->stream.socket().set_option(tcp::no_delay(true), ignored);
    w_.counters().upstream_opened.add();
    if (farm.tls) {
        c->stream.set_server_name(slot.tls_name, farm.config->tls.verify);
        if (farm.tls_sessions) farm.tls_sessions->prepare(c->stream.ssl(), slot.authority);
        auto hec = co_await c->stream.handshake(asio::ssl::stream_base::client);
        if (hec) {
            GATEHOUSE_LOG(info, "proxy")
                << "TLS to " << slot.authority << " failed: " << hec.message();
            co_return result{
                hec == asio::error::timed_out ? errors::timeout : errors::secure_failure, nullptr};
        }
    }
    co_return result{error_triple{}, std::move(c)};
}

awaitable<bool> session::forward(const rule_result& route) {
    const auto& farm = snap_->farms()[static_cast<std::size_t>(route.farm)];
    const auto& rule = snap_->rules().rule(static_cast<std::size_t>(route.rule));
    const auto& settings = farm.settings;
    const unsigned thread = w_.index();
    auto& parser = *st_->request_parser;
    timeout_ = rule.timeout.value_or(settings.timeout);
    body_limit_ = rule.max_allowed_content_length.value_or(
        snap_->settings().request_filtering.max_allowed_content_length);
    std::uint64_t threshold = std::min<std::uint64_t>(
        rule.response_buffer_threshold.value_or(settings.response_buffer_threshold),
        relay_buffer::size());
    st_->log.farm = farm.config->name;

    // Every refusal leaves through one respond() at the end (one awaiter in the frame).
    error_triple refusal{};
    bool refusal_closes = true;
    if (parser.content_length().value_or(0) > body_limit_) {
        refusal = errors::body_too_large;
        goto refuse;
    }
    {
        const std::string_view target = route.url.empty() ? st_->target : route.url;
        const bool idempotent = is_idempotent(st_->request.method);
        const auto traits = traits_of_request();
        const bool expect_continue = traits.expect_continue;
        const bool synthesize = expect_continue && has_body_ && settings.synthesize_100_continue;
        bool pin_requested = traits.connection_auth;
        prepare_forwarded_for(settings);

        // Servers already tried for this request (a connect failure moves on to the next one).
        st_->tried.assign(farm.servers.size(), false);
        st_->affinity_cookie = {};
        if (farm.config->affinity.enabled)
            st_->affinity_cookie =
                find_cookie(st_->request.fields, farm.config->affinity.cookie_name)
                    .value_or(std::string_view{});
        error_triple last_error = errors::no_server;
        int fresh_server = -1;  // retry on a fresh connection to this server
        bool retried = false;
        server_accounting accounting;

        for (;;) {
            // ---- 1. a connection: pinned, pooled or new ---------------------------------------
            bool reused = false;
            bool pinned_use = false;
            int index = -1;
            auto pin = std::find_if(pinned_.begin(), pinned_.end(),
                                    [&](const auto& p) { return p.farm == farm.runtime.get(); });
            if (pin != pinned_.end() && fresh_server < 0) {
                auto& c = pin->connection;
                for (std::size_t i = 0; i < farm.servers.size(); ++i)
                    if (farm.servers[i].runtime == c->server) index = static_cast<int>(i);
                bool usable = index >= 0 && c->server->state.load() != availability::unavailable &&
                              looks_reusable(*c);
                if (!usable) {
                    // The authenticated connection is gone: so is this client's authentication.
                    pinned_.erase(pin);
                    refusal = errors::connection_error;
                    goto refuse;
                }
                upstream_ = std::move(c);
                pinned_.erase(pin);
                pin_requested = true;
                pinned_use = true;
                reused = true;
            } else if (fresh_server >= 0) {
                index = fresh_server;
            } else {
                // The affinity cookie's server when it may take the client, else the balancer's.
                index = affinity_server(farm);
                if (index < 0) index = balance(farm, thread);
                if (index < 0) {
                    if (last_error == errors::no_server)
                        farm.runtime->counters(thread).no_server.add();
                    refusal = last_error;
                    refusal_closes = has_body_;
                    goto refuse;
                }
                if (settings.keep_alive) {
                    upstream_ = w_.pool().take(
                        farm.servers[static_cast<std::size_t>(index)].runtime.get(), farm.tls.get(),
                        net::deadline_now(), !idempotent || has_body_);
                    reused = upstream_ != nullptr;
                }
            }
            const auto& slot = farm.servers[static_cast<std::size_t>(index)];
            st_->log.server = slot.authority;
            st_->log.outcome_farm = &farm;
            st_->log.outcome_server = static_cast<std::size_t>(index);
            if (upstream_) upstream_->clean = false;
            accounting.begin(slot.runtime.get(), thread);
            if (!upstream_) {
                auto [error, connection] = co_await connect(farm, slot);
                if (!connection) {
                    accounting.end(true, 0, 0, 0);
                    // Reported here: the request may go on to another server.
                    record_outcome(farm, static_cast<std::size_t>(index),
                                   outcome_of(error.status, error.substatus, error.win32),
                                   net::deadline_now());
                    st_->log.outcome_farm = nullptr;
                    st_->tried[static_cast<std::size_t>(index)] = true;
                    last_error = error;
                    fresh_server = -1;
                    if (aborted_) co_return false;
                    continue;
                }
                upstream_ = std::move(connection);
            }

            // ---- 2. the request head ----------------------------------------------------------
            write_request_head(settings, slot, target, settings.keep_alive || pin_requested,
                               !synthesize);
            upstream_->stream.expires_after(timeout_);
            auto [wec, wn] = co_await upstream_->stream.write(asio::buffer(st_->out));
            head_sent_ = wn;
            if (wec) {
                upstream_.reset();
                // A pooled connection the server closed while idle: the request did not get there
                // (nothing written) or may safely go again (idempotent, no body).
                bool retry = reused && !retried && !pinned_use && !aborted_ &&
                             (wn == 0 || (idempotent && !has_body_));
                accounting.end(!retry && !aborted_, wn, 0, 0);
                if (aborted_) co_return false;
                if (retry) {
                    retried = true;
                    fresh_server = index;
                    continue;
                }
                refusal = upstream_failure(wec);
                refusal_closes = has_body_ || pinned_use;
                goto refuse;
            }
            const auto sent_at = steady_clock::now();

            // ---- 3. the body, streamed by a second coroutine ------------------------------------
            if (synthesize) {
                if (co_await write_client("HTTP/1.1 100 Continue\r\n\r\n")) co_return false;
            }
            // From here on the response head is awaited: the pump, which may run at once up to its
            // first suspension, keeps the upstream deadline off while it sends (see pump_body).
            awaiting_head_ = true;
            if (has_body_) start_pump();

            // ---- 4. response heads (1xx relayed) ---------------------------------------------
            error_code rec;
            bool client_failed = false;
            unsigned interim = 0;
            for (;;) {
                st_->response_parser.emplace(st_->response, response_limits);
                if (st_->request.method == "HEAD") st_->response_parser->skip(true);
                awaiting_head_ = true;
                // The head wait starts once the body is sent: the pump sets the deadline then. A
                // pump that has already finished (its completion not yet run) set it before this
                // point.
                if (pump_running_ && pump_ == pump_result::none)
                    upstream_->stream.expires_never();
                else
                    upstream_->stream.expires_after(timeout_);
                // Idle back-end connections hold no buffer: one is lent for the response.
                if (upstream_->buffer.capacity() == 0) upstream_->buffer = w_.take_read_buffer();
                // read_head()'s loop, run here: one coroutine frame fewer per response.
                for (;;) {
                    if (auto done = net::parse_head(upstream_->buffer, *st_->response_parser)) {
                        rec = *done;
                        break;
                    }
                    auto [ec, n] = co_await upstream_->stream.read_some(
                        upstream_->buffer.prepare(net::read_chunk_bytes));
                    if (ec) {
                        rec = net::head_read_error(ec, upstream_->buffer, *st_->response_parser);
                        break;
                    }
                    upstream_->buffer.commit(n);
                }
                awaiting_head_ = false;
                if (rec || aborted_) break;
                if (st_->response.status >= 200) break;
                if (++interim > max_interim_responses) {  // a back end stuck in 1xx is broken
                    rec = http::error::bad_status;
                    break;
                }
                // Upgrade was stripped: a 101 is a protocol error.
                if (st_->response.status == 101) {
                    rec = http::error::bad_version;
                    break;
                }
                bool relay = st_->request.version == 11 &&
                             !(st_->response.status == 100 && (synthesize || !expect_continue));
                if (relay) {
                    st_->out.clear();
                    write_interim_response(st_->response, st_->out);
                    if (co_await write_client(st_->out)) {
                        client_failed = true;
                        break;
                    }
                }
            }
            if (aborted_) co_return false;
            if (client_failed) {
                st_->log.triple = {0, 0, errors::client_disconnected_win32};
                co_await drop_upstream();
                co_return false;
            }
            if (rec) {
                std::uint64_t sent = head_sent_ + body_sent_;
                bool stale = reused && !retried && !pinned_use && !has_body_ && idempotent &&
                             !st_->response_parser->got_some() && rec != asio::error::timed_out &&
                             pump_ == pump_result::none;
                co_await drop_upstream();
                if (stale) {
                    // An idle pooled connection the server had closed: safe to send again.
                    accounting.end(false, sent, 0, 0);
                    retried = true;
                    fresh_server = index;
                    continue;
                }
                error_triple e = upstream_failure(rec);
                switch (pump_) {
                    case pump_result::too_large:
                        e = errors::body_too_large;
                        break;
                    case pump_result::client_timeout:
                        e = errors::request_timeout;
                        break;
                    case pump_result::client_bad:
                        e = errors::bad_request;
                        break;
                    case pump_result::client_gone:
                        st_->log.triple = {400, 0, errors::client_disconnected_win32};
                        accounting.end(false, sent, 0, 0);
                        co_return false;
                    default:
                        break;
                }
                accounting.end(e.status == 502, sent, 0,
                               static_cast<std::uint64_t>(std::chrono::duration_cast<milliseconds>(
                                                              steady_clock::now() - started_)
                                                              .count()));
                refusal = e;
                goto refuse;
            }
            if (pinned_use) pin_requested = true;
            if (auto te = st_->response.fields.count("Transfer-Encoding"); te > 0) {
                // Only "chunked" can be re-framed; any other coding would reach the client undone.
                auto value = trim(st_->response.fields.find("Transfer-Encoding").value_or(""));
                if (te != 1 || !net::iequals(value, "chunked")) {
                    co_await drop_upstream();
                    accounting.end(true, head_sent_ + body_sent_, 0, 0);
                    refusal = errors::invalid_response;
                    goto refuse;
                }
            }
            note_response_time(slot, sent_at);

            // ---- 5. the response --------------------------------------------------------------
            if (response_pins()) pin_requested = true;
            if (farm.config->affinity.enabled && st_->affinity_cookie != slot.affinity_token) {
                // A new client, or one whose server could not take it: pin it to this one.
                st_->response.fields.add("Set-Cookie",
                                         affinity_set_cookie(farm.config->affinity.cookie_name,
                                                             slot.affinity_token, https_));
            }
            auto keep = co_await relay_response(farm, slot, threshold, pin_requested);
            std::uint64_t head_bytes = st_->response.fields.bytes() +
                                       4 * st_->response.fields.size() + 16 +
                                       st_->response.reason.size();
            accounting.end(st_->log.triple.status == 502 && st_->log.triple.substatus == 3,
                           head_sent_ + body_sent_, head_bytes + st_->response_parser->body_total(),
                           static_cast<std::uint64_t>(std::chrono::duration_cast<milliseconds>(
                                                          steady_clock::now() - started_)
                                                          .count()));
            co_return keep;
        }
    }
refuse:
    co_return co_await respond(refusal, refusal_closes);
}

session::request_traits session::traits_of_request() const {
    request_traits t;
    for (auto [name, value] : st_->request.fields) {
        if (st_->request.version == 11 && net::iequals(name, "Expect") &&
            net::has_token(value, "100-continue"))
            t.expect_continue = true;
        if (net::iequals(name, "Authorization") && connection_auth(value)) t.connection_auth = true;
    }
    return t;
}

void session::prepare_forwarded_for(const proxy_settings& settings) {
    auto& value = st_->forwarded_for;  // keeps its capacity: built without allocating
    if (!value.empty() || client_ip_.empty()) return;
    if (!settings.include_port_in_x_forwarded_for) {
        value.assign(client_ip_);
        return;
    }
    const bool v6 = client_ip_.find(':') != std::string::npos;
    if (v6) value.push_back('[');
    value.append(client_ip_);
    if (v6) value.push_back(']');
    value.push_back(':');
    std::array<char, 8> digits;
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), client_port_);
    value.append(digits.data(), end);
}

int session::balance(const farm_snapshot& farm, unsigned thread) {
    const auto now = net::deadline_now();
    st_->loads.resize(farm.servers.size());
    for (std::size_t i = 0; i < farm.servers.size(); ++i) {
        const auto& rt = *farm.servers[i].runtime;
        auto& l = st_->loads[i];
        l.weight = farm.servers[i].weight;
        if (farm.config->slow_start)
            l.weight =
                slow_start_weight(l.weight, rt.since_recovery(now), *farm.config->slow_start);
        l.eligible = !st_->tried[i] && rt.eligible(now);
        l.in_flight = static_cast<std::uint64_t>(
            std::max<std::int64_t>(0, rt.in_flight.load(std::memory_order_relaxed)));
        l.traffic_bytes = rt.traffic_bytes.load(std::memory_order_relaxed);
        l.response_time_us = rt.response_time_us.load(std::memory_order_relaxed);
        l.id = farm.servers[i].id;
    }
    if (farm.config->host_affinity.enabled) restrict_to_host(farm, now);
    std::uint64_t hash = 0;
    if (farm.config->load_balancing.algorithm == lb_algorithm::request_hash)
        hash = request_hash_key(farm.config->load_balancing, request_view_of(), st_->hash_scratch);
    return farm.balancers[thread].balancer.pick(st_->loads, hash);
}

void session::write_request_head(const proxy_settings& settings, const server_slot& slot,
                                 std::string_view target, bool keep_alive, bool forward_expect) {
    const auto& parser = *st_->request_parser;
    upstream_request ur;
    ur.target = target;
    ur.host = settings.preserve_host_header && !st_->host.empty()
                  ? st_->host
                  : std::string_view(slot.authority);
    ur.forwarded_for_header = settings.x_forwarded_for_header;
    ur.forwarded_for = st_->forwarded_for;
    ur.forwarded_proto = settings.x_forwarded_proto;
    ur.https = https_;
    ur.request_id_header = settings.log_guid_header;
    ur.request_id = std::string_view(st_->request_id.data(), st_->request_id.size());
    if (parser.chunked()) {
        ur.framing = body_framing::chunked;
    } else if (auto cl = parser.content_length(); cl) {
        ur.framing = body_framing::length;
        ur.content_length = *cl;
    }
    ur.keep_alive = keep_alive;
    ur.forward_expect = forward_expect;
    st_->out.clear();
    write_upstream_request(st_->request, ur, st_->out);
}

bool session::response_pins() const {
    if (st_->response.status != 401) return false;
    for (auto [name, value] : st_->response.fields)
        if (net::iequals(name, "WWW-Authenticate") && connection_auth(value)) return true;
    return false;
}

void session::note_response_time(const server_slot& slot, steady_clock::time_point sent_at) {
    auto ttfb =
        std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - sent_at);
    auto& rt = *slot.runtime;
    rt.response_time_us.store(ewma_update(rt.response_time_us.load(std::memory_order_relaxed),
                                          static_cast<std::uint64_t>(ttfb.count())),
                              std::memory_order_relaxed);
}

int session::affinity_server(const farm_snapshot& farm) {
    if (st_->affinity_cookie.empty()) return -1;
    const auto now = net::deadline_now();
    for (std::size_t i = 0; i < farm.servers.size(); ++i) {
        if (farm.servers[i].affinity_token != st_->affinity_cookie) continue;
        if (st_->tried[i] || !farm.servers[i].runtime->keeps_affinity(now)) return -1;
        return static_cast<int>(i);
    }
    return -1;
}

void session::restrict_to_host(const farm_snapshot& farm, steady_clock::time_point now) {
    const auto& c = farm.config->host_affinity;
    thread_local std::vector<host_candidate> candidates;
    thread_local std::vector<bool> allowed;
    candidates.resize(farm.servers.size());
    for (std::size_t i = 0; i < farm.servers.size(); ++i) {
        const auto& rt = *farm.servers[i].runtime;
        candidates[i] = {farm.servers[i].authority, st_->loads[i].eligible,
                         rt.memory_available_mb.load(std::memory_order_relaxed)};
    }
    auto key = host_affinity_key(st_->host, c.ignore_subdomains);
    {
        std::lock_guard lock(farm.runtime->hosts_mutex);
        farm.runtime->hosts.route(key, candidates, c, now, allowed);
    }
    for (std::size_t i = 0; i < farm.servers.size(); ++i)
        st_->loads[i].eligible = st_->loads[i].eligible && allowed[i];
}

session::response_plan session::write_response_head(const farm_snapshot& farm,
                                                    const server_slot& slot) {
    const auto& p = *st_->response_parser;
    const auto& settings = farm.settings;
    response_plan plan;
    plan.head_only = st_->request.method == "HEAD" || p.is_done();
    const bool upstream_chunked = p.chunked();
    const auto upstream_length = p.content_length();
    plan.until_close = !plan.head_only && !upstream_chunked && !upstream_length;
    const bool client_10 = st_->request.version == 10;
    st_->log.triple = {st_->response.status, 0, 0};

    downstream_response dr;
    if (upstream_length && !upstream_chunked) {
        dr.framing = body_framing::length;
        dr.content_length = *upstream_length;
    } else if (upstream_chunked && !client_10) {
        dr.framing = body_framing::chunked;
    }
    plan.rechunk = dr.framing == body_framing::chunked;
    plan.close =
        !client_keep_alive_ || w_.stopping() || plan.until_close || (upstream_chunked && client_10);
    dr.close = plan.close;
    dr.keep_alive_header = !plan.close && client_10;
    dr.reverse_rewrite = settings.reverse_rewrite_host_in_response_headers;
    dr.upstream_authority = settings.preserve_host_header && !st_->host.empty()
                                ? st_->host
                                : std::string_view(slot.authority);
    dr.client_host = st_->host;
    dr.client_https = https_;
    st_->out.clear();
    write_downstream_response(st_->response, dr, st_->out);
    return plan;
}

std::size_t session::gather_response_pieces(bool with_head, std::span<const char> body,
                                            bool rechunk, bool last) {
    auto& pieces = st_->pieces;
    std::size_t count = 0;
    if (with_head) pieces[count++] = asio::buffer(st_->out);
    if (!body.empty()) {
        if (rechunk) {
            st_->chunk_line = net::chunk_header(body.size());
            pieces[count++] = asio::buffer(st_->chunk_line);
        }
        pieces[count++] = asio::const_buffer(body.data(), body.size());
        if (rechunk) pieces[count++] = asio::buffer(net::chunk_end.data(), 2);
    }
    if (last && rechunk) pieces[count++] = asio::buffer(net::last_chunk.data(), 5);
    if (with_head && count > 1 && body.size() <= coalesce_bytes) {
        // The head and a few body bytes leave in one piece: a send(), not a sendmsg().
        for (std::size_t i = 1; i < count; ++i)
            st_->out.append(static_cast<const char*>(pieces[i].data()), pieces[i].size());
        pieces[0] = asio::buffer(st_->out);
        count = 1;
    }
    return count;
}

// The coroutine keeps few locals of its own: its frame stays under Asio's 1020-byte recycling
// limit (a larger one is allocated and freed on every response).
awaitable<bool> session::relay_response(const farm_snapshot& farm, const server_slot& slot,
                                        std::uint64_t threshold, bool pin_requested) {
    auto& p = *st_->response_parser;
    const response_plan plan = write_response_head(farm, slot);
    bool close = plan.close;

    // The body: the head waits (with the first bytes) until `threshold` bytes are held or the
    // response ends; with threshold 0 it leaves as soon as no body byte is at hand.
    bool head_pending = true;
    bool failed = false;
    error_code upstream_ec;
    net::stream::io_result written;
    if (!plan.head_only) {
        relay_buffer buffer = w_.buffers().acquire();
        std::size_t held = 0;
        while (!p.is_done()) {
            if (head_pending && threshold == 0 && upstream_->buffer.size() == 0) {
                if (co_await write_client(st_->out)) {
                    failed = true;
                    break;
                }
                head_pending = false;
            }
            upstream_->stream.expires_after(timeout_);
            // Body bytes at hand are taken without a coroutine; read_body() waits for more. A
            // length-delimited rest of the body that is all at hand is taken where it lies: the
            // upstream buffer is not written again before the client has the bytes.
            char* body = buffer.data();
            auto room = asio::buffer(buffer.data() + held, buffer.size() - held);
            const auto remaining = p.content_length_remaining();
            const bool in_place = held == 0 && !plan.rechunk && remaining && *remaining > 0 &&
                                  *remaining <= upstream_->buffer.size();
            if (in_place) {
                body = static_cast<char*>(upstream_->buffer.data().data());
                room = asio::buffer(body, static_cast<std::size_t>(*remaining));
            }
            auto got = net::parse_body(upstream_->buffer, p, room);
            if (!got) got = co_await net::read_body(upstream_->stream, upstream_->buffer, p, room);
            if (auto ec = std::get<0>(*got)) {
                upstream_ec = ec;
                break;
            }
            held += std::get<1>(*got);
            const bool done = p.is_done();
            BOOST_ASSERT(!in_place || (done && held == *remaining));
            if (head_pending && !done && held < threshold && held < buffer.size()) continue;
            const std::size_t count =
                gather_response_pieces(head_pending, {body, held}, plan.rechunk, done);
            if (count > 0) {
                before_client_write();
                written = co_await client_->write(
                    std::span<const asio::const_buffer>(st_->pieces.data(), count));
                if (client_written(written)) {
                    failed = true;
                    break;
                }
            }
            head_pending = false;
            held = 0;
        }
        if (upstream_ec) {
            if (aborted_) co_return false;
            error_triple e = upstream_failure(upstream_ec);
            co_await drop_upstream();
            if (head_pending) {
                // Nothing reached the client yet: it gets the error instead.
                co_return co_await respond(e, true);
            }
            // The client has part of the response: cut it off so it cannot take it as whole.
            st_->log.triple.win32 = e.win32;
            client_->close();
            co_return false;
        }
    }
    if (!failed && head_pending) {
        const std::size_t count =
            gather_response_pieces(true, {}, plan.rechunk && !plan.head_only, true);
        before_client_write();
        written =
            co_await client_->write(std::span<const asio::const_buffer>(st_->pieces.data(), count));
        failed = static_cast<bool>(client_written(written));
    }
    if (failed) {
        // The client went away while the response was on its way.
        st_->log.triple.win32 = errors::client_disconnected_win32;
        co_await drop_upstream();
        co_return false;
    }

    // The response is complete. The request body must be complete too for either connection to
    // carry another request.
    if (pump_running_ && !co_await wait_pump(pump_grace)) co_await stop_pump();
    const bool body_ok = !has_body_ || pump_ == pump_result::done;
    const bool reusable = body_ok && p.keep_alive() && !plan.until_close &&
                          upstream_->buffer.size() == 0 && upstream_->stream.is_open();
    if (body_ok && upstream_->buffer.size() == 0) upstream_->clean = true;
    if (reusable) {
        ++upstream_->exchanges;
        // Its empty buffer goes back to the worker, whose most recently used buffers are the
        // ones still in the processor's cache.
        w_.give_read_buffer(std::move(upstream_->buffer));
        if (pin_requested) {
            pinned_.push_back({farm.runtime.get(), std::move(upstream_)});
        } else if (farm.settings.keep_alive) {
            w_.pool().put(std::move(upstream_), net::deadline_now(),
                          farm.settings.upstream_idle_timeout, farm.settings.max_idle_per_server);
        }
    } else if (pin_requested) {
        // An authenticated back-end connection that cannot continue takes the client's with it.
        close = true;
    }
    upstream_.reset();
    w_.counters().upstream_idle.store(w_.pool().idle(), std::memory_order_relaxed);
    co_return body_ok && !close;
}

void session::start_pump() {
    pump_running_ = true;
    pump_stopping_ = false;
    pump_ = pump_result::none;
    if (!pump_timer_) pump_timer_ = std::make_unique<asio::steady_timer>(w_.context());
    asio::co_spawn(w_.context(), pump_body(), [this](std::exception_ptr e) {
        if (e && pump_ == pump_result::none) pump_ = pump_result::client_gone;
        pump_running_ = false;
        pump_timer_->cancel();
    });
}

awaitable<bool> session::wait_pump(steady_clock::duration limit) {
    if (!pump_running_) co_return true;
    pump_timer_->expires_after(limit);
    co_await pump_timer_->async_wait(use_nothrow);
    co_return !pump_running_;
}

awaitable<void> session::stop_pump() {
    if (!pump_running_) co_return;
    pump_stopping_ = true;
    error_code ignored;
    client_->socket().cancel(ignored);
    if (upstream_) upstream_->stream.reset();
    // Both streams' operations were cancelled: the pump ends within a turn of the loop. The
    // client connection stays open for a final error response; the caller closes it.
    co_await wait_pump(std::chrono::seconds(5));
}

awaitable<void> session::drop_upstream() {
    // The body pump writes to the connection through a pointer of its own: it must be stopped
    // before the connection is destroyed.
    if (pump_running_) co_await stop_pump();
    upstream_.reset();
}

awaitable<void> session::pump_body() {
    relay_buffer buffer = w_.buffers().acquire();
    auto& p = *st_->request_parser;
    const bool chunked = p.chunked();
    std::string chunk_line;
    bool last_chunk_sent = false;
    pump_result result = pump_result::done;
    // The pump owns `upstream_` writes while it runs; the main coroutine only reads from it.
    auto* upstream = upstream_.get();
    while (!p.is_done()) {
        client_->expires_after(client_write_timeout());
        auto [ec, n] = co_await net::read_body(*client_, client_buffer_, p,
                                               asio::buffer(buffer.data(), buffer.size()));
        if (ec) {
            // A read cancelled by stop_pump() says nothing about the client.
            result = pump_stopping_                 ? pump_result::stopped
                     : ec == asio::error::timed_out ? pump_result::client_timeout
                     : is_parse_error(ec)           ? pump_result::client_bad
                                                    : pump_result::client_gone;
            break;
        }
        if (body_sent_ + n > body_limit_) {
            result = pump_result::too_large;
            break;
        }
        if (n == 0) continue;
        std::array<asio::const_buffer, 4> pieces;
        std::size_t count = 0;
        if (chunked) {
            chunk_line = net::chunk_header(n);
            pieces[count++] = asio::buffer(chunk_line);
        }
        pieces[count++] = asio::const_buffer(buffer.data(), n);
        if (chunked) pieces[count++] = asio::buffer(net::chunk_end.data(), 2);
        if (chunked && p.is_done()) pieces[count++] = asio::buffer(net::last_chunk.data(), 5);
        upstream->stream.expires_after(timeout_);
        auto [wec, wn] = co_await upstream->stream.write(
            std::span<const asio::const_buffer>(pieces.data(), count));
        if (awaiting_head_) upstream->stream.expires_never();
        if (wec) {
            result = pump_result::upstream_failed;
            break;
        }
        body_sent_ += n;
        if (chunked && p.is_done()) last_chunk_sent = true;
    }
    if (result == pump_result::done && chunked && !last_chunk_sent) {
        // The last piece was empty: the final chunk still has to go.
        upstream->stream.expires_after(timeout_);
        auto [wec, wn] = co_await upstream->stream.write(
            asio::buffer(net::last_chunk.data(), net::last_chunk.size()));
        if (awaiting_head_) upstream->stream.expires_never();
        if (wec) result = pump_result::upstream_failed;
    }
    pump_ = result;
    if (result == pump_result::done) {
        // The request is complete: from now on ARR's timeout bounds the wait for the response.
        if (awaiting_head_) upstream->stream.expires_after(timeout_);
    } else if (result != pump_result::upstream_failed && awaiting_head_) {
        // The request can never be completed: stop waiting for an answer to it.
        upstream->stream.reset();
    }
}

}  // namespace

awaitable<void> run_session(worker* w, tcp::socket socket, std::size_t listener,
                            client_address_limiter::slot hold) {
    return session::start(w, std::move(socket), listener, std::move(hold));
}

void log_session_end(std::exception_ptr e) {
    if (e) log_failure(e, "session failed");
}

}  // namespace gatehouse::proxy
