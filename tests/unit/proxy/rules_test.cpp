#include "proxy/rules.hpp"

#include "net/http_message.hpp"

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

rule_config route(std::string name, std::string pattern, std::string farm,
                  pattern_syntax syntax = pattern_syntax::ecmascript) {
    return rule_config{
        .name = std::move(name),
        .syntax = syntax,
        .pattern = std::move(pattern),
        .action = action_config{.type = action_type::route, .farm = std::move(farm)}};
}

// A configuration with farms "owa", "eas", "rpc" and the given rules.
config with_rules(std::vector<rule_config> rules) {
    config c;
    c.listeners.push_back(listener_config{.name = "http", .address = "127.0.0.1", .port = 80});
    for (const char* name : {"owa", "eas", "rpc"})
        c.farms.push_back(farm_config{.name = name, .servers = {server_config{.address = "a"}}});
    c.rules = std::move(rules);
    return c;
}

class RulesTest : public ::testing::Test {
protected:
    rule_result evaluate(const rule_set& rules, std::string_view target,
                         std::string_view host = "mail.contoso.com", bool https = true) {
        request_view r;
        r.method = "GET";
        r.target = target;
        r.host = host;
        r.https = https;
        r.server_port = https ? 443 : 80;
        r.remote_address = "192.0.2.7";
        r.remote_port = 50123;
        r.fields = &fields_;
        return rules.evaluate(r, scratch_);
    }

    std::string farm_of(const rule_set& rules, std::string_view target) {
        auto result = evaluate(rules, target);
        if (result.outcome != rule_outcome::route) return "<none>";
        static const char* names[] = {"owa", "eas", "rpc"};
        return names[result.farm];
    }

    net::http_fields fields_;
    rule_scratch scratch_;
};

TEST_F(RulesTest, RoutesByPathPrefixIgnoringCaseByDefault) {
    rule_set rules(with_rules({route("owa", "^owa(/|$)", "owa"),
                               route("eas", "^Microsoft-Server-ActiveSync", "eas"),
                               route("rpc", "^rpc/rpcproxy\\.dll", "rpc")}),
                   "t");
    EXPECT_EQ(farm_of(rules, "/owa/"), "owa");
    EXPECT_EQ(farm_of(rules, "/OWA"), "owa");
    EXPECT_EQ(farm_of(rules, "/microsoft-server-activesync?Cmd=Ping"), "eas");
    EXPECT_EQ(farm_of(rules, "/rpc/rpcproxy.dll?ex01:6001"), "rpc");
    EXPECT_EQ(farm_of(rules, "/owaX"), "<none>");
}

// The limits on numbers in a pattern (config_json_test) leave ordinary counts and
// back-references alone.
TEST_F(RulesTest, RepetitionCountsAndBackReferencesWithinTheLimitsWork) {
    rule_set rules(with_rules({route("rep", "^(a)\\1{2,1000}/", "owa"),
                               route("brace", "^b[{]99999999}", "eas")}),
                   "t");
    EXPECT_EQ(farm_of(rules, "/aaa/"), "owa");
    EXPECT_EQ(farm_of(rules, "/aa/"), "<none>");
    EXPECT_EQ(farm_of(rules, "/b{99999999}"), "eas");
}

TEST_F(RulesTest, UnmatchedUrlIsNotPublished) {
    rule_set rules(with_rules({route("owa", "^owa/", "owa")}), "t");
    auto result = evaluate(rules, "/ecp/");
    EXPECT_EQ(result.outcome, rule_outcome::not_published);
    EXPECT_EQ(result.farm, -1);
}

TEST_F(RulesTest, CaseSensitiveWhenAsked) {
    auto r = route("owa", "^owa/", "owa");
    r.ignore_case = false;
    rule_set rules(with_rules({r}), "t");
    EXPECT_EQ(farm_of(rules, "/owa/"), "owa");
    EXPECT_EQ(farm_of(rules, "/OWA/"), "<none>");
}

TEST_F(RulesTest, MatchesThePercentDecodedPathWithoutQuery) {
    rule_set rules(with_rules({route("space", "^my folder/x$", "owa")}), "t");
    EXPECT_EQ(farm_of(rules, "/my%20folder/x?y=1"), "owa");
}

TEST_F(RulesTest, NegatedPatternMatchesWhatThePatternDoesNot) {
    auto r = route("not-owa", "^owa/", "eas");
    r.negate = true;
    rule_set rules(with_rules({r}), "t");
    EXPECT_EQ(farm_of(rules, "/ews/"), "eas");
    EXPECT_EQ(farm_of(rules, "/owa/"), "<none>");
}

TEST_F(RulesTest, WildcardStarMatchesEverything) {
    rule_set rules(with_rules({route("all", "*", "owa", pattern_syntax::wildcard)}), "t");
    EXPECT_EQ(farm_of(rules, "/"), "owa");
    EXPECT_EQ(farm_of(rules, "/anything/at/all?x"), "owa");
}

TEST_F(RulesTest, ExactMatchComparesTheWholePath) {
    rule_set rules(
        with_rules({route("exact", "owa/healthcheck.htm", "owa", pattern_syntax::exact_match)}),
        "t");
    EXPECT_EQ(farm_of(rules, "/owa/HealthCheck.htm"), "owa");
    EXPECT_EQ(farm_of(rules, "/owa/HealthCheck.htmx"), "<none>");
}

TEST_F(RulesTest, ConditionsMatchAllNeedsEveryOne) {
    // The Exchange team's ARR rule shape: published host name and HTTPS only.
    auto r = route("owa", "^owa", "owa");
    r.conditions = {{.input = "{HTTP_HOST}", .pattern = "^mail\\.contoso\\.com$"},
                    {.input = "{HTTPS}", .pattern = "on"}};
    rule_set rules(with_rules({r}), "t");
    EXPECT_EQ(evaluate(rules, "/owa/").outcome, rule_outcome::route);
    EXPECT_EQ(evaluate(rules, "/owa/", "MAIL.contoso.com").outcome, rule_outcome::route);
    EXPECT_EQ(evaluate(rules, "/owa/", "evil.example").outcome, rule_outcome::not_published);
    EXPECT_EQ(evaluate(rules, "/owa/", "mail.contoso.com", false).outcome,
              rule_outcome::not_published);
}

TEST_F(RulesTest, ConditionsMatchAnyNeedsOne) {
    auto r = route("hosts", ".*", "owa");
    r.match_any = true;
    r.conditions = {{.input = "{HTTP_HOST}", .pattern = "^mail\\."},
                    {.input = "{HTTP_HOST}", .pattern = "^autodiscover\\."}};
    rule_set rules(with_rules({r}), "t");
    EXPECT_EQ(evaluate(rules, "/", "autodiscover.contoso.com").outcome, rule_outcome::route);
    EXPECT_EQ(evaluate(rules, "/", "mail.contoso.com").outcome, rule_outcome::route);
    EXPECT_EQ(evaluate(rules, "/", "owa.contoso.com").outcome, rule_outcome::not_published);
}

TEST_F(RulesTest, NegatedConditionHoldsWhenItsPatternFails) {
    auto r = route("not-internal", ".*", "owa");
    r.conditions = {{.input = "{REMOTE_ADDR}", .pattern = "^10\\.", .negate = true}};
    rule_set rules(with_rules({r}), "t");
    EXPECT_EQ(evaluate(rules, "/").outcome, rule_outcome::route);  // 192.0.2.7
}

TEST_F(RulesTest, HeaderVariablesUseUnderscoresForDashes) {
    auto r = rule_config{.name = "block",
                         .pattern = ".*",
                         .conditions = {{.input = "{HTTP_X_BERESOURCE}", .pattern = ".+~.+"}},
                         .action = {.type = action_type::abort}};
    rule_set rules(with_rules({r, route("all", ".*", "owa")}), "t");
    EXPECT_EQ(evaluate(rules, "/owa/").outcome, rule_outcome::route);
    fields_.add("X-BEResource", "ex01/x~1941962753");
    EXPECT_EQ(evaluate(rules, "/owa/").outcome, rule_outcome::abort);
}

TEST_F(RulesTest, HttpToHttpsRedirectUsesHostAndBackReference) {
    auto r = rule_config{.name = "to-https",
                         .pattern = "(.*)",
                         .conditions = {{.input = "{HTTPS}", .pattern = "^off$"}},
                         .action = {.type = action_type::redirect,
                                    .url = "https://{HTTP_HOST}/{R:1}",
                                    .redirect_type = 301},
                         .stop_processing = true};
    rule_set rules(with_rules({r, route("owa", "^owa", "owa")}), "t");
    auto result = evaluate(rules, "/owa/?a=1&b=2", "mail.contoso.com", false);
    ASSERT_EQ(result.outcome, rule_outcome::redirect);
    EXPECT_EQ(result.url, "https://mail.contoso.com/owa/?a=1&b=2");
    EXPECT_EQ(evaluate(rules, "/owa/", "mail.contoso.com", true).outcome, rule_outcome::route);
}

// Catch-all patterns skip the regex engine; what they match and capture stays the regex's,
// including at a decoded line feed, where '.' stops.
TEST_F(RulesTest, CatchAllPatternsMatchAsTheRegexDoes) {
    auto redirect = [](std::string pattern, std::string url) {
        return rule_config{.name = "r",
                           .pattern = std::move(pattern),
                           .action = {.type = action_type::redirect,
                                      .url = std::move(url),
                                      .append_query_string = false}};
    };
    rule_set captured(with_rules({redirect("^(.*)$", "/to/{R:1}")}), "t");
    EXPECT_EQ(evaluate(captured, "/OWA/x?q").url, "/to/OWA/x");
    EXPECT_EQ(evaluate(captured, "/a%0ab").outcome, rule_outcome::not_published);
    rule_set searched(with_rules({redirect("(.*)", "/to/{R:1}/{R:0}")}), "t");
    EXPECT_EQ(evaluate(searched, "/ews/y").url, "/to/ews/y/ews/y");
    EXPECT_EQ(evaluate(searched, "/a%0ab").url, "/to/a/a");  // the first match ends at LF
    rule_set whole(with_rules({redirect(".*", "/to/{R:0}")}), "t");
    EXPECT_EQ(evaluate(whole, "/").url, "/to/");
    EXPECT_EQ(evaluate(whole, "/m%0dn").url, "/to/m");
}

TEST_F(RulesTest, ConditionCapturesComeFromTheLastMatchingCondition) {
    auto r = rule_config{.name = "r",
                         .pattern = "^(.*)$",
                         .conditions = {{.input = "{HTTP_HOST}", .pattern = "^(\\w+)\\.(\\w+)"}},
                         .action = {.type = action_type::redirect,
                                    .url = "/{C:2}/{C:1}/{R:1}",
                                    .append_query_string = false}};
    rule_set rules(with_rules({r}), "t");
    auto result = evaluate(rules, "/x?q", "mail.contoso.com");
    EXPECT_EQ(result.url, "/contoso/mail/x");
}

TEST_F(RulesTest, RouteRewritesPathAndLaterRulesSeeIt) {
    auto first = route("legacy", "^exchange/(.*)", "owa");
    first.action.url = "/owa/{R:1}";
    auto second = route("owa-to-eas", "^owa/sync", "eas");
    rule_set rules(with_rules({first, second}), "t");
    auto result = evaluate(rules, "/exchange/sync?x=1");
    ASSERT_EQ(result.outcome, rule_outcome::route);
    EXPECT_EQ(result.farm, 1);  // eas: the second rule matched the rewritten path
    EXPECT_EQ(result.url, "/owa/sync?x=1");
}

TEST_F(RulesTest, RouteWithoutUrlKeepsTheTargetByteExact) {
    rule_set rules(with_rules({route("rpc", "^rpc/", "rpc")}), "t");
    auto result = evaluate(rules, "/rpc/rpcproxy.dll?3f7b%40contoso.com:6001");
    ASSERT_EQ(result.outcome, rule_outcome::route);
    EXPECT_TRUE(result.url.empty());  // the session forwards the client's target as received
}

TEST_F(RulesTest, StopProcessingEndsEvaluation) {
    auto first = route("owa", "^owa", "owa");
    first.stop_processing = true;
    auto second = route("all", ".*", "eas");
    rule_set rules(with_rules({first, second}), "t");
    EXPECT_EQ(farm_of(rules, "/owa/"), "owa");
    EXPECT_EQ(farm_of(rules, "/ews/"), "eas");
    first.stop_processing = false;
    rule_set chained(with_rules({first, second}), "t");
    EXPECT_EQ(farm_of(chained, "/owa/"), "eas");  // the last route wins
}

TEST_F(RulesTest, NoneActionWithStopProcessingEndsWithoutRoute) {
    auto stop = rule_config{.name = "stop",
                            .pattern = "^ecp",
                            .action = {.type = action_type::none},
                            .stop_processing = true};
    rule_set rules(with_rules({stop, route("all", ".*", "owa")}), "t");
    EXPECT_EQ(evaluate(rules, "/ecp/").outcome, rule_outcome::not_published);
    EXPECT_EQ(farm_of(rules, "/owa/"), "owa");
}

TEST_F(RulesTest, CustomResponseAndAbortAreTerminal) {
    // The EOMTv2 mitigation shape: the request URI (query included) names both.
    auto deny = rule_config{
        .name = "deny",
        .pattern = ".*",
        .conditions = {{.input = "{REQUEST_URI}", .pattern = "(?=.*autodiscover)(?=.*powershell)"}},
        .action = {.type = action_type::custom_response,
                   .status = 403,
                   .substatus = 0,
                   .reason = "Forbidden"}};
    rule_set rules(with_rules({deny, route("all", ".*", "owa")}), "t");
    auto result = evaluate(rules, "/autodiscover/autodiscover.json?@x/PowerShell");
    EXPECT_EQ(result.outcome, rule_outcome::custom_response);
    EXPECT_EQ(result.rule, 0);
}

TEST_F(RulesTest, DisabledRulesAreSkipped) {
    auto r = route("owa", ".*", "owa");
    r.enabled = false;
    rule_set rules(with_rules({r}), "t");
    EXPECT_EQ(farm_of(rules, "/owa/"), "<none>");
}

TEST(Wildcard, CapturesEachStar) {
    std::vector<std::string> captures;
    ASSERT_TRUE(wildcard_match("owa/*/x/*", "owa/a/b/x/c", true, &captures));
    ASSERT_EQ(captures.size(), 3u);
    EXPECT_EQ(captures[0], "owa/a/b/x/c");
    EXPECT_EQ(captures[1], "a/b");
    EXPECT_EQ(captures[2], "c");
    EXPECT_FALSE(wildcard_match("owa/*", "ews/x", true, nullptr));
    EXPECT_TRUE(wildcard_match("OWA/*", "owa/", true, nullptr));
    EXPECT_FALSE(wildcard_match("OWA/*", "owa/", false, nullptr));
    EXPECT_TRUE(wildcard_match("*.htm", "owa/HealthCheck.htm", true, nullptr));
    EXPECT_FALSE(wildcard_match("*.htm", "owa/HealthCheck.html", true, nullptr));
}

}  // namespace
}  // namespace gatehouse::proxy
