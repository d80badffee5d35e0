#include "proxy/percent_decoding.hpp"

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

TEST(PercentDecode, DecodesValidEscapesAndKeepsBrokenOnes) {
    std::string out;
    percent_decode("a%20b%2Fc%zz%4", out);
    EXPECT_EQ(out, "a b/c%zz%4");
}

}  // namespace
}  // namespace gatehouse::proxy
