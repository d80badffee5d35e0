#include "proxy/rules.hpp"

#include "net/http_message.hpp"
#include "proxy/percent_decoding.hpp"
#include "proxy/regex_prefilter.hpp"

#include <array>
#include <charconv>
#include <optional>

namespace gatehouse::proxy {

namespace {

char lower(char c) noexcept {
    return (c >= 'A' && c <= 'Z') ? char(c + ('a' - 'A')) : c;
}

bool same_char(char a, char b, bool ignore_case) noexcept {
    return ignore_case ? lower(a) == lower(b) : a == b;
}

void append_number(std::string& out, unsigned value) {
    std::array<char, 12> digits;
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
    out.append(digits.data(), end);
}

// A field name matches HTTP_<NAME> when it equals NAME with '_' standing for '-'.
bool header_matches_variable(std::string_view field, std::string_view variable) noexcept {
    if (field.size() != variable.size()) return false;
    for (std::size_t i = 0; i < field.size(); ++i) {
        char v = variable[i] == '_' ? '-' : variable[i];
        if (lower(field[i]) != lower(v)) return false;
    }
    return true;
}

// Characters a request-target or Location cannot carry raw are percent-encoded; a '%' that
// already starts an escape is kept.
void encode_target(std::string_view in, std::string& out) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (std::size_t i = 0; i < in.size(); ++i) {
        auto c = static_cast<unsigned char>(in[i]);
        bool escape = c <= 0x20 || c >= 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' ||
                      c == '^' || c == '`' || c == '{' || c == '|' || c == '}';
        if (c == '%')
            escape = !(i + 2 < in.size() && hex_value(in[i + 1]) >= 0 && hex_value(in[i + 2]) >= 0);
        if (escape) {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        } else {
            out.push_back(static_cast<char>(c));
        }
    }
}

// ---- templates: "https://{HTTP_HOST}/{R:1}" ---------------------------------------------------

struct segment {
    enum kind_t { literal, variable, rule_capture, condition_capture } kind = literal;
    std::string text{};  // literal text or variable name
    unsigned index = 0;  // capture number
};

struct text_template {
    std::vector<segment> segments{};
    unsigned max_rule_capture = 0;
    unsigned max_condition_capture = 0;
    bool uses_rule_capture = false;
    bool uses_condition_capture = false;

    bool empty() const { return segments.empty(); }
};

text_template compile_template(const std::string& text, const std::string& source,
                               const std::string& path) {
    text_template t;
    std::size_t pos = 0;
    while (pos < text.size()) {
        auto open = text.find('{', pos);
        if (open == std::string::npos) {
            t.segments.push_back({segment::literal, text.substr(pos), 0});
            break;
        }
        if (open > pos) t.segments.push_back({segment::literal, text.substr(pos, open - pos), 0});
        auto close = text.find('}', open);
        if (close == std::string::npos)
            throw config_error(source, path, "\"" + text + "\": '{' without a closing '}'");
        std::string ref = text.substr(open + 1, close - open - 1);
        if ((ref.starts_with("R:") || ref.starts_with("C:")) && ref.size() > 2 &&
            ref.find_first_not_of("0123456789", 2) == std::string::npos && ref.size() < 6) {
            unsigned n = static_cast<unsigned>(std::stoul(ref.substr(2)));
            if (ref[0] == 'R') {
                t.segments.push_back({segment::rule_capture, {}, n});
                t.max_rule_capture = std::max(t.max_rule_capture, n);
                t.uses_rule_capture = true;
            } else {
                t.segments.push_back({segment::condition_capture, {}, n});
                t.max_condition_capture = std::max(t.max_condition_capture, n);
                t.uses_condition_capture = true;
            }
        } else if (is_server_variable(ref)) {
            t.segments.push_back({segment::variable, ref, 0});
        } else {
            throw config_error(source, path,
                               "\"{" + ref + "}\" is neither {R:n}, {C:n} nor a server variable");
        }
        pos = close + 1;
    }
    return t;
}

void expand(const text_template& t, const request_view& request, const rule_scratch& scratch,
            std::string& out) {
    out.clear();
    for (const auto& s : t.segments) {
        switch (s.kind) {
            case segment::literal:
                out.append(s.text);
                break;
            case segment::variable:
                append_server_variable(request, s.text, out);
                break;
            case segment::rule_capture:
                if (s.index < scratch.rule_captures.size())
                    out.append(scratch.rule_captures[s.index]);
                break;
            case segment::condition_capture:
                if (s.index < scratch.condition_captures.size())
                    out.append(scratch.condition_captures[s.index]);
                break;
        }
    }
}

// ---- patterns --------------------------------------------------------------------------------

struct compiled_pattern {
    pattern_syntax syntax = pattern_syntax::ecmascript;
    std::string text{};
    bool ignore_case = true;
    std::regex regex{};
    unsigned captures = 0;  // groups besides the whole match
    // A regex that matches any input without a line terminator whole (".*", "^(.*)$" …): the
    // catch-all rule most configurations have is then answered without running the regex.
    enum class shortcut { none, whole, whole_captured } fast = shortcut::none;
    // The literal an anchored pattern starts with: inputs without it skip the regex, and a
    // pattern of literals and literal alternatives ("^off$", "^(owa|ecp)(/|$)") is decided
    // without it.
    regex_prefilter prefilter{};

    // Matches `input`; on success `captures_out` holds {0: whole, 1..n: groups}.
    bool match(std::string_view input, rule_scratch& scratch,
               std::vector<std::string>& captures_out) const {
        switch (syntax) {
            case pattern_syntax::exact_match:
                if (!net::equals(text, input, ignore_case)) return false;
                captures_out.resize(1);
                captures_out[0].assign(input);
                return true;
            case pattern_syntax::wildcard:
                return wildcard_match(text, input, ignore_case, &captures_out);
            case pattern_syntax::ecmascript: {
                // '.' stops at CR and LF (a decoded %0a): those inputs take the regex.
                if (fast != shortcut::none && input.find_first_of("\r\n") == input.npos) {
                    captures_out.resize(fast == shortcut::whole ? 1 : 2);
                    for (auto& c : captures_out) c.assign(input);
                    return true;
                }
                if (prefilter.decides()) return prefilter.match(input, ignore_case, captures_out);
                if (prefilter.rules_out(input, ignore_case)) return false;
                if (!std::regex_search(input.data(), input.data() + input.size(), scratch.match,
                                       regex))
                    return false;
                captures_out.resize(scratch.match.size());
                for (std::size_t i = 0; i < scratch.match.size(); ++i) {
                    const auto& m = scratch.match[i];
                    if (m.matched)
                        captures_out[i].assign(m.first, m.second);
                    else
                        captures_out[i].clear();
                }
                return true;
            }
        }
        return false;
    }
};

// What std::regex should not be given: a back-reference number over 9 digits (libstdc++ adds
// them up in a `long` that overflows) or a repetition count over 1000 (each repetition becomes
// states of the compiled automaton: "a{99999999}" takes gigabytes). Nothing when neither.
std::optional<std::string> number_problem(std::string_view text) {
    auto digits_at = [text](std::size_t at) {
        auto end = at;
        while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
        return text.substr(at, end - at);
    };
    bool in_class = false;
    bool in_braces = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '\\') {
            if (digits_at(i + 1).size() > 9) return "has a back-reference over 9 digits";
            ++i;
        } else if (in_class) {
            in_class = c != ']';
        } else if (c == '[') {
            in_class = true;
        } else if (c == '}') {
            in_braces = false;
        } else if (c == '{' || (c == ',' && in_braces)) {
            in_braces = true;
            const auto count = digits_at(i + 1);
            unsigned value = 0;
            std::from_chars(count.data(), count.data() + count.size(), value);
            if (count.size() > 4 || value > 1000) return "repeats something over 1000 times";
        }
    }
    return std::nullopt;
}

compiled_pattern compile_pattern(pattern_syntax syntax, const std::string& text, bool ignore_case,
                                 const std::string& source, const std::string& path) {
    compiled_pattern p;
    p.syntax = syntax;
    p.text = text;
    p.ignore_case = ignore_case;
    switch (syntax) {
        case pattern_syntax::exact_match:
            break;
        case pattern_syntax::wildcard:
            p.captures = static_cast<unsigned>(std::count(text.begin(), text.end(), '*'));
            break;
        case pattern_syntax::ecmascript: {
            auto flags = std::regex::ECMAScript | std::regex::optimize;
            if (ignore_case) flags |= std::regex::icase;
            if (auto problem = number_problem(text))
                throw config_error(source, path, "\"" + text + "\" " + *problem);
            try {
                p.regex = std::regex(text, flags);
            } catch (const std::regex_error& e) {
                throw config_error(source, path,
                                   "\"" + text + "\" is not a valid ECMAScript regex: " + e.what());
            }
            p.captures = static_cast<unsigned>(p.regex.mark_count());
            for (std::string_view whole : {".*", "^.*", ".*$", "^.*$"})
                if (text == whole) p.fast = compiled_pattern::shortcut::whole;
            for (std::string_view captured : {"(.*)", "^(.*)", "(.*)$", "^(.*)$"})
                if (text == captured) p.fast = compiled_pattern::shortcut::whole_captured;
            p.prefilter = make_regex_prefilter(text);
            // Both count the groups; should they ever disagree, the regex decides.
            if (p.prefilter.decides() && p.prefilter.groups() != p.captures) p.prefilter = {};
            break;
        }
    }
    return p;
}

}  // namespace

// ---- request_view ----------------------------------------------------------------------------

std::string_view request_view::path() const {
    auto q = target.find('?');
    return q == std::string_view::npos ? target : target.substr(0, q);
}

std::string_view request_view::query() const {
    auto q = target.find('?');
    return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

bool is_server_variable(std::string_view name) {
    static constexpr std::string_view known[] = {
        "HTTP_HOST",      "HTTPS",       "REQUEST_URI", "QUERY_STRING", "SERVER_PORT",
        "REQUEST_METHOD", "REMOTE_ADDR", "REMOTE_PORT", "URL",
    };
    for (auto k : known)
        if (name == k) return true;
    if (name.size() <= 5 || !name.starts_with("HTTP_")) return false;
    for (char c : name.substr(5))
        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
    return true;
}

bool append_server_variable(const request_view& r, std::string_view name, std::string& out) {
    if (name == "HTTP_HOST") {
        out.append(r.host);
    } else if (name == "HTTPS") {
        out.append(r.https ? "on" : "off");
    } else if (name == "REQUEST_URI") {
        out.append(r.target);
    } else if (name == "QUERY_STRING") {
        out.append(r.query());
    } else if (name == "SERVER_PORT") {
        append_number(out, r.server_port);
    } else if (name == "REQUEST_METHOD") {
        out.append(r.method);
    } else if (name == "REMOTE_ADDR") {
        out.append(r.remote_address);
    } else if (name == "REMOTE_PORT") {
        append_number(out, r.remote_port);
    } else if (name == "URL") {
        out.append(r.path());
    } else if (name.size() > 5 && name.starts_with("HTTP_")) {
        if (r.fields) {
            auto header = name.substr(5);
            for (auto [field, value] : *r.fields) {
                if (header_matches_variable(field, header)) {
                    out.append(value);
                    break;
                }
            }
        }
    } else {
        return false;
    }
    return true;
}

namespace {

// Matches pattern[p..] against input[i..]; each star first takes the shortest run and grows on
// backtracking. `spans` receives where each star's run begins and ends.
bool wildcard_from(std::string_view pattern, std::size_t p, std::string_view input, std::size_t i,
                   bool ignore_case, std::vector<std::pair<std::size_t, std::size_t>>& spans,
                   std::size_t star) {
    while (p < pattern.size() && pattern[p] != '*') {
        if (i >= input.size() || !same_char(pattern[p], input[i], ignore_case)) return false;
        ++p;
        ++i;
    }
    if (p == pattern.size()) return i == input.size();
    if (p + 1 == pattern.size()) {  // a trailing star takes the rest
        spans[star] = {i, input.size()};
        return true;
    }
    for (std::size_t k = i; k <= input.size(); ++k) {
        spans[star] = {i, k};
        if (wildcard_from(pattern, p + 1, input, k, ignore_case, spans, star + 1)) return true;
    }
    return false;
}

}  // namespace

bool wildcard_match(std::string_view pattern, std::string_view input, bool ignore_case,
                    std::vector<std::string>* captures) {
    thread_local std::vector<std::pair<std::size_t, std::size_t>> spans;
    spans.assign(static_cast<std::size_t>(std::count(pattern.begin(), pattern.end(), '*')), {0, 0});
    if (!wildcard_from(pattern, 0, input, 0, ignore_case, spans, 0)) return false;
    if (captures) {
        captures->resize(1 + spans.size());
        (*captures)[0].assign(input);
        for (std::size_t s = 0; s < spans.size(); ++s)
            (*captures)[s + 1].assign(
                input.substr(spans[s].first, spans[s].second - spans[s].first));
    }
    return true;
}

// ---- rule_set --------------------------------------------------------------------------------

struct rule_set::compiled {
    rule_config config{};
    compiled_pattern pattern{};
    struct condition {
        text_template input{};
        compiled_pattern pattern{};
        bool negate = false;
    };
    std::vector<condition> conditions{};
    text_template url{};
    int farm = -1;
};

rule_set::rule_set() = default;
rule_set::rule_set(rule_set&&) noexcept = default;
rule_set& rule_set::operator=(rule_set&&) noexcept = default;
rule_set::~rule_set() = default;

rule_set::rule_set(const config& c, const std::string& source) {
    rules_.reserve(c.rules.size());
    for (const auto& r : c.rules) {
        std::string path = "rules." + r.name;
        compiled rule;
        rule.config = r;
        rule.pattern =
            compile_pattern(r.syntax, r.pattern, r.ignore_case, source, path + ".pattern");
        unsigned condition_groups = 0;
        for (std::size_t i = 0; i < r.conditions.size(); ++i) {
            const auto& cond = r.conditions[i];
            auto cpath = path + ".conditions[" + std::to_string(i) + "]";
            compiled::condition cc;
            cc.input = compile_template(cond.input, source, cpath + ".input");
            if (cc.input.max_rule_capture > rule.pattern.captures)
                throw config_error(source, cpath + ".input",
                                   "{R:" + std::to_string(cc.input.max_rule_capture) +
                                       "} but the pattern has " +
                                       std::to_string(rule.pattern.captures) + " group(s)");
            cc.pattern = compile_pattern(r.syntax, cond.pattern, cond.ignore_case, source,
                                         cpath + ".pattern");
            cc.negate = cond.negate;
            condition_groups += cc.pattern.captures + 1;
            rule.conditions.push_back(std::move(cc));
        }
        rule.url = compile_template(r.action.url, source, path + ".action.url");
        if (rule.url.uses_rule_capture &&
            (r.negate || rule.url.max_rule_capture > rule.pattern.captures))
            throw config_error(source, path + ".action.url",
                               r.negate ? "a negated pattern has no {R:n} captures"
                                        : "{R:" + std::to_string(rule.url.max_rule_capture) +
                                              "} but the pattern has " +
                                              std::to_string(rule.pattern.captures) + " group(s)");
        if (rule.url.uses_condition_capture && rule.url.max_condition_capture >= condition_groups)
            throw config_error(source, path + ".action.url",
                               "{C:" + std::to_string(rule.url.max_condition_capture) +
                                   "} but the conditions capture fewer groups");
        if (r.action.type == action_type::route) {
            if (r.action.url.find("://") != std::string::npos)
                throw config_error(source, path + ".action.url",
                                   "a route takes a path; the farm is given by action.farm");
            for (std::size_t f = 0; f < c.farms.size(); ++f)
                if (c.farms[f].name == r.action.farm) rule.farm = static_cast<int>(f);
            if (rule.farm < 0)
                throw config_error(source, path + ".action.farm",
                                   "no farm named \"" + r.action.farm + "\"");
        }
        rules_.push_back(std::move(rule));
    }
}

std::size_t rule_set::size() const noexcept {
    return rules_.size();
}

const rule_config& rule_set::rule(std::size_t index) const {
    return rules_.at(index).config;
}

rule_result rule_set::evaluate(const request_view& request, rule_scratch& s) const {
    auto path = request.path();
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    percent_decode(path, s.path);
    s.condition_captures.clear();
    s.expanded.clear();

    rule_result result;
    for (std::size_t i = 0; i < rules_.size(); ++i) {
        const auto& rule = rules_[i];
        const auto& cfg = rule.config;
        if (!cfg.enabled) continue;
        bool matched = rule.pattern.match(s.path, s, s.candidate_captures);
        if (matched == cfg.negate) continue;
        if (cfg.negate)
            s.rule_captures.clear();
        else
            std::swap(s.rule_captures, s.candidate_captures);

        // Conditions: MatchAll needs every one, MatchAny at least one. {C:n} come from the last
        // condition that matched (or every one, with track_all_captures).
        bool conditions_hold = !cfg.match_any || rule.conditions.empty();
        s.condition_captures.clear();
        for (const auto& cond : rule.conditions) {
            expand(cond.input, request, s, s.input);
            bool m = cond.pattern.match(s.input, s, s.candidate_captures);
            bool ok = m != cond.negate;
            if (ok && m) {
                if (!cfg.track_all_captures) s.condition_captures.clear();
                for (auto& c : s.candidate_captures) s.condition_captures.push_back(c);
            }
            if (cfg.match_any && ok) {
                conditions_hold = true;
                break;
            }
            if (!cfg.match_any && !ok) {
                conditions_hold = false;
                break;
            }
        }
        if (!conditions_hold) continue;

        const auto& action = cfg.action;
        switch (action.type) {
            case action_type::none:
                break;
            case action_type::abort:
                result.outcome = rule_outcome::abort;
                result.rule = static_cast<int>(i);
                return result;
            case action_type::custom_response:
                result.outcome = rule_outcome::custom_response;
                result.rule = static_cast<int>(i);
                return result;
            case action_type::redirect:
            case action_type::route: {
                std::string& url = s.expanded;
                // A route without a url keeps the target (the client's, or an earlier rewrite).
                bool keep_target = action.type == action_type::route && rule.url.empty();
                if (!keep_target) {
                    url.clear();
                    expand(rule.url, request, s, s.input);
                    if (action.type == action_type::route && !s.input.starts_with('/'))
                        url.push_back('/');
                    encode_target(s.input, url);
                    auto query = request.query();
                    if (action.append_query_string && !query.empty()) {
                        url.push_back(url.find('?') == std::string::npos ? '?' : '&');
                        url.append(query);
                    }
                }
                result.rule = static_cast<int>(i);
                result.url = url;
                if (action.type == action_type::redirect) {
                    result.outcome = rule_outcome::redirect;
                    return result;
                }
                result.outcome = rule_outcome::route;
                result.farm = rule.farm;
                if (!keep_target) {
                    // Later rules see the rewritten path.
                    auto rewritten = std::string_view(url);
                    rewritten = rewritten.substr(0, rewritten.find('?'));
                    if (!rewritten.empty() && rewritten.front() == '/') rewritten.remove_prefix(1);
                    percent_decode(rewritten, s.path);
                }
                break;
            }
        }
        if (cfg.stop_processing) break;
    }
    return result;
}

}  // namespace gatehouse::proxy
