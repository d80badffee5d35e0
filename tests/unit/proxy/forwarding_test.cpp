#include "proxy/forwarding.hpp"

#include "net/http_parser.hpp"
#include "proxy/access_log.hpp"
#include "proxy/error_triple.hpp"
#include "proxy/request_id.hpp"

#include <regex>
#include <set>

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

net::http_head request(std::initializer_list<std::pair<std::string_view, std::string_view>> f,
                       std::string method = "GET", std::string target = "/owa/") {
    net::http_head h;
    h.method = std::move(method);
    h.target = std::move(target);
    for (auto [name, value] : f) h.fields.add(name, value);
    return h;
}

// A head as the proxy gets it from the wire: parsed in one pass, its field lines held as sent.
template <bool IsRequest>
net::http_head parsed(std::string_view bytes) {
    net::http_head head;
    net::head_parser<IsRequest> parser(head);
    std::size_t used = 0;
    auto done = parser.take_head(bytes, used);
    EXPECT_TRUE(done && !*done && used == bytes.size()) << bytes;
    EXPECT_NE(head.fields.received_line(head.fields.begin()), "") << "not held: " << bytes;
    return head;
}

upstream_request defaults() {
    upstream_request r;
    r.target = "/owa/";
    r.host = "mail.contoso.com";
    r.forwarded_for_header = "X-Forwarded-For";
    r.forwarded_for = "192.0.2.7:50123";
    r.https = true;
    r.request_id_header = "X-ARR-LOG-ID";
    r.request_id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
    return r;
}

TEST(UpstreamRequest, StripsHopByHopFieldsAndThoseNamedInConnection) {
    auto client = request({{"Host", "mail.contoso.com"},
                           {"Connection", "keep-alive, X-Secret, Upgrade"},
                           {"Keep-Alive", "timeout=5"},
                           {"Proxy-Connection", "keep-alive"},
                           {"TE", "trailers"},
                           {"Upgrade", "websocket"},
                           {"Trailer", "X-Checksum"},
                           {"Proxy-Authorization", "Basic Zm9vOmJhcg=="},
                           {"X-Secret", "named in Connection"},
                           {"Cookie", "a=1"}});
    std::string out;
    write_upstream_request(client, defaults(), out);
    for (const char* gone : {"Connection:", "Keep-Alive:", "Proxy-Connection:", "TE:", "Upgrade:",
                             "Trailer:", "Proxy-Authorization:", "X-Secret:"})
        EXPECT_EQ(out.find(std::string("\r\n") + gone), std::string::npos) << gone << "\n" << out;
    EXPECT_NE(out.find("\r\nCookie: a=1\r\n"), std::string::npos);
    EXPECT_TRUE(out.starts_with("GET /owa/ HTTP/1.1\r\nHost: mail.contoso.com\r\n")) << out;
    EXPECT_TRUE(out.ends_with("\r\n\r\n"));
}

TEST(UpstreamRequest, AddsForwardingFieldsAfterStrippingSoConnectionCannotRemoveThem) {
    // Hop-by-hop abuse: the client names the proxy's own fields in Connection.
    auto client = request({{"Host", "mail.contoso.com"},
                           {"Connection", "close, X-Forwarded-For, X-ARR-LOG-ID"},
                           {"X-Forwarded-For", "10.0.0.1"},
                           {"X-Forwarded-Proto", "http"},
                           {"X-ARR-LOG-ID", "forged"}});
    std::string out;
    write_upstream_request(client, defaults(), out);
    EXPECT_NE(out.find("\r\nX-Forwarded-For: 192.0.2.7:50123\r\n"), std::string::npos) << out;
    EXPECT_EQ(out.find("10.0.0.1"), std::string::npos) << "client XFF must be replaced";
    EXPECT_NE(out.find("\r\nX-Forwarded-Proto: https\r\n"), std::string::npos);
    EXPECT_NE(out.find("\r\nX-ARR-LOG-ID: 3f2504e0-4f89-41d3-9a0c-0305e82c3301\r\n"),
              std::string::npos);
    EXPECT_EQ(out.find("forged"), std::string::npos);
}

TEST(UpstreamRequest, RegeneratesFramingAndHost) {
    auto client = request({{"Host", "MAIL.contoso.com"},
                           {"Transfer-Encoding", "chunked"},
                           {"Expect", "100-continue"}},
                          "RPC_IN_DATA", "/rpc/rpcproxy.dll?ex01:6001");
    auto r = defaults();
    r.target = "/rpc/rpcproxy.dll?ex01:6001";
    r.host = "ex01.contoso.local:443";
    r.framing = body_framing::length;
    r.content_length = 1073741824;
    r.keep_alive = false;
    std::string out;
    write_upstream_request(client, r, out);
    EXPECT_TRUE(
        out.starts_with("RPC_IN_DATA /rpc/rpcproxy.dll?ex01:6001 HTTP/1.1\r\n"
                        "Host: ex01.contoso.local:443\r\n"))
        << out;
    EXPECT_EQ(out.find("MAIL.contoso.com"), std::string::npos);
    EXPECT_EQ(out.find("Transfer-Encoding"), std::string::npos);
    EXPECT_NE(out.find("\r\nContent-Length: 1073741824\r\n"), std::string::npos);
    EXPECT_NE(out.find("\r\nExpect: 100-continue\r\n"), std::string::npos);
    EXPECT_NE(out.find("\r\nConnection: close\r\n"), std::string::npos);
    r.forward_expect = false;  // the proxy answered 100-continue itself
    out.clear();
    write_upstream_request(client, r, out);
    EXPECT_EQ(out.find("Expect"), std::string::npos);
}

TEST(UpstreamRequest, NeverAddsVia) {
    std::string out;
    write_upstream_request(request({{"Host", "h"}}), defaults(), out);
    EXPECT_EQ(out.find("Via:"), std::string::npos);
}

TEST(DownstreamResponse, KeepsRepeatedFieldsUnfoldedAndTheReasonByteExact) {
    net::http_head upstream;
    upstream.status = 401;
    upstream.reason = "Unauthorized";
    upstream.fields.add("WWW-Authenticate", "Negotiate");
    upstream.fields.add("WWW-Authenticate", "NTLM");
    upstream.fields.add("Set-Cookie", "a=1; path=/");
    upstream.fields.add("Set-Cookie", "b=2; path=/");
    upstream.fields.add("Content-Length", "0");
    upstream.fields.add("Connection", "Keep-Alive");
    upstream.fields.add("Keep-Alive", "timeout=120");
    std::string out;
    write_downstream_response(upstream, {.framing = body_framing::length, .content_length = 0},
                              out);
    EXPECT_EQ(out,
              "HTTP/1.1 401 Unauthorized\r\n"
              "WWW-Authenticate: Negotiate\r\n"
              "WWW-Authenticate: NTLM\r\n"
              "Set-Cookie: a=1; path=/\r\n"
              "Set-Cookie: b=2; path=/\r\n"
              "Content-Length: 0\r\n\r\n");
    net::http_head rpc;
    rpc.status = 200;
    rpc.reason = "Success";
    out.clear();
    write_downstream_response(rpc, {.framing = body_framing::length, .content_length = 1073741824},
                              out);
    EXPECT_TRUE(out.starts_with("HTTP/1.1 200 Success\r\n")) << out;
}

TEST(DownstreamResponse, CopiesReceivedLinesAsSentAroundTheFieldsItDropsOrChanges) {
    auto upstream = parsed<false>(
        "HTTP/1.1 302 Found\r\n"
        "Server: Microsoft-IIS/10.0\r\n"
        "Cache-Control:private\r\n"
        "Content-Length: 0\r\n"
        "Location: http://ex01.contoso.local/owa/\r\n"
        "X-FEServer: EX01  \r\n"
        "Connection: keep-alive, X-Hop\r\n"
        "X-Hop: 1\r\n"
        "Set-Cookie: a=1\r\n"
        "Set-Cookie: b=2\r\n"
        "\r\n");
    upstream.fields.add("Set-Cookie", "X-BackEndCookie=ex01");
    std::string out;
    write_downstream_response(upstream,
                              {.framing = body_framing::length,
                               .content_length = 0,
                               .reverse_rewrite = true,
                               .upstream_authority = "ex01.contoso.local",
                               .client_host = "mail.contoso.com",
                               .client_https = true},
                              out);
    EXPECT_EQ(out,
              "HTTP/1.1 302 Found\r\n"
              "Server: Microsoft-IIS/10.0\r\n"
              "Cache-Control:private\r\n"
              "Location: https://mail.contoso.com/owa/\r\n"
              "X-FEServer: EX01  \r\n"
              "Set-Cookie: a=1\r\n"
              "Set-Cookie: b=2\r\n"
              "Set-Cookie: X-BackEndCookie=ex01\r\n"
              "Content-Length: 0\r\n\r\n");
}

TEST(UpstreamRequest, CopiesReceivedLinesAsSentAndRegeneratesTheRest) {
    auto client = parsed<true>(
        "POST /mapi/emsmdb/?MailboxId=x HTTP/1.1\r\n"
        "Content-Type: application/mapi-http\r\n"
        "X-RequestType: Execute\r\n"
        "Host: mail.contoso.com\r\n"
        "Authorization:  NTLM TlRMTVNTUAAB\r\n"
        "X-Forwarded-For: 203.0.113.9\r\n"
        "Content-Length: 5\r\n"
        "User-Agent: Microsoft Office/16.0\r\n"
        "\r\n");
    auto r = defaults();
    r.target = "/mapi/emsmdb/?MailboxId=x";
    r.framing = body_framing::length;
    r.content_length = 5;
    std::string out;
    write_upstream_request(client, r, out);
    EXPECT_EQ(out,
              "POST /mapi/emsmdb/?MailboxId=x HTTP/1.1\r\n"
              "Host: mail.contoso.com\r\n"
              "Content-Type: application/mapi-http\r\n"
              "X-RequestType: Execute\r\n"
              "Authorization:  NTLM TlRMTVNTUAAB\r\n"
              "User-Agent: Microsoft Office/16.0\r\n"
              "X-Forwarded-For: 192.0.2.7:50123\r\n"
              "X-Forwarded-Proto: https\r\n"
              "X-ARR-LOG-ID: 3f2504e0-4f89-41d3-9a0c-0305e82c3301\r\n"
              "Content-Length: 5\r\n\r\n");
}

TEST(DownstreamResponse, RechunksAndSignalsClose) {
    net::http_head upstream;
    upstream.status = 200;
    upstream.fields.add("Transfer-Encoding", "chunked");
    upstream.fields.add("Content-Type", "application/mapi-http");
    std::string out;
    write_downstream_response(upstream, {.framing = body_framing::chunked, .close = true}, out);
    EXPECT_EQ(out,
              "HTTP/1.1 200 OK\r\nContent-Type: application/mapi-http\r\n"
              "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
}

TEST(DownstreamResponse, ReverseRewritesLocationOfTheBackEndHost) {
    net::http_head upstream;
    upstream.status = 302;
    upstream.fields.add("Location", "http://ex01.contoso.local:80/owa/auth/logon.aspx?x=1");
    upstream.fields.add("Content-Location", "https://other.example/x");
    std::string out;
    write_downstream_response(upstream,
                              {.reverse_rewrite = true,
                               .upstream_authority = "ex01.contoso.local:80",
                               .client_host = "mail.contoso.com",
                               .client_https = true},
                              out);
    EXPECT_NE(out.find("\r\nLocation: https://mail.contoso.com/owa/auth/logon.aspx?x=1\r\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("\r\nContent-Location: https://other.example/x\r\n"), std::string::npos);
}

TEST(ErrorResponse, CarriesTheTripleInHeaderAndPage) {
    std::string out;
    append_error_response(errors::timeout, true, "id-1", out);
    EXPECT_TRUE(out.starts_with("HTTP/1.1 502 Bad Gateway\r\n")) << out;
    EXPECT_NE(out.find("\r\nX-Gatehouse-Error: 502.3.12002\r\n"), std::string::npos);
    EXPECT_NE(out.find("\r\nConnection: close\r\n"), std::string::npos);
    EXPECT_NE(out.find("HTTP Error 502.3"), std::string::npos);
    EXPECT_NE(out.find("The operation timed out"), std::string::npos);
    EXPECT_NE(out.find("0x80072ee2"), std::string::npos);
    EXPECT_NE(out.find("id-1"), std::string::npos);
    auto body = out.substr(out.find("\r\n\r\n") + 4);
    EXPECT_NE(out.find("Content-Length: " + std::to_string(body.size()) + "\r\n"),
              std::string::npos);
    EXPECT_EQ(to_string(errors::no_server), "502.4.0");
    EXPECT_EQ(to_string(errors::body_too_large), "404.13.0");
}

TEST(AccessLog, WritesIisFieldsInOrder) {
    access_record r;
    r.when = std::chrono::system_clock::from_time_t(1'795'000'000);  // 2026-11-18 11:06:40 UTC
    r.server_ip = "10.0.0.5";
    r.server_port = 443;
    r.method = "POST";
    r.target = "/Microsoft-Server-ActiveSync?Cmd=Ping&User=alice";
    r.client_ip = "192.0.2.7";
    r.user_agent = "Apple-iPhone/1 (x y)";
    r.status = 502;
    r.substatus = 3;
    r.win32 = 12002;
    r.sc_bytes = 1234;
    r.cs_bytes = 567;
    r.time_taken_ms = 29889;
    r.farm = "eas";
    r.server = "10.0.0.11:443";
    r.request_id = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";
    std::string line;
    append_w3c_line(r, line);
    EXPECT_EQ(line,
              "2026-11-18 11:06:40 10.0.0.5 POST /Microsoft-Server-ActiveSync "
              "Cmd=Ping&User=alice 443 - 192.0.2.7 Apple-iPhone/1+(x+y) 502 3 12002 1234 567 "
              "29889 eas 10.0.0.11:443 3f2504e0-4f89-41d3-9a0c-0305e82c3301\r\n");
    auto header = w3c_header(r.when);
    EXPECT_NE(header.find("#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port "
                          "cs-username c-ip cs(User-Agent) sc-status sc-substatus "
                          "sc-win32-status sc-bytes cs-bytes time-taken x-farm x-server "
                          "x-request-id\r\n"),
              std::string::npos);
}

TEST(RequestId, IsAVersionFourGuidAndUnique) {
    request_id_generator ids;
    std::set<std::string> seen;
    std::regex guid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    for (int i = 0; i < 1000; ++i) {
        std::string id(ids.next());
        EXPECT_TRUE(std::regex_match(id, guid)) << id;
        seen.insert(id);
    }
    EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace gatehouse::proxy
