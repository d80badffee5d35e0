#pragma once
// ARR's load-balancing algorithms as a pure class: no I/O, no clock, no threads. The caller
// describes each server of the farm (weight, eligibility, load figures) and asks for one.
// Ties between equally good servers go round robin from the last pick, so a sequence of picks
// is deterministic and tests can predict it. One instance per farm and worker thread.

#include "proxy/config.hpp"

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::proxy {

struct request_view;

// What a balancer sees of one server at the moment of a pick.
struct server_load {
    std::uint32_t weight = 100;
    // Available and healthy, and not already tried for this request.
    bool eligible = true;
    std::uint64_t in_flight = 0;         // least_requests: requests between proxy and server
    std::uint64_t traffic_bytes = 0;     // weighted_total_traffic: request + response bytes
    std::uint64_t response_time_us = 0;  // least_response_time: EWMA; 0 = no sample yet
    std::uint64_t id = 0;                // request_hash with consistent_hash: a stable identity
};

class load_balancer {
public:
    explicit load_balancer(const load_balancing_config& config);

    // The index of the chosen server, or -1 when no server is eligible (the caller answers
    // 502.4). `hash` is the request's key for request_hash (see request_hash_key).
    int pick(std::span<const server_load> servers, std::uint64_t hash = 0);

    lb_algorithm algorithm() const noexcept { return config_.algorithm; }

private:
    int pick_round_robin(std::span<const server_load> servers);
    template <class Better>
    int pick_least(std::span<const server_load> servers, Better better);
    int pick_hash(std::span<const server_load> servers, std::uint64_t hash) const;

    load_balancing_config config_;
    // Smooth weighted round robin (as nginx): each pick adds every eligible weight to its
    // server's current value, takes the largest, and subtracts the total from it.
    std::vector<std::int64_t> current_;
    std::size_t cursor_ = 0;  // where the next tie-break scan starts
};

// The request_hash key of a request, by the farm's settings: the value of
// `hash_server_variable`, or the named query-string values concatenated, or the URL (path and
// query). Stable across processes and platforms (FNV-1a, 64 bits, then mixed), so two proxy nodes
// with one configuration route a key alike.
std::uint64_t request_hash_key(const load_balancing_config& config, const request_view& request,
                               std::string& scratch);

// 64-bit FNV-1a followed by a final avalanche mix.
std::uint64_t stable_hash(std::string_view bytes) noexcept;

// The least-response-time sample average: an exponentially weighted moving average with
// weight 0.3 for the new sample (new = 0.7 * old + 0.3 * sample); the first sample is taken
// as it is. Samples are times to the response head, in microseconds.
std::uint64_t ewma_update(std::uint64_t average_us, std::uint64_t sample_us) noexcept;

}  // namespace gatehouse::proxy
