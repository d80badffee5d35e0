#include "proxy/exchange_protection.hpp"

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

class ExchangeProtection : public ::testing::Test {
protected:
    std::string rule_for(std::string_view target,
                         std::vector<std::pair<std::string, std::string>> fields = {}) {
        net::http_fields f;
        for (const auto& [n, v] : fields) f.add(n, v);
        auto v = check_exchange_request(config_, target, f, scratch_);
        return std::string(v.rule);
    }
    exchange_protection_config config_{.enabled = true, .allow_ecp = false};
    exchange_scratch scratch_;
};

TEST_F(ExchangeProtection, LegitimateOutlookRequestsPass) {
    for (auto t : {"/autodiscover/autodiscover.json/v1.0/user@contoso.com?Protocol=ActiveSync",
                   "/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml",
                   "/mapi/emsmdb/?MailboxId=0d4e5d2c-1e3f-4b5a-9c8d-7e6f5a4b3c2d@contoso.com",
                   "/owa/auth/logon.aspx?replaceCurrent=1&url=https%3a%2f%2fmail%2fowa%2f",
                   "/rpc/rpcproxy.dll?ex01.contoso.com:6001", "/EWS/Exchange.asmx",
                   "/Microsoft-Server-ActiveSync?Cmd=Ping&User=alice", "/OAB/abc/oab.xml"})
        EXPECT_EQ(rule_for(t), "") << t;
}

TEST_F(ExchangeProtection, ProxyShellFamilyIsBlocked) {
    EXPECT_EQ(rule_for("/autodiscover/autodiscover.json?@evil.com/mapi/nspi/?&Email=autodiscover/"
                       "autodiscover.json%3f@evil.com"),
              "R2");
    EXPECT_EQ(rule_for("/autodiscover/autodiscover.json?@evil.com/powershell/?X-Rps-CAT=x"), "R1");
    EXPECT_EQ(rule_for("/autodiscover/autodiscover.json?@evil.com/ews/"), "R3");
    EXPECT_EQ(rule_for("/%61utodiscover/autodiscover.json?@evil.com/PowerShel%6C/"), "R1");
    EXPECT_EQ(rule_for("/autodiscover/autodiscover.json?%2540evil.com/mapi/"), "R0");
    EXPECT_EQ(rule_for("/owa/mastermailbox%40outlook.com/powershell"), "R4");
    EXPECT_EQ(rule_for("/PowerShell/"), "R4");
    EXPECT_EQ(rule_for("/ews/x?x-rps-cat=abc"), "R5");
    EXPECT_EQ(rule_for("/owa/../ecp/"), "R0");
}

TEST_F(ExchangeProtection, CookiesThatSteerTheBackEndAreBlocked) {
    EXPECT_EQ(rule_for("/ecp/y.js", {{"Cookie", "X-BEResource=localhost~1941962753"}}), "R6");
    EXPECT_EQ(rule_for("/owa/x.js", {{"Cookie", "a=1; x-anonresource-backend=l/e~3"}}), "R6");
    EXPECT_EQ(rule_for("/owa/", {{"Cookie", "a=1; SecurityToken=x"}}), "R7");
    EXPECT_EQ(rule_for("/owa/", {{"Cookie", "SecurityToken="}}), "");
}

TEST_F(ExchangeProtection, EcpAndUnpublishedPathsAreClosed) {
    EXPECT_EQ(rule_for("/ecp/"), "R8");
    EXPECT_EQ(rule_for("/aspnet_client/"), "R12");
    EXPECT_EQ(rule_for("/"), "R12");
    config_.allow_ecp = true;
    EXPECT_EQ(rule_for("/ecp/"), "");
    config_.enabled = false;
    EXPECT_EQ(rule_for("/aspnet_client/"), "");
}

TEST_F(ExchangeProtection, AbusiveRangesAreRefused) {
    EXPECT_TRUE(abusive_range("bytes=0-18446744073709551615"));
    EXPECT_TRUE(abusive_range("bytes=0-1,0-1"));
    EXPECT_TRUE(abusive_range("bytes=0-1,2-3,4-5,6-7,8-9,10-11,12-13,14-15,16-17,18-19,20-21"));
    EXPECT_TRUE(abusive_range("bytes=-500,900-"));
    EXPECT_FALSE(abusive_range("bytes=0-499"));
    EXPECT_FALSE(abusive_range("bytes=0-499,500-999"));
    EXPECT_FALSE(abusive_range("bytes=-500"));
    EXPECT_EQ(rule_for("/owa/", {{"Range", "bytes=0-18446744073709551615"}}), "R10");
}

TEST(ExchangeInternalFields, AreStripped) {
    net::http_fields f;
    f.add("X-CommonAccessToken", "x");
    f.add("X-IsFromCafe", "1");
    f.add("Accept", "*/*");
    EXPECT_EQ(strip_internal_fields(f), 2u);
    EXPECT_EQ(f.size(), 1u);
}

}  // namespace
}  // namespace gatehouse::proxy
