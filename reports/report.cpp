#include "reports/report.hpp"

namespace gatehouse::reports {

std::string_view to_string(verdict v) noexcept {
    switch (v) {
        case verdict::passed: return "passed";
        case verdict::failed: return "failed";
        case verdict::error: return "error";
        case verdict::unsupported: return "unsupported";
    }
    return "error";
}

std::optional<verdict> parse_verdict(std::string_view text) noexcept {
    for (auto v : {verdict::passed, verdict::failed, verdict::error, verdict::unsupported})
        if (text == to_string(v)) return v;
    return std::nullopt;
}

totals count(const report& r) noexcept {
    totals t;
    for (const auto& s : r.scenarios) {
        switch (s.outcome) {
            case verdict::passed: ++t.passed; break;
            case verdict::failed: ++t.failed; break;
            case verdict::error: ++t.errors; break;
            case verdict::unsupported: ++t.unsupported; break;
        }
        t.duration_s += s.duration_s;
        t.requests += s.summary.requests;
    }
    return t;
}

}  // namespace gatehouse::reports
