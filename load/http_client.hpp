#pragma once
// The HTTP/1.1 client of one virtual user: a kept-alive connection (or a new one per request),
// the user's cookie jar, Basic or NTLM/Negotiate authentication (the NTLM legs on the one
// connection they authenticate, re-run when a proxy makes the server re-challenge), Expect:
// 100-continue, and request bodies generated while they are sent. Failures are values in the
// response (failure kind and error code); nothing throws. Used by one coroutine at a time.

#include "load/connector.hpp"
#include "load/cookie_jar.hpp"
#include "load/ntlm.hpp"
#include "load/stream_registry.hpp"
#include "net/http_parser.hpp"

#include <array>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/core/flat_buffer.hpp>

namespace gatehouse::load {

class recorder;

struct header {
    std::string_view name{};
    std::string_view value{};
};

struct http_request {
    std::string_view method{};
    std::string_view target{};
    std::string_view host{};           // Host header; empty: the target's
    std::vector<header> headers{};     // further fields (User-Agent here replaces the default)
    std::string_view body{};           // a body held by the caller, or
    std::uint64_t generated_body = 0;  // this many bytes generated while sending
    bool expect_continue = false;
    std::size_t capture = 0;               // response body bytes to keep in http_response::body
    std::chrono::milliseconds timeout{0};  // 0: client_options::request_timeout

    std::uint64_t body_length() const noexcept {
        return body.empty() ? generated_body : body.size();
    }
};

struct http_response {
    unsigned status = 0;
    const net::http_head* head = nullptr;  // valid until the client's next call
    std::string body{};                    // the first `capture` bytes of the body
    std::uint64_t body_bytes = 0;
    std::optional<failure> failed{};
    error_code ec{};
    bool interrupted = false;  // the run ended while this request was in flight
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    unsigned auth_legs = 0;  // NTLM legs this request needed

    std::optional<std::string_view> field(std::string_view name) const;
    void reset();
};

// One connection and its read state.
class http_connection {
public:
    http_connection(std::unique_ptr<net::stream> s, stream_registry* registry);
    ~http_connection();
    http_connection(const http_connection&) = delete;
    http_connection& operator=(const http_connection&) = delete;

    net::stream& stream() noexcept { return *stream_; }
    beast::flat_buffer& buffer() noexcept { return buffer_; }
    net::http_head& head() noexcept { return head_; }

    // Reads one response head, skipping 1xx interim responses unless `stop_at_interim`.
    awaitable<error_code> read_head(bool head_request, bool stop_at_interim = false);
    // The parser of the last head read, for reading its body.
    net::response_parser& parser() noexcept { return *parser_; }
    // Reads the body: keeps up to `capture` bytes in `kept`, discards the rest.
    awaitable<std::tuple<error_code, std::uint64_t>> read_body(std::size_t capture,
                                                               std::string& kept);

    // Consumes body bytes already buffered, without I/O; true once the body is complete.
    bool drain_buffered(std::size_t capture, std::string& kept, std::uint64_t& total,
                        error_code& ec);

    bool authenticated = false;  // NTLM completed on this connection
    bool auth_free = false;      // the server needed no authentication here
    std::uint64_t requests = 0;

private:
    std::unique_ptr<net::stream> stream_;
    stream_registry* registry_;
    beast::flat_buffer buffer_;
    net::http_head head_;
    std::optional<net::response_parser> parser_;
    std::array<char, 16 * 1024> scratch_;  // body bytes pass through here, never kept
};

class http_client {
public:
    // `registry` and `counters` belong to the worker and outlive the client.
    http_client(connector& c, const client_options& options, cookie_jar& jar,
                stream_registry* registry, recorder* counters);
    ~http_client();

    void set_identity(const ntlm::identity& id);
    const ntlm::identity& identity() const noexcept { return identity_; }
    // Replaces the authentication scheme for this user (profiles choose per protocol).
    void set_auth(auth_scheme scheme) noexcept { auth_ = scheme; }
    auth_scheme auth() const noexcept { return auth_; }

    // Sends `req` and reads its response into `out`.
    awaitable<void> exchange(const http_request& req, http_response& out);

    // For channels that outlive one request (RPC over HTTP): a connection of its own, and the
    // NTLM leg that authenticates it. authorize() returns the Authorization value to put on
    // the real request (empty when the server needed none); when the leg itself ended the
    // exchange (an error, or a final response), it returns nullopt with `out` filled in.
    awaitable<std::unique_ptr<http_connection>> open(http_response& out);
    awaitable<std::optional<std::string>> authorize(http_connection& c, const http_request& req,
                                                    http_response& out);
    // The request head as this client writes it, with `authorization` (may be empty).
    void write_head(std::string& out, const http_request& req, std::string_view authorization,
                    bool close) const;
    // Stores the Set-Cookie fields of `head`, answering a request for `target`.
    void store_cookies(const net::http_head& head, std::string_view target);

    // The Host header requests carry by default.
    std::string host_header() const;
    // "https://host" or "http://host", for the absolute URLs clients build (OWA destination).
    std::string origin() const;

    // Closes the kept-alive connection (the next request opens a new one).
    void drop_connection();
    cookie_jar& cookies() noexcept { return jar_; }
    const client_options& options() const noexcept { return options_; }
    connector& target() noexcept { return connector_; }
    bool stopping() const noexcept { return registry_ && registry_->closed(); }

private:
    awaitable<bool> ensure_connection(http_response& out);
    awaitable<void> send_and_receive(http_connection& c, const http_request& req,
                                     std::string_view authorization, http_response& out);
    awaitable<error_code> send_body(http_connection& c, const http_request& req,
                                    http_response& out);
    awaitable<bool> wait_readable(http_connection& c, std::chrono::milliseconds limit);
    void fail(http_response& out, failure f, error_code ec);
    std::string basic_authorization() const;
    std::chrono::milliseconds timeout_of(const http_request& req) const;

    connector& connector_;
    client_options options_;
    auth_scheme auth_;
    cookie_jar& jar_;
    stream_registry* registry_;
    recorder* counters_;
    ntlm::identity identity_;
    std::unique_ptr<http_connection> connection_;
    std::string head_buffer_;
    std::mt19937_64 random_;
};

}  // namespace gatehouse::load
