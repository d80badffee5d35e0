#include "net/tls.hpp"

#include <openssl/ssl.h>

#include <cstring>
#include <stdexcept>

namespace gatehouse::net {

namespace {

constexpr const char* tls13_suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

void require(int ok, const char* what) {
    if (ok != 1) throw std::runtime_error(std::string("TLS setup failed: ") + what);
}

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? char(c + ('a' - 'A')) : c; }

bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

// "*.contoso.com" covers exactly one extra label: "mail.contoso.com", not "contoso.com" or
// "a.b.contoso.com".
bool name_matches(std::string_view pattern, std::string_view host) {
    if (pattern.starts_with("*.")) {
        auto dot = host.find('.');
        if (dot == std::string_view::npos || dot == 0) return false;
        return iequal(pattern.substr(1), host.substr(dot));
    }
    return iequal(pattern, host);
}

// Ex-data slot holding the peer key (std::string*) of a client SSL object.
int peer_index() {
    static const int index = SSL_get_ex_new_index(
        0, nullptr, nullptr, nullptr,
        [](void*, void* ptr, CRYPTO_EX_DATA*, int, long, void*) {
            delete static_cast<std::string*>(ptr);
        });
    return index;
}

// Ex-data slot of an SSL_CTX pointing at its tls_session_cache.
int cache_index() {
    static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
    return index;
}

}  // namespace

std::unique_ptr<asio::ssl::context> make_server_context(const certificate& cert) {
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    SSL_CTX* native = ctx->native_handle();
    require(SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION), "minimum version");
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    // No 0-RTT: early data can be replayed (OpenSSL's default, stated here as a contract).
    SSL_CTX_set_max_early_data(native, 0);
    SSL_CTX_clear_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE);  // the client chooses
    require(SSL_CTX_set_cipher_list(native, intermediate_ciphers), "TLS 1.2 ciphers");
    require(SSL_CTX_set_ciphersuites(native, tls13_suites), "TLS 1.3 suites");
    require(SSL_CTX_set1_groups_list(native, intermediate_groups), "groups");
    // Idle connections give their TLS record buffers back.
    SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_SERVER);
    SSL_CTX_sess_set_cache_size(native, 20'000);
    static constexpr unsigned char session_context[] = "gatehouse";
    SSL_CTX_set_session_id_context(native, session_context, sizeof session_context - 1);
    error_code ec;
    ctx->use_certificate_chain(asio::buffer(cert.chain_pem), ec);
    if (ec) throw std::runtime_error("TLS certificate rejected: " + ec.message());
    ctx->use_private_key(asio::buffer(cert.key_pem), asio::ssl::context::pem, ec);
    if (ec) throw std::runtime_error("TLS private key rejected: " + ec.message());
    require(SSL_CTX_check_private_key(native), "private key does not match the certificate");
    return ctx;
}

void sni_server_contexts::add(const certificate& cert, const std::vector<std::string>& names,
                              std::optional<ocsp_staple> staple) {
    entries_.push_back({names, make_server_context(cert), nullptr});
    if (staple) {
        // OpenSSL asks the context the SNI callback selected, so each certificate answers with
        // its own response.
        auto& e = entries_.back();
        e.staple = std::make_unique<ocsp_staple>(std::move(*staple));
        SSL_CTX* native = e.context->native_handle();
        SSL_CTX_set_tlsext_status_cb(native, &sni_server_contexts::on_status_request);
        SSL_CTX_set_tlsext_status_arg(native, e.staple.get());
    }
    // The default context (the first) selects among all of them.
    SSL_CTX* first = entries_.front().context->native_handle();
    SSL_CTX_set_tlsext_servername_callback(first, &sni_server_contexts::on_server_name);
    SSL_CTX_set_tlsext_servername_arg(first, this);
}

asio::ssl::context& sni_server_contexts::context() {
    if (entries_.empty()) throw std::logic_error("sni_server_contexts: no certificate");
    return *entries_.front().context;
}

const sni_server_contexts::entry* sni_server_contexts::select(std::string_view server_name) const {
    for (const auto& e : entries_)
        for (const auto& pattern : e.names)
            if (name_matches(pattern, server_name)) return &e;
    return nullptr;
}

const std::vector<std::string>* sni_server_contexts::names_for(std::string_view server_name) const {
    const entry* e = select(server_name);
    if (!e && !entries_.empty()) e = &entries_.front();
    return e ? &e->names : nullptr;
}

int sni_server_contexts::on_server_name(SSL* ssl, int*, void* arg) {
    auto* self = static_cast<sni_server_contexts*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    if (name == nullptr) return SSL_TLSEXT_ERR_OK;  // no SNI: the default certificate
    if (const entry* e = self->select(name); e && e != &self->entries_.front())
        SSL_set_SSL_CTX(ssl, e->context->native_handle());
    return SSL_TLSEXT_ERR_OK;
}

int sni_server_contexts::on_status_request(SSL* ssl, void* arg) {
    // Called only for clients that sent status_request.
    const auto* staple = static_cast<const ocsp_staple*>(arg);
    if (!staple->current(std::chrono::system_clock::now())) return SSL_TLSEXT_ERR_NOACK;
    auto* copy = static_cast<unsigned char*>(OPENSSL_malloc(staple->der.size()));
    if (copy == nullptr) return SSL_TLSEXT_ERR_NOACK;
    std::memcpy(copy, staple->der.data(), staple->der.size());
    SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(staple->der.size()));  // owns it
    return SSL_TLSEXT_ERR_OK;
}

std::unique_ptr<asio::ssl::context> make_client_context(const client_tls_options& options) {
    auto ctx = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_client);
    SSL_CTX* native = ctx->native_handle();
    require(SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION), "minimum version");
    SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
    if (!options.session_resumption) {
        SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(native, SSL_OP_NO_TICKET);
    }
    if (options.verify) {
        ctx->set_verify_mode(asio::ssl::verify_peer);
        error_code ec;
        if (options.system_trust) ctx->set_default_verify_paths(ec);  // absent store: fine
        if (!options.trusted_pem.empty()) {
            ctx->add_certificate_authority(asio::buffer(options.trusted_pem), ec);
            if (ec) throw std::runtime_error("trusted certificates rejected: " + ec.message());
        }
    } else {
        ctx->set_verify_mode(asio::ssl::verify_none);
    }
    return ctx;
}

tls_session_cache::tls_session_cache(asio::ssl::context& context)
    : context_(context.native_handle()) {
    SSL_CTX_set_ex_data(context_, cache_index(), this);
    SSL_CTX_set_session_cache_mode(context_,
                                   SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
    SSL_CTX_sess_set_new_cb(context_, &tls_session_cache::on_new_session);
}

tls_session_cache::~tls_session_cache() {
    SSL_CTX_sess_set_new_cb(context_, nullptr);
    SSL_CTX_set_ex_data(context_, cache_index(), nullptr);
    for (auto& [peer, session] : sessions_) SSL_SESSION_free(session);
}

void tls_session_cache::prepare(SSL* ssl, const std::string& peer) {
    SSL_set_ex_data(ssl, peer_index(), new std::string(peer));
    std::lock_guard lock(mutex_);
    if (auto it = sessions_.find(peer); it != sessions_.end()) SSL_set_session(ssl, it->second);
}

std::size_t tls_session_cache::size() const {
    std::lock_guard lock(mutex_);
    return sessions_.size();
}

int tls_session_cache::on_new_session(SSL* ssl, SSL_SESSION* session) {
    auto* self = static_cast<tls_session_cache*>(
        SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), cache_index()));
    auto* peer = static_cast<std::string*>(SSL_get_ex_data(ssl, peer_index()));
    if (self == nullptr || peer == nullptr) return 0;  // not ours to keep
    self->store(*peer, session);
    return 1;  // we keep the reference
}

void tls_session_cache::store(const std::string& peer, SSL_SESSION* session) {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = sessions_.try_emplace(peer, session);
    if (!inserted) {
        SSL_SESSION_free(it->second);
        it->second = session;
    }
}

}  // namespace gatehouse::net
