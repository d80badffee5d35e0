#include "scenarios/vip_state.hpp"

#include <gtest/gtest.h>

namespace gatehouse::scenarios {
namespace {

using namespace std::chrono_literals;
const auto t0 = std::chrono::steady_clock::time_point{} + 1h;

TEST(VipState, ActiveMovesToThePassiveNodeAfterFallFailures) {
    vip_state vip(2, {.fall = 3, .rise = 2, .preempt = true});
    EXPECT_EQ(vip.active(), 0u);
    EXPECT_FALSE(vip.on_probe(0, false, t0));
    EXPECT_FALSE(vip.on_probe(0, false, t0 + 1s));
    EXPECT_TRUE(vip.on_probe(0, false, t0 + 2s));
    EXPECT_EQ(vip.active(), 1u);
    ASSERT_EQ(vip.transitions().size(), 1u);
    EXPECT_EQ(vip.transitions()[0].at, t0 + 2s);
    EXPECT_EQ(vip.transitions()[0].from, 0u);
    EXPECT_EQ(vip.transitions()[0].to, 1u);
}

TEST(VipState, ASuccessResetsTheFailureCount) {
    vip_state vip(2, {.fall = 2, .rise = 1, .preempt = true});
    vip.on_probe(0, false, t0);
    vip.on_probe(0, true, t0 + 1s);
    vip.on_probe(0, false, t0 + 2s);
    EXPECT_EQ(vip.active(), 0u);
}

TEST(VipState, PreemptionReturnsTheAddressAfterRiseSuccesses) {
    vip_state vip(2, {.fall = 1, .rise = 2, .preempt = true});
    vip.on_probe(0, false, t0);
    ASSERT_EQ(vip.active(), 1u);
    vip.on_probe(0, true, t0 + 1s);
    EXPECT_EQ(vip.active(), 1u);
    vip.on_probe(0, true, t0 + 2s);
    EXPECT_EQ(vip.active(), 0u);
}

TEST(VipState, WithoutPreemptionTheNewOwnerKeepsIt) {
    vip_state vip(2, {.fall = 1, .rise = 1, .preempt = false});
    vip.on_probe(0, false, t0);
    vip.on_probe(0, true, t0 + 1s);
    EXPECT_EQ(vip.active(), 1u);
}

TEST(VipState, NoOwnerWhenEveryNodeIsDown) {
    vip_state vip(2, {.fall = 1, .rise = 1, .preempt = true});
    vip.on_probe(0, false, t0);
    vip.on_probe(1, false, t0);
    EXPECT_FALSE(vip.active());
    vip.on_probe(1, true, t0 + 1s);
    EXPECT_EQ(vip.active(), 1u);
}

}  // namespace
}  // namespace gatehouse::scenarios
