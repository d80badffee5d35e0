#include "load/ntlm.hpp"

#include "load/base64.hpp"
#include "load/md4.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace gatehouse::load {
namespace {

std::string hex(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}
std::string hex(const ntlm::bytes16& b) {
    return hex(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
}
std::string unhex(std::string_view h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
        while (h[i] == ' ') ++i;
        out += char(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
    }
    return out;
}

std::string md4_hex(std::string_view s) {
    auto d = md4({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()});
    return hex(d);
}

// RFC 1320 appendix A.5.
TEST(Md4, MatchesTheRfc1320TestSuite) {
    EXPECT_EQ(md4_hex(""), "31d6cfe0d16ae931b73c59d7e0c089c0");
    EXPECT_EQ(md4_hex("a"), "bde52cb31de33e46245e05fbdbd6fb24");
    EXPECT_EQ(md4_hex("abc"), "a448017aaf21d8525fc10ae87aa6729d");
    EXPECT_EQ(md4_hex("message digest"), "d9130a8164549fe818874806e1c7014b");
    EXPECT_EQ(md4_hex("abcdefghijklmnopqrstuvwxyz"), "d79e1c308aa5bbcdeea8ed63df412da9");
    EXPECT_EQ(md4_hex("12345678901234567890123456789012345678901234567890123456789012345678901"
                      "234567890"),
              "e33b4ddc9c38f2199c3e7b164fcc0536");
}

TEST(Base64, RoundTripsAndRejectsMalformedInput) {
    EXPECT_EQ(base64_encode("Aladdin:open sesame"), "QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
    EXPECT_EQ(base64_decode("QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), "Aladdin:open sesame");
    for (std::string s :
         std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)})
        EXPECT_EQ(base64_decode(base64_encode(s)), s);
    EXPECT_FALSE(base64_decode("abc"));
    EXPECT_FALSE(base64_decode("ab=c"));
    EXPECT_FALSE(base64_decode("a==="));
    EXPECT_FALSE(base64_decode("ab!d"));
}

// [MS-NLMP] §4.2.1 common values and §4.2.4 NTLMv2 results.
const ntlm::identity spec_identity{
    .domain = "Domain", .user = "User", .password = "Password", .workstation = "COMPUTER"};
const ntlm::bytes8 spec_client_challenge{0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa, 0xaa};
// §4.2.4.3 CHALLENGE_MESSAGE.
const std::string spec_challenge = unhex(
    "4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef"
    "00000000000000002400240044000000060070170000000f5300650072007600"
    "6500720002000c0044006f006d00610069006e0001000c005300650072007600"
    "6500720000000000");

TEST(Ntlm, NtowfV2MatchesTheSpecification) {
    EXPECT_EQ(hex(ntlm::ntowf_v2("Password", "User", "Domain")),
              "0c868a403bfd7a93a3001ef22ef02e3f");
}

TEST(Ntlm, ParsesTheSpecificationChallenge) {
    auto c = ntlm::parse_challenge(spec_challenge);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->flags, 0xe28a8233u);
    EXPECT_EQ(hex(std::string_view(reinterpret_cast<const char*>(c->server_challenge.data()), 8)),
              "0123456789abcdef");
    EXPECT_EQ(c->target_name, ntlm::utf16le("Server"));
    EXPECT_EQ(c->target_info.size(), 36u);
    EXPECT_EQ(c->netbios_computer, "Server");
    EXPECT_FALSE(c->timestamp);
}

TEST(Ntlm, V2ResponsesMatchTheSpecificationVectors) {
    auto c = ntlm::parse_challenge(spec_challenge);
    ASSERT_TRUE(c);
    auto r = ntlm::compute_v2(spec_identity, *c, spec_client_challenge, 0);
    EXPECT_EQ(hex(r.lm), "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa");
    EXPECT_EQ(hex(r.nt.substr(0, 16)), "68cd0ab851e51c96aabc927bebef6a1c");
    EXPECT_EQ(hex(r.session_base_key), "8de40ccadbc14a82f15cb0ad0de95ca3");
}

TEST(Ntlm, AuthenticateMessageCarriesTheSpecificationResponsesAndNames) {
    auto c = ntlm::parse_challenge(spec_challenge);
    ASSERT_TRUE(c);
    auto m = ntlm::authenticate_message(spec_identity, *c, spec_client_challenge, 0);
    ASSERT_GE(m.size(), 72u);
    EXPECT_EQ(m.substr(0, 12), std::string("NTLMSSP\0\3\0\0\0", 12));
    auto field = [&](std::size_t at) {
        std::size_t len = std::uint8_t(m[at]) | std::uint8_t(m[at + 1]) << 8;
        std::size_t off = std::uint8_t(m[at + 4]) | std::uint8_t(m[at + 5]) << 8;
        return m.substr(off, len);
    };
    EXPECT_EQ(hex(field(12)), "86c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa");
    // The NT response of §4.2.4.3 (0x54 bytes at offset 0x84 there), byte for byte.
    EXPECT_EQ(hex(field(20)),
              "68cd0ab851e51c96aabc927bebef6a1c0101000000000000"
              "0000000000000000aaaaaaaaaaaaaaaa0000000002000c00"
              "44006f006d00610069006e0001000c005300650072007600"
              "650072000000000000000000");
    EXPECT_EQ(field(28), ntlm::utf16le("Domain"));
    EXPECT_EQ(field(36), ntlm::utf16le("User"));
    EXPECT_EQ(field(44), ntlm::utf16le("COMPUTER"));
    EXPECT_TRUE(field(52).empty());
    // The client never claims key exchange, sealing or signing it cannot do.
    std::uint32_t flags = std::uint8_t(m[60]) | std::uint8_t(m[61]) << 8 |
                          std::uint8_t(m[62]) << 16 | std::uint32_t(std::uint8_t(m[63])) << 24;
    EXPECT_EQ(flags & 0x40000030u, 0u);
    EXPECT_NE(flags & ntlm::negotiate_unicode, 0u);
}

TEST(Ntlm, NegotiateMessageIsType1WithTheClientFlags) {
    auto m = ntlm::negotiate_message();
    ASSERT_EQ(m.size(), 40u);
    EXPECT_EQ(m.substr(0, 12), std::string("NTLMSSP\0\1\0\0\0", 12));
    EXPECT_EQ(base64_encode(m).substr(0, 14), "TlRMTVNTUAABAA");
}

TEST(Ntlm, ServerTimestampIsEchoedInTheBlob) {
    auto c = ntlm::parse_challenge(spec_challenge);
    ASSERT_TRUE(c);
    c->timestamp = 0x01d0000000000001ull;
    auto r = ntlm::compute_v2(spec_identity, *c, spec_client_challenge, 42);
    EXPECT_EQ(hex(r.nt.substr(24, 8)), "010000000000d001");
}

TEST(Ntlm, TruncatedOrForeignChallengeIsRejected) {
    EXPECT_FALSE(ntlm::parse_challenge(spec_challenge.substr(0, 20)));
    EXPECT_FALSE(ntlm::parse_challenge(ntlm::negotiate_message()));
    auto broken = spec_challenge;
    broken[40] = char(0x7f);  // target info longer than the message
    EXPECT_FALSE(ntlm::parse_challenge(broken));
}

}  // namespace
}  // namespace gatehouse::load
