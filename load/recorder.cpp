#include "load/recorder.hpp"

#include <algorithm>

namespace gatehouse::load {

recorder::recorder(time_point start, std::int64_t start_unix_ns)
    : start_(start), start_unix_ns_(start_unix_ns) {
    results_.start_unix_ms = start_unix_ns / 1'000'000;
}

std::uint32_t recorder::intern(std::vector<std::string>& names,
                               std::unordered_map<std::string, std::uint32_t>& ids,
                               std::vector<request_counts>& counts, std::string_view name,
                               std::size_t limit) {
    std::lock_guard lock(mutex_);
    std::string key(name);
    if (auto it = ids.find(key); it != ids.end()) return it->second;
    if (names.size() >= limit) {
        key = "(other)";
        if (auto it = ids.find(key); it != ids.end()) return it->second;
    }
    auto id = static_cast<std::uint32_t>(names.size());
    names.push_back(key);
    counts.emplace_back();
    ids.emplace(std::move(key), id);
    return id;
}

std::uint32_t recorder::profile_id(std::string_view name) {
    return intern(profile_names_, profile_ids_, profiles_, name, max_keys);
}

std::uint32_t recorder::key_id(std::string_view name) {
    return intern(key_names_, key_ids_, keys_, name, max_keys);
}

std::int64_t recorder::unix_second(time_point t) const {
    auto ns =
        start_unix_ns_ + std::chrono::duration_cast<std::chrono::nanoseconds>(t - start_).count();
    auto s = ns / 1'000'000'000;
    if (ns < 0 && ns % 1'000'000'000 != 0) --s;  // floor
    return s;
}

second_sample& recorder::sample_for(time_point t) {
    auto second = unix_second(t);
    if (!pending_.empty() && pending_.back().unix_second == second) return pending_.back();
    auto it =
        std::lower_bound(pending_.begin(), pending_.end(), second,
                         [](const second_sample& s, std::int64_t v) { return s.unix_second < v; });
    if (it != pending_.end() && it->unix_second == second) return *it;
    // A second already taken by the sampler gets a new sample; merging adds them up.
    second_sample s;
    s.unix_second = second;
    return *pending_.insert(it, std::move(s));
}

namespace {

void add(request_counts& c, const recorder::request& r, bool with_latency) {
    ++c.requests;
    if (r.failed || r.unexpected) ++c.errors;
    if (r.status != 0) ++c.by_status[r.status];
    if (!r.proxy_error.empty()) ++c.by_proxy_error[std::string(r.proxy_error)];
    if (r.failed) ++c.by_failure[static_cast<std::size_t>(*r.failed)];
    c.bytes_sent += r.bytes_sent;
    c.bytes_received += r.bytes_received;
    if (with_latency) c.latency.record(r.latency_us);
}

}  // namespace

void recorder::record(const request& r) {
    {
        std::lock_guard lock(mutex_);
        bool latency = !r.long_poll;
        add(results_.totals, r, latency);
        if (r.profile < profiles_.size()) add(profiles_[r.profile], r, latency);
        if (r.key < keys_.size()) add(keys_[r.key], r, true);
        add(sample_for(r.finished).counts, r, latency);
    }
    if (observer_ && *observer_) (*observer_)(r);
}

void recorder::record_interrupted() {
    std::lock_guard lock(mutex_);
    ++results_.interrupted_requests;
}

void recorder::record_start(std::uint64_t lag_us, time_point at) {
    std::lock_guard lock(mutex_);
    ++results_.schedule.started;
    results_.schedule.lag.record(lag_us);
    sample_for(at).lag.record(lag_us);
}

void recorder::set_schedule(std::uint64_t due, std::uint64_t missed) {
    std::lock_guard lock(mutex_);
    results_.schedule.due = due;
    results_.schedule.missed = missed;
}

void recorder::iteration_started() {
    std::lock_guard lock(mutex_);
    ++results_.iterations.started;
}

void recorder::iteration_finished(iteration_end end, time_point at) {
    std::lock_guard lock(mutex_);
    switch (end) {
        case iteration_end::completed:
            ++results_.iterations.completed;
            ++sample_for(at).iterations;
            break;
        case iteration_end::failed:
            ++results_.iterations.failed;
            ++sample_for(at).iterations;
            break;
        case iteration_end::interrupted:
            ++results_.iterations.interrupted;
            break;
    }
}

void recorder::tasks(std::uint64_t planned, std::uint64_t achieved) {
    std::lock_guard lock(mutex_);
    results_.iterations.tasks_planned += planned;
    results_.iterations.tasks_achieved += achieved;
}

void recorder::active(std::uint64_t vus, time_point at) {
    std::lock_guard lock(mutex_);
    auto& s = sample_for(at);
    s.active_vus = std::max(s.active_vus, vus);
}

void recorder::count(std::string_view counter, std::uint64_t n) {
    std::lock_guard lock(mutex_);
    results_.counters[std::string(counter)] += n;
}

void recorder::take_completed(time_point now, std::vector<second_sample>& out) {
    std::lock_guard lock(mutex_);
    auto current = unix_second(now);
    auto it = pending_.begin();
    while (it != pending_.end() && it->unix_second < current) {
        merge_sample(results_.timeline, *it);
        out.push_back(std::move(*it));
        ++it;
    }
    pending_.erase(pending_.begin(), it);
}

run_results recorder::snapshot() const {
    std::lock_guard lock(mutex_);
    run_results r = results_;
    for (std::size_t i = 0; i < profiles_.size(); ++i) r.profiles[profile_names_[i]] = profiles_[i];
    for (std::size_t i = 0; i < keys_.size(); ++i) r.urls[key_names_[i]] = keys_[i];
    for (const auto& s : pending_) merge_sample(r.timeline, s);
    return r;
}

}  // namespace gatehouse::load
