#include "reports/report.hpp"

#include "tests/unit/reports/sample_report.hpp"

#include <gtest/gtest.h>

namespace gatehouse::reports {
namespace {

TEST(Report, CountsVerdictsDurationAndRequests) {
    auto t = count(test::sample_report());
    EXPECT_EQ(t.passed, 1u);
    EXPECT_EQ(t.failed, 1u);
    EXPECT_EQ(t.errors, 1u);
    EXPECT_EQ(t.unsupported, 1u);
    EXPECT_DOUBLE_EQ(t.duration_s, 8.4);
    EXPECT_EQ(t.requests, 8000u);
}

TEST(Report, VerdictNamesRoundTrip) {
    for (auto v : {verdict::passed, verdict::failed, verdict::error, verdict::unsupported})
        EXPECT_EQ(parse_verdict(to_string(v)), v);
    EXPECT_FALSE(parse_verdict("PASS"));
}

}  // namespace
}  // namespace gatehouse::reports
