#include "net/http_date.hpp"

#include <gtest/gtest.h>

namespace gatehouse::net {
namespace {

TEST(HttpDate, FormatsImfFixdate) {
    EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    EXPECT_EQ(format_http_date(1751364000), "Tue, 01 Jul 2025 10:00:00 GMT");
}

TEST(HttpDate, CurrentDateHasFixedShape) {
    auto now = http_date();
    ASSERT_EQ(now.size(), 29u);
    EXPECT_EQ(now.substr(25), " GMT");
}

}  // namespace
}  // namespace gatehouse::net
