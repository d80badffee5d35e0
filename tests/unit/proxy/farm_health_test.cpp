#include "proxy/farm_health.hpp"

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

using namespace std::chrono_literals;

// A farm of `n` servers (10.0.0.1 … ), built as the proxy builds it, without I/O.
struct farm_fixture {
    explicit farm_fixture(std::size_t n, const std::function<void(farm_config&)>& change = {}) {
        config c;
        c.listeners.push_back({.name = "http", .address = "127.0.0.1"});
        farm_config f;
        f.name = "owa";
        for (std::size_t i = 0; i < n; ++i)
            f.servers.push_back({.address = "10.0.0." + std::to_string(i + 1), .port = 80});
        if (change) change(f);
        c.farms.push_back(f);
        built = std::make_unique<snapshot>(c, 1, registry, "test", false);
    }
    const farm_snapshot& farm() const { return built->farms()[0]; }
    server_runtime& server(std::size_t i) const { return *farm().servers[i].runtime; }

    runtime_registry registry{1};
    std::unique_ptr<snapshot> built;
};

const steady_time t0 = steady_time{} + 1000s;
const request_outcome server_error{500, 0};

TEST(FarmHealth, MinServersRefusesToTakeTheLastHealthyServersOut) {
    farm_fixture f(2, [](farm_config& c) { c.health.min_servers = 1; });
    EXPECT_TRUE(apply_health_verdict(f.farm(), 0, false, t0));
    EXPECT_FALSE(apply_health_verdict(f.farm(), 1, false, t0));
    EXPECT_TRUE(f.server(1).healthy.load());
    EXPECT_TRUE(apply_health_verdict(f.farm(), 0, true, t0));
    EXPECT_TRUE(apply_health_verdict(f.farm(), 1, false, t0));  // one healthy remains
}

TEST(FarmHealth, LiveTrafficFailuresMarkTheServerUnhealthyOnlyWhenConfigured) {
    farm_fixture off(1);
    for (int i = 0; i < 10; ++i) record_outcome(off.farm(), 0, server_error, t0);
    EXPECT_TRUE(off.server(0).healthy.load());

    farm_fixture on(2, [](farm_config& c) {
        c.live_traffic.max_failures = 3;
        c.live_traffic.failure_statuses = {{500, 599}};
    });
    record_outcome(on.farm(), 0, server_error, t0);
    record_outcome(on.farm(), 0, server_error, t0 + 1s);
    EXPECT_TRUE(on.server(0).healthy.load());
    record_outcome(on.farm(), 0, server_error, t0 + 2s);
    EXPECT_FALSE(on.server(0).healthy.load());
}

TEST(FarmHealth, OutlierEjectionNeverTakesMoreThanTheMaximumShare) {
    farm_fixture f(4, [](farm_config& c) {
        c.outlier.enabled = true;
        c.outlier.consecutive_failures = 2;
        c.outlier.base_ejection_time = 30s;
        c.outlier.max_ejection_percent = 50;
    });
    for (std::size_t s = 0; s < 4; ++s)
        for (int i = 0; i < 2; ++i) record_outcome(f.farm(), s, server_error, t0);
    std::size_t ejected = 0;
    for (std::size_t s = 0; s < 4; ++s) ejected += f.server(s).ejected(t0) ? 1 : 0;
    EXPECT_EQ(ejected, 2u);
    EXPECT_TRUE(f.server(0).ejected(t0 + 29s));
    EXPECT_FALSE(f.server(0).ejected(t0 + 30s));
    EXPECT_FALSE(f.server(0).eligible(t0 + 1s));
    EXPECT_TRUE(f.server(0).eligible(t0 + 30s));
}

TEST(FarmHealth, OutcomesTellServerFailuresFromProxyFailures) {
    EXPECT_EQ(outcome_of(502, 3, 12030).win32, 12030u);
    EXPECT_EQ(outcome_of(502, 3, 12030).status, 0u);
    EXPECT_EQ(outcome_of(200, 0, 12030).status, 200u);  // cut off mid-body
    EXPECT_EQ(outcome_of(200, 0, 12030).win32, 12030u);
    EXPECT_EQ(outcome_of(200, 0, 64).win32, 0u);  // the client went away
    EXPECT_EQ(outcome_of(503, 0, 0).status, 503u);
}

}  // namespace
}  // namespace gatehouse::proxy
