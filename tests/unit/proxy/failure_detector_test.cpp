#include "proxy/error_triple.hpp"
#include "proxy/failure_detector.hpp"

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

using namespace std::chrono_literals;

const request_outcome reset_by_server{0, errors::connection_error.win32};
const request_outcome ok{200, 0};
const request_outcome server_error{500, 0};

live_traffic_config live(std::uint32_t max, milliseconds period) {
    live_traffic_config c;
    c.max_failures = max;
    c.failover_period = period;
    return c;
}

TEST(LiveTrafficDetector, MaxFailuresWithinThePeriodMarkTheServer) {
    live_traffic_detector d(live(3, 10s));
    steady_time t{};
    EXPECT_FALSE(d.record(reset_by_server, t));
    EXPECT_FALSE(d.record(reset_by_server, t + 4s));
    EXPECT_TRUE(d.record(reset_by_server, t + 9s));
}

TEST(LiveTrafficDetector, FailuresOlderThanThePeriodDoNotCount) {
    live_traffic_detector d(live(3, 10s));
    steady_time t{};
    d.record(reset_by_server, t);
    d.record(reset_by_server, t + 5s);
    EXPECT_FALSE(d.record(reset_by_server, t + 10s));  // the first one just left the window
    EXPECT_EQ(d.failures_in_window(t + 10s), 2u);
    EXPECT_TRUE(d.record(reset_by_server, t + 11s));
}

TEST(LiveTrafficDetector, OnlyConfiguredStatusesAndErrorKindsCount) {
    auto c = live(1, 10s);
    c.failure_statuses = {{500, 599}};
    c.failure_errors = {errors::timeout.win32};
    live_traffic_detector d(c);
    EXPECT_FALSE(d.is_failure(ok));
    EXPECT_TRUE(d.is_failure(server_error));
    EXPECT_FALSE(d.is_failure(reset_by_server));
    EXPECT_TRUE(d.is_failure({0, errors::timeout.win32}));
    EXPECT_FALSE(d.is_failure({404, 0}));
}

TEST(LiveTrafficDetector, OffWhileMaxFailuresIsZero) {
    live_traffic_detector d(live(0, 10s));
    EXPECT_FALSE(d.record(reset_by_server, steady_time{}));
}

outlier_config outlier(std::uint32_t run, milliseconds base) {
    outlier_config c;
    c.enabled = true;
    c.consecutive_failures = run;
    c.base_ejection_time = base;
    return c;
}

TEST(OutlierDetector, ConsecutiveFailuresEjectForBaseTimesEjections) {
    outlier_detector d(outlier(3, 30s));
    steady_time t{};
    EXPECT_FALSE(d.record(server_error, t));
    EXPECT_FALSE(d.record(reset_by_server, t));
    EXPECT_TRUE(d.record(server_error, t));
    d.eject(t);
    EXPECT_TRUE(d.ejected(t + 29s));
    EXPECT_FALSE(d.ejected(t + 30s));
    // Back at 30 s and failing again at once: the second ejection lasts twice as long.
    for (int i = 0; i < 2; ++i) EXPECT_FALSE(d.record(server_error, t + 30s));
    EXPECT_TRUE(d.record(server_error, t + 30s));
    d.eject(t + 30s);
    EXPECT_EQ(d.ejected_until(), t + 90s);
}

TEST(OutlierDetector, ASuccessBreaksTheRun) {
    outlier_detector d(outlier(2, 30s));
    steady_time t{};
    EXPECT_FALSE(d.record(server_error, t));
    EXPECT_FALSE(d.record(ok, t));
    EXPECT_FALSE(d.record(server_error, t));
    EXPECT_TRUE(d.record(server_error, t));
}

TEST(OutlierDetector, QuietTimeForgivesEjections) {
    outlier_detector d(outlier(1, 10s));
    steady_time t{};
    d.record(server_error, t);
    d.eject(t);  // until 10 s
    EXPECT_EQ(d.ejections(), 1u);
    // Quiet for a whole base time after the ejection ended: the next one is 1 × base again.
    EXPECT_FALSE(d.record(ok, t + 20s));
    EXPECT_EQ(d.ejections(), 0u);
    EXPECT_TRUE(d.record(server_error, t + 20s));
    d.eject(t + 20s);
    EXPECT_EQ(d.ejected_until(), t + 30s);
}

TEST(OutlierDetector, MaxEjectionShareAlwaysAllowsOne) {
    EXPECT_TRUE(may_eject(0, 2, 10));
    EXPECT_FALSE(may_eject(1, 2, 10));
    EXPECT_TRUE(may_eject(1, 4, 50));
    EXPECT_FALSE(may_eject(2, 4, 50));
}

TEST(SlowStart, WeightRampsLinearlyFromTenPercent) {
    EXPECT_EQ(slow_start_weight(100, 0ms, 10s), 10u);
    EXPECT_EQ(slow_start_weight(100, 5s, 10s), 55u);
    EXPECT_EQ(slow_start_weight(100, 10s, 10s), 100u);
    EXPECT_EQ(slow_start_weight(100, 60s, 10s), 100u);
    EXPECT_EQ(slow_start_weight(1, 0ms, 10s), 1u);
}

}  // namespace
}  // namespace gatehouse::proxy
