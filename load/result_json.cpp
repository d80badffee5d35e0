#include "load/result_json.hpp"

#include "load/errors.hpp"

#include <fstream>

namespace gatehouse::load {

namespace {

using nlohmann::json;

json counts_json(const request_counts& c) {
    json j;
    j["requests"] = c.requests;
    j["errors"] = c.errors;
    json status = json::object();
    for (const auto& [k, v] : c.by_status) status[std::to_string(k)] = v;
    j["by_status"] = status;
    json proxy = json::object();
    for (const auto& [k, v] : c.by_proxy_error) proxy[k] = v;
    j["by_proxy_error"] = proxy;
    json failures = json::object();
    for (std::size_t i = 0; i < failure_kinds; ++i)
        if (c.by_failure[i] != 0)
            failures[std::string(failure_name(static_cast<failure>(i)))] = c.by_failure[i];
    j["by_failure"] = failures;
    j["bytes_sent"] = c.bytes_sent;
    j["bytes_received"] = c.bytes_received;
    j["latency_us"] = to_json(c.latency);
    return j;
}

// Reads JSON with errors that name the source and the path of the offending value.
class reader {
public:
    reader(const std::string& source) : source_(source) {}

    [[noreturn]] void fail(const std::string& path, const std::string& message) const {
        throw load_error(exit_code::bad_input, source_ + ": " + path + ": " + message);
    }

    const json& member(const json& j, const std::string& path, const char* key) const {
        if (!j.is_object()) fail(path, "expected an object");
        auto it = j.find(key);
        if (it == j.end()) fail(path.empty() ? key : path + "." + key, "missing");
        return *it;
    }

    std::uint64_t u64(const json& j, const std::string& path) const {
        if (!j.is_number_unsigned() && !(j.is_number_integer() && j.get<std::int64_t>() >= 0))
            fail(path, "expected a non-negative integer");
        return j.get<std::uint64_t>();
    }
    std::int64_t i64(const json& j, const std::string& path) const {
        if (!j.is_number_integer()) fail(path, "expected an integer");
        return j.get<std::int64_t>();
    }
    std::string str(const json& j, const std::string& path) const {
        if (!j.is_string()) fail(path, "expected a string");
        return j.get<std::string>();
    }
    std::uint64_t u64_at(const json& j, const std::string& path, const char* key) const {
        return u64(member(j, path, key), join(path, key));
    }
    static std::string join(const std::string& path, const std::string& key) {
        return path.empty() ? key : path + "." + key;
    }

    histogram hist(const json& j, const std::string& path) const {
        auto count = u64_at(j, path, "count");
        auto min = u64_at(j, path, "min");
        auto max = u64_at(j, path, "max");
        auto sum = u64_at(j, path, "sum");
        const auto& b = member(j, path, "buckets");
        if (!b.is_array()) fail(join(path, "buckets"), "expected an array");
        std::vector<histogram::bucket> buckets;
        buckets.reserve(b.size());
        for (std::size_t i = 0; i < b.size(); ++i) {
            auto p = join(path, "buckets") + "[" + std::to_string(i) + "]";
            if (!b[i].is_array() || b[i].size() != 2) fail(p, "expected [index, count]");
            auto index = u64(b[i][0], p + "[0]");
            if (index > 0xffffffffu) fail(p, "bucket index out of range");
            buckets.emplace_back(static_cast<std::uint32_t>(index), u64(b[i][1], p + "[1]"));
        }
        histogram h;
        if (!histogram::from_buckets(buckets, min, max, sum, h))
            fail(path, "buckets are inconsistent with min/max or out of range");
        if (h.count() != count) fail(join(path, "count"), "does not match the buckets");
        return h;
    }

    request_counts counts(const json& j, const std::string& path) const {
        request_counts c;
        c.requests = u64_at(j, path, "requests");
        c.errors = u64_at(j, path, "errors");
        const auto& status = member(j, path, "by_status");
        if (!status.is_object()) fail(join(path, "by_status"), "expected an object");
        for (const auto& [k, v] : status.items()) {
            auto p = join(path, "by_status") + "." + k;
            unsigned code = 0;
            try {
                std::size_t used = 0;
                code = static_cast<unsigned>(std::stoul(k, &used));
                if (used != k.size() || code < 100 || code > 999) throw std::out_of_range(k);
            } catch (const std::exception&) {
                fail(p, "expected a status code as key");
            }
            c.by_status[code] = u64(v, p);
        }
        const auto& proxy = member(j, path, "by_proxy_error");
        if (!proxy.is_object()) fail(join(path, "by_proxy_error"), "expected an object");
        for (const auto& [k, v] : proxy.items())
            c.by_proxy_error[k] = u64(v, join(path, "by_proxy_error") + "." + k);
        const auto& failures = member(j, path, "by_failure");
        if (!failures.is_object()) fail(join(path, "by_failure"), "expected an object");
        for (const auto& [k, v] : failures.items()) {
            bool known = false;
            for (std::size_t i = 0; i < failure_kinds; ++i) {
                if (failure_name(static_cast<failure>(i)) == k) {
                    c.by_failure[i] = u64(v, join(path, "by_failure") + "." + k);
                    known = true;
                }
            }
            if (!known) fail(join(path, "by_failure") + "." + k, "unknown failure kind");
        }
        c.bytes_sent = u64_at(j, path, "bytes_sent");
        c.bytes_received = u64_at(j, path, "bytes_received");
        c.latency = hist(member(j, path, "latency_us"), join(path, "latency_us"));
        return c;
    }

    std::map<std::string, request_counts> counts_map(const json& j, const std::string& path) const {
        if (!j.is_object()) fail(path, "expected an object");
        std::map<std::string, request_counts> out;
        for (const auto& [k, v] : j.items()) out[k] = counts(v, path + "[\"" + k + "\"]");
        return out;
    }

private:
    std::string source_;
};

}  // namespace

json to_json(const histogram& h) {
    json j;
    j["count"] = h.count();
    j["min"] = h.min();
    j["max"] = h.max();
    j["sum"] = h.sum();
    j["mean"] = h.mean();
    j["p50"] = h.value_at_quantile(0.50);
    j["p90"] = h.value_at_quantile(0.90);
    j["p99"] = h.value_at_quantile(0.99);
    j["p999"] = h.value_at_quantile(0.999);
    json buckets = json::array();
    for (const auto& [index, count] : h.buckets()) buckets.push_back({index, count});
    j["buckets"] = std::move(buckets);
    return j;
}

json to_json(const second_sample& s) {
    json j;
    j["unix_second"] = s.unix_second;
    j["counts"] = counts_json(s.counts);
    j["iterations"] = s.iterations;
    j["active_vus"] = s.active_vus;
    j["lag_us"] = to_json(s.lag);
    return j;
}

json to_json(const run_results& r) {
    json j;
    j["schema"] = result_schema;
    j["workload"] = r.workload;
    j["model"] = r.model;
    j["target"] = r.target;
    j["start_unix_ms"] = r.start_unix_ms;
    j["end_unix_ms"] = r.end_unix_ms;
    j["processes"] = r.processes;
    j["totals"] = counts_json(r.totals);
    json profiles = json::object();
    for (const auto& [k, v] : r.profiles) profiles[k] = counts_json(v);
    j["profiles"] = std::move(profiles);
    json urls = json::object();
    for (const auto& [k, v] : r.urls) urls[k] = counts_json(v);
    j["urls"] = std::move(urls);
    json timeline = json::array();
    for (const auto& s : r.timeline) timeline.push_back(to_json(s));
    j["timeline"] = std::move(timeline);
    j["schedule"] = {{"due", r.schedule.due},
                     {"started", r.schedule.started},
                     {"missed", r.schedule.missed},
                     {"lag_us", to_json(r.schedule.lag)}};
    j["iterations"] = {{"started", r.iterations.started},
                       {"completed", r.iterations.completed},
                       {"failed", r.iterations.failed},
                       {"interrupted", r.iterations.interrupted},
                       {"tasks_planned", r.iterations.tasks_planned},
                       {"tasks_achieved", r.iterations.tasks_achieved}};
    json counters = json::object();
    for (const auto& [k, v] : r.counters) counters[k] = v;
    j["counters"] = std::move(counters);
    j["interrupted_requests"] = r.interrupted_requests;
    return j;
}

run_results results_from_json(const json& j, const std::string& source) {
    reader rd(source);
    if (!j.is_object()) rd.fail("(root)", "expected an object");
    auto schema = rd.str(rd.member(j, "", "schema"), "schema");
    if (schema != result_schema)
        rd.fail("schema", "unsupported schema '" + schema + "' (expected " + result_schema + ")");
    run_results r;
    r.workload = rd.str(rd.member(j, "", "workload"), "workload");
    r.model = rd.str(rd.member(j, "", "model"), "model");
    r.target = rd.str(rd.member(j, "", "target"), "target");
    r.start_unix_ms = rd.i64(rd.member(j, "", "start_unix_ms"), "start_unix_ms");
    r.end_unix_ms = rd.i64(rd.member(j, "", "end_unix_ms"), "end_unix_ms");
    r.processes = rd.u64_at(j, "", "processes");
    r.totals = rd.counts(rd.member(j, "", "totals"), "totals");
    r.profiles = rd.counts_map(rd.member(j, "", "profiles"), "profiles");
    r.urls = rd.counts_map(rd.member(j, "", "urls"), "urls");
    const auto& timeline = rd.member(j, "", "timeline");
    if (!timeline.is_array()) rd.fail("timeline", "expected an array");
    for (std::size_t i = 0; i < timeline.size(); ++i) {
        auto p = "timeline[" + std::to_string(i) + "]";
        second_sample s;
        s.unix_second = rd.i64(rd.member(timeline[i], p, "unix_second"), p + ".unix_second");
        s.counts = rd.counts(rd.member(timeline[i], p, "counts"), p + ".counts");
        s.iterations = rd.u64_at(timeline[i], p, "iterations");
        s.active_vus = rd.u64_at(timeline[i], p, "active_vus");
        s.lag = rd.hist(rd.member(timeline[i], p, "lag_us"), p + ".lag_us");
        merge_sample(r.timeline, s);
    }
    const auto& schedule = rd.member(j, "", "schedule");
    r.schedule.due = rd.u64_at(schedule, "schedule", "due");
    r.schedule.started = rd.u64_at(schedule, "schedule", "started");
    r.schedule.missed = rd.u64_at(schedule, "schedule", "missed");
    r.schedule.lag = rd.hist(rd.member(schedule, "schedule", "lag_us"), "schedule.lag_us");
    const auto& it = rd.member(j, "", "iterations");
    r.iterations.started = rd.u64_at(it, "iterations", "started");
    r.iterations.completed = rd.u64_at(it, "iterations", "completed");
    r.iterations.failed = rd.u64_at(it, "iterations", "failed");
    r.iterations.interrupted = rd.u64_at(it, "iterations", "interrupted");
    r.iterations.tasks_planned = rd.u64_at(it, "iterations", "tasks_planned");
    r.iterations.tasks_achieved = rd.u64_at(it, "iterations", "tasks_achieved");
    const auto& counters = rd.member(j, "", "counters");
    if (!counters.is_object()) rd.fail("counters", "expected an object");
    for (const auto& [k, v] : counters.items()) r.counters[k] = rd.u64(v, "counters." + k);
    r.interrupted_requests = rd.u64_at(j, "", "interrupted_requests");
    return r;
}

run_results read_results(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw load_error(exit_code::bad_input, path + ": cannot open the results file");
    json j;
    try {
        j = json::parse(in, nullptr, true, true);
    } catch (const json::parse_error& e) {
        throw load_error(exit_code::bad_input, path + ": not valid JSON: " + e.what());
    }
    return results_from_json(j, path);
}

void write_results(const run_results& r, const std::string& path) {
    std::ofstream out(path, std::ios::trunc);
    if (!out) throw load_error(exit_code::cannot_write, path + ": cannot open for writing");
    out << to_json(r).dump() << '\n';  // compact: histograms have many buckets
    out.flush();
    if (!out) throw load_error(exit_code::cannot_write, path + ": write failed");
}

}  // namespace gatehouse::load
