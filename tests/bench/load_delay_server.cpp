// A loopback HTTP server that answers every request after a fixed delay, so the open-model
// check of tests/bench/load_bench.sh knows exactly what latency to expect (the delay, plus
// queueing once the arrival rate exceeds what the client's connections can carry).
//   load_delay_server DELAY_MS   prints the port it listens on, then serves until killed
#include "net/http_io.hpp"
#include "net/stream.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <iostream>
#include <string>

namespace {

using namespace gatehouse;

awaitable<void> serve(tcp::socket socket, std::chrono::milliseconds delay) {
    net::stream stream(std::move(socket));
    beast::flat_buffer buffer;
    net::http_head head;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    static const std::string response =
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";
    for (;;) {
        net::request_parser parser(head);
        if (co_await net::read_head(stream, buffer, parser)) co_return;
        auto [skip_ec, skipped] = co_await net::skip_body(stream, buffer, parser);
        if (skip_ec) co_return;
        timer.expires_after(delay);
        co_await timer.async_wait(use_nothrow);
        auto [ec, n] = co_await stream.write(asio::buffer(response));
        if (ec) co_return;
    }
}

awaitable<void> accept_loop(tcp::acceptor& acceptor, std::chrono::milliseconds delay) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
        if (ec) co_return;
        socket.set_option(tcp::no_delay(true));
        asio::co_spawn(acceptor.get_executor(), serve(std::move(socket), delay), asio::detached);
    }
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: load_delay_server DELAY_MS\n";
        return 2;
    }
    std::chrono::milliseconds delay(std::stol(argv[1]));
    asio::io_context ioc(1);
    tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    std::cout << acceptor.local_endpoint().port() << std::endl;
    asio::co_spawn(ioc, accept_loop(acceptor, delay), asio::detached);
    ioc.run();
}
