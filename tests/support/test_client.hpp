#pragma once
// A blocking HTTP/1.1 client for tests, built on Beast's own message parser (not Gatehouse's),
// so that a parsing bug in gatehouse::net cannot hide itself on both sides of a test. Every read
// and write is bounded by a socket timeout: a server that never answers fails the test quickly.

#include "net/awaitable.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <string>
#include <string_view>

namespace gatehouse::test {

using response = http::response<http::string_body>;
using request = http::request<http::string_body>;

class test_client {
public:
    // Connects to `endpoint` over plain TCP.
    explicit test_client(const tcp::endpoint& endpoint,
                         std::chrono::milliseconds timeout = std::chrono::seconds(5));
    // Connects over TLS with `context`, sending `server_name` as SNI when not empty.
    test_client(const tcp::endpoint& endpoint, asio::ssl::context& context,
                const std::string& server_name,
                std::chrono::milliseconds timeout = std::chrono::seconds(5));
    ~test_client();
    test_client(const test_client&) = delete;
    test_client& operator=(const test_client&) = delete;

    // Sends raw bytes as they are.
    void send(std::string_view bytes);
    // Sends `req` (Content-Length is filled in from the body).
    void send(request req);
    // Reads one response; `head_request` when it answers a HEAD (no body follows).
    response read(bool head_request = false);
    // Sends `req` and reads its response.
    response roundtrip(request req);
    // Reads one response head only, leaving the body on the connection.
    response read_head();
    // Reads up to `max` raw bytes (at least one); empty when the peer closed.
    std::string read_some(std::size_t max = 65536);
    // Reads exactly `n` raw bytes (after read_head(), the body as it streams).
    std::string read_exactly(std::size_t n);
    // True when the peer closes the connection (or resets it) within the timeout.
    bool wait_closed();
    // The local port of the connection (what the server sees as the remote port).
    unsigned short local_port() const;
    // Closes the connection abortively (RST).
    void reset();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

// GET `target` on a fresh connection and return the response.
response get(const tcp::endpoint& endpoint, std::string_view target,
             std::string_view host = "mail.contoso.com");

// A request with `method`, `target` and a Host header.
request make_request(std::string_view method, std::string_view target,
                     std::string_view host = "mail.contoso.com", std::string body = {});

}  // namespace gatehouse::test
