// Forwarding through the proxy: what the back end receives, what the client gets back.

#include "tests/integration/proxy_fixture.hpp"

#include <regex>

namespace gatehouse::test {
namespace {

const char* one_farm = R"({
  "listeners": { "http": { "address": "127.0.0.1", "port": 0 } },
  "farms": { "cas": { "servers": [ { "address": "127.0.0.1", "port": ${B1} } ] } },
  "rules": [ { "name": "all", "pattern_syntax": "wildcard", "pattern": "*",
               "action": { "type": "route", "farm": "cas" } } ]
})";

class Forwarding : public ProxyTest {};

TEST_F(Forwarding, RelaysRequestAndResponseKeepingTheTargetByteExact) {
    fake_backend cas(answer("200 OK<br/>EX01", {{"Content-Type", "text/html"}}));
    start(one_farm, {{"B1", std::to_string(cas.port())}});
    test_client client(http());
    auto res = client.roundtrip(
        make_request("RPC_OUT_DATA", "/rpc/rpcproxy.dll?3f7b%40contoso.com:6001&x=%2F"));
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "200 OK<br/>EX01");
    EXPECT_EQ(res["Content-Type"], "text/html");
    ASSERT_TRUE(cas.wait_for_requests(1));
    auto seen = cas.requests().at(0);
    EXPECT_EQ(seen.method, "RPC_OUT_DATA");
    EXPECT_EQ(seen.target, "/rpc/rpcproxy.dll?3f7b%40contoso.com:6001&x=%2F");
    EXPECT_EQ(seen.version, "HTTP/1.1");
}

TEST_F(Forwarding, StripsHopByHopFieldsIncludingThoseNamedInConnection) {
    fake_backend cas(answer("ok"));
    start(one_farm, {{"B1", std::to_string(cas.port())}});
    test_client client(http());
    client.send(
        "GET /owa/ HTTP/1.1\r\nHost: mail.contoso.com\r\n"
        "Connection: keep-alive, X-Internal-Secret, X-Forwarded-For\r\n"
        "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers\r\n"
        "Upgrade: websocket\r\nTrailer: X-Sum\r\nProxy-Authorization: Basic eDp5\r\n"
        "X-Internal-Secret: 42\r\nX-Forwarded-For: 203.0.113.9\r\nCookie: a=1\r\n\r\n");
    EXPECT_EQ(client.read().result_int(), 200);
    ASSERT_TRUE(cas.wait_for_requests(1));
    auto seen = cas.requests().at(0);
    for (const char* gone : {"Connection", "Keep-Alive", "Proxy-Connection", "TE", "Upgrade",
                             "Trailer", "Proxy-Authorization", "X-Internal-Secret"})
        EXPECT_FALSE(seen.has(gone)) << gone << " reached the back end:\n" << seen.raw_head;
    EXPECT_EQ(seen.header("Cookie"), "a=1");
    // Named in Connection by the client, yet present: the proxy adds its own after stripping.
    EXPECT_EQ(seen.header("X-Forwarded-For"), "127.0.0.1:" + std::to_string(client.local_port()));
    EXPECT_EQ(seen.count("X-Forwarded-For"), 1u);
}

TEST_F(Forwarding, AddsForwardedForProtoAndOneLogIdPerRequest) {
    fake_backend cas(answer("ok"));
    start(one_farm, {{"B1", std::to_string(cas.port())}});
    test_client client(http());
    for (int i = 0; i < 2; ++i)
        EXPECT_EQ(client.roundtrip(make_request("GET", "/owa/")).result_int(), 200);
    ASSERT_TRUE(cas.wait_for_requests(2));
    auto seen = cas.requests();
    std::regex guid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
    EXPECT_TRUE(std::regex_match(seen[0].header("X-ARR-LOG-ID"), guid)) << seen[0].raw_head;
    EXPECT_NE(seen[0].header("X-ARR-LOG-ID"), seen[1].header("X-ARR-LOG-ID"));
    EXPECT_EQ(seen[0].header("X-Forwarded-Proto"), "http");
    EXPECT_EQ(seen[0].header("X-Forwarded-For"),
              "127.0.0.1:" + std::to_string(client.local_port()));
    EXPECT_FALSE(seen[0].has("Via"));
    // The access log carries the same id, so a back-end log line can be found from ours.
    auto lines = stop_and_read_log();
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(fields_of(lines[0])[log_field::request_id], seen[0].header("X-ARR-LOG-ID"));
}

TEST_F(Forwarding, PreservesTheClientHostOrSendsTheServerAddress) {
    fake_backend cas(answer("ok"));
    start(one_farm, {{"B1", std::to_string(cas.port())}});
    EXPECT_EQ(get(http(), "/owa/", "mail.contoso.com").result_int(), 200);
    ASSERT_TRUE(cas.wait_for_requests(1));
    EXPECT_EQ(cas.requests()[0].header("Host"), "mail.contoso.com");
    proxy_->stop(std::chrono::milliseconds(100));

    std::string json = one_farm;
    json.replace(json.find("\"rules\""), 0, R"("proxy": { "preserve_host_header": false,
        "x_forwarded_for_header": "X-Client-IP", "include_port_in_x_forwarded_for": false,
        "log_guid_header": "" }, )");
    start(json, {{"B1", std::to_string(cas.port())}});
    EXPECT_EQ(get(http(), "/owa/", "mail.contoso.com").result_int(), 200);
    ASSERT_TRUE(cas.wait_for_requests(2));
    auto seen = cas.requests()[1];
    EXPECT_EQ(seen.header("Host"), "127.0.0.1:" + std::to_string(cas.port()));
    EXPECT_EQ(seen.header("X-Client-IP"), "127.0.0.1");
    EXPECT_FALSE(seen.has("X-Forwarded-For"));
    EXPECT_FALSE(seen.has("X-ARR-LOG-ID"));
}

TEST_F(Forwarding, ReusesUpstreamConnectionsAcrossRequestsAndClients) {
    fake_backend cas(answer("ok"));
    start(one_farm, {{"B1", std::to_string(cas.port())}});
    for (int c = 0; c < 3; ++c) {
        test_client client(http());
        for (int i = 0; i < 4; ++i)
            ASSERT_EQ(client.roundtrip(make_request("GET", "/owa/")).result_int(), 200);
    }
    ASSERT_TRUE(cas.wait_for_requests(12));
    EXPECT_EQ(cas.connections(), 1u);
    auto seen = cas.requests();
    EXPECT_EQ(seen.back().sequence, 11u);  // the twelfth request on the same connection
}

TEST_F(Forwarding, KeepAliveOffOpensAConnectionPerRequest) {
    fake_backend cas(answer("ok"));
    std::string json = one_farm;
    json.replace(json.find("\"rules\""), 0, R"("proxy": { "keep_alive": false }, )");
    start(json, {{"B1", std::to_string(cas.port())}});
    test_client client(http());
    for (int i = 0; i < 3; ++i)
        ASSERT_EQ(client.roundtrip(make_request("GET", "/owa/")).result_int(), 200);
    ASSERT_TRUE(cas.wait_for_connections(3));
    EXPECT_EQ(cas.requests()[0].header("Connection"), "close");
}

TEST_F(Forwarding, RechunksChunkedBodiesBothWays) {
    fake_backend cas([](backend_connection& c) {
        while (auto req = c.read_request()) {
            c.write(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                "5\r\nhello\r\n1;ext=1\r\n \r\n5\r\nworld\r\n0\r\nX-Trailer: t\r\n\r\n");
            c.backend().add("body:" + req->body);
        }
    });
    start(one_farm, {{"B1", std::to_string(cas.port())}});
    test_client client(http());
    client.send(
        "POST /ews/Exchange.asmx HTTP/1.1\r\nHost: mail.contoso.com\r\n"
        "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
    auto res = client.read();
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "hello world");
    EXPECT_EQ(res["Transfer-Encoding"], "chunked");
    ASSERT_TRUE(cas.wait_for_value("body:abcdefg", 1));
    EXPECT_EQ(cas.requests()[0].header("Transfer-Encoding"), "chunked");
    EXPECT_FALSE(cas.requests()[0].has("Content-Length"));
    EXPECT_EQ(cas.received(0).find("X-Trailer"), std::string::npos);
}

TEST_F(Forwarding, KeepsContentLengthAndAnswersHeadWithoutBody) {
    fake_backend cas([](backend_connection& c) {
        while (auto req = c.read_request()) {
            if (req->method == "HEAD")
                c.write("HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n");
            else
                c.respond(200, "x");
        }
    });
    start(one_farm, {{"B1", std::to_string(cas.port())}});
    test_client client(http());
    auto head = client.roundtrip(make_request("HEAD", "/OAB/oab.xml"));
    EXPECT_EQ(head.result_int(), 200);
    EXPECT_EQ(head["Content-Length"], "1048576");
    EXPECT_TRUE(head.body().empty());
    // The connection is still in sync: the next response is read correctly.
    EXPECT_EQ(client.roundtrip(make_request("GET", "/OAB/oab.xml")).body(), "x");
}

TEST_F(Forwarding, RelaysTheBackEndsContinueForExpect100) {
    fake_backend cas([](backend_connection& c) {
        auto head = c.read_head();
        if (!head || head->header("Expect") != "100-continue") return;
        c.write("HTTP/1.1 100 Continue\r\n\r\n");
        std::string body;
        while (c.body_remaining() > 0) body += c.read_body_some();
        c.respond(200, "got " + body);
    });
    start(one_farm, {{"B1", std::to_string(cas.port())}});
    test_client client(http());
    client.send(
        "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: mail.contoso.com\r\n"
        "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    auto interim = client.read_some();
    EXPECT_EQ(interim, "HTTP/1.1 100 Continue\r\n\r\n");
    client.send("hello");
    auto res = client.read();
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "got hello");
}

TEST_F(Forwarding, SynthesizesContinueWhenConfigured) {
    fake_backend cas([](backend_connection& c) {
        while (auto req = c.read_request())
            c.respond(200, req->has("Expect") ? "expect" : req->body);
    });
    std::string json = one_farm;
    json.replace(json.find("\"rules\""), 0, R"("proxy": { "synthesize_100_continue": true }, )");
    start(json, {{"B1", std::to_string(cas.port())}});
    test_client client(http());
    client.send(
        "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: mail.contoso.com\r\n"
        "Content-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    EXPECT_EQ(client.read_some(), "HTTP/1.1 100 Continue\r\n\r\n");
    client.send("hello");
    EXPECT_EQ(client.read().body(), "hello");
}

TEST_F(Forwarding, ResponseBufferThresholdHoldsTheHeadUntilEnoughBytes) {
    // The back end sends a head and 10 body bytes, then waits for the test's go-ahead.
    auto script = [](backend_connection& c) {
        while (auto req = c.read_request()) {
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 20\r\n\r\n0123456789");
            if (!c.backend().wait_for_value("go", c.backend().value("served") + 1)) return;
            c.write("abcdefghij");
            c.backend().add("served");
        }
    };
    fake_backend cas(script);
    std::string json = one_farm;
    json.replace(json.find("\"rules\""), 0,
                 R"("proxy": { "response_buffer_threshold_bytes": 16 }, )");
    start(json, {{"B1", std::to_string(cas.port())}});
    {
        test_client client(http(), std::chrono::milliseconds(300));
        client.send(make_request("GET", "/owa/"));
        EXPECT_THROW(client.read_head(), std::runtime_error) << "the head left before 16 bytes";
    }
    cas.add("go");
    ASSERT_TRUE(cas.wait_for_value("served", 1));
    proxy_->stop(std::chrono::milliseconds(100));

    // Threshold 0 (the default): the head and the first bytes leave at once.
    start(one_farm, {{"B1", std::to_string(cas.port())}});
    test_client client(http(), std::chrono::milliseconds(1000));
    client.send(make_request("GET", "/owa/"));
    auto head = client.read_head();
    EXPECT_EQ(head.result_int(), 200);
    EXPECT_EQ(client.read_exactly(10), "0123456789");
    cas.add("go");
    EXPECT_EQ(client.read_exactly(10), "abcdefghij");
}

TEST_F(Forwarding, ReverseRewritesLocationWhenEnabled) {
    fake_backend cas([](backend_connection& c) {
        while (auto req = c.read_request())
            c.respond(302, "",
                      {{"Location", "http://" + req->header("Host") + "/owa/auth/logon.aspx"}});
    });
    std::string json = one_farm;
    json.replace(json.find("\"rules\""), 0,
                 R"("proxy": { "preserve_host_header": false,
                               "reverse_rewrite_host_in_response_headers": true }, )");
    start(json, {{"B1", std::to_string(cas.port())}});
    auto res = get(http(), "/owa/", "mail.contoso.com");
    EXPECT_EQ(res.result_int(), 302);
    EXPECT_EQ(res["Location"], "http://mail.contoso.com/owa/auth/logon.aspx");
}

TEST_F(Forwarding, PassesExchangeStatusCodesAndRepeatedCookiesUntouched) {
    fake_backend cas([](backend_connection& c) {
        while (auto req = c.read_request())
            c.write(
                "HTTP/1.1 449 Retry With\r\nSet-Cookie: cadata1=a\r\nSet-Cookie: cadata2=b\r\n"
                "X-MS-ASProtocolVersions: 14.1,16.1\r\nContent-Length: 0\r\n\r\n");
    });
    start(one_farm, {{"B1", std::to_string(cas.port())}});
    test_client client(http());
    client.send(
        make_request("POST", "/Microsoft-Server-ActiveSync?Cmd=Sync", "mail.contoso.com", "x"));
    auto raw = client.read_some();
    EXPECT_TRUE(raw.starts_with("HTTP/1.1 449 Retry With\r\n")) << raw;
    EXPECT_NE(raw.find("Set-Cookie: cadata1=a\r\nSet-Cookie: cadata2=b\r\n"), std::string::npos);
    EXPECT_NE(raw.find("X-MS-ASProtocolVersions: 14.1,16.1\r\n"), std::string::npos);
}

TEST_F(Forwarding, ServesPipelinedRequestsInOrder) {
    fake_backend cas([](backend_connection& c) {
        while (auto req = c.read_request()) c.respond(200, req->target);
    });
    start(one_farm, {{"B1", std::to_string(cas.port())}});
    test_client client(http());
    client.send(
        "GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
        "GET /c HTTP/1.1\r\nHost: h\r\n\r\n");
    EXPECT_EQ(client.read().body(), "/a");
    EXPECT_EQ(client.read().body(), "/b");
    EXPECT_EQ(client.read().body(), "/c");
}

TEST_F(Forwarding, ClosesAnHttp10ClientAfterItsResponse) {
    fake_backend cas(answer("ok"));
    start(one_farm, {{"B1", std::to_string(cas.port())}});
    test_client client(http());
    client.send("GET /owa/ HTTP/1.0\r\n\r\n");
    auto res = client.read();
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_TRUE(client.wait_closed());
}

TEST_F(Forwarding, AccessLogRecordsEveryRequestWithFarmServerAndTriple) {
    fake_backend cas(answer("ok"));
    start(one_farm, {{"B1", std::to_string(cas.port())}});
    test_client client(http());
    client.roundtrip(make_request("GET", "/owa/?a=1"));
    auto lines = stop_and_read_log();
    ASSERT_EQ(lines.size(), 1u);
    auto f = fields_of(lines[0]);
    ASSERT_EQ(f.size(), 19u) << lines[0];
    EXPECT_EQ(f[log_field::method], "GET");
    EXPECT_EQ(f[log_field::stem], "/owa/");
    EXPECT_EQ(f[log_field::query], "a=1");
    EXPECT_EQ(f[log_field::status], "200");
    EXPECT_EQ(f[log_field::substatus], "0");
    EXPECT_EQ(f[log_field::win32], "0");
    EXPECT_EQ(f[log_field::farm], "cas");
    EXPECT_EQ(f[log_field::server], "127.0.0.1:" + std::to_string(cas.port()));
}

}  // namespace
}  // namespace gatehouse::test
