#include "proxy/percent_decoding.hpp"

#include <random>

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

TEST(PercentDecode, DecodesValidEscapesAndKeepsBrokenOnes) {
    std::string out;
    percent_decode("a%20b%2Fc%zz%4", out);
    EXPECT_EQ(out, "a b/c%zz%4");
}

TEST(PercentDecode, HandlesEscapesAtTheEdges) {
    std::string out = "left over";
    const std::pair<std::string_view, std::string_view> cases[] = {
        {"", ""},
        {"%", "%"},
        {"%4", "%4"},
        {"%41", "A"},
        {"%%41", "%A"},
        {"100%", "100%"},
        {"/owa/", "/owa/"},
        {"%2f%2F", "//"},
        {"a%4g", "a%4g"},
        {"%41%42%43", "ABC"},
        {"x%00y", std::string_view("x\0y", 3)},
    };
    for (auto [in, want] : cases) {
        percent_decode(in, out);
        EXPECT_EQ(out, want) << "for \"" << in << '"';
    }
}

// One byte at a time, the plain way: what the run-copying decoder must agree with.
std::string reference_decode(std::string_view in) {
    auto hex = [](char c) {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    std::string out;
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] == '%' && i + 2 < in.size() && hex(in[i + 1]) >= 0 && hex(in[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex(in[i + 1]) * 16 + hex(in[i + 2])));
            i += 2;
        } else {
            out.push_back(in[i]);
        }
    }
    return out;
}

TEST(PercentDecode, AgreesWithAByteByByteDecoder) {
    std::mt19937 rng(7);
    const std::string_view alphabet = "%%%0123456789abcdefgABCDEFG/ ";
    std::string in, out;
    for (int i = 0; i < 20'000; ++i) {
        in.clear();
        const auto size = rng() % 12;
        for (std::size_t j = 0; j < size; ++j) in.push_back(alphabet[rng() % alphabet.size()]);
        percent_decode(in, out);
        ASSERT_EQ(out, reference_decode(in)) << "for \"" << in << '"';
    }
}

}  // namespace
}  // namespace gatehouse::proxy
