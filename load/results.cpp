#include "load/results.hpp"

#include <algorithm>

namespace gatehouse::load {

std::string_view failure_name(failure f) noexcept {
    switch (f) {
        case failure::connect:
            return "connect";
        case failure::tls:
            return "tls";
        case failure::write:
            return "write";
        case failure::read:
            return "read";
        case failure::timeout:
            return "timeout";
        case failure::protocol:
            return "protocol";
    }
    return "unknown";
}

void request_counts::merge(const request_counts& o) {
    requests += o.requests;
    errors += o.errors;
    for (const auto& [k, v] : o.by_status) by_status[k] += v;
    for (const auto& [k, v] : o.by_proxy_error) by_proxy_error[k] += v;
    for (std::size_t i = 0; i < failure_kinds; ++i) by_failure[i] += o.by_failure[i];
    bytes_sent += o.bytes_sent;
    bytes_received += o.bytes_received;
    latency.merge(o.latency);
}

void second_sample::merge(const second_sample& o) {
    counts.merge(o.counts);
    iterations += o.iterations;
    active_vus += o.active_vus;
    lag.merge(o.lag);
}

void schedule_stats::merge(const schedule_stats& o) {
    due += o.due;
    started += o.started;
    missed += o.missed;
    lag.merge(o.lag);
}

void iteration_stats::merge(const iteration_stats& o) {
    started += o.started;
    completed += o.completed;
    failed += o.failed;
    interrupted += o.interrupted;
    tasks_planned += o.tasks_planned;
    tasks_achieved += o.tasks_achieved;
}

void merge_sample(std::vector<second_sample>& timeline, const second_sample& sample) {
    auto it =
        std::lower_bound(timeline.begin(), timeline.end(), sample.unix_second,
                         [](const second_sample& s, std::int64_t t) { return s.unix_second < t; });
    if (it != timeline.end() && it->unix_second == sample.unix_second)
        it->merge(sample);
    else
        timeline.insert(it, sample);
}

void run_results::merge(const run_results& o) {
    if (workload.empty())
        workload = o.workload;
    else if (!o.workload.empty() && workload != o.workload && workload != "mixed")
        workload = "mixed";
    if (model.empty())
        model = o.model;
    else if (!o.model.empty() && model != o.model)
        model = "mixed";
    if (target.empty())
        target = o.target;
    else if (!o.target.empty() && target != o.target && target != "mixed")
        target = "mixed";
    if (o.start_unix_ms != 0 && (start_unix_ms == 0 || o.start_unix_ms < start_unix_ms))
        start_unix_ms = o.start_unix_ms;
    end_unix_ms = std::max(end_unix_ms, o.end_unix_ms);
    processes += o.processes;
    totals.merge(o.totals);
    for (const auto& [k, v] : o.profiles) profiles[k].merge(v);
    for (const auto& [k, v] : o.urls) urls[k].merge(v);
    for (const auto& s : o.timeline) merge_sample(timeline, s);
    schedule.merge(o.schedule);
    iterations.merge(o.iterations);
    for (const auto& [k, v] : o.counters) counters[k] += v;
    interrupted_requests += o.interrupted_requests;
}

}  // namespace gatehouse::load
