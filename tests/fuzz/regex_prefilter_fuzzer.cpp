// The rule patterns' text reader against std::regex. Input: a pattern on the first line, the
// subject after it. Oracles: an input the prefilter rules out does not match the regex, and a
// pattern it decides gets the regex's verdict, match and groups, with and without ignore case.
// Only patterns std::regex runs in bounded time are checked: no '{' (repetition counts expand
// into states), no quantified group or quantifier (".**": nested quantifiers backtrack
// exponentially) and at most two '*', '+' or '?' (each multiplies the backtracking by the
// subject's length). Nor patterns with a run of more than 9 digits, which the loader refuses
// (libstdc++ would overflow adding up a back-reference's number).

#include "proxy/regex_prefilter.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>

namespace {

[[noreturn]] void fail(const char* what, const std::string& pattern, const std::string& subject) {
    std::fprintf(stderr, "oracle failed: %s\n  pattern %s\n  subject %s\n", what, pattern.c_str(),
                 subject.c_str());
    std::abort();
}

bool is_quantifier(char c) {
    return c == '*' || c == '+' || c == '?';
}

bool bounded(const std::string& pattern) {
    if (pattern.size() > 48 || pattern.find('{') != std::string::npos) return false;
    int quantifiers = 0;
    std::size_t digits = 0;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        digits = pattern[i] >= '0' && pattern[i] <= '9' ? digits + 1 : 0;
        if (digits > 9) return false;
        if (!is_quantifier(pattern[i])) continue;
        if (++quantifiers > 2) return false;
        if (i > 0 && (pattern[i - 1] == ')' || is_quantifier(pattern[i - 1]))) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto nl = input.find('\n');
    if (nl == std::string_view::npos) return 0;
    const std::string pattern(input.substr(0, nl));
    const std::string subject(input.substr(nl + 1, 64));
    if (!bounded(pattern)) return 0;
    const auto filter = gatehouse::proxy::make_regex_prefilter(pattern);
    if (filter.prefixes().empty() && !filter.decides()) return 0;

    for (bool ignore_case : {true, false}) {
        auto flags = std::regex::ECMAScript;
        if (ignore_case) flags |= std::regex::icase;
        std::regex regex;
        try {
            regex = std::regex(pattern, flags);
        } catch (const std::regex_error&) {
            return 0;  // the configuration loader refuses it before any prefilter is made
        }
        std::smatch m;
        const bool expected = std::regex_search(subject, m, regex);
        if (filter.rules_out(subject, ignore_case) && expected)
            fail("ruled out a subject the regex matches", pattern, subject);
        if (!filter.decides()) continue;
        if (filter.groups() != regex.mark_count()) fail("group count", pattern, subject);
        std::vector<std::string> groups;
        if (filter.match(subject, ignore_case, groups) != expected)
            fail("verdict differs", pattern, subject);
        if (!expected) continue;
        if (m.position(0) != 0 || groups.size() != m.size())
            fail("match shape differs", pattern, subject);
        for (std::size_t g = 0; g < m.size(); ++g)
            if (groups[g] != m.str(g)) fail("group differs", pattern, subject);
    }
    return 0;
}
