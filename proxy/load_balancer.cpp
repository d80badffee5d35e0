#include "proxy/load_balancer.hpp"

#include "net/http_message.hpp"
#include "proxy/rules.hpp"

#include <cmath>
#include <limits>

namespace gatehouse::proxy {

std::uint64_t stable_hash(std::string_view bytes) noexcept {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3ull;
    }
    // splitmix64 finaliser: FNV's low bits are weak for modulo.
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return h;
}

std::uint64_t ewma_update(std::uint64_t average_us, std::uint64_t sample_us) noexcept {
    if (average_us == 0) return sample_us == 0 ? 1 : sample_us;
    std::uint64_t next = (average_us * 7 + sample_us * 3) / 10;
    return next == 0 ? 1 : next;  // 0 means "no sample"
}

std::uint64_t request_hash_key(const load_balancing_config& config, const request_view& request,
                               std::string& scratch) {
    scratch.clear();
    if (!config.query_string_names.empty()) {
        // The named parameters' values, in the configured order, separated so that
        // ("ab","c") and ("a","bc") differ.
        auto query = request.query();
        for (const auto& name : config.query_string_names) {
            std::string_view rest = query;
            while (!rest.empty()) {
                auto amp = rest.find('&');
                auto pair = rest.substr(0, amp);
                auto eq = pair.find('=');
                auto key = pair.substr(0, eq);
                if (net::iequals(key, name)) {
                    if (eq != std::string_view::npos) scratch.append(pair.substr(eq + 1));
                    break;
                }
                if (amp == std::string_view::npos) break;
                rest.remove_prefix(amp + 1);
            }
            scratch.push_back('\x1f');
        }
    } else if (!config.hash_server_variable.empty()) {
        append_server_variable(request, config.hash_server_variable, scratch);
    } else {
        scratch.append(request.target);
    }
    return stable_hash(scratch);
}

load_balancer::load_balancer(const load_balancing_config& config) : config_(config) {}

int load_balancer::pick(std::span<const server_load> servers, std::uint64_t hash) {
    switch (config_.algorithm) {
        case lb_algorithm::weighted_round_robin:
            return pick_round_robin(servers);
        case lb_algorithm::least_requests:
            // in_flight / weight, compared by cross-multiplying (no division, no rounding)
            return pick_least(servers, [](const server_load& a, const server_load& b) {
                return static_cast<long double>(a.in_flight) * b.weight <
                       static_cast<long double>(b.in_flight) * a.weight;
            });
        case lb_algorithm::weighted_total_traffic:
            return pick_least(servers, [](const server_load& a, const server_load& b) {
                return static_cast<long double>(a.traffic_bytes) * b.weight <
                       static_cast<long double>(b.traffic_bytes) * a.weight;
            });
        case lb_algorithm::least_response_time:
            // Servers without a sample come first, so that every server gets measured.
            return pick_least(servers, [](const server_load& a, const server_load& b) {
                return static_cast<long double>(a.response_time_us) * b.weight <
                       static_cast<long double>(b.response_time_us) * a.weight;
            });
        case lb_algorithm::request_hash:
            return pick_hash(servers, hash);
    }
    return -1;
}

int load_balancer::pick_round_robin(std::span<const server_load> servers) {
    if (current_.size() != servers.size()) current_.assign(servers.size(), 0);
    std::int64_t total = 0;
    int best = -1;
    for (std::size_t i = 0; i < servers.size(); ++i) {
        if (!servers[i].eligible) continue;
        current_[i] += servers[i].weight;
        total += servers[i].weight;
        if (best < 0 || current_[i] > current_[static_cast<std::size_t>(best)])
            best = static_cast<int>(i);
    }
    if (best >= 0) current_[static_cast<std::size_t>(best)] -= total;
    return best;
}

template <class Better>
int load_balancer::pick_least(std::span<const server_load> servers, Better better) {
    const std::size_t n = servers.size();
    if (n == 0) return -1;
    if (cursor_ >= n) cursor_ = 0;
    int best = -1;
    for (std::size_t k = 0; k < n; ++k) {
        std::size_t i = (cursor_ + k) % n;
        if (!servers[i].eligible) continue;
        if (best < 0 || better(servers[i], servers[static_cast<std::size_t>(best)]))
            best = static_cast<int>(i);
    }
    if (best >= 0) cursor_ = static_cast<std::size_t>(best) + 1;
    return best;
}

int load_balancer::pick_hash(std::span<const server_load> servers, std::uint64_t hash) const {
    if (config_.consistent_hash) {
        // Weighted rendezvous hashing: every server scores the key; the highest wins. Removing a
        // server moves only the keys it held.
        int best = -1;
        double best_score = -std::numeric_limits<double>::infinity();
        for (std::size_t i = 0; i < servers.size(); ++i) {
            if (!servers[i].eligible) continue;
            std::uint64_t h = hash ^ servers[i].id;
            h ^= h >> 33;
            h *= 0xff51afd7ed558ccdull;
            h ^= h >> 33;
            h *= 0xc4ceb9fe1a85ec53ull;
            h ^= h >> 33;
            // uniform in (0, 1)
            double u = (static_cast<double>(h >> 11) + 0.5) / 9007199254740992.0;
            double score = static_cast<double>(servers[i].weight) / -std::log(u);
            if (score > best_score) {
                best_score = score;
                best = static_cast<int>(i);
            }
        }
        return best;
    }
    // Plain modulo over the eligible servers' cumulative weights (ARR's hashes are not
    // consistent: a membership change may move any key).
    std::uint64_t total = 0;
    for (const auto& s : servers)
        if (s.eligible) total += s.weight;
    if (total == 0) return -1;
    std::uint64_t point = hash % total;
    for (std::size_t i = 0; i < servers.size(); ++i) {
        if (!servers[i].eligible) continue;
        if (point < servers[i].weight) return static_cast<int>(i);
        point -= servers[i].weight;
    }
    return -1;
}

}  // namespace gatehouse::proxy
