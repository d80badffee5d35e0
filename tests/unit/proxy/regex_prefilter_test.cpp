#include "proxy/regex_prefilter.hpp"

#include <random>
#include <regex>

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

using decides = regex_prefilter::decides;
using strings = std::vector<std::string>;

TEST(RegexPrefilter, ReadsTheShapesOfExchangePublishingRules) {
    auto f = make_regex_prefilter("^ews/");
    EXPECT_EQ(f.prefixes, strings{"ews/"});
    EXPECT_EQ(f.verdict, decides::prefix);

    f = make_regex_prefilter("^off$");
    EXPECT_EQ(f.prefixes, strings{"off"});
    EXPECT_EQ(f.verdict, decides::whole);

    f = make_regex_prefilter("^mail\\.contoso\\.com$");
    EXPECT_EQ(f.prefixes, strings{"mail.contoso.com"});
    EXPECT_EQ(f.verdict, decides::whole);

    f = make_regex_prefilter("^Microsoft-Server-ActiveSync");
    EXPECT_EQ(f.prefixes, strings{"Microsoft-Server-ActiveSync"});
    EXPECT_EQ(f.verdict, decides::prefix);

    f = make_regex_prefilter("^(rpc|mapi)/");
    EXPECT_EQ(f.prefixes, (strings{"rpc", "mapi"}));
    EXPECT_EQ(f.verdict, decides::no);

    f = make_regex_prefilter("^(?:owa|ecp|ews|oab|autodiscover)(/|$)");
    EXPECT_EQ(f.prefixes, (strings{"owa", "ecp", "ews", "oab", "autodiscover"}));
    EXPECT_EQ(f.verdict, decides::no);

    f = make_regex_prefilter("^rpc/rpcproxy\\.dll");
    EXPECT_EQ(f.prefixes, strings{"rpc/rpcproxy.dll"});
}

TEST(RegexPrefilter, AQuantifierTakesTheLastByteOutOfThePrefix) {
    auto f = make_regex_prefilter("^owas?/");
    EXPECT_EQ(f.prefixes, strings{"owa"});
    EXPECT_EQ(f.verdict, decides::no);
    EXPECT_EQ(make_regex_prefilter("^ab{2}").prefixes, strings{"a"});
    EXPECT_EQ(make_regex_prefilter("^a\\.+").prefixes, strings{"a"});
    EXPECT_TRUE(make_regex_prefilter("^a*b").prefixes.empty());
}

TEST(RegexPrefilter, SaysNothingAboutPatternsItDoesNotFollow) {
    for (const char* pattern :
         {"owa/", "^", "^owa|ecp", "^(owa|)", "^(owa|ecp)?/", "^(owa|ecp)*", "^(?=owa)", "^(?!owa)",
          "^[a-z]+", "^.*", "^\\d+", "^(a(b)|c)", "^\\bowa", "^x\\|y|z", "^a[]", "^(a|b", "^a)|(b"})
        EXPECT_TRUE(make_regex_prefilter(pattern).prefixes.empty()) << pattern;
    // A '|' inside a class or a group is not an alternation of the whole pattern.
    EXPECT_EQ(make_regex_prefilter("^x[|]y").prefixes, strings{"x"});
    EXPECT_EQ(make_regex_prefilter("^owa(/|$)").prefixes, strings{"owa"});
}

TEST(RegexPrefilter, FoldsAsciiCaseOnlyWhenAsked) {
    auto f = make_regex_prefilter("^off$");
    EXPECT_TRUE(f.matches("OFF", true));
    EXPECT_FALSE(f.matches("OFF", false));
    EXPECT_FALSE(f.matches("off\n", true));
    EXPECT_FALSE(f.rules_out("Off", true));
    EXPECT_TRUE(f.rules_out("Off", false));
    EXPECT_TRUE(f.rules_out("of", true));
}

// The prefilter against std::regex itself, on inputs built from each pattern's own bytes in
// both cases, with line terminators: whatever it rules out does not match, and what it decides
// is what the regex decides, with the same match.
TEST(RegexPrefilter, AgreesWithStdRegexOnEveryInput) {
    const char* const patterns[] = {
        "^ews/",   "^off$",      "^(rpc|mapi)/", "^(owa|ecp)(/|$)",  "^owas?/",
        "^a\\.b$", "^a\\-b\\/c", "^(?:x|yz)z",   "^x[|]y",           "^ab$c",
        "^Ab",     "^(ab|a)b",   "^a{2}",        "^mail\\.a\\.com$", "^(a|aa)$",
        "^ab\\$",  "^owa|ecp",   "^x\\|y|z",     "^(a|b)*c",         "^.*",
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
            for (int n = 0; n < 3000; ++n) {
                std::string input;
                const auto size = rng() % 12;
                for (std::size_t i = 0; i < size; ++i)
                    input.push_back(alphabet[rng() % alphabet.size()]);
                // Half the inputs start with one of the prefixes, so the match side is tried.
                if (!filter.prefixes.empty() && n % 2 == 0)
                    input.insert(0, filter.prefixes[rng() % filter.prefixes.size()]);
                std::smatch m;
                const bool expected = std::regex_search(input, m, regex);
                if (filter.rules_out(input, ignore_case)) {
                    ASSERT_FALSE(expected) << pattern << " ruled out \"" << input << "\"";
                }
                if (filter.verdict == decides::no) continue;
                ASSERT_EQ(filter.matches(input, ignore_case), expected)
                    << pattern << " on \"" << input << "\" ignore_case " << ignore_case;
                if (expected) {
                    EXPECT_EQ(m.position(0), 0);
                    EXPECT_EQ(m.str(0), input.substr(0, filter.prefixes.front().size()));
                }
            }
        }
    }
}

}  // namespace
}  // namespace gatehouse::proxy
