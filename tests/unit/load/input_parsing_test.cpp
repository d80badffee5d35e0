// URL lists and IIS W3C logs: what is accepted, and errors that name file:line.
#include "load/errors.hpp"
#include "load/url_list.hpp"
#include "load/w3c_log.hpp"

#include <sstream>

#include <gtest/gtest.h>

namespace gatehouse::load {
namespace {

std::string error_of(auto parse) {
    try {
        parse();
    } catch (const load_error& e) {
        EXPECT_EQ(e.code(), exit_code::bad_input);
        return e.what();
    }
    return "no error";
}

TEST(UrlList, ParsesMethodsUrlsAndBodySizes) {
    std::istringstream in(
        "# comment\n"
        "GET https://mail.contoso.com/owa/\n"
        "\n"
        "POST /EWS/Exchange.asmx 2k\r\n"
        "RPC_IN_DATA http://mail.contoso.com:8080/rpc/rpcproxy.dll?x@contoso.com:6001 1g\n"
        "GET http://h?q=1\n");
    auto list = parse_url_list(in, "urls.txt");
    ASSERT_EQ(list.size(), 4u);
    EXPECT_EQ(list[0].method, "GET");
    EXPECT_EQ(list[0].target, "/owa/");
    EXPECT_EQ(list[0].host, "mail.contoso.com");
    EXPECT_EQ(list[0].tls, true);
    EXPECT_EQ(list[0].line, 2u);
    EXPECT_EQ(list[1].body_bytes, 2048u);
    EXPECT_FALSE(list[1].tls);
    EXPECT_EQ(list[1].line, 4u);
    EXPECT_EQ(list[2].method, "RPC_IN_DATA");
    EXPECT_EQ(list[2].body_bytes, 1073741824u);
    EXPECT_EQ(list[2].host, "mail.contoso.com:8080");
    EXPECT_EQ(list[2].target, "/rpc/rpcproxy.dll?x@contoso.com:6001");
    EXPECT_EQ(list[3].target, "/?q=1");
}

TEST(UrlList, MalformedLinesNameFileAndLine) {
    auto parse = [](std::string text) {
        return [text] {
            std::istringstream in(text);
            parse_url_list(in, "list.txt");
        };
    };
    EXPECT_EQ(error_of(parse("GET /\nGET\n")),
              "list.txt:2: expected METHOD URL [body size], found 'GET'");
    EXPECT_EQ(error_of(parse("GET ftp://x/\n")),
              "list.txt:1: invalid URL 'ftp://x/': expected http(s)://host/path or /path");
    EXPECT_EQ(error_of(parse("\n\nPOST / 12q\n")),
              "list.txt:3: invalid body size '12q': expected bytes, or a number with k, m or g");
    EXPECT_EQ(error_of(parse("G(T /\n")), "list.txt:1: invalid method 'G(T'");
    EXPECT_EQ(error_of(parse("GET / 1 2\n")),
              "list.txt:1: too many fields: expected METHOD URL [body size]");
    EXPECT_EQ(error_of(parse("# only a comment\n")), "list.txt:1: no requests in the list");
}

TEST(UrlList, MissingFileIsAnInputError) {
    EXPECT_EQ(error_of([] { load_url_list("/nonexistent/list.txt"); }),
              "/nonexistent/list.txt: cannot open the URL list");
}

constexpr const char* iis_log =
    "#Software: Microsoft Internet Information Services 10.0\n"
    "#Version: 1.0\n"
    "#Date: 2024-05-01 10:00:00\n"
    "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
    "cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken\n"
    "2024-05-01 10:00:00 10.0.0.5 GET /owa/ - 443 - 10.0.0.9 Mozilla/5.0+(Windows+NT+10.0) - "
    "302 0 0 15\n"
    "2024-05-01 10:00:01 10.0.0.5 POST /Microsoft-Server-ActiveSync "
    "Cmd=Ping&User=jdoe&DeviceId=ABC&DeviceType=iPhone 443 jdoe 10.0.0.9 Apple-iPhone - 200 0 0 "
    "480000\n"
    "#Fields: time cs-method cs-uri-stem\n"
    "10:00:02.500 GET /EWS/Exchange.asmx\n";

TEST(W3cLog, FieldsDirectiveDecidesTheColumns) {
    std::istringstream in(iis_log);
    auto log = parse_w3c_log(in, "u_ex240501.log");
    ASSERT_EQ(log.size(), 3u);
    EXPECT_EQ(log[0].method, "GET");
    EXPECT_EQ(log[0].target, "/owa/");
    EXPECT_EQ(log[0].user_agent, "Mozilla/5.0 (Windows NT 10.0)");
    EXPECT_EQ(log[0].offset_ms, 0);
    EXPECT_EQ(log[1].target,
              "/Microsoft-Server-ActiveSync?Cmd=Ping&User=jdoe&DeviceId=ABC&DeviceType=iPhone");
    EXPECT_EQ(log[1].offset_ms, 1000);
    // The second #Fields has no date column: the #Date directive supplies the day.
    EXPECT_EQ(log[2].target, "/EWS/Exchange.asmx");
    EXPECT_EQ(log[2].offset_ms, 2500);
    EXPECT_EQ(log[2].line, 8u);
}

TEST(W3cLog, MalformedLogsNameFileAndLine) {
    auto parse = [](std::string text) {
        return [text] {
            std::istringstream in(text);
            parse_w3c_log(in, "ex.log");
        };
    };
    EXPECT_EQ(error_of(parse("GET / -\n")), "ex.log:1: log entry before any #Fields directive");
    EXPECT_EQ(error_of(parse("#Fields: date time cs-uri-stem\n")),
              "ex.log:1: #Fields must name cs-method and cs-uri-stem");
    EXPECT_EQ(error_of(parse("#Fields: cs-method cs-uri-stem cs-uri-query\nGET /owa\n")),
              "ex.log:2: expected 3 fields (per #Fields at line 1), found 2");
    EXPECT_EQ(error_of(parse("#Fields: date time cs-method cs-uri-stem\n"
                             "2024-13-01 10:00:00 GET /\n")),
              "ex.log:2: invalid date/time '2024-13-01 10:00:00'");
    EXPECT_EQ(error_of(parse("#Fields: cs-method cs-uri-stem\nGET owa\n")),
              "ex.log:2: cs-uri-stem 'owa' does not start with '/'");
}

}  // namespace
}  // namespace gatehouse::load
