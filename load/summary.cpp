#include "load/summary.hpp"

#include <cstdio>
#include <sstream>

namespace gatehouse::load {

std::string format_us(double us) {
    char buf[32];
    if (us < 1000)
        std::snprintf(buf, sizeof buf, "%.0fus", us);
    else if (us < 1e6)
        std::snprintf(buf, sizeof buf, "%.2fms", us / 1000);
    else
        std::snprintf(buf, sizeof buf, "%.2fs", us / 1e6);
    return buf;
}

namespace {

void latency_line(std::ostream& out, const char* label, const histogram& h) {
    if (h.empty()) return;
    out << label << "  mean " << format_us(h.mean()) << "  p50 "
        << format_us(double(h.value_at_quantile(0.5))) << "  p90 "
        << format_us(double(h.value_at_quantile(0.9))) << "  p99 "
        << format_us(double(h.value_at_quantile(0.99))) << "  p99.9 "
        << format_us(double(h.value_at_quantile(0.999))) << "  max " << format_us(double(h.max()))
        << '\n';
}

void counts_detail(std::ostream& out, const request_counts& c, const char* indent) {
    if (!c.by_status.empty()) {
        out << indent << "status:";
        for (const auto& [k, v] : c.by_status) out << ' ' << k << '=' << v;
        out << '\n';
    }
    bool any = false;
    for (std::size_t i = 0; i < failure_kinds; ++i) {
        if (c.by_failure[i] == 0) continue;
        if (!any) out << indent << "failures:";
        any = true;
        out << ' ' << failure_name(static_cast<failure>(i)) << '=' << c.by_failure[i];
    }
    if (any) out << '\n';
    if (!c.by_proxy_error.empty()) {
        out << indent << "proxy errors:";
        for (const auto& [k, v] : c.by_proxy_error) out << ' ' << k << '=' << v;
        out << '\n';
    }
}

}  // namespace

void write_summary(std::ostream& out, const run_results& r) {
    double seconds = double(r.end_unix_ms - r.start_unix_ms) / 1000.0;
    out << "gatehouse-load: " << r.workload << ", " << r.model << " model, " << r.target;
    if (r.processes > 1) out << ", " << r.processes << " processes merged";
    out << '\n';
    char rate[64];
    std::snprintf(rate, sizeof rate, "%.1f",
                  seconds > 0 ? double(r.totals.requests) / seconds : 0.0);
    out << "  " << r.totals.requests << " requests in " << seconds << "s (" << rate << " req/s), "
        << r.totals.errors << " errors";
    if (r.interrupted_requests) out << ", " << r.interrupted_requests << " interrupted";
    out << '\n';
    counts_detail(out, r.totals, "  ");
    latency_line(out, "  latency", r.totals.latency);
    out << "  iterations: " << r.iterations.started << " started, " << r.iterations.completed
        << " completed, " << r.iterations.failed << " failed, " << r.iterations.interrupted
        << " interrupted\n";
    if (r.iterations.tasks_planned)
        out << "  tasks: " << r.iterations.tasks_achieved << " achieved of "
            << r.iterations.tasks_planned << " planned\n";
    if (r.model == "open") {
        out << "  schedule: " << r.schedule.due << " due, " << r.schedule.started << " started, "
            << r.schedule.missed << " missed\n";
        latency_line(out, "  start lag", r.schedule.lag);
    }
    if (!r.counters.empty()) {
        out << "  counters:";
        for (const auto& [k, v] : r.counters) out << ' ' << k << '=' << v;
        out << '\n';
    }
    if (r.urls.size() > 1 || (r.urls.size() == 1 && r.urls.begin()->second.errors)) {
        out << "  per step:\n";
        std::size_t shown = 0;
        for (const auto& [k, c] : r.urls) {
            if (++shown > 40) {
                out << "    … " << (r.urls.size() - 40) << " more in the JSON output\n";
                break;
            }
            out << "    " << k << ": " << c.requests << " req, " << c.errors << " err";
            if (!c.latency.empty())
                out << ", p50 " << format_us(double(c.latency.value_at_quantile(0.5))) << ", p99 "
                    << format_us(double(c.latency.value_at_quantile(0.99)));
            out << '\n';
        }
    }
}

std::string progress_line(const second_sample& s, std::int64_t elapsed_s,
                          std::uint64_t total_requests, std::uint64_t total_errors) {
    std::ostringstream out;
    char head[48];
    std::snprintf(head, sizeof head, "%5llds", static_cast<long long>(elapsed_s));
    out << head << "  " << total_requests << " req  " << s.counts.requests << "/s  err "
        << total_errors;
    if (!s.counts.latency.empty())
        out << "  p50 " << format_us(double(s.counts.latency.value_at_quantile(0.5))) << "  p99 "
            << format_us(double(s.counts.latency.value_at_quantile(0.99)));
    if (!s.lag.empty()) out << "  lag " << format_us(double(s.lag.value_at_quantile(0.99)));
    out << "  vus " << s.active_vus;
    return out.str();
}

}  // namespace gatehouse::load
