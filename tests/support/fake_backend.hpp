#pragma once
// A scripted HTTP/1.1 back end for proxy tests, in the spirit of Envoy's FakeUpstream and
// VTest's `server s1 { rxreq; txresp }`: every accepted connection runs the test's script on a
// thread of its own, with blocking calls bounded by a timeout. The back end records the exact
// bytes it received per connection and every request it read, so tests assert on what the
// proxy sent, not only on what the client got. It parses HTTP itself (a few lines, no Beast, no
// gatehouse::net), so a parsing bug in the code under test cannot hide on both sides.
//
//   fake_backend cas([](backend_connection& c) {
//       while (auto req = c.read_request()) c.respond(200, "200 OK<br/>EX01");
//   });
//   ... proxy to 127.0.0.1:cas.port() ...
//   ASSERT_TRUE(cas.wait_for_requests(1));
//   EXPECT_EQ(cas.requests()[0].header("X-Forwarded-For"), "127.0.0.1:...");

#include "net/awaitable.hpp"
#include "net/certificate.hpp"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace gatehouse::test {

using std::chrono::milliseconds;
inline constexpr milliseconds backend_timeout{5000};

struct received_request {
    std::string method{};
    std::string target{};
    std::string version{};
    std::vector<std::pair<std::string, std::string>> fields{};
    std::string body{};
    std::string raw_head{};      // the head exactly as it arrived
    std::size_t connection = 0;  // which connection of the back end (0, 1, ...)
    std::size_t sequence = 0;    // its position on that connection (0: first)

    // The first value of `name` (case-insensitive), empty when absent.
    std::string header(std::string_view name) const;
    std::size_t count(std::string_view name) const;
    bool has(std::string_view name) const { return count(name) > 0; }
};

class backend_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class fake_backend;

// One accepted connection, as the script sees it. Every blocking call gives up after the
// timeout with backend_error (the script then ends; the back end records why).
class backend_connection {
public:
    // Reads the next request with its whole body (Content-Length or chunked). Empty when the
    // peer closed the connection cleanly before a new request began.
    std::optional<received_request> read_request(milliseconds timeout = backend_timeout);
    // Reads the next request head only; the body is then read with read_body_some().
    std::optional<received_request> read_head(milliseconds timeout = backend_timeout);
    // Up to `max` bytes of the current Content-Length body; empty once it is complete.
    std::string read_body_some(std::size_t max = 64 * 1024, milliseconds timeout = backend_timeout);
    // Body bytes of the current request not read yet (Content-Length bodies).
    std::uint64_t body_remaining() const noexcept { return body_remaining_; }

    void write(std::string_view bytes);
    // A complete response; Content-Length is added unless `headers` has one or a
    // Transfer-Encoding. `reason` empty: a standard phrase.
    void respond(unsigned status, std::string_view body = {},
                 const std::vector<std::pair<std::string, std::string>>& headers = {},
                 std::string_view reason = {});
    // Closes with a TCP RST.
    void reset();
    // Closes gracefully (FIN).
    void close();
    // True when the peer closes the connection within `timeout`.
    bool wait_closed(milliseconds timeout = backend_timeout);

    std::size_t index() const noexcept { return index_; }
    fake_backend& backend() noexcept { return backend_; }

private:
    friend class fake_backend;
    backend_connection(fake_backend& b, int fd, std::size_t index, void* ssl);
    ~backend_connection();

    std::size_t receive(char* data, std::size_t size, milliseconds timeout);
    bool fill(milliseconds timeout);  // reads more into buffer_; false on clean close
    void send_all(std::string_view bytes);

    fake_backend& backend_;
    int fd_;
    std::size_t index_;
    void* ssl_;  // SSL* when TLS
    std::string buffer_;
    std::uint64_t body_remaining_ = 0;
    std::size_t requests_ = 0;
    bool closed_ = false;
};

class fake_backend {
public:
    using script = std::function<void(backend_connection&)>;

    // Listens on 127.0.0.1, port 0. With `certificate`, speaks TLS.
    explicit fake_backend(script s);
    fake_backend(script s, const net::certificate& certificate);
    ~fake_backend();
    fake_backend(const fake_backend&) = delete;
    fake_backend& operator=(const fake_backend&) = delete;

    std::uint16_t port() const noexcept { return port_; }
    tcp::endpoint endpoint() const;

    std::size_t connections() const;
    std::vector<received_request> requests() const;
    // Raw bytes received on connection `index` (the first MiB).
    std::string received(std::size_t index) const;
    // What scripts threw (timeouts, protocol surprises), for tests that expect none.
    std::vector<std::string> script_errors() const;

    // Named counters scripts may bump (bytes streamed, events) and tests may wait on. A TLS
    // back end counts "tls_handshakes" and "tls_resumed" itself.
    void add(const std::string& name, std::uint64_t n = 1);
    std::uint64_t value(const std::string& name) const;

    [[nodiscard]] ::testing::AssertionResult wait_for_requests(
        std::size_t n, milliseconds timeout = backend_timeout) const;
    [[nodiscard]] ::testing::AssertionResult wait_for_connections(
        std::size_t n, milliseconds timeout = backend_timeout) const;
    [[nodiscard]] ::testing::AssertionResult wait_for_value(
        const std::string& name, std::uint64_t at_least,
        milliseconds timeout = backend_timeout) const;

private:
    friend class backend_connection;
    void accept_loop();
    void serve(int fd, std::size_t index);
    void record_request(const received_request& r);
    void record_bytes(std::size_t connection, const char* data, std::size_t n);
    [[nodiscard]] ::testing::AssertionResult wait(const std::function<bool()>& done,
                                                  milliseconds timeout,
                                                  const std::string& what) const;

    script script_;
    std::shared_ptr<void> tls_;  // the server SSL_CTX holder (asio::ssl::context)
    int listen_fd_ = -1;
    int wake_fd_ = -1;  // eventfd: stop accepting
    std::uint16_t port_ = 0;
    std::atomic<bool> stopping_{false};
    std::thread acceptor_;

    mutable std::mutex mutex_;
    mutable std::condition_variable changed_;
    std::vector<std::thread> threads_;
    std::vector<int> open_fds_;
    std::vector<received_request> requests_;
    std::vector<std::string> received_;
    std::vector<std::string> errors_;
    std::map<std::string, std::uint64_t> values_;
    std::size_t connections_ = 0;
};

// A loopback port with nothing listening on it (connections are refused).
std::uint16_t closed_port();

}  // namespace gatehouse::test
