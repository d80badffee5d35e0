// The protocol bytes the profiles put on the wire: WBXML (exchange-protocols.md §6.4), RTS
// PDUs (§4.5) and MAPI/HTTP bodies and meta-tags (§5).
#include "load/mapi_codec.hpp"
#include "load/rts.hpp"
#include "load/wbxml.hpp"

#include <gtest/gtest.h>

namespace gatehouse::load {
namespace {

std::string bytes(std::initializer_list<int> b) {
    std::string out;
    for (int c : b) out += char(c);
    return out;
}

TEST(Wbxml, PingRequestMatchesTheSpecificationBytes) {
    // §6.4: HeartbeatInterval=480, one Email folder "1".
    auto expected = bytes({0x03, 0x01, 0x6A, 0x00, 0x00, 0x0D, 0x45, 0x48, 0x03, 0x34, 0x38,
                           0x30, 0x00, 0x01, 0x49, 0x4A, 0x4B, 0x03, 0x31, 0x00, 0x01, 0x4C,
                           0x03, 0x45, 0x6D, 0x61, 0x69, 0x6C, 0x00, 0x01, 0x01, 0x01, 0x01});
    EXPECT_EQ(wbxml::ping_request(480, "1"), expected);
}

TEST(Wbxml, ReadsStatusAndHeartbeatFromPingResponses) {
    auto expired =
        bytes({0x03, 0x01, 0x6A, 0x00, 0x00, 0x0D, 0x45, 0x47, 0x03, 0x31, 0x00, 0x01, 0x01});
    EXPECT_EQ(wbxml::find_text(expired, wbxml::page_ping, wbxml::tag_ping_status), "1");
    auto out_of_range = bytes({0x03, 0x01, 0x6A, 0x00, 0x00, 0x0D, 0x45, 0x47, 0x03, 0x35, 0x00,
                               0x01, 0x48, 0x03, 0x33, 0x35, 0x34, 0x30, 0x00, 0x01, 0x01});
    EXPECT_EQ(wbxml::find_text(out_of_range, wbxml::page_ping, wbxml::tag_ping_status), "5");
    EXPECT_EQ(wbxml::find_text(out_of_range, wbxml::page_ping, wbxml::tag_ping_heartbeat), "3540");
    // The same token on another code page is not a match.
    EXPECT_FALSE(wbxml::find_text(expired, wbxml::page_airsync, 0x07));
    EXPECT_FALSE(wbxml::find_text("garbage", wbxml::page_ping, 0x07));
}

TEST(Wbxml, FolderSyncAndSyncRequestsCarryTheirKeys) {
    auto fs = wbxml::folder_sync_request("0");
    EXPECT_EQ(
        fs, bytes({0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01}));
    EXPECT_EQ(wbxml::find_text(fs, wbxml::page_folder_hierarchy, wbxml::tag_folder_sync_key), "0");
    auto first = wbxml::sync_request("0", "1");
    EXPECT_EQ(wbxml::find_text(first, wbxml::page_airsync, wbxml::tag_airsync_sync_key), "0");
    EXPECT_EQ(first.find(char(0x13)), std::string::npos);  // no GetChanges on the first Sync
    auto later = wbxml::sync_request("S1", "1");
    EXPECT_NE(later.find(char(0x13)), std::string::npos);
}

TEST(Rts, ConnA1AndB1HaveTheSpecifiedSizesAndCookies) {
    auto vc = rts::make_cookie(1, 2);
    auto out = rts::make_cookie(3, 4);
    auto in = rts::make_cookie(5, 6);
    auto group = rts::make_cookie(7, 8);
    auto a1 = rts::conn_a1(vc, out, 262144);
    ASSERT_EQ(a1.size(), 76u);
    EXPECT_EQ(a1.substr(0, 4), bytes({0x05, 0x00, 0x14, 0x03}));
    EXPECT_EQ(std::uint8_t(a1[8]), 76);
    EXPECT_EQ(a1.substr(32, 16), std::string(reinterpret_cast<const char*>(vc.data()), 16));
    auto b1 = rts::conn_b1(vc, in, 1073741824, 300000, group);
    ASSERT_EQ(b1.size(), 104u);
    EXPECT_EQ(b1.substr(32, 16), a1.substr(32, 16));  // the pairing key
    auto h = rts::peek(b1);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->type, rts::ptype_rts);
    EXPECT_EQ(h->rts_commands, 6);
}

TEST(Rts, PingAndServerPdusAreRecognised) {
    EXPECT_EQ(rts::ping(), bytes({0x05, 0x00, 0x14, 0x03, 0x10, 0x00, 0x00, 0x00, 0x14, 0x00,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00}));
    auto a3 =
        bytes({0x05, 0x00, 0x14, 0x03, 0x10, 0x00, 0x00, 0x00, 0x1C, 0x00, 0x00, 0x00, 0x00, 0x00,
               0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0xC0, 0xD4, 0x01, 0x00});
    ASSERT_TRUE(rts::peek(a3));
    EXPECT_TRUE(rts::is_conn_a3(*rts::peek(a3)));
    EXPECT_FALSE(rts::is_conn_c2(*rts::peek(a3)));
    EXPECT_FALSE(rts::peek(a3.substr(0, 10)));
    auto req = rts::request(77, 10, std::string(8, 'x'));
    auto h = rts::peek(req);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->type, rts::ptype_request);
    EXPECT_EQ(h->call_id, 77u);
    EXPECT_EQ(h->frag_length, req.size());
    EXPECT_EQ(rts::flow_control_ack(1000, 262144, rts::make_cookie(1, 1)).size(), 56u);
}

TEST(Mapi, ResponseStreamIsParsedThroughDone) {
    std::string stream =
        "PROCESSING\r\nPENDING\r\nPENDING\r\nDONE\r\nX-ResponseCode: 0\r\n"
        "X-ElapsedTime: 2\r\n\r\n";
    auto partial = mapi::parse_response(stream.substr(0, 30));
    EXPECT_FALSE(partial.done);
    auto r = mapi::parse_response(stream + std::string(12, '\0'));
    EXPECT_TRUE(r.done);
    EXPECT_EQ(r.pending, 2u);
    EXPECT_EQ(r.response_code, 0);
    EXPECT_EQ(r.body_offset, stream.size());
    auto failed = mapi::parse_response("PROCESSING\r\nDONE\r\nX-ResponseCode: 10\r\n\r\n");
    EXPECT_EQ(failed.response_code, 10);
}

TEST(Mapi, BodiesFollowTheRequestLayouts) {
    auto c = mapi::connect_body("/o=Contoso/cn=jdoe");
    EXPECT_EQ(c.size(), 19u + 20u);  // UserDn with its NUL, five u32
    EXPECT_EQ(c[18], '\0');
    EXPECT_EQ(std::uint8_t(c[23]), 0xE4);  // 1252 little-endian: E4 04
    EXPECT_EQ(mapi::notification_wait_body().size(), 8u);
    EXPECT_EQ(mapi::disconnect_body().size(), 4u);
    auto e = mapi::execute_body();
    std::uint32_t rop_size = std::uint8_t(e[4]) | std::uint8_t(e[5]) << 8;
    EXPECT_EQ(e.size(), 8u + rop_size + 8u);
}

}  // namespace
}  // namespace gatehouse::load
