#include "load/pacing.hpp"

#include <cmath>

#include <gtest/gtest.h>

namespace gatehouse::load {
namespace {

using namespace std::chrono_literals;

TEST(ArrivalSchedule, ConstantRatePutsArrivalNAtNOverRate) {
    auto s = arrival_schedule::constant(1000);
    EXPECT_EQ(s.due(0), run_duration(0));
    EXPECT_EQ(s.due(1), run_duration(1ms));
    EXPECT_EQ(s.due(999), run_duration(999ms));
    EXPECT_EQ(s.due(3'600'000), run_duration(3600s));
    EXPECT_FALSE(s.end());
}

TEST(ArrivalSchedule, FractionalRateIsExactToTheNanosecond) {
    auto s = arrival_schedule::constant(3);
    EXPECT_EQ(s.due(1), run_duration(333'333'333));
    EXPECT_EQ(s.due(3), run_duration(1s));
    EXPECT_EQ(s.due(300), run_duration(100s));
}

// A manual clock walks the run in 1 ms steps; at each step exactly the arrivals whose due time
// has passed are released, and none early.
TEST(ArrivalSchedule, ManualClockReleasesEachArrivalAtItsDueTime) {
    auto s = arrival_schedule::constant(250);  // every 4 ms
    std::uint64_t released = 0;
    for (run_duration now = 0ms; now <= 1s; now += 1ms) {
        while (auto due = s.due(released)) {
            if (*due > now) break;
            EXPECT_EQ(*due, run_duration(4ms) * static_cast<long>(released));
            ++released;
        }
        EXPECT_EQ(released, s.due_before(now + 1ns));
    }
    EXPECT_EQ(released, 251u);  // 0, 4, …, 1000 ms
}

TEST(ArrivalSchedule, DueBeforeCountsStrictlyEarlierArrivals) {
    auto s = arrival_schedule::constant(10);
    EXPECT_EQ(s.due_before(0ms), 0u);
    EXPECT_EQ(s.due_before(1ns), 1u);
    EXPECT_EQ(s.due_before(100ms), 1u);
    EXPECT_EQ(s.due_before(100ms + 1ns), 2u);
    EXPECT_EQ(s.due_before(10s), 100u);
}

TEST(ArrivalSchedule, LinearRampFollowsTheIntegralOfTheRate) {
    // 0 → 100/s over 10 s: N(t) = 5 t², so 500 arrivals; arrival n at sqrt(n/5) s.
    auto s = arrival_schedule::ramping(0, {{10s, 100}});
    EXPECT_EQ(s.due(0), run_duration(0));
    EXPECT_EQ(s.due(5), run_duration(1s));
    EXPECT_EQ(s.due(20), run_duration(2s));
    EXPECT_EQ(s.due(125), run_duration(5s));
    EXPECT_EQ(s.due(499), run_duration(std::llround(std::sqrt(499.0 / 5) * 1e9)));
    EXPECT_FALSE(s.due(500));
    EXPECT_EQ(s.end(), run_duration(10s));
    EXPECT_EQ(s.due_before(10s), 500u);
    EXPECT_DOUBLE_EQ(s.rate_at(5s), 50);
}

TEST(ArrivalSchedule, StagesChainAndRampDownToo) {
    // 10/s held 2 s (20 arrivals), then 10 → 0 over 2 s (10 arrivals).
    auto s = arrival_schedule::ramping(10, {{2s, 10}, {2s, 0}});
    EXPECT_EQ(s.due(19), run_duration(1900ms));
    EXPECT_EQ(s.due(20), run_duration(2s));
    // In the ramp down N(τ) = 10τ − 2.5τ²: 7.5 arrivals at τ = 1 s.
    auto d = s.due(27);
    ASSERT_TRUE(d);
    double tau = std::chrono::duration<double>(*d - 2s).count();
    EXPECT_NEAR(10 * tau - 2.5 * tau * tau, 7.0, 1e-9);
    EXPECT_FALSE(s.due(30));
    EXPECT_EQ(s.due_before(4s), 30u);
}

TEST(ArrivalSchedule, ScaledScheduleCarriesItsShareOfTheRate) {
    auto s = arrival_schedule::constant(1000).scaled(0.5);
    EXPECT_EQ(s.due(1), run_duration(2ms));
    auto r = arrival_schedule::ramping(0, {{10s, 100}}).scaled(0.25);
    EXPECT_EQ(r.due_before(10s), 125u);
}

TEST(VuSchedule, ConstantHoldsItsCount) {
    auto s = vu_schedule::constant(50);
    EXPECT_EQ(s.target_at(0s), 50u);
    EXPECT_EQ(s.target_at(10h), 50u);
    EXPECT_EQ(s.peak(), 50u);
    EXPECT_FALSE(s.end());
}

TEST(VuSchedule, RampInterpolatesAndRoundsDown) {
    auto s = vu_schedule::ramping(0, {{10s, 10}, {5s, 10}, {5s, 0}});
    EXPECT_EQ(s.target_at(0s), 0u);
    EXPECT_EQ(s.target_at(999ms), 0u);
    EXPECT_EQ(s.target_at(1s), 1u);
    EXPECT_EQ(s.target_at(9999ms), 9u);
    EXPECT_EQ(s.target_at(12s), 10u);
    EXPECT_EQ(s.target_at(17500ms), 5u);
    EXPECT_EQ(s.target_at(20s), 0u);
    EXPECT_EQ(s.peak(), 10u);
    EXPECT_EQ(s.end(), run_duration(20s));
}

}  // namespace
}  // namespace gatehouse::load
