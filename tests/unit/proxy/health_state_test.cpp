#include "proxy/health_state.hpp"

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

using namespace std::chrono_literals;

// A manual clock: the monitor only ever sees these time points.
struct manual_clock {
    steady_time now{};
    void advance(milliseconds d) { now += d; }
};

health_thresholds thresholds(milliseconds interval, milliseconds timeout, std::uint32_t rise = 1,
                             std::uint32_t fall = 1, milliseconds down = 0ms) {
    health_thresholds t;
    t.interval = interval;
    t.down_interval = down.count() ? down : interval;
    t.timeout = timeout;
    t.rise = rise;
    t.fall = fall;
    return t;
}

// Drives probes against a server that answers or not; returns the time the verdict turned.
// A failing probe is reported at start + timeout (no answer), a passing one at start + 5 ms.
steady_time run_until_change(health_monitor& m, manual_clock& clock, bool server_up,
                             milliseconds timeout) {
    for (int i = 0; i < 1000; ++i) {
        clock.now = m.next_probe();
        EXPECT_TRUE(m.probe_due(clock.now));
        m.probe_started(clock.now);
        clock.advance(server_up ? 5ms : timeout);
        if (m.probe_finished(server_up, clock.now)) return clock.now;
    }
    ADD_FAILURE() << "the verdict never changed";
    return clock.now;
}

TEST(HealthMonitor, ArrDefaultFlipsOnOneFailedProbe) {
    manual_clock clock;
    health_monitor m(thresholds(30s, 10s), clock.now);
    EXPECT_TRUE(m.healthy());
    auto changed = run_until_change(m, clock, false, 10s);
    EXPECT_FALSE(m.healthy());
    EXPECT_EQ(changed - steady_time{}, 10s);  // the first probe's timeout
}

TEST(HealthMonitor, DetectionTimeIsFallMinusOneIntervalsPlusTimeout) {
    manual_clock clock;
    health_monitor m(thresholds(10s, 3s, 1, 3), clock.now);
    auto changed = run_until_change(m, clock, false, 3s);
    EXPECT_EQ(changed - steady_time{}, 2 * 10s + 3s);
}

TEST(HealthMonitor, RecoveryTakesRiseProbesAtTheDownInterval) {
    manual_clock clock;
    health_monitor m(thresholds(10s, 3s, 2, 1, 1s), clock.now);
    run_until_change(m, clock, false, 3s);  // down at 3 s
    auto down_at = clock.now;
    auto changed = run_until_change(m, clock, true, 3s);
    EXPECT_TRUE(m.healthy());
    // The next probe is due one down_interval after the failed one started (at 0 s → 1 s), but
    // that one took 3 s: probes at 3 s (at once) and at 4 s, answered 5 ms later.
    EXPECT_EQ(down_at - steady_time{}, 3s);
    EXPECT_EQ(changed - steady_time{}, 4s + 5ms);
}

TEST(HealthMonitor, OneProbeInFlightAndOnePerIntervalNeverABurst) {
    manual_clock clock;
    health_monitor m(thresholds(30s, 60s), clock.now);
    m.probe_started(clock.now);
    clock.advance(45s);
    EXPECT_FALSE(m.probe_due(clock.now));  // still waiting for the first one
    m.probe_finished(true, clock.now);
    EXPECT_TRUE(m.probe_due(clock.now));  // overdue: at once, and only one
    m.probe_started(clock.now);
    m.probe_finished(true, clock.now + 1s);
    EXPECT_EQ(m.next_probe(), clock.now + 30s);
    EXPECT_FALSE(m.probe_due(clock.now + 29s));
}

TEST(HealthMonitor, ASinglePassBetweenFailuresResetsTheFallCount) {
    manual_clock clock;
    health_monitor m(thresholds(1s, 1s, 1, 2), clock.now);
    m.probe_started(clock.now);
    EXPECT_FALSE(m.probe_finished(false, clock.now));
    m.probe_started(clock.now);
    EXPECT_FALSE(m.probe_finished(true, clock.now));
    m.probe_started(clock.now);
    EXPECT_FALSE(m.probe_finished(false, clock.now));
    EXPECT_TRUE(m.healthy());
    m.probe_started(clock.now);
    EXPECT_TRUE(m.probe_finished(false, clock.now));
    EXPECT_FALSE(m.healthy());
}

TEST(HealthMonitor, ForcedVerdictIsWhereTheTestGoesOnFrom) {
    manual_clock clock;
    health_monitor m(thresholds(1s, 1s), clock.now);
    m.force(false);
    m.probe_started(clock.now);
    EXPECT_TRUE(m.probe_finished(true, clock.now));
    EXPECT_TRUE(m.healthy());
}

TEST(MinServers, KeepsThatManyHealthyServers) {
    EXPECT_TRUE(may_mark_unhealthy(2, 0));
    EXPECT_TRUE(may_mark_unhealthy(1, 0));
    EXPECT_TRUE(may_mark_unhealthy(2, 1));
    EXPECT_FALSE(may_mark_unhealthy(1, 1));
    EXPECT_FALSE(may_mark_unhealthy(0, 1));
}

TEST(ProbePasses, StatusRangesAndBodyMatch) {
    health_config c;
    c.acceptable_statuses = {{200, 200}, {300, 302}};
    EXPECT_TRUE(probe_passes(c, 200, ""));
    EXPECT_TRUE(probe_passes(c, 302, ""));
    EXPECT_FALSE(probe_passes(c, 503, ""));
    EXPECT_FALSE(probe_passes(c, 204, ""));
    c.match = "200 OK";
    EXPECT_TRUE(probe_passes(c, 200, "200 OK<br/>EX01.CONTOSO.LOCAL"));
    EXPECT_FALSE(probe_passes(c, 200, "250 ok"));
}

// A probe whose answer no longer counts leaves the verdict and the counts as they are, and the
// next one starts on the usual schedule.
TEST(HealthMonitor, ADiscardedProbeChangesNothingButTheSchedule) {
    manual_clock clock;
    health_monitor m(thresholds(100ms, 50ms, 2, 1), clock.now);
    m.force(false);
    m.probe_started(clock.now);
    clock.advance(5ms);
    EXPECT_FALSE(m.probe_finished(true, clock.now));  // one pass of the two rise needs
    EXPECT_EQ(m.consecutive_passes(), 1u);

    clock.now = m.next_probe();
    m.probe_started(clock.now);
    EXPECT_FALSE(m.probe_due(clock.now + 1s));  // one at a time
    clock.advance(5ms);
    m.probe_discarded(clock.now);
    EXPECT_FALSE(m.in_flight());
    EXPECT_FALSE(m.healthy());
    EXPECT_EQ(m.consecutive_passes(), 1u);
    EXPECT_EQ(m.next_probe(), clock.now - 5ms + 100ms);

    // A discarded probe that outlived the period is followed at once.
    clock.now = m.next_probe();
    m.probe_started(clock.now);
    clock.advance(300ms);
    m.probe_discarded(clock.now);
    EXPECT_EQ(m.next_probe(), clock.now);
}

}  // namespace
}  // namespace gatehouse::proxy
