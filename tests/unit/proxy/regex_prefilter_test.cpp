#include "proxy/regex_prefilter.hpp"

#include <random>
#include <regex>

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

using strings = std::vector<std::string>;

TEST(RegexPrefilter, ReadsTheShapesOfExchangePublishingRules) {
    auto f = make_regex_prefilter("^ews/");
    EXPECT_EQ(f.prefixes(), strings{"ews/"});
    EXPECT_TRUE(f.decides());

    f = make_regex_prefilter("^off$");
    EXPECT_EQ(f.prefixes(), strings{"off"});
    EXPECT_TRUE(f.decides());

    f = make_regex_prefilter("^mail\\.contoso\\.com$");
    EXPECT_EQ(f.prefixes(), strings{"mail.contoso.com"});
    EXPECT_TRUE(f.decides());

    f = make_regex_prefilter("^(rpc|mapi)/");
    EXPECT_EQ(f.prefixes(), (strings{"rpc", "mapi"}));
    EXPECT_TRUE(f.decides());
    EXPECT_EQ(f.groups(), 1u);

    f = make_regex_prefilter("^(?:owa|ecp|ews|oab|autodiscover)(/|$)");
    EXPECT_EQ(f.prefixes(), (strings{"owa", "ecp", "ews", "oab", "autodiscover"}));
    EXPECT_TRUE(f.decides());
    EXPECT_EQ(f.groups(), 1u);

    f = make_regex_prefilter("^(mail|autodiscover)\\.contoso\\.com$");
    EXPECT_TRUE(f.decides());
    strings groups;
    ASSERT_TRUE(f.match("Autodiscover.contoso.com", true, groups));
    EXPECT_EQ(groups, (strings{"Autodiscover.contoso.com", "Autodiscover"}));
    EXPECT_FALSE(f.match("autodiscover.contoso.com.evil", true, groups));
}

TEST(RegexPrefilter, AQuantifierTakesTheLastByteOutOfThePrefixAndTheVerdictToTheRegex) {
    auto f = make_regex_prefilter("^owas?/");
    EXPECT_EQ(f.prefixes(), strings{"owa"});
    EXPECT_FALSE(f.decides());
    EXPECT_EQ(make_regex_prefilter("^ab{2}").prefixes(), strings{"a"});
    EXPECT_EQ(make_regex_prefilter("^a\\.+").prefixes(), strings{"a"});
    EXPECT_TRUE(make_regex_prefilter("^a*b").prefixes().empty());
    EXPECT_FALSE(make_regex_prefilter("^(a|b)?c").decides());
}

TEST(RegexPrefilter, SaysNothingAboutPatternsItDoesNotFollow) {
    for (const char* pattern :
         {"owa/", "^", "^owa|ecp", "^(owa|ecp)?/", "^(owa|ecp)*", "^(?=owa)", "^(?!owa)", "^[a-z]+",
          "^.*", "^\\d+", "^(a(b)|c)", "^\\bowa", "^x\\|y|z", "^a[]", "^(a|b", "^a)|(b"}) {
        const auto f = make_regex_prefilter(pattern);
        EXPECT_TRUE(f.prefixes().empty()) << pattern;
        EXPECT_FALSE(f.decides()) << pattern;
    }
    // A '|' inside a class or a group is not an alternation of the whole pattern.
    EXPECT_EQ(make_regex_prefilter("^x[|]y").prefixes(), strings{"x"});
    EXPECT_FALSE(make_regex_prefilter("^x[|]y").decides());
    EXPECT_EQ(make_regex_prefilter("^owa(/|$)").prefixes(), strings{"owa"});
    // Text after "$" is left to the regex (it never matches).
    EXPECT_FALSE(make_regex_prefilter("^ab$c").decides());
    EXPECT_FALSE(make_regex_prefilter("^(a$|b)").decides());
}

TEST(RegexPrefilter, FoldsAsciiCaseOnlyWhenAsked) {
    auto f = make_regex_prefilter("^off$");
    strings groups;
    EXPECT_TRUE(f.match("OFF", true, groups));
    EXPECT_FALSE(f.match("OFF", false, groups));
    EXPECT_FALSE(f.match("off\n", true, groups));
    EXPECT_FALSE(f.rules_out("Off", true));
    EXPECT_TRUE(f.rules_out("Off", false));
    EXPECT_TRUE(f.rules_out("of", true));
}

TEST(RegexPrefilter, TriesAlternativesInOrderAndBacktracksAsEcmaScriptDoes) {
    strings groups;
    // "a" first, then "ab" once "a" leaves no way to finish.
    auto f = make_regex_prefilter("^(a|ab)(c|bcd)$");
    ASSERT_TRUE(f.match("abcd", true, groups));
    EXPECT_EQ(groups, (strings{"abcd", "a", "bcd"}));
    ASSERT_TRUE(f.match("abc", true, groups));
    EXPECT_EQ(groups, (strings{"abc", "ab", "c"}));
    // Without "$" the first alternative that fits ends the match.
    f = make_regex_prefilter("^(a|ab)");
    ASSERT_TRUE(f.match("abc", true, groups));
    EXPECT_EQ(groups, (strings{"a", "a"}));
}

// The prefilter against std::regex itself, on inputs built from each pattern's own bytes in
// both cases, with line terminators: whatever it rules out does not match, and what it decides
// is what the regex decides, with the same match and groups.
TEST(RegexPrefilter, AgreesWithStdRegexOnEveryInput) {
    const char* const patterns[] = {
        "^ews/",
        "^off$",
        "^(rpc|mapi)/",
        "^(owa|ecp)(/|$)",
        "^owas?/",
        "^a\\.b$",
        "^a\\-b\\/c",
        "^(?:x|yz)z",
        "^x[|]y",
        "^ab$c",
        "^Ab",
        "^(ab|a)b",
        "^a{2}",
        "^(mail|a)\\.a\\.com$",
        "^(a|aa)$",
        "^ab\\$",
        "^owa|ecp",
        "^x\\|y|z",
        "^(a|b)*c",
        "^.*",
        "^(a|ab)(c|bcd)$",
        "^(a|)(b|$)",
        "^x(y|$)(z|$)",
        "^(?:a|ab)(b|$)",
        "^$",
        "^()a",
    };
    std::mt19937 rng(20261207);
    for (const char* text : patterns) {
        const std::string pattern = text;
        const auto filter = make_regex_prefilter(pattern);
        std::string alphabet = "\n\r/.$|-";
        for (char c : pattern) {
            alphabet.push_back(c);
            if (c >= 'a' && c <= 'z') alphabet.push_back(static_cast<char>(c - 32));
        }
        for (bool ignore_case : {true, false}) {
            auto flags = std::regex::ECMAScript;
            if (ignore_case) flags |= std::regex::icase;
            const std::regex regex(pattern, flags);
            if (filter.decides()) {
                ASSERT_EQ(filter.groups(), regex.mark_count()) << pattern;
            }
            for (int n = 0; n < 3000; ++n) {
                std::string input;
                const auto size = rng() % 12;
                for (std::size_t i = 0; i < size; ++i)
                    input.push_back(alphabet[rng() % alphabet.size()]);
                // Half the inputs start with one of the prefixes, so the match side is tried.
                if (!filter.prefixes().empty() && n % 2 == 0)
                    input.insert(0, filter.prefixes()[rng() % filter.prefixes().size()]);
                std::smatch m;
                const bool expected = std::regex_search(input, m, regex);
                if (filter.rules_out(input, ignore_case)) {
                    ASSERT_FALSE(expected) << pattern << " ruled out \"" << input << "\"";
                }
                if (!filter.decides()) continue;
                strings groups;
                ASSERT_EQ(filter.match(input, ignore_case, groups), expected)
                    << pattern << " on \"" << input << "\" ignore_case " << ignore_case;
                if (!expected) continue;
                ASSERT_EQ(m.position(0), 0);
                ASSERT_EQ(groups.size(), m.size()) << pattern;
                for (std::size_t g = 0; g < m.size(); ++g)
                    ASSERT_EQ(groups[g], m.str(g))
                        << pattern << " on \"" << input << "\" group " << g;
            }
        }
    }
}

}  // namespace
}  // namespace gatehouse::proxy
