#include "scenarios/raw_exchange.hpp"

#include "net/stream.hpp"

namespace gatehouse::scenarios {

awaitable<raw_exchange_result> exchange_raw(tcp::endpoint to, std::string bytes,
                                            std::chrono::milliseconds bound,
                                            load::stream_registry* registry) {
    raw_exchange_result result;
    tcp::socket socket(co_await asio::this_coro::executor);
    if (auto [ec] = co_await socket.async_connect(to, use_nothrow); ec) {
        result.failure = "connect: " + ec.message();
        co_return result;
    }
    net::stream stream(std::move(socket));
    if (registry) registry->add(&stream);
    stream.expires_after(bound);
    // The proxy may refuse before reading everything: a failed write still leaves its answer
    // to read.
    co_await stream.write(asio::buffer(bytes));
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    std::array<char, 16 * 1024> buffer;
    for (;;) {
        auto [ec, n] = co_await stream.read_some(asio::buffer(buffer));
        result.received.append(buffer.data(), n);
        if (!ec) continue;
        // End of stream or a reset: the proxy closed. A timeout or our own close: it did not.
        result.closed = ec != asio::error::timed_out && ec != asio::error::operation_aborted;
        break;
    }
    if (registry) registry->remove(&stream);
    stream.close();
    co_return result;
}

}  // namespace gatehouse::scenarios
