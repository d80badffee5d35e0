// Health tests against the fake CAS fleet: per-vdir failover with per-protocol farms, 502.4
// when every server is down and recovery after, minServers, and no probe bursts.

#include "tests/integration/proxy_ops_fixture.hpp"

#include <set>

namespace gatehouse::test {
namespace {

class ProxyHealth : public ProxyOpsTest {};

// Front ends that answered `n` requests, each on a new connection (a 401 with NTLM pins the
// client's connection to its server).
std::set<std::string> answered(const tcp::endpoint& ep, const std::string& path, int n) {
    std::set<std::string> seen;
    for (int i = 0; i < n; ++i) seen.insert(answered_by(get(ep, path)));
    return seen;
}

TEST_F(ProxyHealth, OneVdirFailingTakesOnlyThatProtocolsFarmOffTheServer) {
    start_fleet(2);
    start_proxy(config_json());
    ASSERT_TRUE(eventually([&] { return proxy().health_probes_sent() >= 6; }));
    fleet_->server(0).set_component_state("OwaProxy", "HealthApi", false);
    ASSERT_TRUE(eventually([&] { return !healthy("owa", 0); }));
    EXPECT_TRUE(healthy("ews", 0));
    EXPECT_TRUE(healthy("owa", 1));
    EXPECT_EQ(answered(http(), "/owa/", 6), (std::set<std::string>{"EX02"}));
    EXPECT_EQ(answered(http(), "/ews/Exchange.asmx", 6), (std::set<std::string>{"EX01", "EX02"}));

    fleet_->server(0).set_component_state("OwaProxy", "HealthApi", true);
    ASSERT_TRUE(eventually([&] { return healthy("owa", 0); }));
    EXPECT_EQ(answered(http(), "/owa/", 6), (std::set<std::string>{"EX01", "EX02"}));
}

TEST_F(ProxyHealth, EveryServerDownAnswers502Point4AndOneBackRecovers) {
    start_fleet(2);
    start_proxy(config_json());
    for (std::size_t i = 0; i < 2; ++i)
        fleet_->server(i).set_component_state("OwaProxy", "HealthApi", false);
    ASSERT_TRUE(eventually([&] { return !healthy("owa", 0) && !healthy("owa", 1); }));
    auto r = get(http(), "/owa/");
    EXPECT_EQ(r.result_int(), 502);
    EXPECT_EQ(r["X-Gatehouse-Error"], "502.4.0");
    EXPECT_EQ(proxy().stats().farm("owa")->no_server_requests, 1u);

    fleet_->server(1).set_component_state("OwaProxy", "HealthApi", true);
    ASSERT_TRUE(eventually([&] { return healthy("owa", 1); }));
    auto back = get(http(), "/owa/");
    EXPECT_NE(back.result_int(), 502);
    EXPECT_EQ(answered_by(back), "EX02");
}

TEST_F(ProxyHealth, MinServersKeepsTheLastServerInWhateverTheTestSays) {
    start_fleet(2);
    auto json = config_json();
    // The owa farm's health test keeps one server in.
    const std::string match = R"("match": "200 OK")";
    json.replace(json.find(match), match.size(), R"("match": "200 OK", "min_servers": 1)");
    start_proxy(json);
    for (std::size_t i = 0; i < 2; ++i)
        fleet_->server(i).set_component_state("OwaProxy", "HealthApi", false);
    ASSERT_TRUE(eventually([&] { return !healthy("owa", 0) || !healthy("owa", 1); }));
    // Both fail their tests for a while; exactly one stays in.
    auto probes = proxy().health_probes_sent();
    ASSERT_TRUE(eventually([&] { return proxy().health_probes_sent() >= probes + 12; }));
    EXPECT_NE(healthy("owa", 0), healthy("owa", 1));
    EXPECT_NE(get(http(), "/owa/").result_int(), 502);
}

TEST_F(ProxyHealth, ExactlyOneProbePerServerPerIntervalWhateverTheThreadCount) {
    start_fleet(2);
    auto json = config_json();
    start_proxy(json, 4);
    const auto started = steady_clock::now();
    ASSERT_TRUE(eventually([&] { return proxy().health_probes_sent() >= 60; }));
    auto elapsed = steady_clock::now() - started;
    auto counts = [&](std::size_t server) {
        std::map<std::string, std::size_t> per_vdir;
        for (const auto& r : fleet_->server(server).observations().log)
            if (r.health_probe) ++per_vdir[r.route];
        return per_vdir;
    };
    // 50 ms interval: at most one probe per server and farm per interval, plus the first.
    auto bound = static_cast<std::size_t>(elapsed / 50ms) + 2;
    for (std::size_t s = 0; s < 2; ++s) {
        auto per_vdir = counts(s);
        EXPECT_EQ(per_vdir.size(), 3u);
        for (const auto& [vdir, n] : per_vdir) {
            EXPECT_GE(n, 2u) << vdir;
            EXPECT_LE(n, bound) << vdir << " on server " << s;
        }
    }
}

TEST_F(ProxyHealth, AdminMarksUnhealthyAndTheNextPassingTestBringsItBack) {
    start_fleet(2);
    auto json = config_json();
    start_proxy(json);
    ASSERT_TRUE(proxy().set_server_health("owa", authority(0), false));
    EXPECT_FALSE(healthy("owa", 0));
    ASSERT_TRUE(eventually([&] { return healthy("owa", 0); }));  // ARR: the next good test
    auto bad = proxy().set_server_health("owa", "10.9.9.9:80", false);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error(), proxy::make_error_code(proxy::control_errc::unknown_server));
    EXPECT_EQ(proxy().set_server_state("nope", "0", proxy::availability::drain).error(),
              proxy::make_error_code(proxy::control_errc::unknown_farm));
}

TEST_F(ProxyHealth, LiveTrafficFailuresMarkAServerUnhealthyUntilTheTestSaysOtherwise) {
    start_fleet(2);
    // No health test on owa: only an admin action brings the server back.
    auto json = config_json(R"(, "live_traffic": { "failure_statuses": "500-599",
                                  "max_failures": 2, "failover_period_ms": 60000 })");
    start_proxy(without_owa_health(json));
    fleet_->server(0).patch(
        nlohmann::json::parse(R"({"vdirs":{"owa":{"faults":{"error_status":500,
                                                              "error_rate":1}}}})"));
    ASSERT_TRUE(eventually([&] {
        get(http(), "/owa/");
        return !healthy("owa", 0);
    }));
    EXPECT_EQ(answered(http(), "/owa/", 4), (std::set<std::string>{"EX02"}));
    ASSERT_TRUE(proxy().set_server_health("owa", "0", true));
    EXPECT_TRUE(healthy("owa", 0));
}

}  // namespace
}  // namespace gatehouse::test
