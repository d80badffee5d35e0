#include "tests/support/test_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <optional>
#include <stdexcept>
#include <variant>

namespace gatehouse::test {

struct test_client::impl {
    asio::io_context ioc;
    std::variant<tcp::socket, asio::ssl::stream<tcp::socket>> stream;
    beast::flat_buffer buffer;
    std::chrono::milliseconds timeout;

    impl(std::chrono::milliseconds t) : stream(tcp::socket(ioc)), timeout(t) {}
    impl(std::chrono::milliseconds t, asio::ssl::context& ctx)
        : stream(std::in_place_index<1>, tcp::socket(ioc), ctx), timeout(t) {}

    tcp::socket& socket() {
        if (auto* plain = std::get_if<0>(&stream)) return *plain;
        return std::get<1>(stream).next_layer();
    }

    // Starts an asynchronous operation through `start(stream, handler)` and runs the private
    // io_context until it completes or the timeout passes (then the connection is closed).
    template <class Start>
    error_code run(Start start, std::size_t* transferred = nullptr) {
        std::optional<error_code> result;
        std::size_t n = 0;
        auto handler = [&](error_code ec, std::size_t bytes = 0) {
            result = ec;
            n = bytes;
        };
        std::visit([&](auto& s) { start(s, handler); }, stream);
        ioc.restart();
        ioc.run_for(timeout);
        if (!result) {
            error_code ignored;
            socket().close(ignored);
            ioc.restart();
            ioc.run_for(std::chrono::milliseconds(100));  // let the aborted handler finish
            throw std::runtime_error("test_client: timed out");
        }
        if (transferred) *transferred = n;
        return *result;
    }

    void connect(const tcp::endpoint& endpoint) {
        error_code ec = run([&](auto&, auto& handler) { socket().async_connect(endpoint, handler); });
        if (ec) throw std::runtime_error("test_client: connect failed: " + ec.message());
        socket().set_option(tcp::no_delay(true));
    }
};

test_client::test_client(const tcp::endpoint& endpoint, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>(timeout)) {
    impl_->connect(endpoint);
}

test_client::test_client(const tcp::endpoint& endpoint, asio::ssl::context& context,
                         const std::string& server_name, std::chrono::milliseconds timeout)
    : impl_(std::make_unique<impl>(timeout, context)) {
    impl_->connect(endpoint);
    auto& tls = std::get<1>(impl_->stream);
    if (!server_name.empty()) SSL_set_tlsext_host_name(tls.native_handle(), server_name.c_str());
    error_code ec = impl_->run([&](auto&, auto& handler) {
        tls.async_handshake(asio::ssl::stream_base::client, [&handler](error_code e) { handler(e); });
    });
    if (ec) throw std::runtime_error("test_client: TLS handshake failed: " + ec.message());
}

test_client::~test_client() = default;

void test_client::send(std::string_view bytes) {
    error_code ec = impl_->run([&](auto& s, auto& handler) {
        asio::async_write(s, asio::buffer(bytes.data(), bytes.size()), handler);
    });
    if (ec) throw std::runtime_error("test_client: send failed: " + ec.message());
}

void test_client::send(request req) {
    req.prepare_payload();
    error_code ec = impl_->run([&](auto& s, auto& handler) { http::async_write(s, req, handler); });
    if (ec) throw std::runtime_error("test_client: send failed: " + ec.message());
}

response test_client::read(bool head_request) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);
    parser.skip(head_request);
    error_code ec = impl_->run([&](auto& s, auto& handler) {
        http::async_read(s, impl_->buffer, parser, handler);
    });
    if (ec) throw std::runtime_error("test_client: read failed: " + ec.message());
    return parser.release();
}

response test_client::roundtrip(request req) {
    bool head = req.method() == http::verb::head;
    send(std::move(req));
    return read(head);
}

response test_client::read_head() {
    http::response_parser<http::empty_body> parser;
    parser.body_limit(boost::none);  // the body stays on the connection: any size is fine
    error_code ec = impl_->run([&](auto& s, auto& handler) {
        http::async_read_header(s, impl_->buffer, parser, handler);
    });
    if (ec) throw std::runtime_error("test_client: read failed: " + ec.message());
    response head;
    head.base() = parser.get().base();
    return head;
}

std::string test_client::read_some(std::size_t max) {
    if (impl_->buffer.size() > 0) {
        auto n = std::min(max, impl_->buffer.size());
        std::string out(static_cast<const char*>(impl_->buffer.data().data()), n);
        impl_->buffer.consume(n);
        return out;
    }
    std::string out(max, '\0');
    std::size_t n = 0;
    error_code ec = impl_->run(
        [&](auto& s, auto& handler) { s.async_read_some(asio::buffer(out), handler); }, &n);
    if (ec == asio::error::eof || ec == asio::ssl::error::stream_truncated ||
        ec == asio::error::connection_reset)
        return {};
    if (ec) throw std::runtime_error("test_client: read failed: " + ec.message());
    out.resize(n);
    return out;
}

std::string test_client::read_exactly(std::size_t n) {
    std::string out;
    while (out.size() < n) {
        auto piece = read_some(n - out.size());
        if (piece.empty()) throw std::runtime_error("test_client: peer closed early");
        out += piece;
    }
    return out;
}

bool test_client::wait_closed() {
    try {
        for (;;) {
            if (read_some().empty()) return true;
        }
    } catch (const std::runtime_error&) {
        return false;  // timed out: still open
    }
}

unsigned short test_client::local_port() const {
    error_code ec;
    return impl_->socket().local_endpoint(ec).port();
}

void test_client::reset() {
    error_code ignored;
    impl_->socket().set_option(asio::socket_base::linger(true, 0), ignored);
    impl_->socket().close(ignored);
}

response get(const tcp::endpoint& endpoint, std::string_view target, std::string_view host) {
    test_client client(endpoint);
    return client.roundtrip(make_request("GET", target, host));
}

request make_request(std::string_view method, std::string_view target, std::string_view host,
                     std::string body) {
    request req;
    req.method_string(method);
    req.target(target);
    req.version(11);
    req.set(http::field::host, host);
    req.body() = std::move(body);
    if (!req.body().empty() || method == "POST" || method == "PUT") req.prepare_payload();
    return req;
}

}  // namespace gatehouse::test
