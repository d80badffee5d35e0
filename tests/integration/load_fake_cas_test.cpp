// gatehouse-load against the fake CAS fleet (fake-cas/): the profiles do on the wire what the
// simulated Exchange front ends expect — OWA forms logon, EWS with NTLM, an ActiveSync Ping held
// to its (time-scaled) heartbeat, a held RPC over HTTP channel pair — and the open model
// measures a latency fault exactly.
#include "fake-cas/fleet.hpp"
#include "load/runner.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace gatehouse::load {
namespace {

class LoadFakeCas : public ::testing::Test {
protected:
    static constexpr double time_scale = 0.01;

    LoadFakeCas() : fleet_(make_config()) { fleet_.start(); }
    ~LoadFakeCas() override { fleet_.stop(); }

    static fake_cas::fleet_config make_config() {
        auto config = fake_cas::default_fleet(1);
        config.time_scale = time_scale;
        config.control.enabled = false;
        return config;
    }

    plan profile_plan(std::string profile) {
        plan p;
        auto endpoint = fleet_.server(0).endpoint();
        p.target.host = endpoint.address().to_string();
        p.target.port = std::to_string(endpoint.port());
        p.target.host_header = "mail.contoso.com";
        p.workload.profile = std::move(profile);
        p.workload.time_scale = time_scale;
        p.account.user = "jdoe";
        p.count = 1;
        return p;
    }

    fake_cas::fleet fleet_;
};

TEST_F(LoadFakeCas, OwaUserLogsOnAndUsesTheMailbox) {
    auto p = profile_plan("owa");
    p.workload.tasks = 2;
    auto r = load_runner(p).run();
    EXPECT_EQ(r.totals.errors, 0u);
    EXPECT_EQ(r.iterations.completed, 1u);
    EXPECT_EQ(r.urls.at("owa.auth").by_status.at(302), 1u);
    EXPECT_EQ(r.urls.at("owa.service.FindItem").by_status.at(200), 1u);
}

TEST_F(LoadFakeCas, EwsClientAuthenticatesWithNtlm) {
    auto p = profile_plan("ews");
    p.workload.tasks = 3;
    auto r = load_runner(p).run();
    EXPECT_EQ(r.totals.errors, 0u);
    EXPECT_EQ(r.counters.at("ntlm_handshakes"), 1u);
    EXPECT_EQ(r.urls.at("ews.GetItem").requests, 1u);
}

// HeartbeatInterval 100 s at time_scale 0.01: the fake CAS holds the Ping 1 s, silently.
TEST_F(LoadFakeCas, ActiveSyncPingIsHeldToItsScaledHeartbeat) {
    auto p = profile_plan("activesync");
    p.workload.heartbeat = std::chrono::seconds(100);
    auto r = load_runner(p).run();
    EXPECT_EQ(r.totals.errors, 0u);
    const auto& ping = r.urls.at("eas.Ping").latency;
    EXPECT_GE(ping.min(), 950'000u);
    EXPECT_LT(ping.max(), 2'500'000u);
}

// The pair is held 200 s × 0.01 = 2 s with an RPC through it every 200 ms.
TEST_F(LoadFakeCas, OutlookAnywhereHoldsItsChannelPair) {
    auto p = profile_plan("outlook-anywhere");
    p.workload.rpc_hold = std::chrono::seconds(200);
    p.workload.rpc_interval = std::chrono::milliseconds(200);
    auto r = load_runner(p).run();
    EXPECT_EQ(r.totals.errors, 0u);
    EXPECT_EQ(r.urls.at("oa.connect").requests, 1u);
    EXPECT_GE(r.urls.at("oa.rpc").requests, 5u);
    EXPECT_EQ(r.urls.at("oa.hold").requests, 1u);
    EXPECT_GE(r.urls.at("oa.hold").latency.min(), 1'900'000u);
}

TEST_F(LoadFakeCas, MapiClientRunsItsSession) {
    auto p = profile_plan("mapi");
    auto r = load_runner(p).run();
    EXPECT_EQ(r.totals.errors, 0u);
    EXPECT_EQ(r.urls.at("mapi.Execute").requests, 5u);
}

// A latency fault of 2 s (× 0.01 = 20 ms) on every request: at 100 arrivals/s on 10
// connections there is no queue, so the open model reports the fault's latency itself.
TEST_F(LoadFakeCas, OpenModelMeasuresALatencyFault) {
    fleet_.server(0).patch(nlohmann::json::parse(R"({"faults":{"latency_ms":2000}})"));
    plan p = profile_plan("urls");
    p.workload.urls = {{.method = "GET", .target = "/owa/HealthCheck.htm"}};
    p.model.kind = model_kind::open;
    p.model.rate = 100;
    p.model.vus = 10;
    p.count.reset();
    p.duration = std::chrono::milliseconds(1000);
    auto r = load_runner(p).run();
    EXPECT_EQ(r.totals.errors, 0u);
    EXPECT_EQ(r.schedule.missed, 0u);
    auto p50 = double(r.totals.latency.value_at_quantile(0.5));
    EXPECT_GE(p50, 20'000.0);
    EXPECT_LE(p50, 20'000.0 * 1.5);
}

}  // namespace
}  // namespace gatehouse::load
