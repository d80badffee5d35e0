// ActiveSync: OPTIONS, Ping held for its (scaled) heartbeat, changes injected through the
// control API, out-of-range heartbeats, and the non-standard status knobs.

#include "fake-cas/wbxml.hpp"
#include "tests/integration/fake_cas_fixture.hpp"

#include <thread>

namespace gatehouse::fake_cas::testing {
namespace {

using test::make_request;
using test::test_client;

constexpr std::string_view ping_target =
    "/Microsoft-Server-ActiveSync?Cmd=Ping&User=jdoe&DeviceId=6F24CAD599A5BF1A690246B8C68FAE8D&"
    "DeviceType=iPhone";

std::string ping_body(std::string_view heartbeat) {
    wbxml_writer w;
    w.open(eas::page_ping, eas::ping::ping)
        .leaf(eas::page_ping, eas::ping::heartbeat_interval, heartbeat)
        .open(eas::page_ping, eas::ping::folders)
        .open(eas::page_ping, eas::ping::folder)
        .leaf(eas::page_ping, eas::ping::id, "1")
        .leaf(eas::page_ping, eas::ping::klass, "Email")
        .close()
        .close()
        .close();
    return {w.data().begin(), w.data().end()};
}

test::request ping(std::string_view heartbeat) {
    auto req = make_request("POST", ping_target, "mail.contoso.com", ping_body(heartbeat));
    req.set(http::field::authorization, basic("CONTOSO\\jdoe", "P@ssw0rd"));
    req.set(http::field::content_type, "application/vnd.ms-sync.wbxml");
    req.set("MS-ASProtocolVersion", "16.1");
    return req;
}

std::string status_of(const test::response& res) {
    auto doc =
        wbxml_decode({reinterpret_cast<const std::uint8_t*>(res.body().data()), res.body().size()});
    if (!doc) return "undecodable";
    auto* s = doc->child(eas::page_ping, eas::ping::status);
    return s ? s->text : "none";
}

class ActiveSyncTest : public FleetTest {};

TEST_F(ActiveSyncTest, OptionsNeedsAuthenticationThenListsVersionsAndCommands) {
    start(1);
    test_client c(ep());
    EXPECT_EQ(c.roundtrip(make_request("OPTIONS", "/Microsoft-Server-ActiveSync")).result_int(),
              401);
    auto req = make_request("OPTIONS", "/Microsoft-Server-ActiveSync");
    req.set(http::field::authorization, basic("jdoe", "x"));
    auto res = c.roundtrip(req);
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_NE(res["MS-ASProtocolVersions"].find("16.1"), std::string::npos);
    EXPECT_NE(res["MS-ASProtocolCommands"].find("Ping"), std::string::npos);
    EXPECT_EQ(res["MS-Server-ActiveSync"], "15.20");
}

TEST_F(ActiveSyncTest, PingReturnsStatusOneAtItsScaledHeartbeat) {
    start(1, 0.01);  // 60 s heartbeat → 600 ms
    test_client c(ep(), std::chrono::seconds(5));
    auto t0 = steady_clock::now();
    auto res = c.roundtrip(ping("60"));
    auto took = steady_clock::now() - t0;
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res[http::field::content_type], "application/vnd.ms-sync.wbxml");
    EXPECT_EQ(status_of(res), "1");
    EXPECT_GE(took, std::chrono::milliseconds(590));
    EXPECT_LT(took, std::chrono::milliseconds(3000));
}

TEST_F(ActiveSyncTest, InjectedChangeEndsThePingWithStatusTwo) {
    start(1, 0.01);
    test_client c(ep(), std::chrono::seconds(5));
    c.send(ping("3000"));  // 30 s after scaling: far longer than this test
    auto deadline = steady_clock::now() + std::chrono::seconds(5);
    while (server(0).observations(false).open(long_poll::eas_ping) == 0 &&
           steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    ASSERT_EQ(server(0).observations(false).open(long_poll::eas_ping), 1u);
    auto [status, body] = control("POST", "/servers/cas1/inject",
                                  R"({"kind":"eas_ping_change","user":"jdoe","payload":"1"})");
    EXPECT_EQ(status, 200u);
    EXPECT_EQ(body["woken"], 1);
    auto res = c.read();
    EXPECT_EQ(status_of(res), "2");
    auto doc =
        wbxml_decode({reinterpret_cast<const std::uint8_t*>(res.body().data()), res.body().size()});
    EXPECT_EQ(doc->find(eas::page_ping, eas::ping::folder)->text, "1");
}

TEST_F(ActiveSyncTest, HeartbeatOutOfRangeGetsStatusFiveWithTheLimit) {
    start(1);
    test_client c(ep());
    auto res = c.roundtrip(ping("30"));
    EXPECT_EQ(status_of(res), "5");
    auto doc =
        wbxml_decode({reinterpret_cast<const std::uint8_t*>(res.body().data()), res.body().size()});
    EXPECT_EQ(doc->child(eas::page_ping, eas::ping::heartbeat_interval)->text, "60");
}

TEST_F(ActiveSyncTest, EmptyPingReusesTheCachedParameters) {
    start(1, 0.01);
    test_client c(ep(), std::chrono::seconds(5));
    EXPECT_EQ(status_of(c.roundtrip(ping("60"))), "1");
    auto empty = ping("60");
    empty.body().clear();
    empty.prepare_payload();
    auto t0 = steady_clock::now();
    EXPECT_EQ(status_of(c.roundtrip(empty)), "1");
    EXPECT_GE(steady_clock::now() - t0, std::chrono::milliseconds(590));
}

TEST_F(ActiveSyncTest, ForcedStatusesCarryTheirHeaders) {
    start(1);
    server(0).patch(
        {{"activesync",
          {{"force_http_status", 451},
           {"x_ms_location", "https://mail2.contoso.com/Microsoft-Server-ActiveSync"}}}});
    test_client c(ep());
    auto res = c.roundtrip(ping("60"));
    EXPECT_EQ(res.result_int(), 451);
    EXPECT_EQ(res["X-MS-Location"], "https://mail2.contoso.com/Microsoft-Server-ActiveSync");
    server(0).patch({{"activesync", {{"force_http_status", 0}, {"require_policy_key", true}}}});
    EXPECT_EQ(c.roundtrip(ping("60")).result_int(), 449);
}

TEST_F(ActiveSyncTest, MissingDeviceIdIsABadRequest) {
    start(1);
    test_client c(ep());
    auto req =
        make_request("POST", "/Microsoft-Server-ActiveSync?Cmd=Ping&User=jdoe&DeviceType=iPhone",
                     "mail.contoso.com", "x");
    req.set(http::field::authorization, basic("jdoe", "x"));
    EXPECT_EQ(c.roundtrip(req).result_int(), 400);
}

TEST_F(ActiveSyncTest, Base64QueryIsDecoded) {
    start(1);
    // version 14.1, FolderSync (9), locale, device id "dev1", no policy key, device type "SP"
    bytes q = {141, 9, 0x09, 0x04, 4, 'd', 'e', 'v', '1', 0, 2, 'S', 'P'};
    auto req = make_request("POST", "/Microsoft-Server-ActiveSync?" + base64_encode(q),
                            "mail.contoso.com", "");
    req.set(http::field::authorization, basic("jdoe", "x"));
    req.prepare_payload();
    test_client c(ep());
    auto res = c.roundtrip(req);
    EXPECT_EQ(res.result_int(), 200);
    auto doc =
        wbxml_decode({reinterpret_cast<const std::uint8_t*>(res.body().data()), res.body().size()});
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->token, eas::folderhierarchy::folder_sync);
}

}  // namespace
}  // namespace gatehouse::fake_cas::testing
