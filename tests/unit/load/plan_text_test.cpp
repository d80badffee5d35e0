#include "load/errors.hpp"
#include "load/plan_text.hpp"

#include <gtest/gtest.h>

namespace gatehouse::load {
namespace {

using namespace std::chrono_literals;

std::string error_of(auto f) {
    try {
        f();
    } catch (const load_error& e) {
        EXPECT_EQ(e.code(), exit_code::bad_option);
        return e.what();
    }
    return "no error";
}

TEST(PlanText, DurationsTakeUnits) {
    EXPECT_EQ(parse_duration("250ms", "-d"), 250ms);
    EXPECT_EQ(parse_duration("30s", "-d"), 30s);
    EXPECT_EQ(parse_duration("1.5m", "-d"), 90s);
    EXPECT_EQ(parse_duration("2h", "-d"), 7200s);
    EXPECT_EQ(parse_duration("10", "-d"), 10s);
    EXPECT_EQ(error_of([] { parse_duration("ten", "--duration"); }),
              "--duration: invalid duration 'ten' (examples: 250ms, 30s, 5m, 1h)");
    EXPECT_EQ(error_of([] { parse_duration("-1s", "-d"); }).substr(0, 20), "-d: invalid duration");
}

TEST(PlanText, StagesAreDurationTargetPairs) {
    auto s = parse_stages("30s:100, 1m:100,10s:0", "--stages");
    ASSERT_EQ(s.size(), 3u);
    EXPECT_EQ(s[0].length, run_duration(30s));
    EXPECT_EQ(s[0].target, 100);
    EXPECT_EQ(s[1].length, run_duration(60s));
    EXPECT_EQ(s[2].target, 0);
    EXPECT_EQ(error_of([] { parse_stages("30s", "--stages"); }),
              "--stages: stage '30s' is not DURATION:TARGET");
    EXPECT_EQ(error_of([] { parse_stages("0s:5", "--stages"); }),
              "--stages: stage '0s:5': zero length");
}

TEST(PlanText, TargetUrlGivesSchemeHostAndPort) {
    target_options t;
    parse_target_url("https://mail.contoso.com", t);
    EXPECT_TRUE(t.tls);
    EXPECT_EQ(t.host, "mail.contoso.com");
    EXPECT_EQ(t.port, "443");
    parse_target_url("http://127.0.0.1:8080/ignored/path", t);
    EXPECT_FALSE(t.tls);
    EXPECT_EQ(t.host, "127.0.0.1");
    EXPECT_EQ(t.port, "8080");
    parse_target_url("http://[::1]:81", t);
    EXPECT_EQ(t.host, "::1");
    EXPECT_EQ(t.port, "81");
    EXPECT_EQ(error_of([] {
                  target_options x;
                  parse_target_url("ftp://x", x);
              }),
              "--target: 'ftp://x' is not an http:// or https:// URL");
    EXPECT_EQ(error_of([] {
                  target_options x;
                  parse_target_url("http://h:99999", x);
              }),
              "--target: invalid port '99999'");
}

TEST(PlanText, MixAndAuthScheme) {
    auto m = parse_mix("mapi:50,owa:20", "--mix");
    ASSERT_EQ(m.size(), 2u);
    EXPECT_EQ(m[1].first, "owa");
    EXPECT_EQ(m[1].second, 20);
    EXPECT_EQ(error_of([] { parse_mix("mapi", "--mix"); }), "--mix: 'mapi' is not NAME:WEIGHT");
    EXPECT_EQ(error_of([] { parse_mix("a:0", "--mix"); }), "--mix: the weights add up to nothing");
    EXPECT_EQ(parse_auth("ntlm"), auth_scheme::ntlm);
    EXPECT_EQ(error_of([] { parse_auth("kerberos"); }),
              "--auth: unknown scheme 'kerberos' (none, basic, ntlm, negotiate)");
}

}  // namespace
}  // namespace gatehouse::load
