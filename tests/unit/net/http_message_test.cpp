#include "net/http_message.hpp"

#include <vector>

#include <gtest/gtest.h>

namespace gatehouse::net {
namespace {

TEST(HttpFields, FindIgnoresCaseAndReturnsFirst) {
    http_fields f;
    f.add("Set-Cookie", "a=1");
    f.add("set-cookie", "b=2");
    f.add("Host", "mail.contoso.com");
    EXPECT_EQ(f.find("SET-COOKIE"), "a=1");
    EXPECT_EQ(f.count("Set-Cookie"), 2u);
    EXPECT_EQ(f.find("host"), "mail.contoso.com");
    EXPECT_FALSE(f.find("X-Missing").has_value());
}

TEST(HttpFields, EraseRemovesEveryDuplicateAndKeepsOrderOfTheRest) {
    http_fields f;
    f.add("A", "1");
    f.add("WWW-Authenticate", "Negotiate");
    f.add("B", "2");
    f.add("WWW-Authenticate", "NTLM");
    EXPECT_EQ(f.erase("www-authenticate"), 2u);
    EXPECT_EQ(f.size(), 2u);
    std::vector<std::string> names;
    for (auto [name, value] : f) names.emplace_back(name);
    EXPECT_EQ(names, (std::vector<std::string>{"A", "B"}));
}

TEST(HttpFields, SetReplacesAllAndAcceptsAValueFromItself) {
    http_fields f;
    f.add("X-A", "original-value");
    f.add("X-B", "1");
    f.add("X-B", "2");
    f.set("X-B", *f.find("X-A"));  // the value points into the arena being modified
    EXPECT_EQ(f.count("X-B"), 1u);
    EXPECT_EQ(f.find("X-B"), "original-value");
}

TEST(HttpFields, ClearKeepsNothing) {
    http_fields f;
    f.add("A", "1");
    f.clear();
    EXPECT_TRUE(f.empty());
    EXPECT_EQ(f.begin(), f.end());
    f.add("B", "2");
    EXPECT_EQ(f.find("B"), "2");
    EXPECT_FALSE(f.find("A"));
}

// Fields held in one copy of their lines, as the one-pass parse takes them.
TEST(HttpFields, ReceivedLineIsTheHeldLineAsItCame) {
    const std::string_view lines = "A: 1\r\nBb:  two \t\r\nC:3\r\n";
    http_fields f;
    f.add_held(0, 1, 3, 1);
    f.add_held(6, 2, 11, 3);
    f.add_held(18, 1, 20, 1);
    f.hold(lines);
    std::vector<std::string_view> got;
    for (auto at = f.begin(); at != f.end(); ++at) got.push_back(f.received_line(at));
    EXPECT_EQ(got, (std::vector<std::string_view>{"A: 1\r\n", "Bb:  two \t\r\n", "C:3\r\n"}));
    EXPECT_EQ(f.find("Bb"), "two");
    // Neighbouring lines are neighbours in memory.
    EXPECT_EQ(got[0].data() + got[0].size(), got[1].data());

    // An erased field's line is skipped; an added field has none; the held ones keep theirs.
    f.erase("Bb");
    f.add("D", "4");
    got.clear();
    for (auto at = f.begin(); at != f.end(); ++at) got.push_back(f.received_line(at));
    EXPECT_EQ(got, (std::vector<std::string_view>{"A: 1\r\n", "C:3\r\n", ""}));

    f.clear();
    f.add("E", "5");
    EXPECT_EQ(f.received_line(f.begin()), "");
}

TEST(HttpHead, WritesRequestWithExtensionMethodAndRawTarget) {
    http_head h;
    h.method = "RPC_IN_DATA";
    h.target = "/rpc/rpcproxy.dll?3f7b8a1c@contoso.com:6001";
    h.fields.add("Host", "mail.contoso.com");
    h.fields.add("Content-Length", "1073741824");
    std::string out;
    h.write_request(out);
    EXPECT_EQ(out,
              "RPC_IN_DATA /rpc/rpcproxy.dll?3f7b8a1c@contoso.com:6001 HTTP/1.1\r\n"
              "Host: mail.contoso.com\r\nContent-Length: 1073741824\r\n\r\n");
}

TEST(HttpHead, WritesCustomReasonAndHttp10StatusLine) {
    http_head h;
    h.version = 10;
    h.status = 503;
    h.reason = "RPC Error: 6ba";
    std::string out;
    h.write_response(out);
    EXPECT_EQ(out, "HTTP/1.0 503 RPC Error: 6ba\r\n\r\n");
}

TEST(HttpHead, DefaultReasonCoversExchangeCodes) {
    http_head h;
    h.status = 440;
    std::string out;
    h.write_response(out);
    EXPECT_EQ(out, "HTTP/1.1 440 Login Timeout\r\n\r\n");
    EXPECT_EQ(reason_phrase(449), "Retry With");
}

TEST(HttpTokens, TokenCharsAreRfc9110Tchar) {
    const std::string_view specials = "!#$%&'*+-.^_`|~";
    for (int i = 0; i < 256; ++i) {
        const char c = static_cast<char>(i);
        const bool tchar = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                           (c >= 'A' && c <= 'Z') || specials.find(c) != std::string_view::npos;
        EXPECT_EQ(is_token_char(c), tchar) << "byte " << i;
    }
}

TEST(HttpTokens, HasTokenFindsListMembers) {
    EXPECT_TRUE(has_token("keep-alive, Upgrade", "upgrade"));
    EXPECT_TRUE(has_token("close", "close"));
    EXPECT_FALSE(has_token("closed", "close"));
    EXPECT_FALSE(has_token("", "close"));
}

TEST(Chunking, HeaderIsHexSizeLine) {
    EXPECT_EQ(chunk_header(0x1a2b), "1a2b\r\n");
    EXPECT_EQ(chunk_header(0), "0\r\n");
}

}  // namespace
}  // namespace gatehouse::net
