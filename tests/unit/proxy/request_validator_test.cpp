#include "proxy/request_validator.hpp"

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

net::http_head head_of(std::string method, std::string target,
                       std::vector<std::pair<std::string, std::string>> fields,
                       unsigned version = 11) {
    net::http_head h;
    h.method = std::move(method);
    h.target = std::move(target);
    h.version = version;
    for (const auto& [n, v] : fields) h.fields.add(n, v);
    return h;
}

unsigned status_of(const net::http_head& h, const validation_options& o = {}) {
    auto r = validate_request(h, o);
    return r ? r->triple.status : 0;
}

TEST(RequestValidator, PlainRequestsPass) {
    EXPECT_EQ(status_of(head_of("GET", "/owa/", {{"Host", "mail.contoso.com"}})), 0u);
    EXPECT_EQ(
        status_of(head_of("RPC_IN_DATA", "/rpc/rpcproxy.dll?ex01:6001",
                          {{"Host", "mail.contoso.com:443"}, {"Content-Length", "1073741824"}})),
        0u);
    EXPECT_EQ(status_of(head_of("OPTIONS", "*", {{"Host", "a"}})), 0u);
    EXPECT_EQ(status_of(head_of("GET", "/", {}, 10)), 0u);
    EXPECT_EQ(status_of(head_of("GET", "http://mail.contoso.com/owa/?a=1", {{"Host", "x"}})), 0u);
}

TEST(RequestValidator, FramingAmbiguityIsRejected) {
    auto te = [](std::string value, std::vector<std::pair<std::string, std::string>> more = {}) {
        more.emplace_back("Host", "a");
        more.emplace_back("Transfer-Encoding", std::move(value));
        return status_of(head_of("POST", "/", more));
    };
    EXPECT_EQ(te("chunked"), 0u);
    EXPECT_EQ(te("CHUNKED"), 0u);
    EXPECT_EQ(te("chunked", {{"Content-Length", "5"}}), 400u);
    EXPECT_EQ(te("chunked, chunked"), 400u);
    EXPECT_EQ(te("chunked, gzip"), 400u);
    EXPECT_EQ(te("gzip"), 400u);
    EXPECT_EQ(te(",chunked"), 400u);
    EXPECT_EQ(te("\"chunked\""), 400u);
    EXPECT_EQ(te("gzip, chunked"), 501u);
    EXPECT_EQ(status_of(head_of("POST", "/", {{"Transfer-Encoding", "chunked"}}, 10)), 400u);
}

TEST(RequestValidator, ContentLengthMustBeDigitsAndAgree) {
    std::uint64_t n = 0;
    EXPECT_TRUE(parse_content_length("5", n));
    EXPECT_EQ(n, 5u);
    EXPECT_TRUE(parse_content_length("5, 5", n));
    for (auto bad : {"", "+5", "-1", "0x10", "5 5", "5a", "1e3", "5, 6", "12345678901234567890"})
        EXPECT_FALSE(parse_content_length(bad, n)) << bad;
    EXPECT_EQ(status_of(head_of("POST", "/",
                                {{"Host", "a"}, {"Content-Length", "5"}, {"Content-Length", "6"}})),
              400u);
}

TEST(RequestValidator, HostMustBeOneValidAuthority) {
    for (auto good : {"a", "mail.contoso.com:443", "[::1]:8443", "10.0.0.1", "xn--bcher-kva.ch"})
        EXPECT_TRUE(valid_host_header(good)) << good;
    for (auto bad : {"a/b", "a@b", "a b", "a:99999", ":80", "[::1", "a:8x"})
        EXPECT_FALSE(valid_host_header(bad)) << bad;
    EXPECT_EQ(status_of(head_of("GET", "/", {})), 400u);
    EXPECT_EQ(status_of(head_of("GET", "/", {{"Host", "a"}, {"Host", "b"}})), 400u);
    EXPECT_EQ(status_of(head_of("GET", "/", {{"Host", "a@b"}})), 400u);
}

TEST(RequestValidator, TargetsOutsideTheGrammarAreRejected) {
    EXPECT_EQ(status_of(head_of("GET", "*", {{"Host", "a"}})), 400u);
    EXPECT_EQ(status_of(head_of("GET", "/a#frag", {{"Host", "a"}})), 400u);
    EXPECT_EQ(status_of(head_of("GET", "/a\xff", {{"Host", "a"}})), 400u);
    EXPECT_EQ(status_of(head_of("GET", "ftp://a/", {{"Host", "a"}})), 400u);
    EXPECT_EQ(status_of(head_of("GET", "http://u@a/", {{"Host", "a"}})), 400u);
    EXPECT_EQ(status_of(head_of("CONNECT", "a:443", {{"Host", "a"}})), 405u);
    EXPECT_EQ(status_of(head_of("GET", "/", {{"Host", "a"}}, 20)), 505u);
}

TEST(RequestValidator, ConnectionMayNotRemoveEndToEndFields) {
    EXPECT_EQ(
        status_of(head_of("GET", "/", {{"Host", "a"}, {"Connection", "close, Authorization"}})),
        400u);
    EXPECT_EQ(status_of(head_of("GET", "/", {{"Host", "a"}, {"Connection", "Keep-Alive, X-Foo"}})),
              0u);
    EXPECT_EQ(status_of(head_of("GET", "/", {{"Host", "a"}, {"Connection", "X-Forwarded-For"}})),
              0u);
}

TEST(RequestValidator, UnderscoreNamesAreRejectedUnlessAllowed) {
    auto h = head_of("GET", "/", {{"Host", "a"}, {"X_Forwarded_For", "1.2.3.4"}});
    EXPECT_EQ(status_of(h), 400u);
    EXPECT_EQ(status_of(h, validation_options{.reject_underscore_names = false}), 0u);
}

TEST(RequestValidator, ControlBytesInValuesAreRejected) {
    EXPECT_EQ(status_of(head_of("GET", "/", {{"Host", "a"}, {"X", std::string("a\0b", 3)}})), 400u);
    EXPECT_EQ(status_of(head_of("GET", "/", {{"Host", "a"}, {"X", "a\rb"}})), 400u);
}

}  // namespace
}  // namespace gatehouse::proxy
