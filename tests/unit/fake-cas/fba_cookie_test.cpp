#include "fake-cas/fba_cookie.hpp"

#include <gtest/gtest.h>

namespace gatehouse::fake_cas {
namespace {

using namespace std::chrono_literals;
const auto now = std::chrono::system_clock::now();

TEST(FbaCookie, SealedCookiesOpenUnderTheSameKey) {
    auto key = fba_key::derive("secret", "farm");
    auto c = seal_fba(key, "CONTOSO\\jdoe", "P@ssw0rd", now + 1h);
    auto s = open_fba(key, c, now);
    EXPECT_EQ(s.status, fba_status::ok);
    EXPECT_EQ(s.user, "CONTOSO\\jdoe");
    EXPECT_EQ(s.password, "P@ssw0rd");
}

TEST(FbaCookie, AnotherServerKeyCannotOpenThem) {
    auto a = fba_key::derive("secret", "ex01");
    auto b = fba_key::derive("secret", "ex02");
    auto c = seal_fba(a, "jdoe", "pw", now + 1h);
    EXPECT_EQ(open_fba(b, c, now).status, fba_status::invalid);
    EXPECT_EQ(open_fba(fba_key::derive("other farm", "ex01"), c, now).status, fba_status::invalid);
}

TEST(FbaCookie, TamperingIsDetected) {
    auto key = fba_key::derive("secret", "farm");
    auto c = seal_fba(key, "jdoe", "pw", now + 1h);
    c.cadata[3] = c.cadata[3] == 'A' ? 'B' : 'A';
    EXPECT_EQ(open_fba(key, c, now).status, fba_status::invalid);
}

TEST(FbaCookie, ExpiredCookiesReportTheirUser) {
    auto key = fba_key::derive("secret", "farm");
    auto c = seal_fba(key, "jdoe", "pw", now + 1s);
    auto s = open_fba(key, c, now + 2s);
    EXPECT_EQ(s.status, fba_status::expired);
    EXPECT_EQ(s.user, "jdoe");
}

TEST(FbaCookie, MissingCookiesAreMissing) {
    EXPECT_EQ(open_fba(fba_key::derive("s", "k"), {}, now).status, fba_status::missing);
}

TEST(FbaCookie, EachLoginGetsFreshCookies) {
    auto key = fba_key::derive("secret", "farm");
    auto a = seal_fba(key, "jdoe", "pw", now + 1h);
    auto b = seal_fba(key, "jdoe", "pw", now + 1h);
    EXPECT_NE(a.cadata, b.cadata);
    EXPECT_NE(a.key, b.key);
}

TEST(FbaCookie, CanaryIsBoundToSecretAndUser) {
    auto canary = make_canary("farm", "jdoe");
    EXPECT_TRUE(check_canary("farm", "JDOE", canary));
    EXPECT_FALSE(check_canary("instance-ex02", "jdoe", canary));
    EXPECT_FALSE(check_canary("farm", "asmith", canary));
    EXPECT_FALSE(check_canary("farm", "jdoe", "garbage"));
}

}  // namespace
}  // namespace gatehouse::fake_cas
