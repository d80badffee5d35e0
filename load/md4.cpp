#include "load/md4.hpp"

#include <bit>
#include <cstring>
#include <vector>

namespace gatehouse::load {

namespace {

std::uint32_t f(std::uint32_t x, std::uint32_t y, std::uint32_t z) {
    return (x & y) | (~x & z);
}
std::uint32_t g(std::uint32_t x, std::uint32_t y, std::uint32_t z) {
    return (x & y) | (x & z) | (y & z);
}
std::uint32_t h(std::uint32_t x, std::uint32_t y, std::uint32_t z) {
    return x ^ y ^ z;
}

void process_block(std::array<std::uint32_t, 4>& state, const std::uint8_t* block) {
    std::uint32_t x[16];
    for (int i = 0; i < 16; ++i)
        x[i] = std::uint32_t(block[4 * i]) | std::uint32_t(block[4 * i + 1]) << 8 |
               std::uint32_t(block[4 * i + 2]) << 16 | std::uint32_t(block[4 * i + 3]) << 24;
    auto [a, b, c, d] = state;

    // Round 1: [abcd k s] a = (a + F(b,c,d) + X[k]) <<< s
    static constexpr int s1[4] = {3, 7, 11, 19};
    for (int i = 0; i < 16; ++i) {
        std::uint32_t t = a + f(b, c, d) + x[i];
        a = d;
        d = c;
        c = b;
        b = std::rotl(t, s1[i % 4]);
    }
    // Round 2: a = (a + G(b,c,d) + X[k] + 5A827999) <<< s, k in column order
    static constexpr int s2[4] = {3, 5, 9, 13};
    for (int i = 0; i < 16; ++i) {
        int k = (i % 4) * 4 + i / 4;
        std::uint32_t t = a + g(b, c, d) + x[k] + 0x5A827999u;
        a = d;
        d = c;
        c = b;
        b = std::rotl(t, s2[i % 4]);
    }
    // Round 3: a = (a + H(b,c,d) + X[k] + 6ED9EBA1) <<< s, k in bit-reversed order
    static constexpr int s3[4] = {3, 9, 11, 15};
    static constexpr int k3[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
    for (int i = 0; i < 16; ++i) {
        std::uint32_t t = a + h(b, c, d) + x[k3[i]] + 0x6ED9EBA1u;
        a = d;
        d = c;
        c = b;
        b = std::rotl(t, s3[i % 4]);
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
}

}  // namespace

std::array<std::uint8_t, 16> md4(std::span<const std::uint8_t> data) {
    std::array<std::uint32_t, 4> state{0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    std::size_t full = data.size() / 64 * 64;
    for (std::size_t i = 0; i < full; i += 64) process_block(state, data.data() + i);

    // Padding: 0x80, zeros to 56 mod 64, then the bit length, little-endian.
    std::vector<std::uint8_t> tail(data.begin() + static_cast<std::ptrdiff_t>(full), data.end());
    tail.push_back(0x80);
    while (tail.size() % 64 != 56) tail.push_back(0);
    std::uint64_t bits = std::uint64_t(data.size()) * 8;
    for (int i = 0; i < 8; ++i) tail.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
    for (std::size_t i = 0; i < tail.size(); i += 64) process_block(state, tail.data() + i);

    std::array<std::uint8_t, 16> digest{};
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j)
            digest[4 * i + j] = static_cast<std::uint8_t>(state[i] >> (8 * j));
    return digest;
}

}  // namespace gatehouse::load
