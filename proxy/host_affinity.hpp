#pragma once
// ARR's host-name affinity as a pure class: each host name (the request's Host, without port)
// is allocated `servers_per_host` servers of the farm, and its requests go only to them until
// the mapping has been idle for `timeout` or its servers stop being eligible (then others are
// allocated). Providers: round_robin (ARR's HostNameRoundRobin: hosts are dealt to servers in
// turn) and memory (ARR's HostNameMemory: the eligible server reporting the most free memory,
// read by the health test from a response header, here X-Memory-Available-MB; servers that
// report nothing come last). Not thread-safe: the farm's runtime guards it with a mutex.

#include "proxy/config.hpp"
#include "proxy/health_state.hpp"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::proxy {

struct host_candidate {
    std::string_view id{};  // the server's "address:port"
    bool eligible = true;
    std::int64_t memory_mb = -1;  // free memory reported; -1: unknown
};

class host_affinity_table {
public:
    // Sets allowed[i] for the candidates `host` may go to (allocating servers as needed); all
    // false when no candidate is eligible.
    void route(std::string_view host, std::span<const host_candidate> candidates,
               const host_affinity_config& config, steady_time now, std::vector<bool>& allowed);

    // ARR's "Display Routing Table": host → servers, for mappings not yet idle for `timeout`.
    std::vector<std::pair<std::string, std::vector<std::string>>> table(steady_time now,
                                                                        milliseconds timeout) const;

private:
    struct entry {
        std::vector<std::string> servers{};
        steady_time last_used{};
    };
    std::size_t load_of(const std::string& server) const;

    std::map<std::string, entry, std::less<>> hosts_;
    std::size_t cursor_ = 0;
    steady_time last_sweep_{};
};

// The key a host name is affinitized by: lower case, without port; with `ignore_subdomains`
// only the last two labels ("mail.eu.contoso.com" → "contoso.com"). IP literals stay whole.
std::string host_affinity_key(std::string_view host, bool ignore_subdomains);

}  // namespace gatehouse::proxy
