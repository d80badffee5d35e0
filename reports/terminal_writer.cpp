// The verdict table printed at the end of `gatehouse run`.

#include "reports/writers.hpp"

#include <iomanip>
#include <ostream>
#include <sstream>

namespace gatehouse::reports {

namespace {

constexpr const char* reset = "\033[0m";

const char* colour_of(verdict v) {
    switch (v) {
        case verdict::passed: return "\033[32m";
        case verdict::failed: return "\033[31m";
        case verdict::error: return "\033[33m";
        case verdict::unsupported: return "\033[90m";
    }
    return "";
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

std::string fixed(double value, int precision) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(precision) << value;
    return out.str();
}

// Cuts `text` to `width` characters (UTF-8 aware enough for our ASCII-mostly titles).
std::string fit(const std::string& text, std::size_t width) {
    if (text.size() <= width) return text;
    return text.substr(0, width - 1) + "~";
}

// Facts and breakdown tables (a load run's schedule, per profile and per URL figures).
void write_breakdowns(std::ostream& out, const scenario_result& s) {
    if (s.facts.empty() && s.breakdowns.empty()) return;
    out << '\n' << s.id << '\n';
    for (const auto& f : s.facts) out << "  " << f.name << ": " << f.value << '\n';
    for (const auto& b : s.breakdowns) {
        std::size_t name_width = 8;
        for (const auto& row : b.rows) name_width = std::max(name_width, row.name.size());
        name_width = std::min<std::size_t>(name_width, 48);
        out << "  " << b.title << '\n' << "    " << std::left
            << std::setw(static_cast<int>(name_width) + 2) << "name" << std::right
            << std::setw(10) << "requests" << std::setw(8) << "errors" << std::setw(9)
            << "p50 ms" << std::setw(9) << "p99 ms" << std::setw(10) << "max ms" << '\n';
        for (const auto& row : b.rows)
            out << "    " << std::left << std::setw(static_cast<int>(name_width) + 2)
                << fit(row.name, name_width) << std::right << std::setw(10)
                << row.summary.requests << std::setw(8) << row.summary.errors << std::setw(9)
                << fixed(row.summary.p50_ms, 2) << std::setw(9) << fixed(row.summary.p99_ms, 2)
                << std::setw(10) << fixed(row.summary.max_ms, 2) << '\n';
    }
}

}  // namespace

void write_terminal(const report& r, std::ostream& out, const terminal_options& options) {
    std::size_t id_width = 8;
    for (const auto& s : r.scenarios) id_width = std::max(id_width, s.id.size());
    id_width = std::min<std::size_t>(id_width, 40);
    constexpr std::size_t title_width = 44;

    out << std::left << std::setw(6) << "" << std::setw(static_cast<int>(id_width) + 2)
        << "scenario" << std::setw(title_width + 2) << "title" << std::right << std::setw(9)
        << "time s" << std::setw(10) << "req/s" << std::setw(9) << "p50 ms" << std::setw(9)
        << "p99 ms" << '\n';
    for (const auto& s : r.scenarios) {
        const char* label = label_of(s.outcome);
        if (options.colour) out << colour_of(s.outcome);
        out << std::left << std::setw(6) << label;
        if (options.colour) out << reset;
        out << std::setw(static_cast<int>(id_width) + 2) << fit(s.id, id_width)
            << std::setw(title_width + 2) << fit(s.title, title_width) << std::right
            << std::setw(9) << fixed(s.duration_s, 1) << std::setw(10)
            << fixed(s.summary.throughput_rps, 0) << std::setw(9) << fixed(s.summary.p50_ms, 1)
            << std::setw(9) << fixed(s.summary.p99_ms, 1) << '\n';
    }

    if (options.details) {
        for (const auto& s : r.scenarios) {
            if (s.outcome == verdict::passed) continue;
            out << '\n';
            if (options.colour) out << colour_of(s.outcome);
            out << label_of(s.outcome) << ' ' << s.id;
            if (options.colour) out << reset;
            out << " — " << s.title << '\n';
            if (s.outcome != verdict::failed) {
                out << "  " << s.reason << '\n';
                continue;
            }
            for (const auto& e : s.expectations) {
                if (e.passed) continue;
                out << "  ✗ " << e.name;
                if (!e.where.empty()) out << " [" << e.where << ']';
                out << "\n      expected " << e.expected << "\n      observed " << e.observed
                    << '\n';
            }
        }
    }

    if (options.details)
        for (const auto& s : r.scenarios) write_breakdowns(out, s);

    auto t = count(r);
    out << '\n'
        << r.scenarios.size() << " scenarios: " << t.passed << " passed, " << t.failed
        << " failed, " << t.errors << " errors, " << t.unsupported << " unsupported ("
        << fixed(t.duration_s, 1) << " s, " << t.requests << " requests) against "
        << (r.run.sut.empty() ? "?" : r.run.sut) << '\n';
}

}  // namespace gatehouse::reports
