#include "load/cookie_jar.hpp"

#include <gtest/gtest.h>

namespace gatehouse::load {
namespace {

using namespace std::chrono_literals;
const auto now = std::chrono::system_clock::from_time_t(1'700'000'000);

TEST(CookieJar, OwaFbaCookiesAreSentBackOnEveryOwaRequest) {
    cookie_jar jar;
    for (auto name : {"cadata", "cadataTTL", "cadataKey", "cadataIV", "cadataSig"})
        jar.store(std::string(name) + "=v" + name + "; path=/; secure; HttpOnly", "/owa/auth.owa",
                  now);
    jar.store("X-OWA-CANARY=abc123; path=/", "/owa/", now);
    EXPECT_EQ(jar.header("/owa/service.svc", true, now),
              "cadata=vcadata; cadataTTL=vcadataTTL; cadataKey=vcadataKey; "
              "cadataIV=vcadataIV; cadataSig=vcadataSig; X-OWA-CANARY=abc123");
    EXPECT_EQ(jar.find("X-OWA-CANARY"), "abc123");
}

TEST(CookieJar, PathIsHonouredAndLongerPathsComeFirst) {
    cookie_jar jar;
    jar.store("MapiContext=ctx; path=/mapi/emsmdb", "/mapi/emsmdb/", now);
    jar.store("ARRAffinity=srv1; Path=/", "/owa", now);
    EXPECT_EQ(jar.header("/mapi/emsmdb/?MailboxId=x", false, now),
              "MapiContext=ctx; ARRAffinity=srv1");
    EXPECT_EQ(jar.header("/mapi/emsmdbx", false, now), "ARRAffinity=srv1");
    EXPECT_EQ(jar.header("/owa/", false, now), "ARRAffinity=srv1");
}

TEST(CookieJar, DefaultPathComesFromTheRequestPath) {
    cookie_jar jar;
    jar.store("a=1", "/owa/auth/logon.aspx", now);
    EXPECT_EQ(jar.header("/owa/auth/x", false, now), "a=1");
    EXPECT_EQ(jar.header("/owa/", false, now), "");
    EXPECT_EQ(cookie_jar::default_path("/owa"), "/");
    EXPECT_EQ(cookie_jar::default_path("noslash"), "/");
}

TEST(CookieJar, ReplacingKeepsOrderAndMaxAgeZeroDeletes) {
    cookie_jar jar;
    jar.store("MapiSequence=1; path=/", "/", now);
    jar.store("other=x; path=/", "/", now);
    jar.store("MapiSequence=2; path=/", "/", now);
    EXPECT_EQ(jar.header("/", false, now), "MapiSequence=2; other=x");
    jar.store("MapiSequence=gone; Max-Age=0; path=/", "/", now);
    EXPECT_EQ(jar.header("/", false, now), "other=x");
}

TEST(CookieJar, ExpiresIsParsedAndExpiredCookiesAreNotSent) {
    cookie_jar jar;
    jar.store("old=1; expires=Thu, 01-Jan-1970 00:00:00 GMT; path=/", "/", now);
    EXPECT_TRUE(jar.empty());
    jar.store("soon=1; Max-Age=10; path=/", "/", now);
    EXPECT_EQ(jar.header("/", false, now + 5s), "soon=1");
    EXPECT_EQ(jar.header("/", false, now + 11s), "");
    auto t = cookie_jar::parse_date("Sun, 06 Nov 1994 08:49:37 GMT");
    ASSERT_TRUE(t);
    EXPECT_EQ(std::chrono::system_clock::to_time_t(*t), 784111777);
}

TEST(CookieJar, SecureCookiesNeedASecureChannel) {
    cookie_jar jar;
    jar.store("cadata=1; secure; path=/", "/", now);
    EXPECT_EQ(jar.header("/", false, now), "");
    EXPECT_EQ(jar.header("/", true, now), "cadata=1");
}

TEST(CookieJar, ValueWithoutNameIsIgnored) {
    cookie_jar jar;
    jar.store("novalue", "/", now);
    jar.store("=x", "/", now);
    EXPECT_TRUE(jar.empty());
}

}  // namespace
}  // namespace gatehouse::load
