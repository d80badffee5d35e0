#pragma once
// Opens connections to the target: TCP connect to the resolved endpoints in turn, then the TLS
// handshake (SNI, chain and host-name verification unless disabled, session resumption through
// a tls_session_cache when enabled). One connector per worker thread; not thread-safe.

#include "load/results.hpp"
#include "load/target.hpp"
#include "net/stream.hpp"

#include <memory>
#include <optional>
#include <vector>

namespace gatehouse::load {

struct connect_result {
    std::unique_ptr<net::stream> stream{};
    std::optional<failure> failed{};  // connect, tls or timeout
    error_code ec{};
    bool tls_resumed = false;
};

// Resolves the target's host and port. Throws load_error(unreachable) naming them.
std::vector<tcp::endpoint> resolve_target(const target_options& target);

class connector {
public:
    // Throws std::runtime_error when the TLS options cannot be applied (bad trust PEM).
    connector(const target_options& target, std::vector<tcp::endpoint> endpoints);
    ~connector();
    connector(const connector&) = delete;
    connector& operator=(const connector&) = delete;

    awaitable<connect_result> connect(steady_clock::duration timeout);

    const target_options& target() const noexcept { return target_; }
    // True when a Secure cookie may be sent: TLS, or a loopback address.
    bool secure_channel() const noexcept { return secure_; }

private:
    target_options target_;
    std::vector<tcp::endpoint> endpoints_;
    std::unique_ptr<asio::ssl::context> context_;
    std::unique_ptr<net::tls_session_cache> sessions_;
    std::string peer_key_;
    bool secure_ = false;
};

}  // namespace gatehouse::load
