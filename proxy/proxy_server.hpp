#pragma once
// The proxy as a library: build it from a configuration, start it (it runs its own worker
// threads), reload a new configuration while it serves, read its counters, stop it gracefully.
//
//   gatehouse::proxy::proxy_server proxy(gatehouse::proxy::load_config("gatehouse.json"));
//   proxy.start();                        // binds every listener, starts the workers
//   auto port = proxy.endpoint("https").port();
//   proxy.reload(load_config("gatehouse.json"));  // throws config_error; the old one stays
//   auto stats = proxy.stats();
//   proxy.stop();                         // graceful: in-flight requests finish first
//
// All member functions are for one controlling thread (they are not meant to race each other),
// except the live operations (set_server_state, set_server_health, reset_counters, stats),
// which are thread-safe; the workers run on threads of their own.

#include "net/awaitable.hpp"
#include "proxy/config.hpp"
#include "proxy/stats.hpp"

#include <boost/system/result.hpp>

#include <functional>
#include <optional>
#include <memory>
#include <string>
#include <string_view>

namespace gatehouse::proxy {

// Failures of the live operations.
enum class control_errc { unknown_farm = 1, unknown_server };
const boost::system::error_category& control_category() noexcept;
boost::system::error_code make_error_code(control_errc e) noexcept;

struct server_options {
    unsigned threads = 0;  // 0: one per core
    // When set, access log lines go here (whole lines, in batches, from worker threads, never
    // concurrently) instead of to config.access_log.path.
    std::function<void(std::string_view)> access_log{};
    std::string source{"config"};  // names the configuration in errors (usually its file)
};

class proxy_server {
public:
    // Checks and compiles `c` (rules, certificates, TLS contexts). Throws config_error; throws
    // std::runtime_error when the access log cannot be opened.
    explicit proxy_server(config c, server_options options = {});
    ~proxy_server();  // stops at once if still running
    proxy_server(const proxy_server&) = delete;
    proxy_server& operator=(const proxy_server&) = delete;

    // Binds every listener (SO_REUSEPORT: one acceptor per worker; with port 0 the first binds
    // and the others join its port) and starts the workers. Throws std::runtime_error naming the
    // listener when an address cannot be bound.
    void start();
    // Applies a new configuration to new requests; requests in flight finish on the old one, and
    // servers that remain keep their runtime state. Listeners cannot change address, port or
    // protocol (that needs a restart). Throws config_error and keeps the current configuration.
    void reload(config c);
    // Graceful stop: stop accepting, close idle connections, let in-flight requests finish for
    // up to `deadline` (default: the configuration's stop_timeout), then close the rest. Blocks
    // until every worker has finished.
    void stop();
    void stop(milliseconds deadline);
    // Blocks until the workers have finished (after a stop from another thread).
    void wait();

    bool running() const noexcept;
    unsigned threads() const noexcept;
    // The address listener `name` is bound to (port 0 resolved). Valid after start().
    tcp::endpoint endpoint(std::string_view name) const;
    // Counters merged across workers. requests_per_second is measured since the previous call.
    proxy_stats stats();

    // ---- live operations (thread-safe, effective at once, kept across reloads) --------------
    // A server is named by "address:port" (the port as configured, or the effective one), by
    // its address alone when that is unambiguous, or by its index in the farm's server list.
    // Available / Unavailable / Drain (ARR's Make Server Available / Unavailable, Disallow New
    // Connections). A reload keeps it unless the configuration changes the server's state.
    boost::system::result<void> set_server_state(std::string_view farm, std::string_view server,
                                                 availability state);
    // Set Server as Healthy / Unhealthy. The health test (if any) goes on from this verdict.
    boost::system::result<void> set_server_health(std::string_view farm, std::string_view server,
                                                  bool healthy);
    // Reset Runtime Statistics: every farm's and server's counters start from zero.
    void reset_counters();
    // The admin API's address (valid after start() with admin enabled).
    std::optional<tcp::endpoint> admin_endpoint() const;
    // Health probes sent since start().
    std::uint64_t health_probes_sent() const;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace gatehouse::proxy
