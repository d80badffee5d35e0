// MAPI over HTTP: session cookies, PROCESSING/PENDING/DONE framing, NotificationWait released by
// an injected event, X-ResponseCode failures and session scope across servers.

#include "tests/integration/fake_cas_fixture.hpp"

#include <map>
#include <set>
#include <thread>

namespace gatehouse::fake_cas::testing {
namespace {

using test::make_request;
using test::test_client;

constexpr std::string_view emsmdb =
    "/mapi/emsmdb/?MailboxId=416c6368-656d-794a-6f45-57615272456e@contoso.com";

void put32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

test::request mapi(std::string_view type, std::string body, const std::string& cookies = {}) {
    auto req = make_request("POST", emsmdb, "mail.contoso.com", std::move(body));
    req.set(http::field::content_type, "application/mapi-http");
    req.set("X-RequestType", type);
    req.set("X-RequestId", "{C715155F-2BE8-44E0-BD34-2960065754C8}:1");
    req.set("X-ClientInfo", "{2F94A2BF-A2E6-4CCC-BF98-B5F22C542226}");
    if (!cookies.empty()) req.set(http::field::cookie, cookies);
    req.prepare_payload();
    return req;
}

std::string connect_body() {
    std::string b =
        "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=jdoe";
    b.push_back('\0');
    for (auto v : {0u, 1252u, 1033u, 1033u, 0u}) put32(b, v);
    return b;
}

std::string execute_body(std::string_view rops) {
    std::string b;
    put32(b, 0);
    put32(b, static_cast<std::uint32_t>(rops.size()));
    b += rops;
    put32(b, 0x8000);
    put32(b, 0);
    return b;
}

// "MapiContext=…; MapiSequence=…" from a response's Set-Cookie lines.
std::string cookies_of(const test::response& res, std::string previous = {}) {
    std::map<std::string, std::string> jar;
    auto add = [&](std::string_view pair) {
        auto eq = pair.find('=');
        if (eq != std::string_view::npos)
            jar[std::string(pair.substr(0, eq))] = std::string(pair.substr(eq + 1));
    };
    std::string_view prev = previous;
    while (!prev.empty()) {
        auto semi = prev.find("; ");
        add(prev.substr(0, semi));
        if (semi == std::string_view::npos) break;
        prev.remove_prefix(semi + 2);
    }
    for (const auto& f : res)
        if (f.name() == http::field::set_cookie) {
            auto v = std::string(f.value());
            add(v.substr(0, v.find(';')));
        }
    std::string out;
    for (auto& [k, v] : jar) out += (out.empty() ? "" : "; ") + k + "=" + v;
    return out;
}

class MapiTest : public FleetTest {
protected:
    test::response call(test_client& c, test::request req) {
        return ntlm_or_plain(c, std::move(req));
    }
    test::response ntlm_or_plain(test_client& c, test::request req) {
        if (authenticated_.count(&c)) return c.roundtrip(std::move(req));
        authenticated_.insert(&c);
        return ntlm_roundtrip(c, std::move(req), "jdoe", "CONTOSO", "P@ssw0rd");
    }
    std::set<test_client*> authenticated_;
};

TEST_F(MapiTest, ConnectStreamsMetaTagsAndSetsSessionCookies) {
    start(1);
    test_client c(ep());
    auto res = call(c, mapi("Connect", connect_body()));
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res["X-ResponseCode"], "0");
    EXPECT_EQ(res[http::field::transfer_encoding], "chunked");
    EXPECT_EQ(res["X-PendingPeriod"], "30000");
    EXPECT_EQ(res.body().rfind("PROCESSING\r\nDONE\r\nX-ResponseCode: 0\r\n", 0), 0u);
    auto jar = cookies_of(res);
    EXPECT_NE(jar.find("MapiContext="), std::string::npos);
    EXPECT_NE(jar.find("MapiSequence="), std::string::npos);
    EXPECT_EQ(res["X-BEServer"].empty(), false);
}

TEST_F(MapiTest, LongExecuteSendsPendingKeepAlives) {
    start(1, 0.01);
    server(0).patch(
        {{"mapi", {{"processing_ms", 30000}, {"pending_period_ms", 5000}}}});  // 300 / 50 ms
    test_client c(ep());
    auto jar = cookies_of(call(c, mapi("Connect", connect_body())));
    auto res = call(c, mapi("Execute", execute_body("ROPS"), jar));
    EXPECT_EQ(res["X-ResponseCode"], "0");
    auto& b = res.body();
    std::size_t pending = 0;
    for (auto at = b.find("PENDING\r\n"); at != std::string::npos;
         at = b.find("PENDING\r\n", at + 1))
        ++pending;
    EXPECT_GE(pending, 3u);
    EXPECT_NE(b.find("DONE\r\n"), std::string::npos);
    EXPECT_EQ(b.substr(b.size() - 8, 4), "ROPS");  // the ROP buffer echoed, then the aux size
}

TEST_F(MapiTest, MissingCookieAndWrongSequenceAreProtocolErrors) {
    start(1);
    test_client c(ep());
    auto missing = call(c, mapi("Execute", execute_body("x")));
    EXPECT_EQ(missing.result_int(), 200);
    EXPECT_EQ(missing["X-ResponseCode"], "13");
    auto jar = cookies_of(call(c, mapi("Connect", connect_body())));
    auto first = c.roundtrip(mapi("Execute", execute_body("x"), jar));
    EXPECT_EQ(first["X-ResponseCode"], "0");
    auto replay = c.roundtrip(mapi("Execute", execute_body("x"), jar));  // stale MapiSequence
    EXPECT_EQ(replay["X-ResponseCode"], "15");
    auto next = c.roundtrip(mapi("Execute", execute_body("x"), cookies_of(first, jar)));
    EXPECT_EQ(next["X-ResponseCode"], "0");
}

TEST_F(MapiTest, MissingHeaderIsResponseCodeSeven) {
    start(1);
    test_client c(ep());
    auto req = mapi("Connect", connect_body());
    req.erase("X-ClientInfo");
    EXPECT_EQ(call(c, req)["X-ResponseCode"], "7");
}

TEST_F(MapiTest, NotificationWaitIsReleasedByAnInjectedEvent) {
    start(1, 0.01);
    test_client c(ep(), std::chrono::seconds(5));
    auto jar = cookies_of(call(c, mapi("Connect", connect_body())));
    std::string body;
    put32(body, 0);
    put32(body, 0);
    c.send(mapi("NotificationWait", body, jar));
    auto deadline = steady_clock::now() + std::chrono::seconds(5);
    while (server(0).observations(false).open(long_poll::mapi_notification_wait) == 0 &&
           steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(server(0).inject(event_kind::mapi_notification, "jdoe"), 1u);
    auto res = c.read();
    auto& b = res.body();
    ASSERT_GE(b.size(), 16u);
    EXPECT_EQ(b[b.size() - 8], 1);  // EventPending
}

TEST_F(MapiTest, NotificationWaitEndsAtItsScaledMaximum) {
    start(1, 0.001);  // nw_max_s 300 → 300 ms
    test_client c(ep(), std::chrono::seconds(5));
    auto jar = cookies_of(call(c, mapi("Connect", connect_body())));
    std::string body(8, '\0');
    auto t0 = steady_clock::now();
    auto res = c.roundtrip(mapi("NotificationWait", body, jar));
    EXPECT_GE(steady_clock::now() - t0, std::chrono::milliseconds(290));
    EXPECT_EQ(res.body()[res.body().size() - 8], 0);               // no event
    EXPECT_NE(res.body().find("PENDING\r\n"), std::string::npos);  // every 30 ms while held
}

TEST_F(MapiTest, InstanceScopedSessionIsUnknownOnAnotherServer) {
    auto config = default_fleet(2);
    for (auto& s : config.servers) s.mapi.session_scope = scope::instance;
    start(std::move(config));
    test_client a(ep(0)), b(ep(1));
    auto jar = cookies_of(call(a, mapi("Connect", connect_body())));
    EXPECT_EQ(call(b, mapi("Execute", execute_body("x"), jar))["X-ResponseCode"], "10");
}

TEST_F(MapiTest, FarmScopedSessionWorksOnAnotherServer) {
    start(2);
    test_client a(ep(0)), b(ep(1));
    auto jar = cookies_of(call(a, mapi("Connect", connect_body())));
    EXPECT_EQ(call(b, mapi("Execute", execute_body("x"), jar))["X-ResponseCode"], "0");
}

TEST_F(MapiTest, ContentLengthModeBuffersTheWholeResponse) {
    start(1);
    server(0).patch({{"mapi", {{"content_length_responses", true}}}});
    test_client c(ep());
    auto res = call(c, mapi("Connect", connect_body()));
    EXPECT_TRUE(res[http::field::transfer_encoding].empty());
    EXPECT_FALSE(res[http::field::content_length].empty());
}

}  // namespace
}  // namespace gatehouse::fake_cas::testing
