#include "proxy/regex_prefilter.hpp"

#include <optional>

namespace gatehouse::proxy {
namespace {

constexpr auto npos = std::string_view::npos;

char lower(char c) noexcept {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

bool same(std::string_view a, std::string_view b, bool ignore_case) noexcept {
    if (a.size() != b.size()) return false;
    if (!ignore_case) return a == b;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

bool is_quantifier(char c) noexcept {
    return c == '?' || c == '*' || c == '+' || c == '{';
}

// The literal byte at pattern[at], advancing `at` past it: a byte with no meaning in a regex,
// or a backslash-escaped punctuation byte. Nothing (and `at` unchanged) for anything else.
std::optional<char> literal_at(std::string_view pattern, std::size_t& at) {
    const char c = pattern[at];
    if (c == '\\') {
        if (at + 1 < pattern.size() &&
            std::string_view("^$\\.*+?()[]{}|/-").find(pattern[at + 1]) != npos) {
            at += 2;
            return pattern[at - 1];
        }
        return std::nullopt;
    }
    if (std::string_view("^$\\.|?*+()[]{}").find(c) != npos) return std::nullopt;
    ++at;
    return c;
}

// True when `pattern` has a '|' outside every group and class, or something this reader does
// not follow (an empty or negated-empty class, an unbalanced bracket): either way the leading
// literal is not required of every match.
bool alternation_or_doubt(std::string_view pattern) {
    int depth = 0;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        switch (pattern[i]) {
            case '\\':
                ++i;
                break;
            case '[': {
                if (pattern.substr(i).starts_with("[]") || pattern.substr(i).starts_with("[^]"))
                    return true;
                auto end = i + 1;
                while (end < pattern.size() && pattern[end] != ']')
                    end += pattern[end] == '\\' ? 2 : 1;
                if (end >= pattern.size()) return true;
                i = end;
                break;
            }
            case '(':
                ++depth;
                break;
            case ')':
                if (--depth < 0) return true;
                break;
            case '|':
                if (depth == 0) return true;
                break;
            default:
                break;
        }
    }
    return depth != 0;
}

// "^(a|b|…)" not followed by a quantifier: the alternatives, each a non-empty literal.
regex_prefilter literal_group(std::string_view pattern) {
    std::size_t at = 2;  // past "^("
    if (pattern.substr(at).starts_with("?:"))
        at += 2;
    else if (at < pattern.size() && pattern[at] == '?')
        return {};  // a lookahead
    std::vector<std::string> alternatives(1);
    for (;;) {
        if (at >= pattern.size()) return {};
        if (pattern[at] == ')') break;
        if (pattern[at] == '|') {
            alternatives.emplace_back();
            ++at;
            continue;
        }
        auto c = literal_at(pattern, at);
        if (!c) return {};
        alternatives.back().push_back(*c);
    }
    ++at;
    if (at < pattern.size() && is_quantifier(pattern[at])) return {};
    for (const auto& a : alternatives)
        if (a.empty()) return {};
    return {.prefixes = std::move(alternatives)};
}

}  // namespace

bool regex_prefilter::rules_out(std::string_view input, bool ignore_case) const noexcept {
    if (prefixes.empty()) return false;
    for (const auto& p : prefixes)
        if (input.size() >= p.size() && same(input.substr(0, p.size()), p, ignore_case))
            return false;
    return true;
}

bool regex_prefilter::matches(std::string_view input, bool ignore_case) const noexcept {
    switch (verdict) {
        case decides::prefix:
            return !rules_out(input, ignore_case);
        case decides::whole:
            return same(input, prefixes.front(), ignore_case);
        case decides::no:
            break;
    }
    return false;
}

regex_prefilter make_regex_prefilter(std::string_view pattern) {
    if (pattern.size() < 2 || pattern[0] != '^' || alternation_or_doubt(pattern)) return {};
    if (pattern[1] == '(') return literal_group(pattern);
    std::string run;
    std::size_t at = 1;
    while (at < pattern.size()) {
        auto c = literal_at(pattern, at);
        if (!c) break;
        run.push_back(*c);
    }
    if (at < pattern.size() && is_quantifier(pattern[at])) {
        run.pop_back();  // the quantifier makes the last byte optional or repeated
        if (run.empty()) return {};
        return {.prefixes = {std::move(run)}};
    }
    if (run.empty()) return {};
    regex_prefilter f{.prefixes = {std::move(run)}};
    if (at == pattern.size())
        f.verdict = regex_prefilter::decides::prefix;
    else if (at + 1 == pattern.size() && pattern[at] == '$')
        f.verdict = regex_prefilter::decides::whole;
    return f;
}

}  // namespace gatehouse::proxy
