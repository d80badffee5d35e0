// Every error triple the proxy produces, each provoked by the matching back-end fault or client
// mistake, as the client sees it (status, X-Gatehouse-Error, page) and as the log records it.

#include "tests/integration/proxy_fixture.hpp"

namespace gatehouse::test {
namespace {

// One farm "cas" of the given servers (JSON array items), a catch-all rule, and `proxy` settings.
std::string farm_config(const std::string& servers, const std::string& proxy = "{}",
                        const std::string& extra = "") {
    return R"({
      "listeners": { "http": { "address": "127.0.0.1", "port": 0,
                               "limits": { "header_timeout_ms": 300 } } },
      "proxy": )" +
           proxy + R"(,
      "farms": { "cas": { "servers": [ )" +
           servers + R"( ] } },
      "rules": [ { "name": "all", "pattern": ".*", "action": { "type": "route", "farm": "cas" } } ]
      )" + extra +
           "}";
}

std::string server(std::uint16_t port, const std::string& state = "available") {
    return R"({ "address": "127.0.0.1", "port": )" + std::to_string(port) + R"(, "state": ")" +
           state + "\" }";
}

class Errors : public ProxyTest {
protected:
    // Asserts the response and the access log line carry `triple` ("502.3.12002").
    void expect_triple(const response& res, const std::string& triple) {
        EXPECT_EQ(res["X-Gatehouse-Error"], triple);
        EXPECT_EQ(std::to_string(res.result_int()), triple.substr(0, 3));
        auto sub = triple.substr(4, triple.find('.', 4) - 4);
        EXPECT_NE(res.body().find("HTTP Error " + triple.substr(0, 3) + "." + sub),
                  std::string::npos)
            << res.body();
    }

    void expect_logged(const std::string& triple) {
        auto lines = stop_and_read_log();
        ASSERT_FALSE(lines.empty());
        auto f = fields_of(lines.back());
        EXPECT_EQ(f[log_field::status] + "." + f[log_field::substatus] + "." + f[log_field::win32],
                  triple)
            << lines.back();
    }
};

TEST_F(Errors, CannotConnectIs502_3_12029) {
    start(farm_config(server(closed_port())));
    auto res = get(http(), "/owa/");
    expect_triple(res, "502.3.12029");
    EXPECT_NE(res.body().find("could not be established"), std::string::npos);
    EXPECT_EQ(proxy_->stats().generated_count(proxy::generated_response::cannot_connect), 1u);
    expect_logged("502.3.12029");
}

TEST_F(Errors, ResponseTimeoutIs502_3_12002) {
    fake_backend cas([](backend_connection& c) {
        if (c.read_request()) static_cast<void>(c.backend().wait_for_value("release", 1));
    });
    start(farm_config(server(cas.port()), R"({ "timeout_ms": 150 })"));
    auto t0 = std::chrono::steady_clock::now();
    auto res = get(http(), "/Microsoft-Server-ActiveSync?Cmd=Ping");
    auto waited = std::chrono::steady_clock::now() - t0;
    cas.add("release");
    expect_triple(res, "502.3.12002");
    EXPECT_GE(waited, std::chrono::milliseconds(140));
    EXPECT_LT(waited, std::chrono::milliseconds(2000));
    auto stats = proxy_->stats();
    EXPECT_EQ(stats.farm("cas")->servers[0].failed_requests, 1u);
    expect_logged("502.3.12002");
}

TEST_F(Errors, ResetBeforeTheResponseIs502_3_12030) {
    fake_backend cas([](backend_connection& c) {
        if (c.read_request()) c.reset();
    });
    start(farm_config(server(cas.port())));
    expect_triple(get(http(), "/owa/"), "502.3.12030");
    expect_logged("502.3.12030");
}

TEST_F(Errors, CloseBeforeTheResponseIs502_3_12030) {
    fake_backend cas([](backend_connection& c) {
        if (c.read_request()) c.close();
    });
    start(farm_config(server(cas.port())));
    expect_triple(get(http(), "/owa/"), "502.3.12030");
}

TEST_F(Errors, JunkResponseIs502_3_12152) {
    fake_backend cas([](backend_connection& c) {
        if (c.read_request()) c.write("SSH-2.0-OpenSSH_9.2\r\n\r\n");
    });
    start(farm_config(server(cas.port())));
    expect_triple(get(http(), "/owa/"), "502.3.12152");
    expect_logged("502.3.12152");
}

TEST_F(Errors, ConflictingLengthsInAResponseAre502_3_12152) {
    fake_backend cas([](backend_connection& c) {
        if (c.read_request())
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!");
    });
    start(farm_config(server(cas.port())));
    expect_triple(get(http(), "/owa/"), "502.3.12152");
}

TEST_F(Errors, UnknownTransferCodingInAResponseIs502_3_12152) {
    fake_backend cas([](backend_connection& c) {
        if (c.read_request())
            c.write(
                "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, "
                "chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
    });
    start(farm_config(server(cas.port())));
    expect_triple(get(http(), "/owa/"), "502.3.12152");
}

TEST_F(Errors, NoAvailableServerIs502_4) {
    start(farm_config(server(closed_port(), "unavailable") + "," + server(closed_port(), "drain")));
    auto res = get(http(), "/owa/");
    expect_triple(res, "502.4.0");
    auto stats = proxy_->stats();
    EXPECT_EQ(stats.farm("cas")->no_server_requests, 1u);
    EXPECT_EQ(stats.farm("cas")->failed_requests, 1u);
    expect_logged("502.4.0");
}

TEST_F(Errors, BodyOverTheLimitIs404_13BeforeAnythingIsForwarded) {
    fake_backend cas(answer("ok"));
    start(farm_config(server(cas.port()), "{}",
                      R"(, "request_filtering": { "max_allowed_content_length": 1000 })"));
    test_client client(http());
    auto res = client.roundtrip(
        make_request("POST", "/EWS/Exchange.asmx", "mail.contoso.com", std::string(1001, 'x')));
    expect_triple(res, "404.13.0");
    EXPECT_EQ(res["Connection"], "close");
    EXPECT_EQ(cas.connections(), 0u);
    EXPECT_TRUE(client.wait_closed());
}

TEST_F(Errors, ChunkedBodyOverTheLimitIs404_13WhenItCrossesIt) {
    fake_backend cas([](backend_connection& c) {
        if (auto head = c.read_head()) c.wait_closed();
    });
    start(farm_config(server(cas.port()), "{}",
                      R"(, "request_filtering": { "max_allowed_content_length": 10 })"));
    test_client client(http());
    client.send(
        "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
        "8\r\n01234567\r\n8\r\n89abcdef\r\n0\r\n\r\n");
    expect_triple(client.read(), "404.13.0");
}

TEST_F(Errors, UnpublishedUrlIs404) {
    fake_backend cas(answer("ok"));
    auto json = farm_config(server(cas.port()));
    json.replace(json.find("\".*\""), 4, "\"^owa/\"");
    start(json);
    expect_triple(get(http(), "/ecp/"), "404.0.0");
    EXPECT_EQ(get(http(), "/owa/").result_int(), 200);
    EXPECT_EQ(cas.requests().size(), 1u);
}

TEST_F(Errors, MalformedRequestsAre400AndClose) {
    fake_backend cas(answer("ok"));
    start(farm_config(server(cas.port())));
    for (std::string bad : {
             "GET /owa/ HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n",  // space in name
             "GET /owa/ HTTP/1.1\r\n\r\n",                              // no Host
             "GET /owa/ HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",        // two Hosts
             "POST /owa/ HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
             "Transfer-Encoding: chunked\r\n\r\n",  // CL + TE
             "POST /owa/ HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
             "GET owa HTTP/1.1\r\nHost: h\r\n\r\n",  // not origin-form
         }) {
        test_client client(http());
        client.send(bad);
        auto res = client.read();
        EXPECT_EQ(res.result_int(), 400) << bad;
        EXPECT_EQ(res["X-Gatehouse-Error"], "400.0.0") << bad;
        EXPECT_TRUE(client.wait_closed()) << bad;
    }
    EXPECT_EQ(cas.connections(), 0u);
}

TEST_F(Errors, UnknownTransferCodingIs501) {
    fake_backend cas(answer("ok"));
    start(farm_config(server(cas.port())));
    test_client client(http());
    client.send(
        "POST /owa/ HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
        "5\r\nhello\r\n0\r\n\r\n");
    auto res = client.read();
    EXPECT_EQ(res.result_int(), 501);
    EXPECT_EQ(cas.connections(), 0u);
}

TEST_F(Errors, TransferCodingWithContentLengthIs400) {
    fake_backend cas(answer("ok"));
    start(farm_config(server(cas.port())));
    test_client client(http());
    // Beast 1.81 would frame this by Content-Length; a proxy must not guess (smuggling).
    client.send(
        "POST /owa/ HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n"
        "Content-Length: 5\r\n\r\nhello");
    auto res = client.read();
    EXPECT_EQ(res.result_int(), 400);
    EXPECT_EQ(cas.connections(), 0u);
}

TEST_F(Errors, LongRequestLineIs414AndLargeHeadersAre431) {
    fake_backend cas(answer("ok"));
    start(farm_config(server(cas.port())));
    {
        test_client client(http());
        client.send("GET /" + std::string(9000, 'a') + " HTTP/1.1\r\nHost: h\r\n\r\n");
        auto res = client.read();
        EXPECT_EQ(res["X-Gatehouse-Error"], "414.0.0");
    }
    {
        test_client client(http());
        client.send("GET / HTTP/1.1\r\nHost: h\r\nCookie: " + std::string(17000, 'c') + "\r\n\r\n");
        EXPECT_EQ(client.read()["X-Gatehouse-Error"], "431.0.0");
    }
    {
        test_client client(http());
        std::string many = "GET / HTTP/1.1\r\nHost: h\r\n";
        for (int i = 0; i < 101; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
        client.send(many + "\r\n");
        EXPECT_EQ(client.read()["X-Gatehouse-Error"], "431.0.0");
    }
}

TEST_F(Errors, SlowHeadIs408) {
    fake_backend cas(answer("ok"));
    start(farm_config(server(cas.port())));  // header_timeout_ms 300
    test_client client(http());
    client.send("GET /owa/ HTTP/1.1\r\nHost: h\r\n");  // never finished
    auto res = client.read();
    EXPECT_EQ(res["X-Gatehouse-Error"], "408.0.0");
    EXPECT_TRUE(client.wait_closed());
}

TEST_F(Errors, ConnectFailureMovesToTheNextServer) {
    fake_backend cas(answer("alive"));
    start(farm_config(server(closed_port()) + "," + server(cas.port())));
    for (int i = 0; i < 4; ++i) {
        auto res = get(http(), "/owa/");
        EXPECT_EQ(res.result_int(), 200);
        EXPECT_EQ(res.body(), "alive");
    }
    auto farm = *proxy_->stats().farm("cas");
    EXPECT_GE(farm.servers[0].failed_requests, 1u);  // counted where the connection failed
    EXPECT_EQ(farm.servers[1].failed_requests, 0u);
}

TEST_F(Errors, PostIsNeverRetriedOnceItsBytesReachedABackEnd) {
    // Both servers read the request and close without answering.
    fake_backend a([](backend_connection& c) {
        if (c.read_request()) c.close();
    });
    fake_backend b([](backend_connection& c) {
        if (c.read_request()) c.close();
    });
    start(farm_config(server(a.port()) + "," + server(b.port())));
    test_client client(http());
    auto res = client.roundtrip(
        make_request("POST", "/EWS/Exchange.asmx", "mail.contoso.com", "<CreateItem/>"));
    expect_triple(res, "502.3.12030");
    EXPECT_EQ(a.requests().size() + b.requests().size(), 1u) << "the POST was sent twice";
}

TEST_F(Errors, IdempotentRequestIsRetriedOnAFreshConnectionWhenThePooledOneWasClosed) {
    // The server answers, then closes the connection without saying so (a keep-alive race).
    fake_backend cas([](backend_connection& c) {
        if (c.read_request()) {
            c.respond(200, "first");
            c.close();
            c.backend().add("closed");
        }
    });
    start(farm_config(server(cas.port())));
    EXPECT_EQ(get(http(), "/owa/").body(), "first");
    ASSERT_TRUE(cas.wait_for_value("closed", 1));
    auto res = get(http(), "/owa/");
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "first");
    EXPECT_EQ(cas.connections(), 2u);
}

TEST_F(Errors, PostSkipsAPooledConnectionTheServerClosed) {
    fake_backend cas([](backend_connection& c) {
        if (auto req = c.read_request()) {
            c.respond(200, req->method);
            c.close();
            c.backend().add("closed");
        }
    });
    start(farm_config(server(cas.port())));
    EXPECT_EQ(get(http(), "/owa/").body(), "GET");
    ASSERT_TRUE(cas.wait_for_value("closed", 1));
    test_client client(http());
    auto res = client.roundtrip(make_request("POST", "/owa/", "h", "data"));
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "POST");
}

TEST_F(Errors, FailureAfterTheHeadCutsTheClientOff) {
    fake_backend cas([](backend_connection& c) {
        if (c.read_request()) {
            c.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial");
            c.reset();
        }
    });
    start(farm_config(server(cas.port())));
    test_client client(http());
    client.send(make_request("GET", "/owa/"));
    auto head = client.read_head();
    EXPECT_EQ(head.result_int(), 200);
    EXPECT_EQ(client.read_exactly(7), "partial");
    EXPECT_TRUE(client.wait_closed());
    expect_logged("200.0.12030");
}

TEST_F(Errors, ErrorPagesNameTheRequestId) {
    start(farm_config(server(closed_port())));
    auto res = get(http(), "/owa/");
    auto lines = stop_and_read_log();
    ASSERT_EQ(lines.size(), 1u);
    auto id = fields_of(lines[0])[log_field::request_id];
    EXPECT_NE(res.body().find(id), std::string::npos);
}

// A back end that resets while the request body is still streaming up: the client gets 502.3
// and its connection closes, the back-end connection is not reused, and the proxy goes on
// serving. (The body pump once outlived the connection it wrote to; the sanitizer build runs
// this test.)
TEST_F(Errors, ResetWhileTheRequestBodyStreamsIs502AndNothingElseSuffers) {
    fake_backend cas([](backend_connection& c) {
        auto req = c.read_head();
        if (!req) return;
        if (req->method != "POST") {
            c.respond(200, "fresh");
            while (c.read_request()) c.respond(200, "fresh");
            return;
        }
        std::size_t got = 0;
        while (got < 64 * 1024) {
            auto piece = c.read_body_some();
            if (piece.empty()) return;
            got += piece.size();
        }
        c.backend().add("reset");
        c.reset();
    });
    start(farm_config(server(cas.port())));
    test_client client(http());
    client.send("POST /ews/exchange.asmx HTTP/1.1\r\nHost: a\r\nContent-Length: 8388608\r\n\r\n");
    // More than the back end reads before it resets; whether the last writes succeed depends on
    // socket buffers, not on the behaviour under test.
    const std::string piece(64 * 1024, 'b');
    try {
        for (int i = 0; i < 16; ++i) client.send(piece);
    } catch (const std::exception&) {
    }
    ASSERT_TRUE(cas.wait_for_value("reset", 1));
    auto res = client.read();
    EXPECT_EQ(res.result_int(), 502);
    EXPECT_TRUE(std::string(res["X-Gatehouse-Error"]).starts_with("502.3."))
        << res["X-Gatehouse-Error"];
    EXPECT_TRUE(client.wait_closed());
    EXPECT_EQ(get(http(), "/owa/").body(), "fresh");
    EXPECT_EQ(cas.connections(), 2u);
}

}  // namespace
}  // namespace gatehouse::test
