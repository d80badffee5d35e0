#include "fake-cas/ntlm.hpp"

#include <gtest/gtest.h>

namespace gatehouse::fake_cas {
namespace {

using namespace std::chrono_literals;

ntlm_challenge_params params() {
    ntlm_challenge_params p;
    p.server_challenge = {1, 2, 3, 4, 5, 6, 7, 8};
    p.nb_domain = "CONTOSO";
    p.nb_computer = "EX01";
    p.dns_domain = "contoso.local";
    p.dns_computer = "ex01.contoso.local";
    p.filetime = 133000000000000000ull;
    return p;
}

bytes blob() {
    // NTLMv2 client blob: header, timestamp, client challenge, reserved, AV pairs (EOL).
    bytes b = {1, 1, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(i));
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<std::uint8_t>(0xa0 + i));
    b.insert(b.end(), {0, 0, 0, 0, 0, 0, 0, 0});
    return b;
}

TEST(Ntlm, Md4MatchesRfc1320Vectors) {
    auto hex = [](std::string_view s) {
        return hex_encode(md4({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}));
    };
    EXPECT_EQ(hex(""), "31d6cfe0d16ae931b73c59d7e0c089c0");
    EXPECT_EQ(hex("abc"), "a448017aaf21d8525fc10ae87aa6729d");
    EXPECT_EQ(
        hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"),
        "e33b4ddc9c38f2199c3e7b164fcc0536");
}

TEST(Ntlm, NtHashOfPasswordIsTheKnownValue) {
    // MS-NLMP 4.2.1: NTOWFv1("Password") = a4f49c406510bdcab6824ee7c30fd852
    EXPECT_EQ(hex_encode(md4(utf16le("Password"))), "a4f49c406510bdcab6824ee7c30fd852");
}

TEST(Ntlm, NtowfV2MatchesTheSpecificationExample) {
    // MS-NLMP 4.2.4.1.1: user "User", domain "Domain", password "Password"
    EXPECT_EQ(hex_encode(ntowf_v2("Password", "User", "Domain")),
              "0c868a403bfd7a93a3001ef22ef02e3f");
}

TEST(Ntlm, ChallengeCarriesTheServersOwnNames) {
    auto type2 = build_ntlm_challenge(params());
    EXPECT_EQ(ntlm_message_type(type2), 2);
    auto v = parse_ntlm_challenge(type2);
    ASSERT_TRUE(v);
    EXPECT_EQ(v->target_name, "CONTOSO");
    EXPECT_EQ(v->nb_computer, "EX01");
    EXPECT_EQ(v->dns_computer, "ex01.contoso.local");
    EXPECT_EQ(v->server_challenge, params().server_challenge);
    EXPECT_TRUE(v->flags & ntlm_flags::target_info);
}

TEST(Ntlm, AuthenticateMessageRoundTrips) {
    auto nt =
        compute_ntlm_v2_response("P@ssw0rd", "jdoe", "CONTOSO", params().server_challenge, blob());
    auto type3 = build_ntlm_authenticate("jdoe", "CONTOSO", "WS01", nt);
    auto a = parse_ntlm_authenticate(type3);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->user, "jdoe");
    EXPECT_EQ(a->domain, "CONTOSO");
    EXPECT_EQ(a->workstation, "WS01");
    EXPECT_TRUE(verify_ntlm_v2(*a, "P@ssw0rd", params().server_challenge));
    EXPECT_FALSE(verify_ntlm_v2(*a, "wrong", params().server_challenge));
    std::array<std::uint8_t, 8> other{9, 9, 9, 9, 9, 9, 9, 9};
    EXPECT_FALSE(verify_ntlm_v2(*a, "P@ssw0rd", other));  // spliced onto another challenge
}

TEST(Ntlm, TruncatedMessagesAreRejected) {
    auto type3 = build_ntlm_authenticate("jdoe", "CONTOSO", "WS01", bytes(40, 1));
    type3.resize(70);  // fields now point past the end
    EXPECT_FALSE(parse_ntlm_authenticate(type3));
    EXPECT_EQ(ntlm_message_type(bytes{'N', 'T', 'L'}), 0);
}

TEST(Ntlm, HandshakeChallengesThenAuthenticatesOnTheSameConnection) {
    ntlm_handshake h;
    auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    auto r1 = h.on_token(build_ntlm_negotiate(), params(), t0, 120s);
    ASSERT_EQ(r1.kind, ntlm_handshake::outcome::challenge);
    EXPECT_TRUE(h.challenged());
    auto nt = compute_ntlm_v2_response("x", "jdoe", "CONTOSO", params().server_challenge, blob());
    auto r2 =
        h.on_token(build_ntlm_authenticate("jdoe", "CONTOSO", "WS", nt), params(), t0 + 1s, 120s);
    ASSERT_EQ(r2.kind, ntlm_handshake::outcome::authenticate);
    EXPECT_EQ(r2.auth.user, "jdoe");
    EXPECT_EQ(r2.server_challenge, params().server_challenge);
    EXPECT_FALSE(h.challenged());
}

TEST(Ntlm, Type3WithoutAChallengeOnThisConnectionIsRejected) {
    ntlm_handshake fresh;  // another connection: it never issued a Type 2
    auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    auto r = fresh.on_token(build_ntlm_authenticate("jdoe", "CONTOSO", "WS", bytes(40, 1)),
                            params(), t0, 120s);
    EXPECT_EQ(r.kind, ntlm_handshake::outcome::reject);
}

TEST(Ntlm, ExpiredChallengeIsRejected) {
    ntlm_handshake h;
    auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    h.on_token(build_ntlm_negotiate(), params(), t0, 120s);
    auto r = h.on_token(build_ntlm_authenticate("jdoe", "CONTOSO", "WS", bytes(40, 1)), params(),
                        t0 + 121s, 120s);
    EXPECT_EQ(r.kind, ntlm_handshake::outcome::reject);
}

TEST(Ntlm, SpnegoWrappedTokenIsUnwrapped) {
    auto type1 = build_ntlm_negotiate();
    auto wrapped = spnego_response(type1);  // any DER around an NTLMSSP token
    auto inner = unwrap_spnego_ntlm(wrapped);
    ASSERT_TRUE(inner);
    EXPECT_EQ(*inner, type1);
    EXPECT_FALSE(unwrap_spnego_ntlm(bytes{0x60, 0x82, 0x01, 0x00}));  // a Kerberos ticket
    EXPECT_EQ(spnego_accept_completed(),
              (bytes{0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x00}));
}

}  // namespace
}  // namespace gatehouse::fake_cas
