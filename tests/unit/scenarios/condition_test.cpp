#include "scenarios/condition.hpp"

#include <cmath>
#include <gtest/gtest.h>

namespace gatehouse::scenarios {
namespace {

TEST(Condition, ParsesEveryOperator) {
    EXPECT_TRUE(parse_condition("< 0.01")->holds(0.005));
    EXPECT_FALSE(parse_condition("<0.01")->holds(0.01));
    EXPECT_TRUE(parse_condition("<= 0.01")->holds(0.01));
    EXPECT_TRUE(parse_condition("> 5")->holds(6));
    EXPECT_TRUE(parse_condition(">= 5")->holds(5));
    EXPECT_TRUE(parse_condition("== 0")->holds(0));
    EXPECT_TRUE(parse_condition("!= 0")->holds(1));
}

TEST(Condition, RejectsWhatIsNotACondition) {
    for (const char* bad : {"", "5", "< ", "<< 5", "= 5", "< five", "< 5ms"})
        EXPECT_FALSE(parse_condition(bad)) << bad;
}

TEST(Condition, NanNeverHolds) {
    EXPECT_FALSE(parse_condition("!= 1")->holds(std::nan("")));
}

TEST(Condition, TextIsNormalised) { EXPECT_EQ(parse_condition("<=0.5")->text(), "<= 0.5"); }

}  // namespace
}  // namespace gatehouse::scenarios
