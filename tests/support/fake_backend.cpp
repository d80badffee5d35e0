#include "tests/support/fake_backend.hpp"

#include "net/tls.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace gatehouse::test {

namespace {

using clock = std::chrono::steady_clock;

char lower(char c) {
    return (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

int remaining_ms(clock::time_point deadline) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - clock::now()).count();
    return left > 0 ? static_cast<int>(left) : 0;
}

const char* standard_reason(unsigned status) {
    switch (status) {
        case 100:
            return "Continue";
        case 200:
            return "OK";
        case 204:
            return "No Content";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Found";
        case 304:
            return "Not Modified";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 413:
            return "Request Entity Too Large";
        case 500:
            return "Internal Server Error";
        case 503:
            return "Service Unavailable";
        default:
            return "Status";
    }
}

}  // namespace

std::string received_request::header(std::string_view name) const {
    for (const auto& [n, v] : fields)
        if (iequals(n, name)) return v;
    return {};
}

std::size_t received_request::count(std::string_view name) const {
    return static_cast<std::size_t>(std::count_if(
        fields.begin(), fields.end(), [&](const auto& f) { return iequals(f.first, name); }));
}

// ---- backend_connection ----------------------------------------------------------------------

backend_connection::backend_connection(fake_backend& b, int fd, std::size_t index, void* ssl)
    : backend_(b), fd_(fd), index_(index), ssl_(ssl) {}

backend_connection::~backend_connection() {
    if (!closed_) close();
}

std::size_t backend_connection::receive(char* data, std::size_t size, milliseconds timeout) {
    if (closed_) return 0;
    auto deadline = clock::now() + timeout;
    auto* ssl = static_cast<SSL*>(ssl_);
    for (;;) {
        if (!(ssl && SSL_pending(ssl) > 0)) {
            pollfd p{fd_, POLLIN, 0};
            int ready = ::poll(&p, 1, remaining_ms(deadline));
            if (ready == 0) throw backend_error("timed out waiting for bytes");
            if (ready < 0 && errno != EINTR) throw backend_error("poll failed");
            if (ready < 0) continue;
        }
        long n;
        if (ssl) {
            n = SSL_read(ssl, data, static_cast<int>(size));
            if (n <= 0) {
                int err = SSL_get_error(ssl, static_cast<int>(n));
                if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) continue;
                return 0;  // close_notify, FIN or reset
            }
        } else {
            n = ::recv(fd_, data, size, 0);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n <= 0) return 0;  // FIN or reset
        }
        backend_.record_bytes(index_, data, static_cast<std::size_t>(n));
        return static_cast<std::size_t>(n);
    }
}

bool backend_connection::fill(milliseconds timeout) {
    char chunk[16 * 1024];
    auto n = receive(chunk, sizeof chunk, timeout);
    if (n == 0) return false;
    buffer_.append(chunk, n);
    return true;
}

void backend_connection::send_all(std::string_view bytes) {
    if (closed_) throw backend_error("write on a closed connection");
    auto* ssl = static_cast<SSL*>(ssl_);
    while (!bytes.empty()) {
        long n;
        if (ssl) {
            n = SSL_write(ssl, bytes.data(), static_cast<int>(bytes.size()));
            if (n <= 0) throw backend_error("TLS write failed");
        } else {
            n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) throw backend_error(std::string("write failed: ") + std::strerror(errno));
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

void backend_connection::write(std::string_view bytes) {
    send_all(bytes);
}

std::optional<received_request> backend_connection::read_head(milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    while (body_remaining_ > 0) {  // an unread body of the previous request is skipped
        if (buffer_.empty() && !fill(milliseconds(remaining_ms(deadline))))
            throw backend_error("closed in a body");
        auto n = std::min<std::uint64_t>(body_remaining_, buffer_.size());
        buffer_.erase(0, static_cast<std::size_t>(n));
        body_remaining_ -= n;
    }
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
        if (!fill(milliseconds(remaining_ms(deadline)))) {
            if (buffer_.empty()) return std::nullopt;
            throw backend_error("closed in the middle of a request head");
        }
    }
    received_request r;
    r.raw_head = buffer_.substr(0, end + 4);
    buffer_.erase(0, end + 4);
    std::string_view head(r.raw_head);
    auto line_end = head.find("\r\n");
    auto line = head.substr(0, line_end);
    auto sp1 = line.find(' ');
    auto sp2 = line.rfind(' ');
    if (sp1 == std::string_view::npos || sp2 == sp1) throw backend_error("bad request line");
    r.method = std::string(line.substr(0, sp1));
    r.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
    r.version = std::string(line.substr(sp2 + 1));
    head.remove_prefix(line_end + 2);
    while (head.size() > 2) {
        auto e = head.find("\r\n");
        auto field = head.substr(0, e);
        auto colon = field.find(':');
        if (colon == std::string_view::npos) throw backend_error("bad field line");
        r.fields.emplace_back(std::string(field.substr(0, colon)),
                              std::string(trim(field.substr(colon + 1))));
        head.remove_prefix(e + 2);
    }
    r.connection = index_;
    r.sequence = requests_++;
    body_remaining_ = 0;
    if (!iequals(r.header("Transfer-Encoding"), "chunked") && r.has("Content-Length"))
        body_remaining_ = std::stoull(r.header("Content-Length"));
    backend_.record_request(r);
    return r;
}

std::string backend_connection::read_body_some(std::size_t max, milliseconds timeout) {
    if (body_remaining_ == 0) return {};
    if (buffer_.empty() && !fill(timeout)) throw backend_error("closed in a body");
    auto n = static_cast<std::size_t>(std::min<std::uint64_t>(
        {body_remaining_, buffer_.size(), static_cast<std::uint64_t>(max)}));
    std::string out = buffer_.substr(0, n);
    buffer_.erase(0, n);
    body_remaining_ -= n;
    return out;
}

std::optional<received_request> backend_connection::read_request(milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    auto r = read_head(timeout);
    if (!r) return r;
    if (iequals(r->header("Transfer-Encoding"), "chunked")) {
        for (;;) {
            std::size_t eol;
            while ((eol = buffer_.find("\r\n")) == std::string::npos)
                if (!fill(milliseconds(remaining_ms(deadline))))
                    throw backend_error("closed in a chunk header");
            auto size = std::stoull(buffer_.substr(0, eol), nullptr, 16);
            buffer_.erase(0, eol + 2);
            if (size == 0) {
                // trailer section, then the empty line
                while ((eol = buffer_.find("\r\n")) != 0) {
                    if (eol == std::string::npos) {
                        if (!fill(milliseconds(remaining_ms(deadline))))
                            throw backend_error("closed in the trailer");
                        continue;
                    }
                    buffer_.erase(0, eol + 2);
                }
                buffer_.erase(0, 2);
                break;
            }
            while (buffer_.size() < size + 2)
                if (!fill(milliseconds(remaining_ms(deadline))))
                    throw backend_error("closed in a chunk");
            r->body.append(buffer_, 0, static_cast<std::size_t>(size));
            buffer_.erase(0, static_cast<std::size_t>(size) + 2);
        }
    } else {
        while (body_remaining_ > 0) {
            auto piece = read_body_some(64 * 1024, milliseconds(remaining_ms(deadline)));
            r->body += piece;
        }
    }
    {
        std::lock_guard lock(backend_.mutex_);
        for (auto it = backend_.requests_.rbegin(); it != backend_.requests_.rend(); ++it)
            if (it->connection == r->connection && it->sequence == r->sequence) {
                it->body = r->body;
                break;
            }
    }
    backend_.changed_.notify_all();
    return r;
}

void backend_connection::respond(unsigned status, std::string_view body,
                                 const std::vector<std::pair<std::string, std::string>>& headers,
                                 std::string_view reason) {
    std::string out = "HTTP/1.1 " + std::to_string(status) + " " +
                      std::string(reason.empty() ? standard_reason(status) : reason) + "\r\n";
    bool framed = false;
    for (const auto& [n, v] : headers) {
        out += n + ": " + v + "\r\n";
        if (iequals(n, "Content-Length") || iequals(n, "Transfer-Encoding")) framed = true;
    }
    if (!framed) out += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    out += "\r\n";
    out.append(body);
    send_all(out);
}

void backend_connection::reset() {
    if (closed_) return;
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
}

void backend_connection::close() {
    if (closed_) return;
    closed_ = true;
    if (ssl_) {
        SSL_shutdown(static_cast<SSL*>(ssl_));
        SSL_free(static_cast<SSL*>(ssl_));
        ssl_ = nullptr;
    }
    {
        std::lock_guard lock(backend_.mutex_);
        std::erase(backend_.open_fds_, fd_);
    }
    ::close(fd_);
}

bool backend_connection::wait_closed(milliseconds timeout) {
    auto deadline = clock::now() + timeout;
    char scratch[4096];
    try {
        while (receive(scratch, sizeof scratch, milliseconds(remaining_ms(deadline))) > 0) {
        }
        return true;
    } catch (const backend_error&) {
        return false;
    }
}

// ---- fake_backend ----------------------------------------------------------------------------

fake_backend::fake_backend(script s) : fake_backend(std::move(s), net::certificate{}) {}

fake_backend::fake_backend(script s, const net::certificate& certificate) : script_(std::move(s)) {
    std::signal(SIGPIPE, SIG_IGN);  // TLS writes to a closed peer must fail, not kill the test
    if (!certificate.chain_pem.empty()) {
        std::shared_ptr<asio::ssl::context> ctx = net::make_server_context(certificate);
        tls_ = ctx;
    }
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listen_fd_, 512) != 0)
        throw std::runtime_error("fake_backend: cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC);
    acceptor_ = std::thread([this] { accept_loop(); });
}

fake_backend::~fake_backend() {
    stopping_ = true;
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    acceptor_.join();
    {
        // Wake every connection thread blocked in a read.
        std::lock_guard lock(mutex_);
        for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    }
    for (auto& t : threads_) t.join();
    ::close(listen_fd_);
    ::close(wake_fd_);
}

tcp::endpoint fake_backend::endpoint() const {
    return {asio::ip::make_address("127.0.0.1"), port_};
}

void fake_backend::accept_loop() {
    for (;;) {
        pollfd p[2] = {{listen_fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        if (::poll(p, 2, -1) < 0) continue;
        if (p[1].revents) return;
        int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0) continue;
        int one = 1;
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        timeval tv{5, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        std::lock_guard lock(mutex_);
        std::size_t index = connections_++;
        received_.emplace_back();
        open_fds_.push_back(fd);
        threads_.emplace_back([this, fd, index] { serve(fd, index); });
        changed_.notify_all();
    }
}

void fake_backend::serve(int fd, std::size_t index) {
    SSL* ssl = nullptr;
    if (tls_) {
        auto* ctx = static_cast<asio::ssl::context*>(tls_.get());
        ssl = SSL_new(ctx->native_handle());
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) != 1) {
            SSL_free(ssl);
            {
                std::lock_guard lock(mutex_);
                std::erase(open_fds_, fd);
            }
            ::close(fd);
            return;
        }
        if (SSL_session_reused(ssl)) add("tls_resumed");
        add("tls_handshakes");
    }
    backend_connection c(*this, fd, index, ssl);
    try {
        script_(c);
    } catch (const std::exception& e) {
        if (!stopping_) {
            std::lock_guard lock(mutex_);
            errors_.push_back("connection " + std::to_string(index) + ": " + e.what());
        }
    }
}

void fake_backend::record_request(const received_request& r) {
    {
        std::lock_guard lock(mutex_);
        requests_.push_back(r);
    }
    changed_.notify_all();
}

void fake_backend::record_bytes(std::size_t connection, const char* data, std::size_t n) {
    std::lock_guard lock(mutex_);
    auto& raw = received_[connection];
    if (raw.size() < (1u << 20)) raw.append(data, std::min(n, (1u << 20) - raw.size()));
}

std::size_t fake_backend::connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
}

std::vector<received_request> fake_backend::requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
}

std::string fake_backend::received(std::size_t index) const {
    std::lock_guard lock(mutex_);
    return index < received_.size() ? received_[index] : std::string();
}

std::vector<std::string> fake_backend::script_errors() const {
    std::lock_guard lock(mutex_);
    return errors_;
}

void fake_backend::add(const std::string& name, std::uint64_t n) {
    {
        std::lock_guard lock(mutex_);
        values_[name] += n;
    }
    changed_.notify_all();
}

std::uint64_t fake_backend::value(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto it = values_.find(name);
    return it == values_.end() ? 0 : it->second;
}

::testing::AssertionResult fake_backend::wait(const std::function<bool()>& done,
                                              milliseconds timeout, const std::string& what) const {
    std::unique_lock lock(mutex_);
    if (changed_.wait_for(lock, timeout, done)) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "timed out after " << timeout.count() << " ms waiting for " << what;
}

::testing::AssertionResult fake_backend::wait_for_requests(std::size_t n,
                                                           milliseconds timeout) const {
    return wait([&] { return requests_.size() >= n; }, timeout,
                std::to_string(n) + " request(s), got " + std::to_string(requests().size()));
}

::testing::AssertionResult fake_backend::wait_for_connections(std::size_t n,
                                                              milliseconds timeout) const {
    return wait([&] { return connections_ >= n; }, timeout, std::to_string(n) + " connection(s)");
}

::testing::AssertionResult fake_backend::wait_for_value(const std::string& name,
                                                        std::uint64_t at_least,
                                                        milliseconds timeout) const {
    return wait(
        [&] {
            auto it = values_.find(name);
            return it != values_.end() && it->second >= at_least;
        },
        timeout, name + " >= " + std::to_string(at_least));
}

std::uint16_t closed_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

}  // namespace gatehouse::test
