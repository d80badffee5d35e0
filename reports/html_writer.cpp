// The HTML report: one self-contained file (inline CSS, SVG and a few lines of script; nothing
// fetched from the network) that shows the run at a glance and each scenario in depth.

#include "reports/svg_chart.hpp"
#include "reports/writers.hpp"

#include <iomanip>
#include <map>
#include <ostream>
#include <set>
#include <sstream>

namespace gatehouse::reports {

namespace {

constexpr const char* style = R"css(
:root{--pass:#15803d;--fail:#b91c1c;--error:#b45309;--na:#64748b;--ink:#0f172a;--muted:#475569;
--line:#e2e8f0;--bg:#f8fafc}
*{box-sizing:border-box}body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;
color:var(--ink);background:var(--bg)}header,main{max-width:1120px;margin:0 auto;padding:16px 24px}
header{background:#fff;border-bottom:1px solid var(--line);max-width:none}
header>*{max-width:1072px;margin-left:auto;margin-right:auto}h1{font-size:22px;margin:4px auto}
h2{font-size:17px;margin:0 0 6px}.run{color:var(--muted);margin:2px auto 10px}
.totals{display:flex;gap:8px;flex-wrap:wrap;margin-bottom:8px}
.pill{border-radius:999px;padding:3px 12px;font-weight:600;color:#fff}
.pill.passed{background:var(--pass)}.pill.failed{background:var(--fail)}
.pill.error{background:var(--error)}.pill.unsupported{background:var(--na)}
.pill.neutral{background:#334155}
table{border-collapse:collapse;width:100%;background:#fff}th,td{text-align:left;padding:5px 8px;
border-bottom:1px solid var(--line);vertical-align:top}th{font-size:12px;color:var(--muted);
text-transform:uppercase;letter-spacing:.03em}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;min-width:52px;text-align:center;border-radius:4px;padding:1px 6px;
font-size:12px;font-weight:700;color:#fff}.badge.passed{background:var(--pass)}
.badge.failed{background:var(--fail)}.badge.error{background:var(--error)}
.badge.unsupported{background:var(--na)}
section.scenario{background:#fff;border:1px solid var(--line);border-radius:8px;padding:16px;
margin:18px 0}section.scenario.failed{border-left:5px solid var(--fail)}
section.scenario.error{border-left:5px solid var(--error)}
section.scenario.passed{border-left:5px solid var(--pass)}
.description{color:var(--muted);margin:4px 0 8px}.tag{display:inline-block;background:#eef2ff;
color:#3730a3;border-radius:4px;padding:0 6px;margin-right:4px;font-size:12px}
.reason{font-weight:600}.ok{color:var(--pass);font-weight:700}.ko{color:var(--fail);font-weight:700}
.charts{display:grid;grid-template-columns:1fr;gap:8px;margin:12px 0}
svg.chart{max-width:100%;height:auto;background:#fff}svg .grid{stroke:#eef2f7}
svg .axis{stroke:#94a3b8}svg .tick,svg .legend{font-size:11px;fill:#475569}
svg .chart-title{font-size:12px;font-weight:600;fill:#0f172a}
svg .marker line{stroke:#0f172a;stroke-dasharray:4 3;stroke-width:1}
svg .marker circle{fill:#0f172a}svg .marker text{fill:#fff;font-size:10px;font-weight:700}
ol.actions{margin:4px 0 8px;padding-left:22px;color:var(--muted)}
table.trace td{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px}
tr.failed-step td{background:#fef2f2;color:var(--fail)}pre{white-space:pre-wrap;font-size:12px;
background:#f1f5f9;padding:8px;border-radius:6px}details{margin:8px 0}summary{cursor:pointer}
label.filter{display:block;margin:8px auto}body.only-failed section.scenario.passed,
body.only-failed tr.row.passed{display:none}.compare td.diff{background:#fff7ed}
.side{display:grid;grid-template-columns:1fr 1fr;gap:8px}
table.facts{width:auto;margin:6px 0}table.facts th{text-transform:none;font-size:13px}
table.breakdown{margin:10px 0}caption{text-align:left;font-weight:600;padding:4px 0}
)css";

// Records script errors on the page itself and counts the charts the browser parsed as SVG, with
// their drawn series (a headless browser test reads these back), and wires the "only failures"
// filter.
constexpr const char* script = R"js(
(function(){
  var root=document.documentElement;
  window.addEventListener('error',function(e){
    root.setAttribute('data-script-error',String(e.message));
  });
  var charts=document.querySelectorAll('svg.chart'),parsed=0,series=0,bars=0;
  for(var i=0;i<charts.length;++i){
    if(!(charts[i] instanceof SVGSVGElement))continue;
    ++parsed;
    var lines=charts[i].querySelectorAll('polyline.series');
    for(var k=0;k<lines.length;++k)if(lines[k].points.numberOfItems>0)++series;
    bars+=charts[i].querySelectorAll('rect.bar').length;
  }
  root.setAttribute('data-charts',String(parsed));
  root.setAttribute('data-series',String(series));
  root.setAttribute('data-bars',String(bars));
  var box=document.getElementById('only-failed');
  if(box){box.addEventListener('change',function(){document.body.classList.toggle('only-failed',box.checked);});}
  root.setAttribute('data-ready','1');
})();
)js";

std::string fixed(double v, int precision) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(precision) << v;
    return out.str();
}

const char* label_of(verdict v) {
    switch (v) {
        case verdict::passed: return "PASS";
        case verdict::failed: return "FAIL";
        case verdict::error: return "ERROR";
        case verdict::unsupported: return "N/A";
    }
    return "?";
}

// 0.05 as "0.05", 1 as "1": as many digits as the scale has, up to six.
std::string scale_text(double scale) {
    std::ostringstream out;
    out << std::setprecision(6) << scale;
    return out.str();
}

std::string badge(verdict v) {
    return "<span class=\"badge " + std::string(to_string(v)) + "\">" + label_of(v) + "</span>";
}

// Width of one timeline bucket (1 s unless the scenario sampled more finely).
double bucket_width(const scenario_result& s) {
    if (s.timeline.size() > 1 && s.timeline[1].t_s > s.timeline[0].t_s)
        return s.timeline[1].t_s - s.timeline[0].t_s;
    return 1;
}

double timeline_end(const scenario_result& s) {
    return s.timeline.empty() ? 0 : s.timeline.back().t_s + bucket_width(s);
}

std::string anchor(const scenario_result& s) { return "s-" + escape_xml(s.id); }

std::vector<chart_marker> markers_of(const scenario_result& s) {
    std::vector<chart_marker> markers;
    for (const auto& a : s.actions) markers.push_back({a.at_s, a.label});
    return markers;
}

// Requests/s and errors/s per error key over the scenario's timeline.
std::string traffic_chart(const scenario_result& s, double width) {
    line_chart chart{.title = "Requests and errors per second",
                     .y_unit = "per s",
                     .series = {},
                     .markers = markers_of(s),
                     .x_end = timeline_end(s),
                     .width = width};
    chart_series requests{"requests", {}};
    const double half = bucket_width(s) / 2;  // lines go through bucket centres
    std::set<std::string> keys;
    for (const auto& p : s.timeline) {
        requests.points.emplace_back(p.t_s + half, static_cast<double>(p.requests));
        for (const auto& [key, n] : p.errors) keys.insert(key);
    }
    chart.series.push_back(std::move(requests));
    for (const auto& key : keys) {
        chart_series errors{key, {}};
        for (const auto& p : s.timeline) {
            auto it = p.errors.find(key);
            errors.points.emplace_back(p.t_s + half,
                                       it == p.errors.end() ? 0.0 : static_cast<double>(it->second));
        }
        chart.series.push_back(std::move(errors));
    }
    return render_svg(chart);
}

// p50 and p99 of one per-second measure (members of timeline_point) as two lines.
std::string percentile_chart(const scenario_result& s, double width, std::string title,
                             double timeline_point::*p50_of, double timeline_point::*p99_of,
                             bool skip_idle_seconds) {
    line_chart chart{.title = std::move(title),
                     .y_unit = "ms",
                     .series = {},
                     .markers = markers_of(s),
                     .x_end = timeline_end(s),
                     .width = width};
    chart_series p50{"p50", {}}, p99{"p99", {}};
    const double half = bucket_width(s) / 2;  // lines go through bucket centres
    for (const auto& p : s.timeline) {
        if (skip_idle_seconds && p.requests == 0) continue;
        p50.points.emplace_back(p.t_s + half, p.*p50_of);
        p99.points.emplace_back(p.t_s + half, p.*p99_of);
    }
    chart.series = {std::move(p50), std::move(p99)};
    return render_svg(chart);
}

std::string latency_chart(const scenario_result& s, double width) {
    return percentile_chart(s, width, "Latency", &timeline_point::p50_ms, &timeline_point::p99_ms,
                            true);
}

bool has_lag(const scenario_result& s) {
    for (const auto& p : s.timeline)
        if (p.lag_p99_ms > 0) return true;
    return false;
}

// Open-model load: how late requests started against the generator's schedule.
std::string lag_chart(const scenario_result& s, double width) {
    return percentile_chart(s, width, "Schedule lag of the load generator",
                            &timeline_point::lag_p50_ms, &timeline_point::lag_p99_ms, false);
}

std::string distribution_chart(const scenario_result& s, double width) {
    stacked_bar_chart chart{.title = "Requests per back-end server",
                            .y_unit = "per s",
                            .keys = s.servers,
                            .bars = {},
                            .markers = markers_of(s),
                            .bar_span = bucket_width(s),
                            .width = width};
    std::set<std::string> known(s.servers.begin(), s.servers.end());
    for (const auto& p : s.timeline)
        for (const auto& [server, n] : p.per_server)
            if (known.insert(server).second) chart.keys.push_back(server);
    for (const auto& p : s.timeline) {
        std::vector<double> values;
        for (const auto& key : chart.keys) {
            auto it = p.per_server.find(key);
            values.push_back(it == p.per_server.end() ? 0.0 : static_cast<double>(it->second));
        }
        chart.bars.emplace_back(p.t_s, std::move(values));
    }
    return render_svg(chart);
}

bool has_distribution(const scenario_result& s) {
    for (const auto& p : s.timeline)
        if (!p.per_server.empty()) return true;
    return false;
}

void write_head(std::ostream& out, const std::string& title) {
    out << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        << "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        << "<title>" << escape_xml(title) << "</title><style>" << style << "</style></head>\n";
}

void write_totals(std::ostream& out, const report& r) {
    auto t = count(r);
    out << "<div class=\"totals\"><span class=\"pill passed\">" << t.passed << " passed</span>"
        << "<span class=\"pill failed\">" << t.failed << " failed</span>"
        << "<span class=\"pill error\">" << t.errors << " errors</span>"
        << "<span class=\"pill unsupported\">" << t.unsupported << " unsupported</span>"
        << "<span class=\"pill neutral\">" << t.requests << " requests in "
        << fixed(t.duration_s, 1) << " s</span></div>\n";
}

// The run's time scale: the one given for every scenario, the one they all share, or none when
// each scenario ran at its own (shown in its section then).
std::string run_time_scale(const report& r) {
    if (r.run.time_scale > 0) return scale_text(r.run.time_scale);
    std::set<double> scales;
    for (const auto& s : r.scenarios)
        if (s.time_scale > 0) scales.insert(s.time_scale);
    if (scales.size() == 1) return scale_text(*scales.begin());
    return scales.empty() ? std::string() : "per scenario";
}

void write_run(std::ostream& out, const report& r) {
    out << "<p class=\"run\">System under test: <strong>" << escape_xml(r.run.sut) << "</strong>";
    if (!r.run.catalog.empty()) out << " · catalog " << escape_xml(r.run.catalog);
    out << " · started " << escape_xml(r.run.started_at);
    if (!r.run.host.empty()) out << " on " << escape_xml(r.run.host);
    if (auto scale = run_time_scale(r); !scale.empty()) out << " · time scale " << scale;
    out << " · " << escape_xml(r.run.tool) << ' ' << escape_xml(r.run.version) << "</p>\n";
}

std::string error_text(const std::map<std::string, std::uint64_t>& errors) {
    std::string text;
    for (const auto& [key, n] : errors)
        text += (text.empty() ? "" : ", ") + key + " ×" + std::to_string(n);
    return text;
}

void write_breakdown(std::ostream& out, const breakdown& b) {
    out << "<table class=\"breakdown\"><caption>" << escape_xml(b.title)
        << "</caption><thead><tr><th>name</th><th>requests</th><th>errors</th><th>req/s</th>"
           "<th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th><th>by kind</th>"
           "</tr></thead><tbody>\n";
    for (const auto& row : b.rows) {
        const auto& m = row.summary;
        out << "<tr><td>" << escape_xml(row.name) << "</td><td class=\"num\">" << m.requests
            << "</td><td class=\"num\">" << m.errors << "</td><td class=\"num\">"
            << fixed(m.throughput_rps, 1) << "</td><td class=\"num\">" << fixed(m.p50_ms, 2)
            << "</td><td class=\"num\">" << fixed(m.p90_ms, 2) << "</td><td class=\"num\">"
            << fixed(m.p99_ms, 2) << "</td><td class=\"num\">" << fixed(m.max_ms, 2)
            << "</td><td>" << escape_xml(error_text(row.errors)) << "</td></tr>\n";
    }
    out << "</tbody></table>\n";
}

void write_scenario(std::ostream& out, const scenario_result& s) {
    out << "<section class=\"scenario " << to_string(s.outcome) << "\" id=\"" << anchor(s)
        << "\">\n<h2>" << badge(s.outcome) << ' ' << escape_xml(s.id) << " — "
        << escape_xml(s.title) << "</h2>\n";
    if (!s.description.empty())
        out << "<p class=\"description\">" << escape_xml(s.description) << "</p>\n";
    if (!s.tags.empty()) {
        out << "<p>";
        for (const auto& tag : s.tags) out << "<span class=\"tag\">" << escape_xml(tag) << "</span>";
        out << "</p>\n";
    }
    if (!s.reason.empty()) out << "<p class=\"reason\">" << escape_xml(s.reason) << "</p>\n";
    out << "<p>" << s.summary.requests << " requests, " << s.summary.errors << " errors, "
        << fixed(s.summary.throughput_rps, 0) << " req/s, p50 " << fixed(s.summary.p50_ms, 1)
        << " ms, p99 " << fixed(s.summary.p99_ms, 1) << " ms, " << fixed(s.duration_s, 1)
        << " s";
    if (s.time_scale > 0) out << ", time scale " << scale_text(s.time_scale);
    out << "</p>\n";
    if (!s.facts.empty()) {
        out << "<table class=\"facts\"><tbody>\n";
        for (const auto& f : s.facts)
            out << "<tr><th>" << escape_xml(f.name) << "</th><td>" << escape_xml(f.value)
                << "</td></tr>\n";
        out << "</tbody></table>\n";
    }

    if (!s.expectations.empty()) {
        out << "<table class=\"expectations\"><thead><tr><th></th><th>expectation</th>"
               "<th>expected</th><th>observed</th><th>where</th></tr></thead><tbody>\n";
        for (const auto& e : s.expectations)
            out << "<tr><td class=\"" << (e.passed ? "ok\">✓" : "ko\">✗") << "</td><td>"
                << escape_xml(e.name) << "</td><td>" << escape_xml(e.expected) << "</td><td>"
                << escape_xml(e.observed) << "</td><td>" << escape_xml(e.where) << "</td></tr>\n";
        out << "</tbody></table>\n";
    }

    if (!s.timeline.empty()) {
        out << "<div class=\"charts\">" << traffic_chart(s, 1040) << latency_chart(s, 1040);
        if (has_distribution(s)) out << distribution_chart(s, 1040);
        if (has_lag(s)) out << lag_chart(s, 1040);
        out << "</div>\n";
    }
    for (const auto& b : s.breakdowns) write_breakdown(out, b);
    if (!s.actions.empty()) {
        out << "<ol class=\"actions\">";
        for (const auto& a : s.actions)
            out << "<li>" << fixed(a.at_s, 2) << " s — " << escape_xml(a.label) << "</li>";
        out << "</ol>\n";
    }
    for (const auto& trace : s.traces) {
        bool failed = false;
        for (const auto& step : trace.steps) failed = failed || step.failed;
        out << "<details class=\"trace\"" << (failed ? " open" : "") << "><summary>Client "
            << escape_xml(trace.client) << " — " << trace.steps.size() << " steps"
            << (failed ? " (failed)" : "") << "</summary><table class=\"trace\"><tbody>\n";
        for (const auto& step : trace.steps)
            out << "<tr" << (step.failed ? " class=\"failed-step\"" : "") << "><td class=\"num\">"
                << fixed(step.at_ms, 1) << " ms</td><td>" << escape_xml(step.kind) << "</td><td>"
                << escape_xml(step.detail) << "</td></tr>\n";
        out << "</tbody></table></details>\n";
    }
    out << "</section>\n";
}

// One side of a comparison: traffic and latency, when there is a timeline.
std::string side_charts(const scenario_result& s) {
    if (s.timeline.empty()) return {};
    return traffic_chart(s, 520) + latency_chart(s, 520);
}

}  // namespace

void write_html(const report& r, std::ostream& out) {
    write_head(out, "Gatehouse report — " + r.run.sut);
    out << "<body>\n<header><h1>Gatehouse report</h1>\n";
    write_run(out, r);
    write_totals(out, r);
    if (!r.run.sut_config.empty())
        out << "<details><summary>Configuration of the system under test</summary><pre>"
            << escape_xml(r.run.sut_config) << "</pre></details>\n";
    out << "<label class=\"filter\"><input type=\"checkbox\" id=\"only-failed\"> show only "
           "scenarios that did not pass</label>\n</header>\n<main>\n";
    out << "<table class=\"overview\"><thead><tr><th>verdict</th><th>scenario</th><th>title</th>"
           "<th>time s</th><th>req/s</th><th>p50 ms</th><th>p99 ms</th></tr></thead><tbody>\n";
    for (const auto& s : r.scenarios)
        out << "<tr class=\"row " << to_string(s.outcome) << "\"><td>" << badge(s.outcome)
            << "</td><td><a href=\"#" << anchor(s) << "\">" << escape_xml(s.id) << "</a></td><td>"
            << escape_xml(s.title) << "</td><td class=\"num\">" << fixed(s.duration_s, 1)
            << "</td><td class=\"num\">" << fixed(s.summary.throughput_rps, 0)
            << "</td><td class=\"num\">" << fixed(s.summary.p50_ms, 1) << "</td><td class=\"num\">"
            << fixed(s.summary.p99_ms, 1) << "</td></tr>\n";
    out << "</tbody></table>\n";
    for (const auto& s : r.scenarios) write_scenario(out, s);
    out << "</main>\n<script>" << script << "</script>\n</body></html>\n";
}

void write_html_comparison(const report& left, const report& right, std::ostream& out) {
    write_head(out, "Gatehouse comparison — " + left.run.sut + " vs " + right.run.sut);
    out << "<body>\n<header><h1>Gatehouse comparison</h1>\n<p class=\"run\">Left: <strong>"
        << escape_xml(left.run.sut) << "</strong> (" << escape_xml(left.run.started_at)
        << ") · Right: <strong>" << escape_xml(right.run.sut) << "</strong> ("
        << escape_xml(right.run.started_at) << ")</p>\n";
    write_totals(out, left);
    write_totals(out, right);
    out << "</header>\n<main>\n";

    std::map<std::string, const scenario_result*> by_id;
    for (const auto& s : right.scenarios) by_id[s.id] = &s;
    out << "<table class=\"compare\"><thead><tr><th>scenario</th><th>"
        << escape_xml(left.run.sut) << "</th><th>" << escape_xml(right.run.sut)
        << "</th><th>req/s left</th><th>req/s right</th><th>p99 ms left</th>"
           "<th>p99 ms right</th><th>right ÷ left req/s</th></tr></thead><tbody>\n";
    std::set<std::string> seen;
    for (const auto& l : left.scenarios) {
        seen.insert(l.id);
        auto it = by_id.find(l.id);
        const scenario_result* r = it == by_id.end() ? nullptr : it->second;
        bool differs = !r || r->outcome != l.outcome;
        out << "<tr><td><a href=\"#" << anchor(l) << "\">" << escape_xml(l.id) << "</a> "
            << escape_xml(l.title) << "</td><td" << (differs ? " class=\"diff\"" : "") << ">"
            << badge(l.outcome) << "</td><td" << (differs ? " class=\"diff\"" : "") << ">"
            << (r ? badge(r->outcome) : std::string("—")) << "</td><td class=\"num\">"
            << fixed(l.summary.throughput_rps, 0) << "</td><td class=\"num\">"
            << (r ? fixed(r->summary.throughput_rps, 0) : "—") << "</td><td class=\"num\">"
            << fixed(l.summary.p99_ms, 1) << "</td><td class=\"num\">"
            << (r ? fixed(r->summary.p99_ms, 1) : "—") << "</td><td class=\"num\">"
            << (r && l.summary.throughput_rps > 0
                    ? fixed(r->summary.throughput_rps / l.summary.throughput_rps, 2) + "×"
                    : "—")
            << "</td></tr>\n";
    }
    for (const auto& r : right.scenarios)
        if (!seen.count(r.id))
            out << "<tr><td>" << escape_xml(r.id) << ' ' << escape_xml(r.title)
                << "</td><td class=\"diff\">—</td><td class=\"diff\">" << badge(r.outcome)
                << "</td><td></td><td></td><td></td><td></td><td></td></tr>\n";
    out << "</tbody></table>\n";

    for (const auto& l : left.scenarios) {
        auto it = by_id.find(l.id);
        out << "<section class=\"scenario " << to_string(l.outcome) << "\" id=\"" << anchor(l)
            << "\"><h2>" << escape_xml(l.id) << " — " << escape_xml(l.title) << "</h2>";
        out << "<div class=\"side\"><div>" << badge(l.outcome) << ' ' << escape_xml(left.run.sut)
            << "<p class=\"reason\">" << escape_xml(l.reason) << "</p>" << side_charts(l)
            << "</div><div>";
        if (it != by_id.end())
            out << badge(it->second->outcome) << ' ' << escape_xml(right.run.sut)
                << "<p class=\"reason\">" << escape_xml(it->second->reason) << "</p>"
                << side_charts(*it->second);
        else
            out << "not run on " << escape_xml(right.run.sut);
        out << "</div></div></section>\n";
    }
    out << "</main>\n<script>" << script << "</script>\n</body></html>\n";
}

}  // namespace gatehouse::reports
