#pragma once
// Counters of a running proxy, merged across worker threads when read. Farm and server figures
// follow ARR's Monitoring page: Requests/s, Response Time (ms), Current / Total / Failed
// Requests, bytes sent to and received from the server, Request Distribution (%).

#include "proxy/config.hpp"
#include "proxy/error_triple.hpp"

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::proxy {

struct server_stats {
    std::string address{};
    std::uint16_t port = 0;
    availability state = availability::available;
    bool healthy = true;
    bool ejected = false;  // outlier ejection in force
    std::uint32_t weight = 0;
    std::uint64_t total_requests = 0;
    std::uint64_t current_requests = 0;
    // Requests that failed with a connection error to this server (502.3).
    std::uint64_t failed_requests = 0;
    std::uint64_t bytes_sent = 0;      // to the server
    std::uint64_t bytes_received = 0;  // from the server
    double response_time_ms = 0;       // mean time-taken of finished requests
    double requests_per_second = 0;    // since the previous stats() call
    double distribution_percent = 0;   // share of the farm's total requests
};

struct farm_stats {
    std::string name{};
    lb_algorithm algorithm = lb_algorithm::weighted_round_robin;
    std::vector<server_stats> servers{};
    std::uint64_t total_requests = 0;  // includes those answered 502.4
    std::uint64_t current_requests = 0;
    std::uint64_t failed_requests = 0;     // 502.3 of any server plus 502.4
    std::uint64_t no_server_requests = 0;  // 502.4
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    double requests_per_second = 0;
    double response_time_ms = 0;
    // Host-name affinity's routing table: host → servers ("address:port").
    std::vector<std::pair<std::string, std::vector<std::string>>> host_routes{};

    const server_stats* server(std::string_view address, std::uint16_t port) const;
};

// The proxy-generated responses, counted per error triple.
enum class generated_response {
    timeout,            // 502.3.12002
    name_not_resolved,  // 502.3.12007
    cannot_connect,     // 502.3.12029
    connection_error,   // 502.3.12030
    invalid_response,   // 502.3.12152
    secure_failure,     // 502.3.12175
    no_server,          // 502.4.0
    not_found,          // 404.0.0
    body_too_large,     // 404.13.0
    bad_request,        // 400
    request_timeout,    // 408
    uri_too_long,       // 414
    header_too_large,   // 431
    other,              // custom responses, 501, 505, 503, ...
    count_
};
inline constexpr std::size_t generated_response_kinds =
    static_cast<std::size_t>(generated_response::count_);
generated_response classify(const error_triple& e) noexcept;

struct proxy_stats {
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_active = 0;
    std::uint64_t connections_parked = 0;  // idle long enough to hold only a readiness wait
    std::uint64_t connections_refused_per_client = 0;  // over limits.max_connections_per_client
    std::uint64_t requests = 0;         // request heads read from clients
    std::uint64_t redirects = 0;        // answered by a redirect rule
    std::uint64_t aborted_by_rule = 0;  // connections dropped by an abort rule
    std::array<std::uint64_t, generated_response_kinds> generated{};
    // Relay buffers taken from the workers' pools right now, and in total bytes: what the
    // proxy holds for bodies in flight (bodies are streamed, never accumulated).
    std::uint64_t relay_buffers_in_use = 0;
    std::uint64_t relay_buffer_bytes = 0;
    std::uint64_t upstream_connections_idle = 0;
    std::uint64_t upstream_connections_opened = 0;
    std::vector<farm_stats> farms{};

    std::uint64_t generated_count(generated_response kind) const {
        return generated[static_cast<std::size_t>(kind)];
    }
    const farm_stats* farm(std::string_view name) const;
};

}  // namespace gatehouse::proxy
