#include "proxy/host_affinity.hpp"

#include <algorithm>

namespace gatehouse::proxy {

std::string host_affinity_key(std::string_view host, bool ignore_subdomains) {
    if (host.starts_with('[')) {  // IPv6 literal
        auto end = host.find(']');
        return std::string(host.substr(0, end == std::string_view::npos ? host.size() : end + 1));
    }
    if (auto colon = host.rfind(':'); colon != std::string_view::npos) host = host.substr(0, colon);
    std::string key(host);
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    bool ip = !key.empty() && key.find_first_not_of("0123456789.") == std::string::npos;
    if (ignore_subdomains && !ip) {
        auto last = key.rfind('.');
        if (last != std::string::npos && last > 0) {
            auto second = key.rfind('.', last - 1);
            if (second != std::string::npos) key.erase(0, second + 1);
        }
    }
    return key;
}

std::size_t host_affinity_table::load_of(const std::string& server) const {
    std::size_t n = 0;
    for (const auto& [host, e] : hosts_)
        n += static_cast<std::size_t>(std::count(e.servers.begin(), e.servers.end(), server));
    return n;
}

void host_affinity_table::route(std::string_view host, std::span<const host_candidate> candidates,
                                const host_affinity_config& config, steady_time now,
                                std::vector<bool>& allowed) {
    allowed.assign(candidates.size(), false);
    // Idle mappings go, in sweeps a quarter of the timeout apart (bounded work per request).
    if (now - last_sweep_ >= config.timeout / 4) {
        last_sweep_ = now;
        std::erase_if(hosts_,
                      [&](const auto& kv) { return kv.second.last_used + config.timeout <= now; });
    }
    auto it = hosts_.find(host);
    if (it == hosts_.end()) it = hosts_.emplace(std::string(host), entry{}).first;
    auto& e = it->second;
    if (e.last_used + config.timeout <= now) e.servers.clear();  // idle since the last sweep
    e.last_used = now;

    auto index_of = [&](std::string_view id) -> int {
        for (std::size_t i = 0; i < candidates.size(); ++i)
            if (candidates[i].id == id) return static_cast<int>(i);
        return -1;
    };
    // Keep the servers that can still take the host; drop the others.
    std::erase_if(e.servers, [&](const std::string& s) {
        int i = index_of(s);
        return i < 0 || !candidates[static_cast<std::size_t>(i)].eligible;
    });
    while (e.servers.size() < config.servers_per_host) {
        int chosen = -1;
        const std::size_t n = candidates.size();
        if (config.provider == host_affinity_provider::round_robin) {
            for (std::size_t k = 0; k < n && chosen < 0; ++k) {
                std::size_t i = (cursor_ + k) % n;
                const auto& c = candidates[i];
                if (c.eligible &&
                    std::find(e.servers.begin(), e.servers.end(), c.id) == e.servers.end()) {
                    chosen = static_cast<int>(i);
                    cursor_ = i + 1;
                }
            }
        } else {
            std::size_t best_load = 0;
            for (std::size_t i = 0; i < n; ++i) {
                const auto& c = candidates[i];
                if (!c.eligible ||
                    std::find(e.servers.begin(), e.servers.end(), c.id) != e.servers.end())
                    continue;
                std::size_t load = load_of(std::string(c.id));
                if (chosen < 0) {
                    chosen = static_cast<int>(i);
                    best_load = load;
                    continue;
                }
                const auto& b = candidates[static_cast<std::size_t>(chosen)];
                if (c.memory_mb > b.memory_mb || (c.memory_mb == b.memory_mb && load < best_load)) {
                    chosen = static_cast<int>(i);
                    best_load = load;
                }
            }
        }
        if (chosen < 0) break;  // fewer eligible servers than servers_per_host
        e.servers.emplace_back(candidates[static_cast<std::size_t>(chosen)].id);
    }
    for (const auto& s : e.servers) allowed[static_cast<std::size_t>(index_of(s))] = true;
    if (e.servers.empty()) hosts_.erase(it);
}

std::vector<std::pair<std::string, std::vector<std::string>>> host_affinity_table::table(
    steady_time now, milliseconds timeout) const {
    std::vector<std::pair<std::string, std::vector<std::string>>> out;
    for (const auto& [host, e] : hosts_)
        if (e.last_used + timeout > now) out.emplace_back(host, e.servers);
    return out;
}

}  // namespace gatehouse::proxy
