// JSON form of the report model (docs/reports.md describes the schema). Writing and reading
// live together so that the round trip is exact by construction.

#include "reports/writers.hpp"

#include <nlohmann/json.hpp>
#include <ostream>

namespace gatehouse::reports {

using nlohmann::json;

namespace {

json to_json(const latency_summary& s) {
    return {{"requests", s.requests}, {"errors", s.errors},       {"throughput_rps", s.throughput_rps},
            {"p50_ms", s.p50_ms},     {"p90_ms", s.p90_ms},       {"p99_ms", s.p99_ms},
            {"max_ms", s.max_ms}};
}

json to_json(const scenario_result& s) {
    json timeline = json::array();
    for (const auto& p : s.timeline)
        timeline.push_back({{"t_s", p.t_s},
                            {"requests", p.requests},
                            {"errors", p.errors},
                            {"p50_ms", p.p50_ms},
                            {"p99_ms", p.p99_ms},
                            {"per_server", p.per_server},
                            {"lag_p50_ms", p.lag_p50_ms},
                            {"lag_p99_ms", p.lag_p99_ms}});
    json facts = json::array();
    for (const auto& f : s.facts) facts.push_back({{"name", f.name}, {"value", f.value}});
    json breakdowns = json::array();
    for (const auto& b : s.breakdowns) {
        json rows = json::array();
        for (const auto& row : b.rows)
            rows.push_back(
                {{"name", row.name}, {"summary", to_json(row.summary)}, {"errors", row.errors}});
        breakdowns.push_back({{"title", b.title}, {"rows", std::move(rows)}});
    }
    json actions = json::array();
    for (const auto& a : s.actions)
        actions.push_back({{"at_s", a.at_s}, {"kind", a.kind}, {"label", a.label}});
    json expectations = json::array();
    for (const auto& e : s.expectations)
        expectations.push_back({{"name", e.name},
                                {"passed", e.passed},
                                {"expected", e.expected},
                                {"observed", e.observed},
                                {"where", e.where}});
    json traces = json::array();
    for (const auto& t : s.traces) {
        json steps = json::array();
        for (const auto& step : t.steps)
            steps.push_back({{"at_ms", step.at_ms},
                             {"kind", step.kind},
                             {"detail", step.detail},
                             {"failed", step.failed}});
        traces.push_back({{"client", t.client}, {"steps", std::move(steps)}});
    }
    return {{"id", s.id},
            {"title", s.title},
            {"description", s.description},
            {"tags", s.tags},
            {"verdict", to_string(s.outcome)},
            {"reason", s.reason},
            {"duration_s", s.duration_s},
            {"time_scale", s.time_scale},
            {"summary", to_json(s.summary)},
            {"facts", std::move(facts)},
            {"breakdowns", std::move(breakdowns)},
            {"expectations", std::move(expectations)},
            {"timeline", std::move(timeline)},
            {"actions", std::move(actions)},
            {"servers", s.servers},
            {"traces", std::move(traces)}};
}

// Reads values out of a JSON document and names the JSON path of anything that is wrong.
class reader {
public:
    explicit reader(std::string_view source) : source_(source) {}

    [[noreturn]] void fail(const std::string& path, const std::string& what) const {
        throw report_error(std::string(source_) + ": " + path + ": " + what);
    }

    const json& member(const json& object, const std::string& path, const char* key) const {
        if (!object.is_object()) fail(path, "expected an object");
        auto it = object.find(key);
        if (it == object.end()) fail(path + "." + key, "missing");
        return *it;
    }

    template <class T>
    T get(const json& object, const std::string& path, const char* key) const {
        const json& value = member(object, path, key);
        try {
            return value.get<T>();
        } catch (const json::exception&) {
            fail(path + "." + key, "has the wrong type (" + std::string(value.type_name()) + ")");
        }
    }

    const json& array(const json& object, const std::string& path, const char* key) const {
        const json& value = member(object, path, key);
        if (!value.is_array()) fail(path + "." + key, "expected an array");
        return value;
    }

    // Members added to version 1 later: absent in older files, checked when present.
    template <class T>
    T get_or(const json& object, const std::string& path, const char* key, T fallback) const {
        if (!object.is_object() || !object.contains(key)) return fallback;
        return get<T>(object, path, key);
    }
    const json& optional_array(const json& object, const std::string& path,
                               const char* key) const {
        static const json empty = json::array();
        if (!object.is_object() || !object.contains(key)) return empty;
        return array(object, path, key);
    }

private:
    std::string_view source_;
};

latency_summary read_summary(const reader& r, const json& j, const std::string& path) {
    latency_summary s;
    s.requests = r.get<std::uint64_t>(j, path, "requests");
    s.errors = r.get<std::uint64_t>(j, path, "errors");
    s.throughput_rps = r.get<double>(j, path, "throughput_rps");
    s.p50_ms = r.get<double>(j, path, "p50_ms");
    s.p90_ms = r.get<double>(j, path, "p90_ms");
    s.p99_ms = r.get<double>(j, path, "p99_ms");
    s.max_ms = r.get<double>(j, path, "max_ms");
    return s;
}

scenario_result read_scenario(const reader& r, const json& j, const std::string& path) {
    scenario_result s;
    s.id = r.get<std::string>(j, path, "id");
    s.title = r.get<std::string>(j, path, "title");
    s.description = r.get<std::string>(j, path, "description");
    s.tags = r.get<std::vector<std::string>>(j, path, "tags");
    auto v = parse_verdict(r.get<std::string>(j, path, "verdict"));
    if (!v) r.fail(path + ".verdict", "must be passed, failed, error or unsupported");
    s.outcome = *v;
    s.reason = r.get<std::string>(j, path, "reason");
    s.duration_s = r.get<double>(j, path, "duration_s");
    s.time_scale = r.get_or<double>(j, path, "time_scale", 0);
    s.summary = read_summary(r, r.member(j, path, "summary"), path + ".summary");
    const auto& facts = r.optional_array(j, path, "facts");
    for (std::size_t i = 0; i < facts.size(); ++i) {
        auto p = path + ".facts[" + std::to_string(i) + "]";
        s.facts.push_back(
            {r.get<std::string>(facts[i], p, "name"), r.get<std::string>(facts[i], p, "value")});
    }
    const auto& breakdowns = r.optional_array(j, path, "breakdowns");
    for (std::size_t i = 0; i < breakdowns.size(); ++i) {
        auto p = path + ".breakdowns[" + std::to_string(i) + "]";
        breakdown b;
        b.title = r.get<std::string>(breakdowns[i], p, "title");
        const auto& rows = r.array(breakdowns[i], p, "rows");
        for (std::size_t k = 0; k < rows.size(); ++k) {
            auto rp = p + ".rows[" + std::to_string(k) + "]";
            b.rows.push_back(
                {r.get<std::string>(rows[k], rp, "name"),
                 read_summary(r, r.member(rows[k], rp, "summary"), rp + ".summary"),
                 r.get<std::map<std::string, std::uint64_t>>(rows[k], rp, "errors")});
        }
        s.breakdowns.push_back(std::move(b));
    }
    const auto& expectations = r.array(j, path, "expectations");
    for (std::size_t i = 0; i < expectations.size(); ++i) {
        auto p = path + ".expectations[" + std::to_string(i) + "]";
        const auto& e = expectations[i];
        s.expectations.push_back({r.get<std::string>(e, p, "name"), r.get<bool>(e, p, "passed"),
                                  r.get<std::string>(e, p, "expected"),
                                  r.get<std::string>(e, p, "observed"),
                                  r.get<std::string>(e, p, "where")});
    }
    const auto& timeline = r.array(j, path, "timeline");
    for (std::size_t i = 0; i < timeline.size(); ++i) {
        auto p = path + ".timeline[" + std::to_string(i) + "]";
        const auto& t = timeline[i];
        timeline_point point;
        point.t_s = r.get<double>(t, p, "t_s");
        point.requests = r.get<std::uint64_t>(t, p, "requests");
        point.errors = r.get<std::map<std::string, std::uint64_t>>(t, p, "errors");
        point.p50_ms = r.get<double>(t, p, "p50_ms");
        point.p99_ms = r.get<double>(t, p, "p99_ms");
        point.per_server = r.get<std::map<std::string, std::uint64_t>>(t, p, "per_server");
        point.lag_p50_ms = r.get_or<double>(t, p, "lag_p50_ms", 0);
        point.lag_p99_ms = r.get_or<double>(t, p, "lag_p99_ms", 0);
        s.timeline.push_back(std::move(point));
    }
    const auto& actions = r.array(j, path, "actions");
    for (std::size_t i = 0; i < actions.size(); ++i) {
        auto p = path + ".actions[" + std::to_string(i) + "]";
        const auto& a = actions[i];
        s.actions.push_back({r.get<double>(a, p, "at_s"), r.get<std::string>(a, p, "kind"),
                             r.get<std::string>(a, p, "label")});
    }
    s.servers = r.get<std::vector<std::string>>(j, path, "servers");
    const auto& traces = r.array(j, path, "traces");
    for (std::size_t i = 0; i < traces.size(); ++i) {
        auto p = path + ".traces[" + std::to_string(i) + "]";
        client_trace trace;
        trace.client = r.get<std::string>(traces[i], p, "client");
        const auto& steps = r.array(traces[i], p, "steps");
        for (std::size_t k = 0; k < steps.size(); ++k) {
            auto sp = p + ".steps[" + std::to_string(k) + "]";
            trace.steps.push_back({r.get<double>(steps[k], sp, "at_ms"),
                                   r.get<std::string>(steps[k], sp, "kind"),
                                   r.get<std::string>(steps[k], sp, "detail"),
                                   r.get<bool>(steps[k], sp, "failed")});
        }
        s.traces.push_back(std::move(trace));
    }
    return s;
}

}  // namespace

void write_json(const report& r, std::ostream& out) {
    json scenarios = json::array();
    for (const auto& s : r.scenarios) scenarios.push_back(to_json(s));
    auto t = count(r);
    json doc = {{"schema", "gatehouse-report"},
                {"schema_version", schema_version},
                {"run",
                 {{"tool", r.run.tool},
                  {"version", r.run.version},
                  {"sut", r.run.sut},
                  {"sut_config", r.run.sut_config},
                  {"catalog", r.run.catalog},
                  {"started_at", r.run.started_at},
                  {"host", r.run.host},
                  {"time_scale", r.run.time_scale}}},
                {"totals",
                 {{"passed", t.passed},
                  {"failed", t.failed},
                  {"errors", t.errors},
                  {"unsupported", t.unsupported},
                  {"duration_s", t.duration_s},
                  {"requests", t.requests}}},
                {"scenarios", std::move(scenarios)}};
    out << doc.dump(2) << '\n';
}

report read_json(std::istream& in, std::string_view source) {
    json doc;
    try {
        doc = json::parse(in, nullptr, true, true);
    } catch (const json::parse_error& e) {
        throw report_error(std::string(source) + ": not JSON: " + e.what());
    }
    reader r(source);
    if (!doc.is_object() || doc.value("schema", "") != "gatehouse-report")
        r.fail("$", "not a gatehouse report (schema must be \"gatehouse-report\")");
    auto version = r.get<int>(doc, "$", "schema_version");
    if (version != schema_version)
        r.fail("$.schema_version", "version " + std::to_string(version) +
                                       " is not supported (this build reads " +
                                       std::to_string(schema_version) + ")");
    report out;
    const auto& run = r.member(doc, "$", "run");
    out.run.tool = r.get<std::string>(run, "$.run", "tool");
    out.run.version = r.get<std::string>(run, "$.run", "version");
    out.run.sut = r.get<std::string>(run, "$.run", "sut");
    out.run.sut_config = r.get<std::string>(run, "$.run", "sut_config");
    out.run.catalog = r.get<std::string>(run, "$.run", "catalog");
    out.run.started_at = r.get<std::string>(run, "$.run", "started_at");
    out.run.host = r.get<std::string>(run, "$.run", "host");
    out.run.time_scale = r.get<double>(run, "$.run", "time_scale");
    const auto& scenarios = r.array(doc, "$", "scenarios");
    for (std::size_t i = 0; i < scenarios.size(); ++i)
        out.scenarios.push_back(
            read_scenario(r, scenarios[i], "$.scenarios[" + std::to_string(i) + "]"));
    return out;
}

}  // namespace gatehouse::reports
