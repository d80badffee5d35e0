#include "net/deadline_clock.hpp"

#include <gtest/gtest.h>

namespace gatehouse::net {
namespace {

using std::chrono::steady_clock;

TEST(DeadlineClock, SlackIsAFewMilliseconds) {
    EXPECT_GT(deadline_slack(), steady_clock::duration::zero());
    EXPECT_LE(deadline_slack(), std::chrono::milliseconds(100));
}

// The coarse reading is a past value of steady_clock's own clock: plus the slack, it is never
// more than the slack ahead of a later precise reading, and (unless a tick stalls for longer
// than the slack) not behind an earlier one.
TEST(DeadlineClock, TracksTheSteadyClockWithinTheSlack) {
    const auto slack = deadline_slack();
    for (int i = 0; i < 100'000; ++i) {
        const auto before = steady_clock::now();
        const auto d = deadline_now();
        const auto after = steady_clock::now();
        ASSERT_LE(d, after + slack) << "at reading " << i;
        ASSERT_GE(d, before - slack) << "at reading " << i;
    }
}

TEST(DeadlineClock, Advances) {
    const auto first = deadline_now();
    const auto give_up = steady_clock::now() + std::chrono::seconds(5);
    auto d = first;
    while (d == first && steady_clock::now() < give_up) d = deadline_now();
    EXPECT_GT(d, first);
}

}  // namespace
}  // namespace gatehouse::net
