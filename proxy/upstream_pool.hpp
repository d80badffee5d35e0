#pragma once
// Idle keep-alive connections to back-end servers, per worker thread (never shared between
// threads). Only a connection whose last response was read completely, with sound framing and
// nothing left over, is put back; a connection pinned by NTLM/Negotiate never is. Idle
// connections expire after the farm's upstream idle timeout, which must stay below the back
// end's own (IIS closes after 120 s) so that the proxy, not the server, closes first.

#include "net/stream.hpp"
#include "proxy/server_runtime.hpp"

#include <memory>
#include <unordered_map>
#include <vector>

#include <boost/beast/core/flat_buffer.hpp>

namespace gatehouse::proxy {

struct upstream_connection {
    upstream_connection(tcp::socket socket, std::shared_ptr<server_runtime> s)
        : stream(std::move(socket)), server(std::move(s)) {}
    upstream_connection(tcp::socket socket, asio::ssl::context& context,
                        std::shared_ptr<server_runtime> s)
        : stream(std::move(socket), context), server(std::move(s)), tls_context(&context) {}
    // A connection whose last exchange completed is closed as a clean TLS shutdown, so that
    // its session stays resumable (OpenSSL forgets sessions of connections dropped mid-way).
    ~upstream_connection();
    upstream_connection(const upstream_connection&) = delete;
    upstream_connection& operator=(const upstream_connection&) = delete;

    net::stream stream;
    beast::flat_buffer buffer;  // response bytes read but not parsed yet
    std::shared_ptr<server_runtime> server;
    asio::ssl::context* tls_context = nullptr;  // the context it was made with; null: plain
    steady_clock::time_point expires{};         // while idle in the pool
    std::uint64_t exchanges = 0;                // requests completed on it
    bool clean = false;                         // the last exchange completed
};

class upstream_pool {
public:
    // An idle connection to `server` made with `tls_context`, most recently used first, or null.
    // Expired ones are closed on the way. With `probe`, a connection the server already closed
    // (or, for plain HTTP, that holds unexpected bytes) is closed and skipped: one non-blocking
    // peek, worth it for requests that must not be retried.
    std::unique_ptr<upstream_connection> take(const server_runtime* server,
                                              asio::ssl::context* tls_context,
                                              steady_clock::time_point now, bool probe);
    // Keeps `c` for reuse until `now + idle_timeout`, unless `max_idle` are already kept.
    void put(std::unique_ptr<upstream_connection> c, steady_clock::time_point now,
             milliseconds idle_timeout, std::uint32_t max_idle);
    // Closes expired connections.
    void sweep(steady_clock::time_point now);
    void clear();
    std::size_t idle() const noexcept { return idle_count_; }

private:
    std::unordered_map<const server_runtime*, std::vector<std::unique_ptr<upstream_connection>>>
        idle_;
    std::size_t idle_count_ = 0;
};

// The peek behind take(..., probe = true): false when the server closed the connection or (plain
// HTTP) sent bytes nobody asked for.
bool looks_reusable(upstream_connection& c) noexcept;

}  // namespace gatehouse::proxy
