#pragma once
// The admin API: JSON over HTTP on a listener of its own (loopback by default), served by one
// thread of its own, and a Prometheus text endpoint with the same counters. docs/admin-api.md
// lists the routes with curl examples.
//
//   GET  /api/farms                                   farms, servers, health, counters
//   GET  /api/farms/{farm}
//   POST /api/farms/{farm}/servers/{server}/state     {"state": "available|unavailable|drain"}
//   POST /api/farms/{farm}/servers/{server}/health    {"healthy": true|false}
//   POST /api/counters/reset
//   GET  /api/stats                                   proxy-wide counters
//   GET  /metrics                                     Prometheus text format 0.0.4

#include "net/awaitable.hpp"
#include "proxy/config.hpp"
#include "proxy/stats.hpp"

#include <memory>
#include <string>

namespace gatehouse::proxy {

class proxy_server;

class admin_api {
public:
    // Binds at once; throws std::runtime_error naming `admin` when it cannot.
    admin_api(proxy_server& proxy, const admin_config& config);
    ~admin_api();
    admin_api(const admin_api&) = delete;
    admin_api& operator=(const admin_api&) = delete;

    void start();
    void stop();  // closes the listener and every connection; joins the thread
    tcp::endpoint endpoint() const;

    struct impl;

private:
    std::unique_ptr<impl> impl_;
};

// The JSON document of GET /api/farms and the Prometheus text of GET /metrics, from a stats
// snapshot (pure: used by the routes and the tests).
std::string farms_json(const proxy_stats& stats);
std::string prometheus_text(const proxy_stats& stats);

}  // namespace gatehouse::proxy
