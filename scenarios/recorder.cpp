#include "scenarios/recorder.hpp"

#include <algorithm>
#include <cmath>

namespace gatehouse::scenarios {

bool is_failure(const request_record& r) noexcept {
    return r.status >= 500 || (r.status == 0 && !r.failure.empty());
}

std::string error_key(const request_record& r) {
    if (!r.error.empty()) return r.error;
    if (r.status == 0) return r.failure;  // empty: a step inside a channel, not an exchange
    if (r.status >= 400 && r.status != 401) return std::to_string(r.status);
    return {};
}

double aggregate::percentile(double p) const {
    if (latencies_ms.empty()) return 0;
    // Nearest rank: the smallest value with at least p% of the values at or below it.
    auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(latencies_ms.size())));
    rank = std::clamp<std::size_t>(rank, 1, latencies_ms.size());
    return latencies_ms[rank - 1];
}

bool recorder::matches(const request_record& r, const std::string& source) {
    if (source.empty()) return true;
    if (source == "load") return r.source.starts_with("load:");
    return r.source == source;
}

void recorder::add(request_record r) {
    std::lock_guard lock(mutex_);
    // Keep the records ordered by end time; they nearly always arrive in that order.
    auto position = std::upper_bound(
        records_.begin(), records_.end(), r.end_s,
        [](double end, const request_record& other) { return end < other.end_s; });
    records_.insert(position, std::move(r));
}

aggregate recorder::between(double from_s, double to_s, const std::string& source) const {
    std::lock_guard lock(mutex_);
    aggregate a;
    for (const auto& r : records_) {
        if (r.end_s < from_s || r.end_s >= to_s || !matches(r, source)) continue;
        ++a.requests;
        if (is_failure(r)) ++a.failures;
        if (auto key = error_key(r); !key.empty()) ++a.errors[key];
        if (!r.server.empty()) ++a.per_server[r.server];
        if (!r.long_poll && r.status != 0) a.latencies_ms.push_back(r.latency_ms);
    }
    std::sort(a.latencies_ms.begin(), a.latencies_ms.end());
    a.p50_ms = a.percentile(50);
    a.p90_ms = a.percentile(90);
    a.p99_ms = a.percentile(99);
    a.max_ms = a.latencies_ms.empty() ? 0 : a.latencies_ms.back();
    return a;
}

std::vector<request_record> recorder::records() const {
    std::lock_guard lock(mutex_);
    return records_;
}

std::vector<request_record> recorder::records_of(const std::string& source) const {
    std::lock_guard lock(mutex_);
    std::vector<request_record> out;
    for (const auto& r : records_)
        if (matches(r, source)) out.push_back(r);
    return out;
}

std::vector<reports::timeline_point> recorder::timeline(double bucket_s, double end_s) const {
    std::vector<reports::timeline_point> points;
    if (!(bucket_s > 0)) return points;
    auto buckets = static_cast<std::size_t>(std::ceil(end_s / bucket_s));
    for (std::size_t i = 0; i < buckets; ++i) {
        double from = static_cast<double>(i) * bucket_s;
        auto a = between(from, from + bucket_s);
        reports::timeline_point p;
        p.t_s = from;
        // Rates per second, so charts read the same whatever the bucket width.
        auto per_second = [&](std::uint64_t n) {
            return static_cast<std::uint64_t>(std::llround(static_cast<double>(n) / bucket_s));
        };
        p.requests = per_second(a.requests);
        for (const auto& [key, n] : a.errors) p.errors[key] = per_second(n);
        for (const auto& [server, n] : a.per_server) p.per_server[server] = per_second(n);
        p.p50_ms = a.p50_ms;
        p.p99_ms = a.p99_ms;
        points.push_back(std::move(p));
    }
    return points;
}

}  // namespace gatehouse::scenarios
