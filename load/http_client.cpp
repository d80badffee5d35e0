#include "load/http_client.hpp"

#include "load/base64.hpp"
#include "load/recorder.hpp"
#include "net/http_io.hpp"

#include <array>

#include <poll.h>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/beast/http/error.hpp>
#include <openssl/ssl.h>

namespace gatehouse::load {

namespace {

// Generated bodies are this pattern repeated: printable, so a captured body reads well.
constexpr std::size_t pattern_bytes = 16 * 1024;
const std::array<char, pattern_bytes>& body_pattern() {
    static const auto pattern = [] {
        std::array<char, pattern_bytes> p{};
        constexpr std::string_view text = "gatehouse-load generated body 0123456789\n";
        for (std::size_t i = 0; i < p.size(); ++i) p[i] = text[i % text.size()];
        return p;
    }();
    return pattern;
}

bool method_has_body(std::string_view method) {
    return !(net::iequals(method, "GET") || net::iequals(method, "HEAD") ||
             net::iequals(method, "OPTIONS") || net::iequals(method, "DELETE"));
}

failure classify(error_code ec) {
    if (ec == asio::error::timed_out) return failure::timeout;
    if (ec == http::error::end_of_stream || ec == http::error::partial_message)
        return failure::read;
    if (ec.category() == http::make_error_code(http::error::bad_version).category() ||
        ec.category() == net::http_category())
        return failure::protocol;
    return failure::read;
}

std::string_view path_of(std::string_view target) {
    return target.substr(0, target.find('?'));
}

void append_number(std::string& out, std::uint64_t v) {
    char digits[24];
    auto* end = digits + sizeof digits;
    auto* p = end;
    do {
        *--p = char('0' + v % 10);
        v /= 10;
    } while (v != 0);
    out.append(p, end);
}

}  // namespace

std::optional<std::string_view> http_response::field(std::string_view name) const {
    if (!head) return std::nullopt;
    return head->fields.find(name);
}

void http_response::reset() {
    status = 0;
    head = nullptr;
    body.clear();
    body_bytes = 0;
    failed.reset();
    ec = {};
    interrupted = false;
    bytes_sent = bytes_received = 0;
    auth_legs = 0;
}

http_connection::http_connection(std::unique_ptr<net::stream> s, stream_registry* registry)
    : stream_(std::move(s)), registry_(registry) {
    if (registry_) registry_->add(stream_.get());
}

http_connection::~http_connection() {
    if (registry_) registry_->remove(stream_.get());
    // Closing without close_notify would make OpenSSL mark the session not resumable (it
    // treats an unannounced close as a possible truncation attack); clients close
    // connections that way all the time and still resume, so record the shutdown as done.
    if (auto* ssl = stream_->ssl())
        SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
}

awaitable<error_code> http_connection::read_head(bool head_request, bool stop_at_interim) {
    for (;;) {
        parser_.emplace(head_);
        if (head_request) parser_->skip(true);
        auto ec = co_await net::read_head(*stream_, buffer_, *parser_);
        if (ec) co_return ec;
        auto status = head_.status;
        if (status < 100 || status >= 200 || status == 101 || stop_at_interim) co_return ec;
    }
}

bool http_connection::drain_buffered(std::size_t capture, std::string& kept, std::uint64_t& total,
                                     error_code& ec) {
    parser_->eager(true);
    while (!parser_->is_done() && buffer_.size() > 0) {
        parser_->set_body_buffer(asio::buffer(scratch_));
        error_code put_ec;
        auto used = parser_->put(buffer_.data(), put_ec);
        buffer_.consume(used);
        auto n = parser_->body_used();
        if (kept.size() < capture) kept.append(scratch_.data(), std::min(n, capture - kept.size()));
        total += n;
        if (put_ec == http::error::need_buffer) continue;
        if (put_ec == http::error::need_more) return false;  // the rest is still on its way
        if (put_ec) {
            ec = put_ec;
            return false;
        }
        if (used == 0) return false;
    }
    return parser_->is_done();
}

awaitable<std::tuple<error_code, std::uint64_t>> http_connection::read_body(std::size_t capture,
                                                                            std::string& kept) {
    std::uint64_t total = 0;
    error_code ec;
    // Small responses usually arrive with their head: finish them without more I/O.
    if (drain_buffered(capture, kept, total, ec) || ec) co_return std::tuple{ec, total};
    while (kept.size() < capture && !parser_->is_done()) {
        auto want = std::min(scratch_.size(), capture - kept.size());
        auto [rec, n] = co_await net::read_body(*stream_, buffer_, *parser_,
                                                asio::buffer(scratch_.data(), want));
        kept.append(scratch_.data(), n);
        total += n;
        if (rec) co_return std::tuple{rec, total};
    }
    if (!parser_->is_done()) {
        auto [sec, n] = co_await net::skip_body(*stream_, buffer_, *parser_);
        total += n;
        if (sec) co_return std::tuple{sec, total};
    }
    co_return std::tuple{error_code{}, total};
}

http_client::http_client(connector& c, const client_options& options, cookie_jar& jar,
                         stream_registry* registry, recorder* counters)
    : connector_(c),
      options_(options),
      auth_(options.auth),
      jar_(jar),
      registry_(registry),
      counters_(counters),
      random_(std::random_device{}()) {}

http_client::~http_client() = default;

void http_client::set_identity(const ntlm::identity& id) {
    identity_ = id;
}

std::chrono::milliseconds http_client::timeout_of(const http_request& req) const {
    return req.timeout.count() > 0 ? req.timeout : options_.request_timeout;
}

void http_client::fail(http_response& out, failure f, error_code ec) {
    if (stopping()) {
        out.interrupted = true;
    } else {
        out.failed = f;
        out.ec = ec;
    }
}

std::string http_client::basic_authorization() const {
    std::string account =
        identity_.domain.empty() ? identity_.user : identity_.domain + "\\" + identity_.user;
    return "Basic " + base64_encode(account + ":" + identity_.password);
}

void http_client::write_head(std::string& out, const http_request& req,
                             std::string_view authorization, bool close) const {
    out.clear();
    out += req.method;
    out += ' ';
    out += req.target;
    out += " HTTP/1.1\r\nHost: ";
    if (!req.host.empty()) {
        out += req.host;
    } else if (!connector_.target().host_header.empty()) {
        out += connector_.target().host_header;
    } else {
        out += connector_.target().host;
        out += ':';
        out += connector_.target().port;
    }
    out += "\r\n";
    bool agent = false;
    for (const auto& h : req.headers) {
        if (net::iequals(h.name, "User-Agent")) agent = true;
        out += h.name;
        out += ": ";
        out += h.value;
        out += "\r\n";
    }
    if (!agent) {
        out += "User-Agent: ";
        out += options_.user_agent;
        out += "\r\n";
    }
    if (!jar_.empty()) {
        auto cookie_start = out.size();
        out += "Cookie: ";
        auto value_start = out.size();
        jar_.append_header(out, path_of(req.target), connector_.secure_channel(),
                           std::chrono::system_clock::now());
        if (out.size() == value_start)
            out.resize(cookie_start);
        else
            out += "\r\n";
    }
    if (!authorization.empty()) {
        out += "Authorization: ";
        out += authorization;
        out += "\r\n";
    }
    auto length = req.body_length();
    if (length > 0 || method_has_body(req.method)) {
        out += "Content-Length: ";
        append_number(out, length);
        out += "\r\n";
    }
    if (req.expect_continue && length > 0) out += "Expect: 100-continue\r\n";
    if (close) out += "Connection: close\r\n";
    out += "\r\n";
}

void http_client::store_cookies(const net::http_head& head, std::string_view target) {
    auto now = std::chrono::system_clock::now();
    for (const auto f : head.fields)
        if (net::iequals(f.name, "Set-Cookie")) jar_.store(f.value, path_of(target), now);
}

void http_client::drop_connection() {
    connection_.reset();
}

std::string http_client::host_header() const {
    const auto& t = connector_.target();
    if (!t.host_header.empty()) return t.host_header;
    return t.host + ":" + t.port;
}

std::string http_client::origin() const {
    return (connector_.target().tls ? "https://" : "http://") + host_header();
}

awaitable<std::unique_ptr<http_connection>> http_client::open(http_response& out) {
    if (stopping()) {
        out.interrupted = true;
        co_return nullptr;
    }
    auto r = co_await connector_.connect(options_.connect_timeout);
    if (!r.stream) {
        fail(out, *r.failed, r.ec);
        if (counters_) counters_->count("connect_failures");
        co_return nullptr;
    }
    if (counters_) {
        counters_->count("connections_opened");
        if (r.stream->is_tls()) counters_->count(r.tls_resumed ? "tls_resumed" : "tls_full");
    }
    co_return std::make_unique<http_connection>(std::move(r.stream), registry_);
}

namespace {

// True when the peer has closed (or reset) an idle connection: its FIN is already here.
bool peer_closed(tcp::socket& socket) {
    pollfd p{socket.native_handle(), POLLRDHUP, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

}  // namespace

awaitable<bool> http_client::ensure_connection(http_response& out) {
    if (connection_ && connection_->stream().is_open()) co_return true;
    connection_.reset();
    connection_ = co_await open(out);
    co_return connection_ != nullptr;
}

awaitable<bool> http_client::wait_readable(http_connection& c, std::chrono::milliseconds limit) {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(co_await asio::this_coro::executor, limit);
    auto which = co_await (c.stream().socket().async_wait(tcp::socket::wait_read, use_nothrow) ||
                           timer.async_wait(use_nothrow));
    co_return which.index() == 0;
}

awaitable<error_code> http_client::send_body(http_connection& c, const http_request& req,
                                             http_response& out) {
    if (!req.body.empty()) {
        auto [ec, n] = co_await c.stream().write(asio::buffer(req.body));
        out.bytes_sent += n;
        co_return ec;
    }
    const auto& pattern = body_pattern();
    std::uint64_t left = req.generated_body;
    while (left > 0) {
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(left, pattern.size()));
        auto [ec, written] = co_await c.stream().write(asio::buffer(pattern.data(), n));
        out.bytes_sent += written;
        if (ec) co_return ec;
        left -= n;
    }
    co_return error_code{};
}

awaitable<void> http_client::send_and_receive(http_connection& c, const http_request& req,
                                              std::string_view authorization, http_response& out) {
    bool close = !options_.keep_alive;
    write_head(head_buffer_, req, authorization, close);
    bool head_request = net::iequals(req.method, "HEAD");
    bool expect = req.expect_continue && req.body_length() > 0;
    bool must_close = false;
    bool have_final_head = false;
    ++c.requests;

    if (!expect && !req.body.empty()) {
        std::array<asio::const_buffer, 2> both{asio::buffer(head_buffer_), asio::buffer(req.body)};
        auto [ec, n] = co_await c.stream().write(both);
        out.bytes_sent += n;
        if (ec)
            co_return fail(out, ec == asio::error::timed_out ? failure::timeout : failure::write,
                           ec);
    } else {
        auto [ec, n] = co_await c.stream().write(asio::buffer(head_buffer_));
        out.bytes_sent += n;
        if (ec)
            co_return fail(out, ec == asio::error::timed_out ? failure::timeout : failure::write,
                           ec);
        bool send = req.body_length() > 0;
        if (expect && co_await wait_readable(c, options_.expect_wait)) {
            auto rec = co_await c.read_head(head_request, true);
            if (rec) co_return fail(out, classify(rec), rec);
            if (c.head().status == 100) {
                if (counters_) counters_->count("continue_received");
            } else if (c.head().status >= 200) {
                // A final answer before the body: the body was never sent, so the connection
                // cannot carry another request.
                send = false;
                have_final_head = true;
                must_close = true;
            }
        }
        if (send) {
            if (auto bec = co_await send_body(c, req, out); bec) {
                if (bec == asio::error::timed_out) co_return fail(out, failure::timeout, bec);
                // A server may answer before the body is complete (413, 404.13, 401) and stop
                // reading: take that answer when it arrived, as browsers and curl do.
                if (auto rec = co_await c.read_head(head_request); rec)
                    co_return fail(out, failure::write, bec);
                have_final_head = true;
                must_close = true;
            }
        }
    }
    if (!have_final_head) {
        if (auto ec = co_await c.read_head(head_request); ec) co_return fail(out, classify(ec), ec);
    }
    out.status = c.head().status;
    out.head = &c.head();
    out.bytes_received += c.head().fields.bytes() + c.head().reason.size() + 16;
    {
        auto [ec, n] = co_await c.read_body(req.capture, out.body);
        out.body_bytes = n;
        out.bytes_received += n;
        if (ec) {
            fail(out, classify(ec), ec);
            out.status = 0;
            co_return;
        }
    }
    store_cookies(c.head(), req.target);
    if (must_close || close || !c.parser().keep_alive()) c.stream().close();
}

awaitable<std::optional<std::string>> http_client::authorize(http_connection& c,
                                                             const http_request& req,
                                                             http_response& out) {
    if (auth_ == auth_scheme::basic) co_return basic_authorization();
    if (auth_ == auth_scheme::none || c.authenticated || c.auth_free) co_return std::string();

    std::string_view scheme = auth_ == auth_scheme::negotiate ? "Negotiate" : "NTLM";
    std::string type1 = std::string(scheme) + " " + base64_encode(ntlm::negotiate_message());
    // The negotiate leg: the same request without its body (Content-Length: 0).
    http_request leg = req;
    leg.body = {};
    leg.generated_body = 0;
    leg.expect_continue = false;
    leg.capture = 0;
    c.stream().expires_after(timeout_of(req));
    {
        write_head(head_buffer_, leg, type1, false);
        ++out.auth_legs;
        auto [ec, n] = co_await c.stream().write(asio::buffer(head_buffer_));
        out.bytes_sent += n;
        if (ec) {
            fail(out, ec == asio::error::timed_out ? failure::timeout : failure::write, ec);
            co_return std::nullopt;
        }
    }
    if (auto ec = co_await c.read_head(net::iequals(req.method, "HEAD")); ec) {
        fail(out, classify(ec), ec);
        co_return std::nullopt;
    }
    {
        std::string ignored;
        auto [ec, n] = co_await c.read_body(0, ignored);
        out.bytes_received += n + c.head().fields.bytes();
        if (ec) {
            fail(out, classify(ec), ec);
            co_return std::nullopt;
        }
    }
    store_cookies(c.head(), req.target);
    auto status = c.head().status;
    if (status != 401) {
        c.auth_free = status < 400;
        if (status >= 400 || !method_has_body(req.method) || req.body_length() == 0) {
            // The leg's response is the answer (the server wanted no authentication, or
            // refused outright).
            out.status = status;
            out.head = &c.head();
            if (!c.parser().keep_alive()) c.stream().close();
            co_return std::nullopt;
        }
        co_return std::string();
    }
    std::optional<ntlm::challenge> challenge;
    for (const auto f : c.head().fields) {
        if (!net::iequals(f.name, "WWW-Authenticate")) continue;
        auto v = f.value;
        if (v.size() > scheme.size() + 1 && net::iequals(v.substr(0, scheme.size()), scheme) &&
            v[scheme.size()] == ' ') {
            if (auto bytes = base64_decode(v.substr(scheme.size() + 1)))
                challenge = ntlm::parse_challenge(*bytes);
        }
    }
    if (!challenge || !c.parser().keep_alive()) {
        // 401 without a usable challenge (or on a closing connection): authentication failed.
        out.status = status;
        out.head = &c.head();
        if (counters_) counters_->count("auth_failures");
        c.stream().close();
        co_return std::nullopt;
    }
    ntlm::bytes8 client_challenge;
    auto r = random_();
    for (int i = 0; i < 8; ++i) client_challenge[i] = std::uint8_t(r >> (8 * i));
    auto type3 =
        ntlm::authenticate_message(identity_, *challenge, client_challenge, ntlm::filetime_now());
    if (counters_) counters_->count("ntlm_handshakes");
    ++out.auth_legs;
    co_return std::string(scheme) + " " + base64_encode(type3);
}

awaitable<void> http_client::exchange(const http_request& req, http_response& out) {
    out.reset();
    bool ntlm = auth_ == auth_scheme::ntlm || auth_ == auth_scheme::negotiate;
    // A connection that is done is closed, not destroyed: `out.head` points into it until the
    // next exchange, and ensure_connection() replaces it then.
    for (int attempt = 0; attempt < 2; ++attempt) {
        if (connection_ && connection_->stream().is_open() &&
            peer_closed(connection_->stream().socket())) {
            // The server (or a proxy's keep-alive time-out) closed the idle connection: take a
            // new one instead of sending into a closing socket, as HTTP libraries do.
            if (counters_) counters_->count("closed_idle_connections");
            connection_->stream().close();
        }
        if (!connection_ || !connection_->stream().is_open()) {
            if (!co_await ensure_connection(out)) co_return;
        }
        auto& c = *connection_;
        c.stream().expires_after(timeout_of(req));
        std::optional<std::string> authorization;
        if (auth_ == auth_scheme::none || (ntlm && (c.authenticated || c.auth_free)))
            authorization.emplace();  // nothing to add: no coroutine needed
        else
            authorization = co_await authorize(c, req, out);
        if (!authorization) {
            if (out.failed || out.interrupted) c.stream().close();
            co_return;
        }
        bool sent_auth = ntlm && !authorization->empty();
        bool reused = c.requests > 0;
        co_await send_and_receive(c, req, *authorization, out);
        if (out.failed || out.interrupted) {
            c.stream().close();
            // A reused keep-alive connection the server closed meanwhile (a proxy reloading, an
            // idle time-out racing the request): nothing came back, so an idempotent request is
            // sent again on a new connection once, as browsers and HTTP libraries do.
            bool idempotent = req.method == "GET" || req.method == "HEAD" ||
                              req.method == "OPTIONS";
            bool nothing_back = out.bytes_received == 0 && out.status == 0;
            bool stale = out.failed == failure::read || out.failed == failure::write;
            if (attempt == 0 && reused && idempotent && nothing_back && stale && !out.interrupted &&
                !c.authenticated) {
                if (counters_) counters_->count("stale_connection_retries");
                out.reset();
                continue;
            }
            co_return;
        }
        if (ntlm && out.status == 401) {
            if (sent_auth) {
                // The AUTHENTICATE leg itself was refused: wrong password, or the handshake
                // was split across back-end connections by a proxy.
                if (counters_) counters_->count("auth_failures");
                c.stream().close();
                co_return;
            }
            if (c.authenticated && attempt == 0 && c.stream().is_open()) {
                // An authenticated connection challenged again (IIS does so per request when
                // a proxy adds Via): authenticate again and resend.
                c.authenticated = false;
                if (counters_) counters_->count("ntlm_rechallenges");
                continue;
            }
        }
        if (sent_auth && out.status != 401) c.authenticated = true;
        co_return;
    }
}

}  // namespace gatehouse::load
