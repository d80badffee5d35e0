#include "scenarios/expectations.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <set>
#include <sstream>

namespace gatehouse::scenarios {

namespace {

constexpr double nan = std::numeric_limits<double>::quiet_NaN();

std::string fixed(double v, int precision) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(precision) << v;
    return out.str();
}

std::string number(double v) {
    std::ostringstream out;
    out << v;
    return out.str();
}

// An expectation's window in wall-clock seconds.
struct wall_window {
    double from;
    double to;
};

wall_window wall(const window& w, const evaluation_context& c) {
    return {w.from_s ? *w.from_s * c.time_scale : 0.0,
            w.to_s ? *w.to_s * c.time_scale : std::numeric_limits<double>::infinity()};
}

double since_origin(std::chrono::system_clock::time_point t, const evaluation_context& c) {
    return std::chrono::duration<double>(t - c.origin).count();
}

// What was observed, as a number to test and a text for the report.
struct observation {
    double value = nan;
    std::string text{};
};

const fake_cas::observation_snapshot* server_of(const evaluation_context& c,
                                                const std::string& name) {
    auto it = c.servers.find(name);
    return it == c.servers.end() ? nullptr : &it->second;
}

// The server's requests in `w` (wall seconds), for `vdir` (all when empty), probes or not.
std::vector<double> server_request_times(const fake_cas::observation_snapshot& s,
                                         const evaluation_context& c, const wall_window& w,
                                         const std::string& vdir, bool probes) {
    std::vector<double> times;
    for (const auto& r : s.log) {
        if (r.health_probe != probes) continue;
        if (!vdir.empty() && r.route != vdir) continue;
        double t = since_origin(r.time, c);
        if (t >= w.from && t < w.to) times.push_back(t);
    }
    std::sort(times.begin(), times.end());
    return times;
}

observation observe(const expectation& e, const evaluation_context& c) {
    const auto& args = e.args;
    auto w = wall(e.span, c);
    auto source = args.value("source", std::string());
    auto window_text = e.span.text();

    if (e.kind == "error_rate") {
        auto a = c.requests->between(w.from, w.to, source);
        if (a.requests == 0) return {nan, "no requests in " + window_text};
        return {a.error_rate(), fixed(a.error_rate() * 100, 2) + "% (" + std::to_string(a.failures) +
                                    " of " + std::to_string(a.requests) + " requests failed)"};
    }
    if (e.kind == "requests") {
        std::uint64_t n = 0;
        for (const auto& r : c.requests->records_of(source)) {
            if (r.end_s < w.from || r.end_s >= w.to) continue;
            if (args.contains("status") && r.status != args["status"].get<unsigned>()) continue;
            if (args.contains("error")) {
                auto want = args["error"].get<std::string>();
                auto key = error_key(r);
                if (key != want && !key.starts_with(want + ".")) continue;
            }
            if (args.contains("server") && r.server != args["server"].get<std::string>()) continue;
            ++n;
        }
        return {static_cast<double>(n), std::to_string(n) + " requests"};
    }
    if (e.kind == "latency") {
        auto a = c.requests->between(w.from, w.to, source);
        if (a.latencies_ms.empty()) return {nan, "no responses in " + window_text};
        double p = args["percentile"].get<double>();
        double scenario_ms = a.percentile(p) / c.time_scale;
        std::ostringstream text;
        text << 'p' << number(p) << ' ' << fixed(scenario_ms, 1) << " ms over "
             << a.latencies_ms.size() << " responses";
        return {scenario_ms, text.str()};
    }
    if (e.kind == "throughput") {
        auto a = c.requests->between(w.from, w.to, source);
        double span = std::min(w.to, c.end_s) - w.from;
        if (span <= 0) return {nan, "the window lies outside the run"};
        double rps = static_cast<double>(a.requests) / span;
        return {rps, fixed(rps, 1) + " requests/s (wall clock)"};
    }
    if (e.kind == "server_requests") {
        auto name = args["server"].get<std::string>();
        const auto* s = server_of(c, name);
        if (!s) return {nan, "no server named " + name};
        auto vdir = args.value("vdir", std::string());
        auto n = server_request_times(*s, c, w, vdir, false).size();
        if (args.value("include_probes", false)) n += server_request_times(*s, c, w, vdir, true).size();
        return {static_cast<double>(n),
                std::to_string(n) + " requests served by " + name + (vdir.empty() ? "" : " /" + vdir)};
    }
    if (e.kind == "failover_time" || e.kind == "recovery_time") {
        auto name = args["server"].get<std::string>();
        auto label = args["after"].get<std::string>();
        const auto* s = server_of(c, name);
        if (!s) return {nan, "no server named " + name};
        auto at = c.actions.find(label);
        if (at == c.actions.end()) return {nan, "action '" + label + "' never ran"};
        auto times = server_request_times(*s, c, {at->second, w.to}, args.value("vdir", std::string()),
                                          false);
        if (e.kind == "failover_time") {
            // The last request the server still got after the action: until then clients
            // were still sent to it.
            double last = times.empty() ? at->second : times.back();
            double scenario_s = (last - at->second) / c.time_scale;
            return {scenario_s, fixed(scenario_s, 2) + " s after '" + label + "' (" +
                                    std::to_string(times.size()) + " requests reached " + name +
                                    " after it)"};
        }
        if (times.empty()) return {nan, name + " got no request after '" + label + "'"};
        double scenario_s = (times.front() - at->second) / c.time_scale;
        return {scenario_s, fixed(scenario_s, 2) + " s after '" + label + "'"};
    }
    if (e.kind == "probe_interval" || e.kind == "probe_burst") {
        auto name = args["server"].get<std::string>();
        const auto* s = server_of(c, name);
        if (!s) return {nan, "no server named " + name};
        auto probes = server_request_times(*s, c, w, args["vdir"].get<std::string>(), true);
        if (e.kind == "probe_interval") {
            if (probes.size() < 2)
                return {nan, std::to_string(probes.size()) + " probe(s) in " + window_text};
            double mean = (probes.back() - probes.front()) / static_cast<double>(probes.size() - 1) /
                          c.time_scale;
            return {mean, "every " + fixed(mean, 2) + " s on average (" +
                              std::to_string(probes.size()) + " probes)"};
        }
        double span = args["per_s"].get<double>() * c.time_scale;
        std::size_t most = 0;
        for (std::size_t i = 0, j = 0; i < probes.size(); ++i) {
            while (probes[i] - probes[j] >= span) ++j;
            most = std::max(most, i - j + 1);
        }
        return {static_cast<double>(most), std::to_string(most) + " probes within " +
                                               number(args["per_s"].get<double>()) + " s at most"};
    }
    if (e.kind == "ntlm_identity") {
        std::uint64_t shared = 0;
        std::uint64_t handshakes = 0;
        for (const auto& [name, s] : c.servers) {
            shared += s.identity_mismatches;
            handshakes += s.ntlm_handshakes;
        }
        return {static_cast<double>(shared),
                std::to_string(shared) + " requests carried another identity than their "
                                         "connection's (" +
                    std::to_string(handshakes) + " NTLM handshakes)"};
    }
    if (e.kind == "affinity") {
        auto client = args["client"].get<std::string>();
        std::set<std::string> servers;
        for (const auto& r : c.requests->records_of(client))
            if (!r.server.empty() && r.end_s >= w.from && r.end_s < w.to) servers.insert(r.server);
        std::string list;
        for (const auto& s : servers) list += (list.empty() ? "" : ", ") + s;
        return {static_cast<double>(servers.size()),
                std::to_string(servers.size()) + " server(s): " + (list.empty() ? "none" : list)};
    }
    if (e.kind == "client_failures") {
        auto client = args["client"].get<std::string>();
        auto it = c.clients.find(client);
        if (it == c.clients.end()) return {nan, "client " + client + " did not run"};
        std::string first = it->second.failed_expects.empty()
                                 ? ""
                                 : " (first: " + it->second.failed_expects.front().name +
                                       " expected " + it->second.failed_expects.front().expected +
                                       ", observed " + it->second.failed_expects.front().observed +
                                       ")";
        return {static_cast<double>(it->second.failed_expects.size()),
                std::to_string(it->second.failed_expects.size()) + " of " +
                    std::to_string(it->second.checks) + " checks failed" + first};
    }
    if (e.kind == "reliability_cases") {
        auto client = args["client"].get<std::string>();
        auto it = c.clients.find(client);
        if (it == c.clients.end()) return {nan, "client " + client + " did not run"};
        const auto& outcome = it->second;
        if (outcome.cases.empty()) return {nan, "no case was sent"};
        std::size_t failed = 0;
        std::string list;
        for (const auto& k : outcome.cases) {
            if (k.passed) continue;
            ++failed;
            list += "\n        " + k.id + " (" + k.title + "): " + k.problems;
        }
        return {static_cast<double>(failed),
                std::to_string(failed) + " of " + std::to_string(outcome.cases.size()) +
                    " cases failed, " + std::to_string(outcome.cases.size() - failed) +
                    " passed, " + std::to_string(outcome.cases_not_applicable) +
                    " of another profile not sent" + list};
    }
    if (e.kind == "long_polls") {
        auto server = args.value("server", std::string());
        bool completed = args["outcome"] == "completed";
        std::uint64_t n = 0;
        for (const auto& r : c.requests->records()) {
            if (!r.long_poll || r.end_s < w.from || r.end_s >= w.to) continue;
            if (!server.empty() && r.server != server) continue;
            bool ok = r.status >= 200 && r.status < 300;
            if (ok == completed) ++n;
        }
        return {static_cast<double>(n),
                std::to_string(n) + " long polls " + (completed ? "completed" : "failed")};
    }
    return {nan, "unknown expectation kind " + e.kind};
}

}  // namespace

reports::expectation_result evaluate(const expectation& e, const evaluation_context& context) {
    auto o = observe(e, context);
    reports::expectation_result r;
    r.name = e.name;
    r.passed = e.check.holds(o.value);
    r.expected = e.check.text();
    r.observed = std::isnan(o.value) ? o.text : number(o.value) + " — " + o.text;
    r.where = e.span.from_s || e.span.to_s ? e.span.text() : "";
    return r;
}

std::vector<reports::expectation_result> evaluate_all(const scenario& s,
                                                      const evaluation_context& context) {
    std::vector<reports::expectation_result> results;
    std::set<std::string> governed;  // clients whose failures an expectation judges
    for (const auto& e : s.expectations)
        if (e.kind == "client_failures") governed.insert(e.args["client"].get<std::string>());
    for (const auto& [name, outcome] : context.clients) {
        if (governed.count(name)) continue;
        for (const auto& failed : outcome.failed_expects) results.push_back(failed);
    }
    for (const auto& e : s.expectations) {
        bool applies = e.only_sut.empty() || std::find(e.only_sut.begin(), e.only_sut.end(),
                                                       context.sut) != e.only_sut.end();
        if (applies) results.push_back(evaluate(e, context));
    }
    return results;
}

}  // namespace gatehouse::scenarios
