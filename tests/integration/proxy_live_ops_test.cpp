// Live operations against the fake CAS fleet: affinity (stickiness, fallback, re-issue, honoured
// by a second node), drain with an ActiveSync Ping in flight, Unavailable, the admin API, and
// outlier ejection.

#include "fake-cas/wbxml.hpp"
#include "tests/integration/proxy_ops_fixture.hpp"

#include <future>
#include <set>

namespace gatehouse::test {
namespace {

using fake_cas::testing::basic;

class ProxyLiveOps : public ProxyOpsTest {};

const std::string affinity = R"(, "affinity": { "enabled": true, "key": "contoso" })";

// The ARRAffinity value a response sets ("" when none).
std::string affinity_set(const response& r) {
    for (const auto& f : r)
        if (f.name_string() == "Set-Cookie") {
            std::string v(f.value());
            if (v.starts_with("ARRAffinity=")) return v.substr(12, v.find(';') - 12);
        }
    return {};
}

response get_with_cookie(const tcp::endpoint& ep, const std::string& cookie) {
    test_client c(ep);
    auto req = make_request("GET", "/owa/");
    if (!cookie.empty()) req.set(http::field::cookie, "a=b; ARRAffinity=" + cookie);
    return c.roundtrip(std::move(req));
}

TEST_F(ProxyLiveOps, AffinityCookiePinsTheClientAndFallsBackWhenTheServerIsUnhealthy) {
    start_fleet(2);
    start_proxy(config_json(affinity));
    auto first = get_with_cookie(http(), "");
    auto cookie = affinity_set(first);
    ASSERT_EQ(cookie.size(), 64u);
    EXPECT_EQ(cookie.find("127.0.0.1"), std::string::npos);
    const auto pinned = answered_by(first);
    for (int i = 0; i < 6; ++i) {  // round robin alone would alternate
        auto r = get_with_cookie(http(), cookie);
        EXPECT_EQ(answered_by(r), pinned);
        EXPECT_EQ(affinity_set(r), "");  // not re-issued while it holds
    }
    const std::size_t pinned_index = pinned == "EX01" ? 0 : 1;
    ASSERT_TRUE(proxy().set_server_health("owa", authority(pinned_index), false));
    auto moved = get_with_cookie(http(), cookie);
    EXPECT_NE(answered_by(moved), pinned);
    auto reissued = affinity_set(moved);
    EXPECT_EQ(reissued.size(), 64u);
    EXPECT_NE(reissued, cookie);
    EXPECT_EQ(answered_by(get_with_cookie(http(), reissued)), answered_by(moved));
}

TEST_F(ProxyLiveOps, DrainKeepsAffinityClientsButTakesNoNewOnesAndUnavailableRefusesAll) {
    start_fleet(2);
    start_proxy(config_json(affinity));
    auto first = get_with_cookie(http(), "");
    auto cookie = affinity_set(first);
    const std::size_t pinned = answered_by(first) == "EX01" ? 0 : 1;
    ASSERT_TRUE(proxy().set_server_state("owa", std::to_string(pinned), proxy::availability::drain));
    EXPECT_EQ(answered_by(get_with_cookie(http(), cookie)), answered_by(first));  // ARR keeps it
    for (int i = 0; i < 4; ++i)  // new clients go elsewhere
        EXPECT_NE(answered_by(get_with_cookie(http(), "")), answered_by(first));
    ASSERT_TRUE(
        proxy().set_server_state("owa", std::to_string(pinned), proxy::availability::unavailable));
    EXPECT_NE(answered_by(get_with_cookie(http(), cookie)), answered_by(first));
}

TEST_F(ProxyLiveOps, ASecondNodeWithTheSameConfigurationHonoursTheAffinityCookie) {
    start_fleet(2);
    auto json = config_json(affinity);
    start_proxy(json);
    start_proxy(json);
    auto first = get_with_cookie(http(0), "");
    auto cookie = affinity_set(first);
    ASSERT_FALSE(cookie.empty());
    for (int i = 0; i < 6; ++i) {
        auto r = get_with_cookie(http(1), cookie);
        EXPECT_EQ(answered_by(r), answered_by(first));
        EXPECT_EQ(affinity_set(r), "");
    }
}

std::string ping_body(std::string_view heartbeat) {
    namespace eas = fake_cas::eas;
    fake_cas::wbxml_writer w;
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

request ping() {
    auto req = make_request("POST",
                            "/Microsoft-Server-ActiveSync?Cmd=Ping&User=jdoe&DeviceId="
                            "6F24CAD599A5BF1A690246B8C68FAE8D&DeviceType=iPhone",
                            "mail.contoso.com", ping_body("120"));
    req.set(http::field::authorization, basic("CONTOSO\\jdoe", "P@ssw0rd"));
    req.set(http::field::content_type, "application/vnd.ms-sync.wbxml");
    req.set("MS-ASProtocolVersion", "16.1");
    return req;
}

TEST_F(ProxyLiveOps, DrainLetsAnActiveSyncPingInFlightFinishAndSendsNewRequestsElsewhere) {
    start_fleet(2);
    start_proxy(config_json());
    // The Ping is held for its heartbeat: 120 s at time scale 0.01, 1.2 s.
    auto held = std::async(std::launch::async, [ep = http()] {
        test_client c(ep, 10s);
        auto t0 = steady_clock::now();
        auto r = c.roundtrip(ping());
        return std::pair{r, steady_clock::now() - t0};
    });
    std::size_t server = 2;
    ASSERT_TRUE(eventually([&] {
        for (std::size_t i = 0; i < 2; ++i)
            if (fleet_->server(i).observations(false).open(fake_cas::long_poll::eas_ping) == 1)
                server = i;
        return server < 2;
    }));
    ASSERT_TRUE(proxy().set_server_state("eas", authority(server), proxy::availability::drain));
    for (int i = 0; i < 4; ++i) {
        auto r = get(http(), "/Microsoft-Server-ActiveSync/HealthCheck.htm");
        EXPECT_EQ(answered_by(r), server == 0 ? "EX02" : "EX01");
    }
    auto [r, took] = held.get();
    EXPECT_EQ(r.result_int(), 200);
    EXPECT_EQ(answered_by(r), server == 0 ? "EX01" : "EX02");
    EXPECT_GE(took, 1100ms);  // held for its whole heartbeat, not cut short by the drain
}

TEST_F(ProxyLiveOps, AdminApiShowsServersAndTakesActions) {
    start_fleet(2);
    start_proxy(config_json("", R"(, "admin": { "address": "127.0.0.1", "port": 0 })"));
    auto admin = proxy().admin_endpoint();
    ASSERT_TRUE(admin);
    get(http(), "/owa/");
    auto farms = nlohmann::json::parse(get(*admin, "/api/farms").body());
    ASSERT_EQ(farms["farms"].size(), 3u);
    EXPECT_EQ(farms["farms"][0]["name"], "owa");
    EXPECT_EQ(farms["farms"][0]["total_requests"], 1);
    EXPECT_EQ(farms["farms"][0]["servers"][0]["availability"], "available");

    test_client c(*admin);
    auto req = make_request("POST", "/api/farms/owa/servers/" + authority(1) + "/state",
                            "127.0.0.1", R"({"state":"drain"})");
    auto res = c.roundtrip(req);
    ASSERT_EQ(res.result_int(), 200) << res.body();
    EXPECT_EQ(nlohmann::json::parse(res.body())["servers"][1]["availability"], "drain");
    EXPECT_EQ(proxy().stats().farm("owa")->servers[1].state, proxy::availability::drain);

    res = c.roundtrip(make_request("POST", "/api/farms/owa/servers/0/health", "127.0.0.1",
                                   R"({"healthy":false})"));
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_FALSE(proxy().stats().farm("owa")->servers[0].healthy);
    EXPECT_EQ(c.roundtrip(make_request("POST", "/api/farms/owa/servers/9.9.9.9:1/health",
                                       "127.0.0.1", R"({"healthy":true})"))
                  .result_int(),
              404);
    EXPECT_EQ(c.roundtrip(make_request("POST", "/api/farms/owa/servers/0/state", "127.0.0.1",
                                       R"({"state":"sleepy"})"))
                  .result_int(),
              400);

    auto metrics = get(*admin, "/metrics");
    EXPECT_EQ(metrics.result_int(), 200);
    EXPECT_NE(metrics.body().find("gatehouse_requests_total{farm=\"owa\"} 1"), std::string::npos);
    ASSERT_EQ(c.roundtrip(make_request("POST", "/api/counters/reset")).result_int(), 200);
    EXPECT_EQ(proxy().stats().farm("owa")->total_requests, 0u);
}

TEST_F(ProxyLiveOps, OutlierEjectionTakesAFailingServerOutForItsEjectionTime) {
    start_fleet(2);
    auto json = config_json(R"(, "outlier": { "consecutive_failures": 2,
                                  "base_ejection_time_ms": 60000, "max_ejection_percent": 50 })");
    start_proxy(without_owa_health(json));
    fleet_->server(0).patch(
        nlohmann::json::parse(R"({"vdirs":{"owa":{"faults":{"error_status":503,
                                                              "error_rate":1}}}})"));
    ASSERT_TRUE(eventually([&] {
        get(http(), "/owa/");
        return proxy().stats().farm("owa")->servers[0].ejected;
    }));
    EXPECT_TRUE(healthy("owa", 0));  // ejected, not unhealthy
    for (int i = 0; i < 4; ++i) EXPECT_EQ(answered_by(get(http(), "/owa/")), "EX02");
}

}  // namespace
}  // namespace gatehouse::test
