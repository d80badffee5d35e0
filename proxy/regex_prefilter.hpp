#pragma once
// What an ECMAScript pattern anchored at the start says about its matches, read from its text,
// so a rule can skip std::regex (about a microsecond a search) where the text alone answers.
// "^ews/", "^off$", "^(rpc|mapi)/" and "^(owa|ecp)(/|$)" are the shapes Exchange publishing
// rules use.

#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::proxy {

class regex_prefilter {
public:
    // Every match starts at the input's first byte with one of these. Empty: the pattern's text
    // says nothing usable, and the regex must run.
    const std::vector<std::string>& prefixes() const noexcept { return prefixes_; }
    // True when `input` cannot match. ASCII case folding when `ignore_case`, as std::regex's
    // icase does in the "C" locale.
    bool rules_out(std::string_view input, bool ignore_case) const noexcept;

    // True when the pattern is "^" followed only by literals, groups of literal alternatives
    // (an alternative may be "$"; "(?:" groups too) and a final "$": match() then answers alone.
    bool decides() const noexcept { return decides_; }
    // Its capturing groups.
    unsigned groups() const noexcept { return groups_; }
    // For a pattern it decides: whether `input` matches. On a match `out` holds what
    // std::regex_search's match_results would: [0] the match, [n] the n-th group.
    bool match(std::string_view input, bool ignore_case, std::vector<std::string>& out) const;

private:
    friend regex_prefilter make_regex_prefilter(std::string_view pattern);

    struct alternative {
        std::string text{};
        bool end = false;  // "$": the end of the input, no text
    };
    // One literal (a single alternative) or one group.
    struct step {
        std::vector<alternative> alternatives{};
        unsigned group = 0;  // the capture group it fills, 0: none
    };
    bool match_from(std::size_t step, std::size_t at, std::string_view input, bool ignore_case,
                    std::vector<std::string>& out) const;
    // Reads the steps after "^" as far as they are made of what match() follows; true when
    // that is the whole pattern.
    static bool read_steps(std::string_view pattern, std::vector<step>& steps, unsigned& groups);

    std::vector<std::string> prefixes_{};
    std::vector<step> steps_{};
    bool decides_ = false;
    unsigned groups_ = 0;
};

// Reads `pattern` (an ECMAScript regex that compiled). Anything it does not follow (no "^", a
// '|' outside a group, a quantified group, a class, a lookahead, a nested group) leaves the
// prefilter empty or undecided, never wrong.
regex_prefilter make_regex_prefilter(std::string_view pattern);

}  // namespace gatehouse::proxy
