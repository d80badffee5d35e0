#pragma once
// TLS contexts. Servers follow the Mozilla "intermediate" profile (guidelines 6.0): TLS 1.2 and
// 1.3 only, ECDHE with AEAD suites for TLS 1.2, groups X25519/P-256/P-384, the client's cipher
// order, no renegotiation, no early data (0-RTT), resumption by tickets and a bounded session
// cache, and an OCSP response stapled when one is given. Clients verify the
// peer's chain and host name unless told not to (lab back ends with self-signed certificates).

#include "net/awaitable.hpp"
#include "net/certificate.hpp"
#include "net/ocsp.hpp"

#include <boost/asio/ssl/context.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::net {

// The TLS 1.2 cipher list and groups of the Mozilla intermediate profile.
inline constexpr const char* intermediate_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
inline constexpr const char* intermediate_groups = "X25519:P-256:P-384";

// A server context presenting `cert`. Throws std::runtime_error naming what OpenSSL rejected.
std::unique_ptr<asio::ssl::context> make_server_context(const certificate& cert);

// Server certificates selected by SNI. The first certificate added is the default, presented
// when the client sends no SNI or a name no certificate covers. Names are exact host names or
// wildcards ("*.contoso.com", one label). Build it fully before serving; it is then read-only
// and safe to share between threads.
class sni_server_contexts {
public:
    sni_server_contexts() = default;
    // The default context's SNI callback points back here, so the object never moves.
    sni_server_contexts(const sni_server_contexts&) = delete;
    sni_server_contexts& operator=(const sni_server_contexts&) = delete;

    // With `staple`, clients that send status_request get it with this certificate while it
    // is current (ocsp_staple::current); otherwise, and without one, nothing is stapled.
    void add(const certificate& cert, const std::vector<std::string>& names,
             std::optional<ocsp_staple> staple = std::nullopt);
    bool empty() const noexcept { return entries_.empty(); }
    // The context to construct server streams with (the default certificate's).
    asio::ssl::context& context();
    // The names the certificate chosen for `server_name` covers (tests, diagnostics).
    const std::vector<std::string>* names_for(std::string_view server_name) const;

private:
    struct entry {
        std::vector<std::string> names;
        std::unique_ptr<asio::ssl::context> context;
        std::unique_ptr<ocsp_staple> staple;  // the status callback's argument
    };
    const entry* select(std::string_view server_name) const;
    static int on_server_name(SSL* ssl, int* alert, void* arg);
    static int on_status_request(SSL* ssl, void* arg);

    std::vector<entry> entries_;
};

struct client_tls_options {
    bool verify = true;               // check the chain and the host name
    std::string trusted_pem{};        // extra trust anchors (PEM), e.g. the lab authority
    bool system_trust = true;         // also trust the system store
    bool session_resumption = true;   // offer saved sessions (see tls_session_cache)
};

// A client context. Throws std::runtime_error when `trusted_pem` cannot be loaded.
std::unique_ptr<asio::ssl::context> make_client_context(const client_tls_options& options);

// Client-side session resumption: remembers the last session per peer key (for example
// "host:port") and offers it on the next connection to that peer. TLS 1.3 sessions arrive after
// the handshake, so the context's new-session callback stores them. Thread-safe.
class tls_session_cache {
public:
    // Installs the callback on `context`, which must outlive this cache and not be shared with
    // another cache.
    explicit tls_session_cache(asio::ssl::context& context);
    ~tls_session_cache();
    tls_session_cache(const tls_session_cache&) = delete;
    tls_session_cache& operator=(const tls_session_cache&) = delete;

    // Before the handshake: tag `ssl` with `peer` and offer its saved session, if any.
    void prepare(SSL* ssl, const std::string& peer);
    // Sessions currently remembered.
    std::size_t size() const;

private:
    static int on_new_session(SSL* ssl, SSL_SESSION* session);
    void store(const std::string& peer, SSL_SESSION* session);

    SSL_CTX* context_;
    mutable std::mutex mutex_;
    std::map<std::string, SSL_SESSION*> sessions_;
};

}  // namespace gatehouse::net
