#include "fake-cas/wbxml.hpp"

#include <gtest/gtest.h>

namespace gatehouse::fake_cas {
namespace {

// Byte layouts from exchange-protocols.md §6.4.
const bytes ping_request = {0x03, 0x01, 0x6a, 0x00, 0x00, 0x0d, 0x45, 0x48, 0x03, 0x34, 0x38,
                            0x30, 0x00, 0x01, 0x49, 0x4a, 0x4b, 0x03, 0x31, 0x00, 0x01, 0x4c,
                            0x03, 0x45, 0x6d, 0x61, 0x69, 0x6c, 0x00, 0x01, 0x01, 0x01, 0x01};

TEST(Wbxml, DecodesAPingRequest) {
    auto doc = wbxml_decode(ping_request);
    ASSERT_TRUE(doc);
    EXPECT_EQ(doc->page, eas::page_ping);
    EXPECT_EQ(doc->token, eas::ping::ping);
    auto* hb = doc->child(eas::page_ping, eas::ping::heartbeat_interval);
    ASSERT_TRUE(hb);
    EXPECT_EQ(hb->text, "480");
    auto* id = doc->find(eas::page_ping, eas::ping::id);
    ASSERT_TRUE(id);
    EXPECT_EQ(id->text, "1");
    EXPECT_EQ(doc->find(eas::page_ping, eas::ping::klass)->text, "Email");
}

TEST(Wbxml, EncodesPingResponsesByteForByte) {
    wbxml_writer expired;
    expired.open(eas::page_ping, eas::ping::ping)
        .leaf(eas::page_ping, eas::ping::status, "1")
        .close();
    EXPECT_EQ(expired.data(), (bytes{0x03, 0x01, 0x6a, 0x00, 0x00, 0x0d, 0x45, 0x47, 0x03, 0x31,
                                     0x00, 0x01, 0x01}));
    wbxml_writer out_of_range;
    out_of_range.open(eas::page_ping, eas::ping::ping)
        .leaf(eas::page_ping, eas::ping::status, "5")
        .leaf(eas::page_ping, eas::ping::heartbeat_interval, "3540")
        .close();
    EXPECT_EQ(out_of_range.data(),
              (bytes{0x03, 0x01, 0x6a, 0x00, 0x00, 0x0d, 0x45, 0x47, 0x03, 0x35, 0x00,
                     0x01, 0x48, 0x03, 0x33, 0x35, 0x34, 0x30, 0x00, 0x01, 0x01}));
}

TEST(Wbxml, TruncatedOrMalformedInputIsRejected) {
    for (std::size_t n = 0; n < ping_request.size(); ++n) {
        bytes cut(ping_request.begin(), ping_request.begin() + static_cast<long>(n));
        EXPECT_FALSE(wbxml_decode(cut)) << "length " << n;
    }
    auto with_attributes = ping_request;
    with_attributes[6] = 0xc5;
    EXPECT_FALSE(wbxml_decode(with_attributes));
}

}  // namespace
}  // namespace gatehouse::fake_cas
