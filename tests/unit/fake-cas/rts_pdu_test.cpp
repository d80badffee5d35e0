#include "fake-cas/rts_pdu.hpp"

#include <gtest/gtest.h>

namespace gatehouse::fake_cas {
namespace {

// Ready-to-send PDUs from exchange-protocols.md §4.5 (ConnectionTimeout 120000 ms).
TEST(RtsPdu, ServerPdusMatchTheSpecifiedBytes) {
    EXPECT_EQ(hex_encode(rts::conn_a3(120000)),
              "05001403100000001c00000000000000000001000200000"
              "0c0d40100");
    EXPECT_EQ(
        hex_encode(rts::conn_c2(65536, 120000)),
        "05001403100000002c00000000000000000003000600000001000000000000000000010002000000c0d40100");
    EXPECT_EQ(hex_encode(rts::ping()), "0500140310000000140000000000000001000000");
    EXPECT_EQ(hex_encode(rts::echo()), "0500140310000000140000000000000040000000");
}

TEST(RtsPdu, EstablishmentPdusHaveTheirSpecifiedSizes) {
    rts::cookie vc{}, ch{}, group{};
    vc[0] = 1;
    ch[0] = 2;
    group[0] = 3;
    EXPECT_EQ(rts::conn_a1(vc, ch).size(), 76u);
    EXPECT_EQ(rts::conn_b1(vc, ch, group).size(), 104u);
    EXPECT_EQ(rts::conn_a3(1).size(), 28u);
    EXPECT_EQ(rts::conn_c2(1, 1).size(), 44u);
}

TEST(RtsPdu, ParsesCookiesAndKeepAliveOutOfB1) {
    rts::cookie vc{}, ch{}, group{};
    vc.fill(0x11);
    ch.fill(0x22);
    group.fill(0x33);
    auto b1 = rts::conn_b1(vc, ch, group, 1073741824, 60000);
    auto p = rts::parse_rts(b1);
    ASSERT_TRUE(p);
    EXPECT_EQ(p->virtual_connection, vc);
    EXPECT_EQ(p->channel, ch);
    EXPECT_EQ(p->association_group, group);
    EXPECT_EQ(p->client_keepalive, 60000u);
    EXPECT_EQ(p->channel_lifetime, 1073741824u);
}

TEST(RtsPdu, TruncatedPdusAreRejected) {
    rts::cookie vc{}, ch{};
    auto a1 = rts::conn_a1(vc, ch);
    for (std::size_t n = 0; n < a1.size(); ++n)
        EXPECT_FALSE(rts::parse_rts(std::span(a1.data(), n))) << n;
}

TEST(RtsPdu, EchoServiceAnswersARequestWithTheSameCallId) {
    bytes stub(100, 0x5a);
    auto req = rts::request(42, stub);
    auto reply = rts::reply_to(req, 0);
    ASSERT_TRUE(reply);
    auto h = rts::parse_header(*reply);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->ptype, rts::ptype_response);
    EXPECT_EQ(h->call_id, 42u);
    EXPECT_EQ(h->frag_length, 24u + 100u);
    auto sized = rts::reply_to(req, 10);
    EXPECT_EQ(sized->size(), 34u);
}

TEST(RtsPdu, RtsPdusGetNoEchoReply) {
    EXPECT_FALSE(rts::reply_to(rts::ping(), 0));
}

}  // namespace
}  // namespace gatehouse::fake_cas
