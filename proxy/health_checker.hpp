#pragma once
// ARR's URL health test, run by the proxy on a thread of its own. For every farm with a health
// URL, each server gets one GET per interval on the farm's own scheme (TLS with the farm's
// verification settings), at most one probe per server at a time and at most
// `health_max_in_flight` probes in flight for the whole proxy, however many worker threads
// serve traffic. The verdicts are health_monitor's (health_state.hpp) and are applied through
// apply_health_verdict (minServers).
//
// The URL may be a path ("/owa/HealthCheck.htm") or an absolute URL. When its host is the
// farm's name, or for a path, the Host sent is the server's own address:port; any other host is
// sent as it is (a virtual host on every member). The probe goes to every member either way.

#include "proxy/snapshot.hpp"

#include <cstdint>
#include <memory>

namespace gatehouse::proxy {

class health_checker {
public:
    explicit health_checker(std::uint32_t max_in_flight);
    ~health_checker();  // stops
    health_checker(const health_checker&) = delete;
    health_checker& operator=(const health_checker&) = delete;

    // Starts the thread on `s`; later configurations arrive through update(). Thread-safe.
    void start(std::shared_ptr<const snapshot> s);
    void update(std::shared_ptr<const snapshot> s);
    // Probes in flight are abandoned (their results ignored). Blocks until the thread ended.
    void stop();

    // Probes started since start(), all servers (for tests and the admin API).
    std::uint64_t probes_sent() const;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

}  // namespace gatehouse::proxy
