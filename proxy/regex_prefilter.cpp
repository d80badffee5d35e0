#include "proxy/regex_prefilter.hpp"

#include "net/http_message.hpp"

#include <optional>

namespace gatehouse::proxy {
namespace {

constexpr auto npos = std::string_view::npos;

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

}  // namespace

bool regex_prefilter::rules_out(std::string_view input, bool ignore_case) const noexcept {
    if (prefixes_.empty()) return false;
    for (const auto& p : prefixes_)
        if (input.size() >= p.size() && net::equals(input.substr(0, p.size()), p, ignore_case))
            return false;
    return true;
}

bool regex_prefilter::match(std::string_view input, bool ignore_case,
                            std::vector<std::string>& out) const {
    return match_from(0, 0, input, ignore_case, out);
}

// Alternatives are tried in order and the first that lets the rest match wins, as ECMAScript
// backtracking does; a group records the alternative of the path that succeeded.
bool regex_prefilter::match_from(std::size_t index, std::size_t at, std::string_view input,
                                 bool ignore_case, std::vector<std::string>& out) const {
    if (index == steps_.size()) {
        out.resize(groups_ + 1);
        out[0].assign(input.substr(0, at));
        return true;
    }
    const step& s = steps_[index];
    for (const auto& a : s.alternatives) {
        std::size_t next = at;
        if (a.end) {
            if (at != input.size()) continue;
        } else {
            if (input.size() - at < a.text.size() ||
                !net::equals(input.substr(at, a.text.size()), a.text, ignore_case))
                continue;
            next = at + a.text.size();
        }
        if (match_from(index + 1, next, input, ignore_case, out)) {
            if (s.group != 0) out[s.group].assign(input.substr(at, next - at));
            return true;
        }
    }
    return false;
}

bool regex_prefilter::read_steps(std::string_view pattern, std::vector<step>& steps,
                                 unsigned& groups) {
    std::size_t at = 1;  // past "^"
    auto quantified = [&pattern](std::size_t i) {
        return i < pattern.size() && is_quantifier(pattern[i]);
    };
    while (at < pattern.size()) {
        if (pattern[at] == '$') {
            if (at + 1 != pattern.size()) return false;  // text after the end: the regex says
            steps.push_back(step{.alternatives = {{.end = true}}});
            ++at;
        } else if (pattern[at] == '(') {
            step s;
            ++at;
            if (pattern.substr(at).starts_with("?:"))
                at += 2;
            else if (at < pattern.size() && pattern[at] == '?')
                return false;  // a lookahead
            else
                s.group = ++groups;
            s.alternatives.emplace_back();
            for (;;) {
                if (at >= pattern.size()) return false;
                const char c = pattern[at];
                auto& a = s.alternatives.back();
                if (c == ')' || c == '|') {
                    ++at;
                    if (c == ')') break;
                    s.alternatives.emplace_back();
                } else if (c == '$' && a.text.empty() && !a.end) {
                    a.end = true;
                    ++at;
                } else if (a.end) {
                    return false;  // text after a "$" inside a group
                } else if (auto l = literal_at(pattern, at)) {
                    a.text.push_back(*l);
                } else {
                    return false;  // a nested group, a class, an escape like \d
                }
            }
            if (quantified(at)) return false;  // the group may be skipped or repeated
            steps.push_back(std::move(s));
        } else {
            step s{.alternatives = {{}}};
            auto& text = s.alternatives.back().text;
            while (at < pattern.size()) {
                auto l = literal_at(pattern, at);
                if (!l) break;
                text.push_back(*l);
            }
            const bool stop = text.empty() || quantified(at);
            // A quantifier makes the last byte optional or repeated: the rest is still required.
            if (quantified(at) && !text.empty()) text.pop_back();
            if (!text.empty()) steps.push_back(std::move(s));
            if (stop) return false;
        }
    }
    return true;
}

regex_prefilter make_regex_prefilter(std::string_view pattern) {
    regex_prefilter f;
    if (pattern.size() < 2 || pattern[0] != '^' || alternation_or_doubt(pattern)) return f;
    f.decides_ = regex_prefilter::read_steps(pattern, f.steps_, f.groups_);
    // Every match starts with the text of one of the first step's alternatives, unless one of
    // them is empty or "$".
    if (!f.steps_.empty()) {
        for (const auto& a : f.steps_.front().alternatives) {
            if (a.end || a.text.empty()) {
                f.prefixes_.clear();
                break;
            }
            f.prefixes_.push_back(a.text);
        }
    }
    if (!f.decides_) f.steps_.clear();  // match() is for decided patterns only
    return f;
}

}  // namespace gatehouse::proxy
