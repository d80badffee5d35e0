// OWA and ECP forms-based authentication: the login loop of two servers with different FBA keys
// (§12.2), success with a shared key, 440 for script calls, the canary, logoff and ECP sessions.

#include "tests/integration/fake_cas_fixture.hpp"

#include <map>

namespace gatehouse::fake_cas::testing {
namespace {

using test::make_request;
using test::test_client;

// A browser's cookie jar, reduced to what these tests need.
struct jar {
    std::map<std::string, std::string> cookies;
    void take(const test::response& res) {
        for (const auto& f : res) {
            if (f.name() != http::field::set_cookie) continue;
            auto v = std::string(f.value());
            auto pair = v.substr(0, v.find(';'));
            auto eq = pair.find('=');
            auto name = pair.substr(0, eq);
            auto value = pair.substr(eq + 1);
            if (value.empty() || v.find("1970") != std::string::npos)
                cookies.erase(name);
            else
                cookies[name] = value;
        }
    }
    std::string header() const {
        std::string out;
        for (auto& [k, v] : cookies) out += (out.empty() ? "" : "; ") + k + "=" + v;
        return out;
    }
};

test::response send(const tcp::endpoint& ep, test::request req, jar& j) {
    if (!j.cookies.empty()) req.set(http::field::cookie, j.header());
    test_client c(ep);
    auto res = c.roundtrip(std::move(req));
    j.take(res);
    return res;
}

test::response login(const tcp::endpoint& ep, jar& j, std::string_view password = "P@ssw0rd") {
    auto req =
        make_request("POST", "/owa/auth.owa", "mail.contoso.com",
                     "destination=https%3A%2F%2Fmail.contoso.com%2Fowa%2F&flags=4&forcedownlevel=0"
                     "&username=contoso%5Cjdoe&password=" +
                         std::string(password) + "&passwordText=&isUtf8=1");
    req.set(http::field::content_type, "application/x-www-form-urlencoded");
    return send(ep, std::move(req), j);
}

class OwaTest : public FleetTest {
protected:
    void start_two(std::string key1, std::string key2) {
        auto config = default_fleet(2);
        config.servers[0].owa.fba_key_id = std::move(key1);
        config.servers[1].owa.fba_key_id = std::move(key2);
        start(std::move(config));
    }
};

TEST_F(OwaTest, UnauthenticatedOwaRedirectsToTheLogonPage) {
    start(1);
    auto res = test::get(ep(), "/owa/");
    EXPECT_EQ(res.result_int(), 302);
    EXPECT_EQ(res[http::field::location],
              "http://mail.contoso.com/owa/auth/"
              "logon.aspx?url=http%3a%2f%2fmail.contoso.com%2fowa%2f&reason=0");
    auto form = test::get(ep(), "/owa/auth/logon.aspx?url=x&reason=0");
    EXPECT_EQ(form.result_int(), 200);
    EXPECT_NE(form.body().find("name=\"logonForm\""), std::string::npos);
    EXPECT_NE(form.body().find("action=\"/owa/auth.owa\""), std::string::npos);
}

TEST_F(OwaTest, LoginSetsFiveCadataCookiesAndRedirectsToTheDestination) {
    start(1);
    jar j;
    auto res = login(ep(), j);
    EXPECT_EQ(res.result_int(), 302);
    EXPECT_EQ(res[http::field::location], "https://mail.contoso.com/owa/");
    int set_cookies = 0;
    for (const auto& f : res) set_cookies += f.name() == http::field::set_cookie;
    EXPECT_EQ(set_cookies, 5);
    for (auto name : {"cadata", "cadataTTL", "cadataKey", "cadataIV", "cadataSig"})
        EXPECT_TRUE(j.cookies.count(name)) << name;
    auto boot = send(ep(), make_request("GET", "/owa/"), j);
    EXPECT_EQ(boot.result_int(), 200);
    EXPECT_TRUE(j.cookies.count("X-OWA-CANARY"));
    EXPECT_EQ(boot["X-BEServer"].empty(), false);
}

TEST_F(OwaTest, DifferentKeysOnTwoServersReproduceTheLoginLoop) {
    start_two("ex01-certificate", "ex02-certificate");
    jar j;
    ASSERT_EQ(login(ep(0), j).result_int(), 302);              // EX01 seals with its key
    auto next = send(ep(1), make_request("GET", "/owa/"), j);  // lands on EX02
    EXPECT_EQ(next.result_int(), 302);
    EXPECT_NE(next[http::field::location].find("/owa/auth/logon.aspx?url="), std::string::npos);
    EXPECT_NE(next[http::field::location].find("reason=0"), std::string::npos);
    EXPECT_EQ(next["X-FEServer"], "EX02");
    // Back on EX01 the same cookies work: only the other server cannot open them.
    EXPECT_EQ(send(ep(0), make_request("GET", "/owa/"), j).result_int(), 200);
}

TEST_F(OwaTest, SharedKeyLetsEitherServerOpenTheCookies) {
    start_two("farm", "farm");
    jar j;
    ASSERT_EQ(login(ep(0), j).result_int(), 302);
    EXPECT_EQ(send(ep(1), make_request("GET", "/owa/"), j).result_int(), 200);
}

TEST_F(OwaTest, ScriptCallsGet440InsteadOfARedirect) {
    start_two("a", "b");
    jar j;
    login(ep(0), j);
    auto req = make_request("POST", "/owa/service.svc?action=GetOwaUserConfiguration&app=Mail",
                            "mail.contoso.com", "{}");
    req.set("Action", "GetOwaUserConfiguration");
    auto res = send(ep(1), req, j);
    EXPECT_EQ(res.result_int(), 440);
    EXPECT_EQ(res.reason(), "Login Timeout");
}

TEST_F(OwaTest, ServiceCallsNeedTheCanary) {
    start(2);
    jar j;
    login(ep(0), j);
    send(ep(0), make_request("GET", "/owa/"), j);
    auto req = make_request("POST", "/owa/service.svc?action=GetOwaUserConfiguration&app=Mail",
                            "mail.contoso.com", "{}");
    EXPECT_EQ(send(ep(1), req, j).result_int(), 500);  // no X-OWA-CANARY header
    req.set("X-OWA-CANARY", j.cookies["X-OWA-CANARY"]);
    EXPECT_EQ(send(ep(1), req, j).result_int(), 200);  // farm-scoped canary
}

TEST_F(OwaTest, InstanceScopedCanaryFailsOnAnotherServer) {
    auto config = default_fleet(2);
    for (auto& s : config.servers) s.owa.canary_scope = scope::instance;
    start(std::move(config));
    jar j;
    login(ep(0), j);
    send(ep(0), make_request("GET", "/owa/"), j);
    auto req = make_request("POST", "/owa/service.svc?action=X", "mail.contoso.com", "{}");
    req.set("X-OWA-CANARY", j.cookies["X-OWA-CANARY"]);
    EXPECT_EQ(send(ep(0), req, j).result_int(), 200);
    EXPECT_EQ(send(ep(1), req, j).result_int(), 500);  // "something went wrong", not a loop
}

TEST_F(OwaTest, BadPasswordRedirectsWithReasonTwo) {
    auto config = default_fleet(1);
    config.servers[0].auth = auth_mode::verify;
    start(std::move(config));
    jar j;
    auto res = login(ep(), j, "wrong");
    EXPECT_EQ(res.result_int(), 302);
    EXPECT_NE(res[http::field::location].find("reason=2"), std::string::npos);
    EXPECT_FALSE(j.cookies.count("cadata"));
}

TEST_F(OwaTest, LogoffExpiresTheCookies) {
    start(1);
    jar j;
    login(ep(), j);
    auto res = send(ep(), make_request("GET", "/owa/logoff.owa"), j);
    EXPECT_EQ(res.result_int(), 302);
    EXPECT_NE(res[http::field::location].find("reason=1"), std::string::npos);
    EXPECT_FALSE(j.cookies.count("cadata"));
}

TEST_F(OwaTest, UnusableKeyLoopsEvenOnOneServer) {
    start(1);
    server(0).patch({{"owa", {{"fba_key_unusable", true}}}});
    jar j;
    login(ep(), j);
    EXPECT_EQ(send(ep(), make_request("GET", "/owa/"), j).result_int(), 302);
}

TEST_F(OwaTest, EcpSharesTheCookiesAndNeedsItsSessionAndCanary) {
    start(2);
    jar j;
    EXPECT_EQ(send(ep(0), make_request("GET", "/ecp/"), j).result_int(), 302);
    login(ep(0), j);
    EXPECT_EQ(send(ep(0), make_request("GET", "/ecp/"), j).result_int(), 200);
    ASSERT_TRUE(j.cookies.count("ASP.NET_SessionId"));
    ASSERT_TRUE(j.cookies.count("msExchEcpCanary"));
    auto ddi = "/ecp/DDI/DDIService.svc/GetList?schema=Mailbox&msExchEcpCanary=" +
               j.cookies["msExchEcpCanary"];
    EXPECT_EQ(send(ep(1), make_request("POST", ddi, "mail.contoso.com", "{}"), j).result_int(),
              200);
    auto no_canary = make_request("POST", "/ecp/DDI/DDIService.svc/GetList?schema=Mailbox",
                                  "mail.contoso.com", "{}");
    EXPECT_EQ(send(ep(0), no_canary, j).result_int(), 500);
}

}  // namespace
}  // namespace gatehouse::fake_cas::testing
