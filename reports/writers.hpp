#pragma once
// One writer per format, all rendering the same report model. Writers are pure: they read the
// model and write to a stream; nothing global, no clocks.

#include "reports/report.hpp"

#include <iosfwd>
#include <stdexcept>
#include <string_view>

namespace gatehouse::reports {

// JSON with a stable, versioned schema (docs/reports.md).
void write_json(const report& r, std::ostream& out);

// A report file that is not valid: the message names the source and the JSON path.
class report_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};
// Reads what write_json wrote. Throws report_error (with `source` and the JSON path) when the
// document is not a report of a schema version this build understands.
report read_json(std::istream& in, std::string_view source);

// JUnit XML: one <testsuite> for the run's catalog, one <testcase> per scenario; failed
// expectations become <failure> with expected vs observed, errors <error>, unsupported
// <skipped>.
void write_junit(const report& r, std::ostream& out);

struct terminal_options {
    bool colour = false;    // ANSI colours (when standard output is a TTY)
    bool details = true;    // list the failed expectations under the table
};
// The verdict table: pass/fail, duration, throughput, p50/p99 per scenario, then totals.
void write_terminal(const report& r, std::ostream& out, const terminal_options& options);

// One self-contained HTML file (inline CSS, SVG and script; no network fetches).
void write_html(const report& r, std::ostream& out);
// Two runs side by side (for example the gatehouse proxy and HAProxy on the same catalog).
void write_html_comparison(const report& left, const report& right, std::ostream& out);

}  // namespace gatehouse::reports
