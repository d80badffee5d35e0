#include "proxy/upstream_pool.hpp"

#include <cerrno>

#include <openssl/ssl.h>
#include <sys/socket.h>

namespace gatehouse::proxy {

upstream_connection::~upstream_connection() {
    if (clean && stream.ssl())
        SSL_set_shutdown(stream.ssl(), SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
}

bool looks_reusable(upstream_connection& c) noexcept {
    if (!c.stream.is_open()) return false;
    char byte;
    auto n = ::recv(c.stream.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return false;             // FIN: the server closed it
    if (n > 0) return c.stream.is_tls();  // TLS: a ticket or alert the engine will read
    return errno == EAGAIN || errno == EWOULDBLOCK;
}

std::unique_ptr<upstream_connection> upstream_pool::take(const server_runtime* server,
                                                         asio::ssl::context* tls_context,
                                                         steady_clock::time_point now, bool probe) {
    auto it = idle_.find(server);
    if (it == idle_.end()) return nullptr;
    auto& list = it->second;
    while (!list.empty()) {
        auto c = std::move(list.back());
        list.pop_back();
        --idle_count_;
        if (c->expires <= now || c->tls_context != tls_context) continue;
        if (probe && !looks_reusable(*c)) continue;
        return c;
    }
    return nullptr;
}

void upstream_pool::put(std::unique_ptr<upstream_connection> c, steady_clock::time_point now,
                        milliseconds idle_timeout, std::uint32_t max_idle) {
    auto& list = idle_[c->server.get()];
    if (list.size() >= max_idle) return;  // `c` is closed when it goes out of scope
    c->expires = now + idle_timeout;
    list.push_back(std::move(c));
    ++idle_count_;
}

void upstream_pool::sweep(steady_clock::time_point now) {
    for (auto it = idle_.begin(); it != idle_.end();) {
        auto& list = it->second;
        auto before = list.size();
        std::erase_if(list, [now](const auto& c) { return c->expires <= now; });
        idle_count_ -= before - list.size();
        if (list.empty())
            it = idle_.erase(it);
        else
            ++it;
    }
}

void upstream_pool::clear() {
    idle_.clear();
    idle_count_ = 0;
}

}  // namespace gatehouse::proxy
