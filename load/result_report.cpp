#include "load/result_report.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

namespace gatehouse::load {

namespace {

double ms(std::uint64_t us) {
    return static_cast<double>(us) / 1000.0;
}

std::string ms_text(std::uint64_t us) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f ms", ms(us));
    return text;
}

std::string iso8601(std::int64_t unix_ms) {
    if (unix_ms <= 0) return {};
    std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

std::string percent(double fraction) {
    char text[32];
    std::snprintf(text, sizeof text, "%.2f%%", 100.0 * fraction);
    return text;
}

double fraction(std::uint64_t part, std::uint64_t whole) {
    return whole ? static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

reports::latency_summary summary_of(const request_counts& c, double duration_s) {
    const auto& h = c.latency;
    return {.requests = c.requests,
            .errors = c.errors,
            .throughput_rps = duration_s > 0 ? static_cast<double>(c.requests) / duration_s : 0,
            .p50_ms = ms(h.value_at_quantile(0.50)),
            .p90_ms = ms(h.value_at_quantile(0.90)),
            .p99_ms = ms(h.value_at_quantile(0.99)),
            .max_ms = ms(h.max())};
}

// URL lists and log replays count every status >= 400 as an error, 401 included.
bool with_401(const run_results& r) {
    return r.workload == "urls" || r.workload == "w3c";
}

reports::timeline_point point_of(const second_sample& s, double t_s, bool with_401) {
    return {.t_s = t_s,
            .requests = s.counts.requests,
            .errors = error_keys(s.counts, with_401),
            .p50_ms = ms(s.counts.latency.value_at_quantile(0.50)),
            .p99_ms = ms(s.counts.latency.value_at_quantile(0.99)),
            .per_server = {},
            .lag_p50_ms = ms(s.lag.value_at_quantile(0.50)),
            .lag_p99_ms = ms(s.lag.value_at_quantile(0.99))};
}

// One point per second from the start of the run to its last sample; seconds in which nothing
// completed are zero (the generator writes no sample for them), so lines do not bridge gaps.
std::vector<reports::timeline_point> timeline_of(const run_results& r) {
    std::vector<reports::timeline_point> points;
    if (r.timeline.empty()) return points;
    std::int64_t first = r.timeline.front().unix_second;
    if (r.start_unix_ms > 0) first = std::min(first, r.start_unix_ms / 1000);
    std::int64_t next = first;
    for (const auto& s : r.timeline) {
        for (; next < s.unix_second; ++next)
            points.push_back({.t_s = static_cast<double>(next - first)});
        points.push_back(point_of(s, static_cast<double>(s.unix_second - first), with_401(r)));
        next = s.unix_second + 1;
    }
    return points;
}

reports::breakdown breakdown_of(std::string title, const std::map<std::string, request_counts>& m,
                                double duration_s, bool with_401) {
    reports::breakdown b{.title = std::move(title), .rows = {}};
    for (const auto& [name, counts] : m)
        b.rows.push_back({.name = name,
                          .summary = summary_of(counts, duration_s),
                          .errors = error_keys(counts, with_401)});
    return b;
}

std::vector<reports::fact> facts_of(const run_results& r) {
    std::vector<reports::fact> facts;
    auto add = [&](std::string name, std::string value) {
        facts.push_back({.name = std::move(name), .value = std::move(value)});
    };
    add("target", r.target);
    add("workload",
        r.workload + ", " + r.model + " model" +
            (r.processes > 1 ? ", " + std::to_string(r.processes) + " processes merged" : ""));
    const auto& it = r.iterations;
    add("iterations", std::to_string(it.started) + " started, " + std::to_string(it.completed) +
                          " completed, " + std::to_string(it.failed) + " failed, " +
                          std::to_string(it.interrupted) + " interrupted");
    if (it.tasks_planned > 0)
        add("tasks", std::to_string(it.tasks_achieved) + " achieved of " +
                         std::to_string(it.tasks_planned) + " planned");
    if (r.model == "open" || r.schedule.due > 0) {
        add("schedule", std::to_string(r.schedule.due) + " due, " +
                            std::to_string(r.schedule.started) + " started, " +
                            std::to_string(r.schedule.missed) + " missed");
        const auto& lag = r.schedule.lag;
        add("schedule lag", "p50 " + ms_text(lag.value_at_quantile(0.50)) + ", p99 " +
                                ms_text(lag.value_at_quantile(0.99)) + ", max " +
                                ms_text(lag.max()));
    }
    std::string statuses;
    for (const auto& [status, n] : r.totals.by_status)
        statuses +=
            (statuses.empty() ? "" : ", ") + std::to_string(status) + " ×" + std::to_string(n);
    if (!statuses.empty()) add("responses by status", statuses);
    std::string failures;
    for (std::size_t i = 0; i < failure_kinds; ++i)
        if (r.totals.by_failure[i] != 0)
            failures += (failures.empty() ? "" : ", ") +
                        std::string(failure_name(static_cast<failure>(i))) + " ×" +
                        std::to_string(r.totals.by_failure[i]);
    if (!failures.empty()) add("requests without a response", failures);
    if (r.interrupted_requests > 0)
        add("interrupted requests",
            std::to_string(r.interrupted_requests) + " (in flight at the end; not errors)");
    add("bytes", std::to_string(r.totals.bytes_sent) + " sent, " +
                     std::to_string(r.totals.bytes_received) + " received");
    std::string counters;
    for (const auto& [name, n] : r.counters)
        counters += (counters.empty() ? "" : ", ") + name + " " + std::to_string(n);
    if (!counters.empty()) add("counters", counters);
    return facts;
}

}  // namespace

std::map<std::string, std::uint64_t> error_keys(const request_counts& counts, bool with_401) {
    std::map<std::string, std::uint64_t> keys;
    std::map<unsigned, std::uint64_t> proxied;  // responses per status that carried a triple
    for (const auto& [triple, n] : counts.by_proxy_error) {
        keys[triple] += n;
        unsigned status = 0;
        for (char c : triple) {
            if (c < '0' || c > '9') break;
            status = status * 10 + static_cast<unsigned>(c - '0');
        }
        proxied[status] += n;
    }
    for (const auto& [status, n] : counts.by_status) {
        if (status < 400 || (status == 401 && !with_401)) continue;
        auto carried = proxied[status];
        if (n > carried) keys[std::to_string(status)] += n - carried;
    }
    for (std::size_t i = 0; i < failure_kinds; ++i)
        if (counts.by_failure[i] != 0)
            keys[std::string(failure_name(static_cast<failure>(i)))] += counts.by_failure[i];
    return keys;
}

reports::scenario_result to_scenario_result(const run_results& r, const report_options& options) {
    reports::scenario_result s;
    s.id = r.workload.empty() ? "load" : r.workload;
    s.title = (r.workload.empty() ? std::string("load") : r.workload) + " load, " +
              (r.model.empty() ? std::string("?") : r.model) + " model";
    s.description = "gatehouse-load against " + r.target;
    s.tags = {"load"};
    if (!r.model.empty()) s.tags.push_back(r.model);
    s.duration_s = r.end_unix_ms > r.start_unix_ms
                       ? static_cast<double>(r.end_unix_ms - r.start_unix_ms) / 1000.0
                       : static_cast<double>(r.timeline.size());
    s.summary = summary_of(r.totals, s.duration_s);
    s.facts = facts_of(r);
    if (r.profiles.size() > 1)  // one profile's row would repeat the totals
        s.breakdowns.push_back(breakdown_of("Per profile", r.profiles, s.duration_s, with_401(r)));
    if (!r.urls.empty())
        s.breakdowns.push_back(breakdown_of("Per step or URL", r.urls, s.duration_s, with_401(r)));
    s.timeline = timeline_of(r);

    double limit = std::max(0.0, options.max_error_rate);
    double rate = fraction(r.totals.errors, r.totals.requests);
    bool passed = rate <= limit;
    s.expectations.push_back(
        {.name = "error rate",
         .passed = passed,
         .expected = limit > 0 ? "≤ " + percent(limit) : std::string("no errors"),
         .observed = percent(rate) + " (" + std::to_string(r.totals.errors) + " of " +
                     std::to_string(r.totals.requests) + ")",
         .where = "whole run"});
    s.outcome = passed ? reports::verdict::passed : reports::verdict::failed;
    if (!passed) s.reason = "error rate " + s.expectations.back().observed;
    return s;
}

reports::report to_report(const run_results& r, const report_options& options) {
    reports::report out;
    out.run = {.tool = "gatehouse-load",
               .version = options.version,
               .sut = r.target,
               .sut_config = "",
               .catalog = "",
               .started_at = iso8601(r.start_unix_ms),
               .host = options.host,
               .time_scale = 0};
    out.scenarios.push_back(to_scenario_result(r, options));
    return out;
}

}  // namespace gatehouse::load
