#pragma once
// A load run as a report (reports/report.hpp), so `gatehouse-load` results render with the same
// writers and charts as scenario runs: one report entry per run with its per-second timeline,
// totals, per-profile and per-URL tables, and the generator's schedule. Pure: no I/O, no clock.

#include "load/results.hpp"
#include "reports/report.hpp"

#include <map>
#include <string>

namespace gatehouse::load {

struct report_options {
    // The verdict: the run failed when errors / requests is above this (gatehouse-load run
    // --max-error-rate); 0 means any error fails it.
    double max_error_rate = 0;
    std::string version{};  // of the tool that wrote the results
    std::string host{};     // where it ran, when known
};

// The chart keys of a run's errors, as scenario reports name them: the proxy's ARR triple when
// the response carried X-Gatehouse-Error, the bare status (>= 400) otherwise, or the transport
// failure (connect, tls, read, timeout …). 401 counts only with `with_401` (URL lists and log
// replays count it as an error; in the Exchange profiles it is an authentication leg).
std::map<std::string, std::uint64_t> error_keys(const request_counts& counts, bool with_401);

// The report entry of one run (or of merged runs).
reports::scenario_result to_scenario_result(const run_results& r, const report_options& options);

// A report of that one entry, with the target as the system under test.
reports::report to_report(const run_results& r, const report_options& options);

}  // namespace gatehouse::load
