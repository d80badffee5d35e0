#include "net/stream.hpp"

#include "net/deadline_clock.hpp"
#include "net/edge_read.hpp"

#include <array>
#include <cerrno>

#include <boost/asio/post.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <sys/socket.h>
#include <sys/uio.h>

namespace gatehouse::net {

// The deadline is enforced by one timer per stream that is re-armed lazily: when the deadline
// moves later, the pending wait simply re-checks it on wake-up and waits again, so refreshing a
// deadline per read costs a store, not a timer-queue operation. The state is shared with the
// timer's handler so that a handler still queued after the stream is gone finds `socket` null.
struct stream::watchdog {
    watchdog(const asio::any_io_executor& executor, tcp::socket* s) : timer(executor), socket(s) {}

    asio::steady_timer timer;
    tcp::socket* socket;  // null once the stream is destroyed
    steady_clock::time_point deadline = steady_clock::time_point::max();
    std::uint64_t generation = 0;  // a handler from an older generation is stale
    bool waiting = false;
    bool expired = false;

    // An idle connection's deadline wait lasts as long as the connection is idle.
    struct waiter {
        std::shared_ptr<watchdog> self;
        std::uint64_t generation;
        void operator()(error_code ec) const { fire(self, generation, ec); }
        using allocator_type = exact_allocator<void>;
        allocator_type get_allocator() const noexcept { return {}; }
    };

    static void wait(const std::shared_ptr<watchdog>& self) {
        self->timer.async_wait(waiter{self, self->generation});
    }

    static void fire(const std::shared_ptr<watchdog>& self, std::uint64_t generation,
                     error_code ec) {
        if (generation != self->generation || self->socket == nullptr || ec) return;
        if (self->deadline == steady_clock::time_point::max()) {
            self->waiting = false;
            return;
        }
        if (steady_clock::now() < self->deadline) {
            self->timer.expires_at(self->deadline);
            wait(self);
            return;
        }
        self->waiting = false;
        self->expired = true;
        error_code ignored;
        self->socket->cancel(ignored);
    }
};

stream::stream(tcp::socket socket)
    : plain_(std::make_unique<tcp::socket>(std::move(socket))) {
    error_code ignored;
    remote_ = plain_->remote_endpoint(ignored);
    local_ = plain_->local_endpoint(ignored);
}

stream::stream(tcp::socket socket, asio::ssl::context& context)
    : tls_(std::make_unique<asio::ssl::stream<tcp::socket>>(std::move(socket), context)) {
    error_code ignored;
    remote_ = tls_->next_layer().remote_endpoint(ignored);
    local_ = tls_->next_layer().local_endpoint(ignored);
}

stream::~stream() { release_deadline(); }

void stream::release_deadline() noexcept {
    if (!watchdog_) return;
    // A wait still queued holds the watchdog; it completes at once and sees no socket.
    watchdog_->socket = nullptr;
    watchdog_->timer.cancel();
    watchdog_.reset();
}

tcp::socket& stream::socket() noexcept { return tls_ ? tls_->next_layer() : *plain_; }

SSL* stream::ssl() noexcept { return tls_ ? tls_->native_handle() : nullptr; }

bool stream::set_server_name(const std::string& host, bool verify_host) {
    if (!tls_) return false;
    if (SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str()) != 1) return false;
    if (verify_host) tls_->set_verify_callback(asio::ssl::host_name_verification(host));
    return true;
}

error_code stream::translate(error_code ec) const noexcept {
    if (ec == asio::error::operation_aborted && expired()) return asio::error::timed_out;
    return ec;
}

awaitable<error_code> stream::handshake(asio::ssl::stream_base::handshake_type type) {
    if (!tls_) co_return error_code{};
    if (expired()) co_return asio::error::timed_out;
    auto [ec] = co_await tls_->async_handshake(type, use_nothrow);
    co_return translate(ec);
}

// The completion of an operation started for an awaiting coroutine: the error as the stream
// reports it (a cancellation by the deadline is a timeout) and the bytes, counting `before`
// (sent before Asio took over). The coroutine's executor and cancellation slot are its own.
struct stream::completion {
    stream* self;
    std::size_t before;
    io_handler handler;

    using executor_type = io_handler::executor_type;
    executor_type get_executor() const noexcept { return handler.get_executor(); }
    using cancellation_slot_type = io_handler::cancellation_slot_type;
    cancellation_slot_type get_cancellation_slot() const noexcept {
        return handler.get_cancellation_slot();
    }

    void operator()(error_code ec, std::size_t n) {
        handler(io_result{self->translate(ec), before + n});
    }
};

namespace {

// How many coroutines complete_now() may resume one inside the other on a thread.
constexpr int max_nested_completions = 8;

// Resumes the awaiting coroutine with `result` inside this call: no trip through the
// scheduler's queue. The coroutine runs on to its next wait (and may end, freeing what started
// this operation), so callers do nothing after this. A coroutine whose every write completes at
// once would nest one resumption in the other without end: past a few levels the completion is
// posted instead, which unwinds the stack.
void complete_now(stream::io_handler handler, stream::io_result result) {
    thread_local int depth = 0;
    if (depth < max_nested_completions) {
        struct level {
            level() { ++depth; }
            ~level() { --depth; }
        } nested;
        handler(std::move(result));
        return;
    }
    auto executor = handler.get_executor();
    asio::post(executor, [h = std::move(handler), result]() mutable { h(std::move(result)); });
}

}  // namespace

// Each start_* hands the handler to an Asio operation or, with the result known now, to
// complete_now() as its last act.
void stream::start_read(io_handler handler, asio::mutable_buffer buffer) {
    if (expired()) return complete_now(std::move(handler), {asio::error::timed_out, 0});
    if (tls_) return tls_->async_read_some(buffer, completion{this, 0, std::move(handler)});
    if (!edge_decided_ && plain_->is_open()) {
        edge_decided_ = true;
        reactor_ = edge::enable(*plain_);
    }
    if (reactor_ != nullptr)
        return edge::async_read_some(*plain_, *reactor_, buffer,
                                     completion{this, 0, std::move(handler)});
    plain_->async_read_some(buffer, completion{this, 0, std::move(handler)});
}

namespace {

// The most pieces a plain write sends without waiting (more take Asio's write at once).
constexpr std::size_t direct_pieces = 8;

// Sends what the socket takes now, without waiting and without Asio's reactor: the bytes sent
// (0 when the socket would block), or an error. A write that completes here resumes its caller
// at once, where Asio would queue the completion behind every other ready handler.
std::size_t send_now(int fd, std::span<const asio::const_buffer> buffers, error_code& ec) {
    BOOST_ASSERT(!buffers.empty() && buffers.size() <= direct_pieces);
    constexpr int flags = MSG_NOSIGNAL | MSG_DONTWAIT;
    ssize_t n;
    if (buffers.size() == 1) {
        n = ::send(fd, buffers[0].data(), buffers[0].size(), flags);
    } else {
        std::array<iovec, direct_pieces> iov;
        for (std::size_t i = 0; i < buffers.size(); ++i)
            iov[i] = {const_cast<void*>(buffers[i].data()), buffers[i].size()};
        msghdr msg{};
        msg.msg_iov = iov.data();
        msg.msg_iovlen = buffers.size();
        n = ::sendmsg(fd, &msg, flags);
    }
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        ec = error_code(errno, asio::error::get_system_category());
    return 0;
}

}  // namespace

void stream::start_write(io_handler handler, asio::const_buffer buffer) {
    if (expired()) return complete_now(std::move(handler), {asio::error::timed_out, 0});
    if (tls_) return asio::async_write(*tls_, buffer, completion{this, 0, std::move(handler)});
    if (buffer.size() == 0) return complete_now(std::move(handler), {});
    error_code ec;
    auto sent = send_now(plain_->native_handle(), {&buffer, 1}, ec);
    if (ec || sent == buffer.size()) return complete_now(std::move(handler), {ec, sent});
    asio::async_write(*plain_, buffer + sent, completion{this, sent, std::move(handler)});
}

void stream::start_write_pieces(io_handler handler, std::span<const asio::const_buffer> buffers) {
    if (expired()) return complete_now(std::move(handler), {asio::error::timed_out, 0});
    if (tls_) return asio::async_write(*tls_, buffers, completion{this, 0, std::move(handler)});
    if (buffers.size() > direct_pieces)
        return asio::async_write(*plain_, buffers, completion{this, 0, std::move(handler)});
    const std::size_t total = asio::buffer_size(buffers);
    if (total == 0) return complete_now(std::move(handler), {});
    error_code ec;
    auto sent = send_now(plain_->native_handle(), buffers, ec);
    if (ec || sent == total) return complete_now(std::move(handler), {ec, sent});
    // The rest: the pieces from the first one not sent whole, copied into the operation (the
    // unused pieces stay empty).
    std::array<asio::const_buffer, direct_pieces> rest{};
    std::size_t count = 0;
    std::size_t skip = sent;
    for (const auto& b : buffers) {
        if (skip >= b.size()) {
            skip -= b.size();
            continue;
        }
        rest[count++] = b + skip;
        skip = 0;
    }
    asio::async_write(*plain_, rest, completion{this, sent, std::move(handler)});
}

awaitable<void> stream::send_close(steady_clock::duration tls_wait) {
    if (tls_ && socket().is_open() && !expired()) {
        auto limit = steady_clock::now() + tls_wait;
        if (limit < deadline()) expires_at(limit);
        auto [ec] = co_await tls_->async_shutdown(use_nothrow);
        (void)ec;  // the peer may not answer close_notify; closing anyway is correct
    }
    error_code ignored;
    socket().shutdown(tcp::socket::shutdown_send, ignored);
}

awaitable<void> stream::shutdown(steady_clock::duration tls_wait) {
    co_await send_close(tls_wait);
    error_code ignored;
    socket().close(ignored);
}

awaitable<void> stream::linger_close(steady_clock::duration linger,
                                     steady_clock::duration tls_wait) {
    co_await send_close(tls_wait);
    error_code ignored;
    if (!expired()) {
        auto limit = steady_clock::now() + linger;
        if (limit < deadline()) expires_at(limit);
        // Raw bytes: after close_notify nothing that arrives is going to be decrypted.
        std::array<char, 4096> sink;
        for (;;) {
            auto [ec, n] = co_await socket().async_read_some(asio::buffer(sink), use_nothrow);
            if (ec) break;  // the peer's FIN, a reset, or the linger deadline
        }
    }
    socket().close(ignored);
}

void stream::close() noexcept {
    error_code ignored;
    socket().close(ignored);
}

void stream::reset() noexcept {
    error_code ignored;
    socket().set_option(asio::socket_base::linger(true, 0), ignored);
    socket().close(ignored);
}

bool stream::is_open() const noexcept {
    return tls_ ? tls_->next_layer().is_open() : plain_->is_open();
}

// The deadline clock: a deadline refreshed per read costs no precise clock reading, and ends a
// few milliseconds late rather than early.
void stream::expires_after(steady_clock::duration d) { expires_at(deadline_now() + d); }

void stream::expires_never() { expires_at(steady_clock::time_point::max()); }

void stream::expires_at(steady_clock::time_point t) {
    if (!watchdog_) {
        if (t == steady_clock::time_point::max()) return;  // no deadline: nothing to watch
        watchdog_ = std::make_shared<watchdog>(socket().get_executor(), &socket());
    }
    auto& w = *watchdog_;
    w.deadline = t;
    w.expired = false;
    if (t == steady_clock::time_point::max()) return;  // a pending wait notices and stops
    if (w.waiting && w.timer.expiry() <= t) return;     // it wakes no later and re-checks
    ++w.generation;  // any wait still queued is now stale
    w.waiting = true;
    w.timer.expires_at(t);
    watchdog::wait(watchdog_);
}

bool stream::expired() const noexcept { return watchdog_ && watchdog_->expired; }

steady_clock::time_point stream::deadline() const noexcept {
    return watchdog_ ? watchdog_->deadline : steady_clock::time_point::max();
}

}  // namespace gatehouse::net
