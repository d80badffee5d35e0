#pragma once
// One TCP connection, plain or TLS, with a deadline. Every operation is co_awaited, reports
// failures as values and never throws. A stream is used by one coroutine at a time (one read and
// one write may be outstanding together); it is not thread-safe.

#include "net/awaitable.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream_base.hpp>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <variant>

namespace boost::asio::ssl {
template <typename Stream>
class stream;
}
namespace boost::asio::detail {
class epoll_reactor;
}

namespace gatehouse::net {

class stream {
public:
    // A plain TCP connection.
    explicit stream(tcp::socket socket);
    // A TLS connection over `socket`; handshake() must complete before reads and writes.
    stream(tcp::socket socket, asio::ssl::context& context);
    // The deadline's watchdog refers to the socket, so a stream never moves.
    stream(const stream&) = delete;
    stream& operator=(const stream&) = delete;
    ~stream();

    bool is_tls() const noexcept { return tls_ != nullptr; }
    tcp::socket& socket() noexcept;
    // The OpenSSL handle of a TLS stream, nullptr for a plain one.
    SSL* ssl() noexcept;
    // Endpoints captured when the stream was made (still valid after close()).
    const tcp::endpoint& remote_endpoint() const noexcept { return remote_; }
    const tcp::endpoint& local_endpoint() const noexcept { return local_; }

    // Client side, before handshake(): send `host` as SNI and, when `verify_host`, require the
    // peer certificate to match it. Returns false when OpenSSL refuses the name.
    bool set_server_name(const std::string& host, bool verify_host);

    // TLS handshake; completes at once for a plain stream.
    awaitable<error_code> handshake(asio::ssl::stream_base::handshake_type type);
    // What read_some() and write() complete with: the error and the bytes transferred.
    using io_result = std::tuple<error_code, std::size_t>;
    // The handler of a coroutine that co_awaits an operation (see operation below).
    using io_handler =
        asio::detail::awaitable_async_op_handler<void(io_result), asio::any_io_executor>;

private:
    // Start an operation for an awaiting coroutine (see operation below).
    void start_read(io_handler handler, asio::mutable_buffer buffer);
    void start_write(io_handler handler, asio::const_buffer buffer);
    void start_write_pieces(io_handler handler, std::span<const asio::const_buffer> buffers);

public:
    // An Asio asynchronous operation, to be co_awaited at once (`auto [ec, n] = co_await
    // s.read_some(b);`). Unlike a coroutine it needs no frame: the awaiting coroutine holds it,
    // and the work is started by a member of stream compiled once in stream.cpp. A result known
    // at the start (a write the socket took whole, a passed deadline) resumes the coroutine at
    // once instead of queuing it behind every ready handler.
    template <class Buffers, void (stream::*Start)(io_handler, Buffers)>
    class operation {
        struct initiation {
            void operator()(io_handler handler, stream* s, Buffers b) const {
                (s->*Start)(std::move(handler), b);
            }
        };

    public:
        operation(stream& s, Buffers buffers) : stream_(&s), buffers_(buffers) {}
        // Only a token that can complete it is accepted (Asio probes others).
        template <class Token>
        auto operator()(Token&& token) && -> decltype(asio::async_initiate<Token, void(io_result)>(
            std::declval<initiation>(), token, std::declval<stream*>(), std::declval<Buffers>())) {
            return asio::async_initiate<Token, void(io_result)>(initiation{}, token, stream_,
                                                                buffers_);
        }

    private:
        stream* stream_;
        Buffers buffers_;
    };
    using read_operation = operation<asio::mutable_buffer, &stream::start_read>;
    using write_operation = operation<asio::const_buffer, &stream::start_write>;
    using write_pieces_operation =
        operation<std::span<const asio::const_buffer>, &stream::start_write_pieces>;

    // Reads at least one byte. Fails with asio::error::timed_out when the deadline passes.
    read_operation read_some(asio::mutable_buffer buffer) { return {*this, buffer}; }
    // Writes all of the buffers (or fails). The pieces must stay valid until it completes.
    write_operation write(asio::const_buffer buffer) { return {*this, buffer}; }
    write_pieces_operation write(std::span<const asio::const_buffer> buffers) {
        return {*this, buffers};
    }
    // Graceful close: TLS close_notify (bounded by the deadline, at most `tls_wait`), then FIN
    // and close. Never fails: the peer may already be gone.
    awaitable<void> shutdown(steady_clock::duration tls_wait = std::chrono::seconds(1));
    // Graceful close of a connection whose peer may still be sending (a request body the server
    // will not read): close_notify and FIN as shutdown(), then read and drop whatever arrives
    // until the peer closes or `linger` passes, then close. Closing with unread input would
    // send a reset instead, and a client still writing its body would fail before reading the
    // response it was sent (RFC 9112 §9.6).
    awaitable<void> linger_close(steady_clock::duration linger,
                                 steady_clock::duration tls_wait = std::chrono::seconds(1));
    // Closes at once (FIN). Pending operations complete with operation_aborted.
    void close() noexcept;
    // Closes abortively: the peer sees a TCP RST.
    void reset() noexcept;
    bool is_open() const noexcept;

    // The deadline covers every operation in progress or started until it is changed. Moving it
    // later costs no timer operation, so callers may refresh it before every read.
    void expires_after(steady_clock::duration d);
    void expires_at(steady_clock::time_point t);
    void expires_never();
    // True once the deadline has passed and cancelled the stream's operations.
    bool expired() const noexcept;
    // The deadline in force (time_point::max() for none).
    steady_clock::time_point deadline() const noexcept;
    // Drops the deadline and what watches it (a timer and its pending wait) until the next
    // expires_*() call: for a connection that waits long with its deadline kept elsewhere.
    void release_deadline() noexcept;

private:
    struct watchdog;
    struct completion;

    error_code translate(error_code ec) const noexcept;
    // close_notify (TLS, bounded by `tls_wait`) and FIN; the socket stays open for reading.
    awaitable<void> send_close(steady_clock::duration tls_wait);

    std::unique_ptr<tcp::socket> plain_;
    // plain_'s reactor once net/edge_read.hpp's reads apply to it (decided at the first read).
    asio::detail::epoll_reactor* reactor_ = nullptr;
    bool edge_decided_ = false;
    std::unique_ptr<asio::ssl::stream<tcp::socket>> tls_;
    std::shared_ptr<watchdog> watchdog_;  // null while no deadline is set (see release_deadline)
    tcp::endpoint remote_;
    tcp::endpoint local_;
};

}  // namespace gatehouse::net
