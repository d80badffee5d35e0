#pragma once
// The report model: what one run of scenarios (or one load run) produced, independent of how it
// is shown. The scenario runner and gatehouse-load fill it; one writer per format renders it
// (writers.hpp). It is plain data: no I/O, no clocks.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::reports {

// The JSON schema version written by write_json and accepted by read_json.
inline constexpr int schema_version = 1;

enum class verdict {
    passed,       // every expectation held
    failed,       // at least one expectation did not hold
    error,        // the scenario could not run (topology did not start, invalid file …)
    unsupported,  // the system under test cannot express what the scenario needs
};

std::string_view to_string(verdict v) noexcept;
std::optional<verdict> parse_verdict(std::string_view text) noexcept;

// One second (or one bucket) of traffic as seen by the clients.
struct timeline_point {
    double t_s = 0;                             // bucket start, seconds since the scenario began
    std::uint64_t requests = 0;                 // completed in this bucket
    std::map<std::string, std::uint64_t> errors{};   // "502.3.12002", "503", "connect" …
    double p50_ms = 0;
    double p99_ms = 0;
    std::map<std::string, std::uint64_t> per_server{};  // requests each back end served
    // Open-model load only: how late the requests that started in this bucket started (the
    // load generator falling behind its schedule). Zero when not measured.
    double lag_p50_ms = 0;
    double lag_p99_ms = 0;
};

// Something the timeline did (health flip, drain, reload, node stop …), marked on charts.
struct action_mark {
    double at_s = 0;
    std::string kind{};   // "health", "drain", "reload", "stop_node" …
    std::string label{};  // human text: "cas2 /owa HealthCheck.htm → 503"
};

struct expectation_result {
    std::string name{};      // what was checked, e.g. "no requests to cas2 after detection"
    bool passed = false;
    std::string expected{};  // "< 1% errors in [5s, 20s]"
    std::string observed{};  // "3.2% (64 of 2000)"
    std::string where{};     // the step or window it refers to: "client c1 step 4", "[5s, 20s]"
};

// One step of a client script as it happened: rule matched, server chosen, auth leg, response.
struct trace_step {
    double at_ms = 0;
    std::string kind{};    // "send", "response", "rule", "server", "auth", "expect", "wait" …
    std::string detail{};  // "GET /owa/ → 302 (X-FEServer EX02)"
    bool failed = false;
};

struct client_trace {
    std::string client{};
    std::vector<trace_step> steps{};
};

struct latency_summary {
    std::uint64_t requests = 0;
    std::uint64_t errors = 0;
    double throughput_rps = 0;
    double p50_ms = 0;
    double p90_ms = 0;
    double p99_ms = 0;
    double max_ms = 0;
};

// One row of a breakdown table: a load profile, a step or a URL.
struct breakdown_row {
    std::string name{};
    latency_summary summary{};
    std::map<std::string, std::uint64_t> errors{};  // keys as in timeline_point::errors
};

// A table of rows that share the scenario's timeline (per profile, per step or URL).
struct breakdown {
    std::string title{};  // "Per profile", "Per step or URL"
    std::vector<breakdown_row> rows{};
};

// A labelled figure shown with the scenario's summary ("schedule": "600 due, 0 missed").
struct fact {
    std::string name{};
    std::string value{};
};

struct scenario_result {
    std::string id{};           // file stem, e.g. "p01-eas-ping-timeout"
    std::string title{};
    std::string description{};  // the real-world symptom it reproduces
    std::vector<std::string> tags{};
    verdict outcome = verdict::passed;
    std::string reason{};       // why error/unsupported; the first failed expectation otherwise
    double duration_s = 0;
    double time_scale = 0;      // the scale the scenario ran at; 0 when not recorded
    latency_summary summary{};
    std::vector<fact> facts{};
    std::vector<breakdown> breakdowns{};
    std::vector<expectation_result> expectations{};
    std::vector<timeline_point> timeline{};
    std::vector<action_mark> actions{};
    std::vector<std::string> servers{};  // back-end names, in display order
    std::vector<client_trace> traces{};  // client scripts (kept in full when they failed)
};

// What ran, against what.
struct run_info {
    std::string tool{};          // "gatehouse run", "gatehouse-load"
    std::string version{};
    std::string sut{};           // system under test: "gatehouse (embedded)", "haproxy 2.6.12" …
    std::string sut_config{};    // the config the SUT ran with (text), for the summary
    std::string catalog{};       // path of the scenario set
    std::string started_at{};    // ISO 8601 UTC
    std::string host{};
    double time_scale = 0;       // --time-scale given for every scenario; 0: each its own
};

struct report {
    run_info run{};
    std::vector<scenario_result> scenarios{};
};

struct totals {
    std::size_t passed = 0;
    std::size_t failed = 0;
    std::size_t errors = 0;
    std::size_t unsupported = 0;
    double duration_s = 0;
    std::uint64_t requests = 0;
};
totals count(const report& r) noexcept;

}  // namespace gatehouse::reports
