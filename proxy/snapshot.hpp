#pragma once
// A configuration made ready to serve: rules compiled, TLS contexts built, server addresses
// resolved, runtime state attached. Immutable once built and shared by every worker through a
// std::shared_ptr<const snapshot>; a reload builds a new one, and requests in flight finish on
// the one they started with. The only mutable parts are the per-thread balancer states, each
// touched by its own worker thread only.

#include "net/tls.hpp"
#include "proxy/config.hpp"
#include "proxy/load_balancer.hpp"
#include "proxy/rules.hpp"
#include "proxy/server_runtime.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::proxy {

struct alignas(64) thread_balancer {
    explicit thread_balancer(const load_balancing_config& c) : balancer(c) {}
    load_balancer balancer;
};

struct server_slot {
    std::shared_ptr<server_runtime> runtime{};
    std::optional<tcp::endpoint> endpoint{};  // none: the name did not resolve (502.3.12007)
    std::string authority{};  // "address:port" (logs, Host when not preserved, reverse rewrite)
    std::string tls_name{};   // SNI and the name the certificate must match
    std::uint32_t weight = 100;
    std::uint64_t id = 0;  // stable_hash(authority), for consistent request hashing
    std::string affinity_token{};  // the affinity cookie value naming this server
};

struct farm_snapshot {
    const farm_config* config = nullptr;
    proxy_settings settings{};  // the global proxy settings with the farm's overrides
    std::shared_ptr<farm_runtime> runtime{};
    std::vector<server_slot> servers{};
    std::unique_ptr<asio::ssl::context> tls{};  // protocol https only
    std::unique_ptr<net::tls_session_cache> tls_sessions{};
    mutable std::vector<thread_balancer> balancers{};  // one per worker thread
};

struct listener_snapshot {
    const listener_config* config = nullptr;
    std::unique_ptr<net::sni_server_contexts> tls{};  // HTTPS listeners only
};

class snapshot {
public:
    // Builds everything; throws config_error naming `source` and the JSON path of the problem.
    // With `resolve` false host names are left unresolved (for --check).
    snapshot(config c, unsigned threads, runtime_registry& registry, const std::string& source,
             bool resolve = true);
    snapshot(const snapshot&) = delete;
    snapshot& operator=(const snapshot&) = delete;

    const config& settings() const noexcept { return config_; }
    const rule_set& rules() const noexcept { return rules_; }
    const std::vector<farm_snapshot>& farms() const noexcept { return farms_; }
    const std::vector<listener_snapshot>& listeners() const noexcept { return listeners_; }

private:
    config config_;
    rule_set rules_;
    std::vector<farm_snapshot> farms_;
    std::vector<listener_snapshot> listeners_;
};

}  // namespace gatehouse::proxy
