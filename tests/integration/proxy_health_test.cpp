// Health tests against the fake CAS fleet: per-vdir failover with per-protocol farms, 502.4
// when every server is down and recovery after, minServers, and no probe bursts.

#include "net/certificate.hpp"
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

// The mark holds until a health test sent after it passes: the answer to one already out when
// the admin acted does not count. EX01's owa HealthCheck.htm answers after 1 s, so the test out
// at the mark answers about 1 s later and the next one about 2 s later.
TEST_F(ProxyHealth, AnAdminMarkOutlivesTheTestThatWasOutWhenItCame) {
    start_fleet(2);
    const double scale = fleet_->time_scale();
    fleet_->server(0).update([scale](fake_cas::server_config& c) {
        c.at(fake_cas::vdir::owa).health.latency_ms = static_cast<std::uint32_t>(1000 / scale);
    });
    auto json = config_json();
    const std::string timeout = R"("timeout_ms": 1000)";
    json.replace(json.find(timeout), timeout.size(), R"("timeout_ms": 5000)");  // owa's, first
    start_proxy(json);
    // Each farm's first probes start at once: owa's on EX01 is out once six are.
    ASSERT_TRUE(eventually([&] { return proxy().health_probes_sent() >= 6; }));
    const auto marked = steady_clock::now();
    ASSERT_TRUE(proxy().set_server_health("owa", authority(0), false));
    ASSERT_TRUE(eventually([&] { return healthy("owa", 0); }, 10s));
    // Brought back by the first answer it would have been within 1 s of the mark.
    EXPECT_GE(steady_clock::now() - marked, 1500ms);
}

TEST_F(ProxyHealth, LiveTrafficFailuresMarkAServerUnhealthyUntilTheTestSaysOtherwise) {
    start_fleet(2);
    // No health test on owa: only an admin action brings the server back.
    auto json = config_json(R"(, "live_traffic": { "failure_statuses": "500-599",
                                  "max_failures": 2, "failover_period_ms": 60000 })");
    start_proxy(without_owa_health(json));
    fleet_->server(0).patch(nlohmann::json::parse(R"({"vdirs":{"owa":{"faults":{"error_status":500,
                                                              "error_rate":1}}}})"));
    ASSERT_TRUE(eventually([&] {
        get(http(), "/owa/");
        return !healthy("owa", 0);
    }));
    EXPECT_EQ(answered(http(), "/owa/", 4), (std::set<std::string>{"EX02"}));
    ASSERT_TRUE(proxy().set_server_health("owa", "0", true));
    EXPECT_TRUE(healthy("owa", 0));
}

TEST_F(ProxyHealth, ProbesUseTheFarmsTlsAndItsVerificationSettings) {
    auto fc = fake_cas::default_fleet(2);
    for (auto& server : fc.servers) server.tls.enabled = true;
    fleet_ = std::make_unique<fake_cas::fleet>(std::move(fc));
    fleet_->start();
    auto make = [&](const std::string& trusted_pem) {
        std::string servers;
        for (std::size_t i = 0; i < 2; ++i)
            servers += std::string(i ? ", " : "") + R"({ "address": "127.0.0.1", "port": )" +
                       std::to_string(fleet_->server(i).endpoint().port()) +
                       R"(, "host_name": "localhost" })";
        auto c = proxy::parse_config(
            R"({ "listeners": { "http": { "address": "127.0.0.1", "port": 0 } },
                 "farms": { "owa": { "protocol": "https", "servers": [ )" +
                servers + R"( ],
                   "health": { "url": "/owa/HealthCheck.htm", "interval_ms": 50,
                               "timeout_ms": 1000 },
                   "tls": { "system_trust": false } } },
                 "rules": [ { "name": "owa", "pattern": ".*",
                              "action": { "type": "route", "farm": "owa" } } ] })",
            "test.json");
        c.farms[0].tls.trusted_ca_pem = trusted_pem;
        return c;
    };
    proxy::server_options options;
    options.threads = 1;
    proxies_.push_back(
        std::make_unique<proxy::proxy_server>(make(fleet_->authority().chain_pem), options));
    proxies_.back()->start();
    // Another node that does not trust the servers' authority: its probes fail verification.
    proxies_.push_back(std::make_unique<proxy::proxy_server>(
        make(net::make_authority("Some Other CA").chain_pem), options));
    proxies_.back()->start();

    ASSERT_TRUE(eventually([&] { return !healthy("owa", 0, 1) && !healthy("owa", 1, 1); }));
    EXPECT_EQ(get(http(1), "/owa/")["X-Gatehouse-Error"], "502.4.0");
    EXPECT_TRUE(healthy("owa", 0, 0));
    EXPECT_TRUE(healthy("owa", 1, 0));
    // The trusting node's probes get through the handshake (only they leave request records).
    ASSERT_TRUE(eventually([&] {
        std::size_t tls_probes = 0;
        for (const auto& r : fleet_->server(0).observations().log)
            if (r.health_probe) ++tls_probes;
        return tls_probes >= 2;
    }));
    EXPECT_TRUE(healthy("owa", 0, 0));
    EXPECT_NE(get(http(0), "/owa/").result_int(), 502);
}

}  // namespace
}  // namespace gatehouse::test
