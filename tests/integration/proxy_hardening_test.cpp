// Rows of the reliability table (reliability-anchors §8) that need a scripted back end or time:
// hostile back-end responses, slow clients, limits on streamed bodies, and the "nothing lost"
// invariants (no request answered twice, no non-idempotent request retried once its bytes
// reached a back end).

#include "tests/integration/proxy_fixture.hpp"
#include "tests/integration/raw_exchange.hpp"

#include <atomic>
#include <future>
#include <random>
#include <thread>

namespace gatehouse::test {
namespace {

using namespace std::chrono_literals;

std::string config(const std::string& servers, const std::string& extra_limits = "",
                   const std::string& rule_extra = "") {
    return R"({
      "listeners": { "http": { "address": "127.0.0.1", "port": 0,
                               "limits": { "header_timeout_ms": 300 )" +
           extra_limits + R"( } } },
      "request_filtering": { "max_allowed_content_length": 1048576 },
      "farms": { "cas": { "servers": [ )" +
           servers + R"( ] } },
      "rules": [ { "name": "all", "pattern": ".*", "action": { "type": "route", "farm": "cas" } )" +
           rule_extra + R"( } ]
    })";
}

std::string server(std::uint16_t port) {
    return R"({ "address": "127.0.0.1", "port": )" + std::to_string(port) + " }";
}

std::size_t status_lines(std::string_view bytes) {
    std::size_t n = 0;
    for (auto at = bytes.find("HTTP/1.1 "); at != std::string_view::npos;
         at = bytes.find("HTTP/1.1 ", at + 1))
        ++n;
    return n;
}

// True when every line of the head of `message` ends with CRLF and no CR or LF stands alone:
// nothing in it can start a field of its own.
::testing::AssertionResult head_lines_are_clean(std::string_view message) {
    auto end = message.find("\r\n\r\n");
    if (end == std::string_view::npos) return ::testing::AssertionFailure() << "no whole head";
    auto head = message.substr(0, end + 2);
    for (std::size_t i = 0; i < head.size(); ++i) {
        bool bare_cr = head[i] == '\r' && (i + 1 == head.size() || head[i + 1] != '\n');
        bool bare_lf = head[i] == '\n' && (i == 0 || head[i - 1] != '\r');
        if (bare_cr || bare_lf)
            return ::testing::AssertionFailure() << "bare CR or LF at " << i << " in " << head;
    }
    for (auto at = head.find("\r\n"); at != std::string_view::npos;
         at = head.find("\r\n", at + 2)) {
        auto line = head.substr(at + 2, head.find("\r\n", at + 2) - at - 2);
        if (line.empty()) break;
        if (lower(std::string(line.substr(0, 11))) == "set-cookie:")
            return ::testing::AssertionFailure() << "injected field: " << line;
    }
    return ::testing::AssertionSuccess();
}

// Waits (bounded) until the proxy counts at most `n` open client connections.
bool active_connections_fall_to(proxy::proxy_server& proxy, std::uint64_t n) {
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (proxy.stats().connections_active > n) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(2ms);  // polling the condition, bounded above
    }
    return true;
}

class Hardening : public ProxyTest {};

// Row 39: a response framed two ways is refused, and its connection never carries another.
TEST_F(Hardening, ResponseWithLengthAndChunkingIs502AndItsConnectionIsDropped) {
    fake_backend cas([](backend_connection& c) {
        while (auto req = c.read_request()) {
            if (c.index() == 0)
                c.write(
                    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 30\r\n\r\n"
                    "0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled");
            else
                c.respond(200, "fresh");
        }
    });
    start(config(server(cas.port())));
    auto first = get(http(), "/owa/");
    EXPECT_EQ(first.result_int(), 502);
    EXPECT_EQ(first["X-Gatehouse-Error"], "502.3.12152");
    auto second = get(http(), "/owa/");
    EXPECT_EQ(second.result_int(), 200);
    EXPECT_EQ(second.body(), "fresh");
}

// Row 41: bytes beyond Content-Length are never read as the next request's response.
TEST_F(Hardening, BytesBeyondContentLengthNeverAnswerTheNextRequest) {
    fake_backend cas([](backend_connection& c) {
        bool first = true;
        while (auto req = c.read_request()) {
            if (first && c.index() == 0)
                c.write(
                    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
                    "helloHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled");
            else
                c.respond(200, "fresh");
            first = false;
        }
    });
    start(config(server(cas.port())));
    test_client client(http());
    auto a = client.roundtrip(make_request("GET", "/owa/a"));
    EXPECT_EQ(a.body(), "hello");
    auto b = client.roundtrip(make_request("GET", "/owa/b"));
    EXPECT_EQ(b.result_int(), 200);
    EXPECT_EQ(b.body(), "fresh");
    EXPECT_EQ(cas.connections(), 2u);
}

// Row 42: a back end that never stops sending interim responses is broken, not relayed forever.
TEST_F(Hardening, EndlessInterimResponsesAre502) {
    fake_backend cas([](backend_connection& c) {
        if (!c.read_request()) return;
        for (int i = 0; i < 40; ++i) c.write("HTTP/1.1 102 Processing\r\n\r\n");
        c.respond(200, "late");
    });
    start(config(server(cas.port())));
    bool closed = false;
    auto received = exchange_raw(http(), "GET /owa/ HTTP/1.1\r\nHost: a\r\n\r\n", closed);
    EXPECT_NE(received.find("502.3.12152"), std::string::npos) << received.substr(0, 400);
    EXPECT_EQ(received.find("late"), std::string::npos);
    EXPECT_LE(status_lines(received), 33u);
}

// Row 53: a chunked body that grows past the route's limit is cut; the back end never gets a
// complete request.
TEST_F(Hardening, ChunkedBodyOverTheLimitIsCutWith404_13) {
    fake_backend cas([](backend_connection& c) {
        while (auto req = c.read_request()) {
            c.backend().add("complete");
            c.respond(200, "ok");
        }
    });
    start(config(server(cas.port())));
    std::string body;
    std::string piece(64 * 1024, 'x');
    for (int i = 0; i < 32; ++i) body += "10000\r\n" + piece + "\r\n";  // 2 MiB
    body += "0\r\n\r\n";
    bool closed = false;
    auto received = exchange_raw(
        http(), "POST /owa/ HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + body,
        closed);
    EXPECT_TRUE(received.starts_with("HTTP/1.1 404")) << received.substr(0, 200);
    EXPECT_NE(received.find("404.13"), std::string::npos);
    EXPECT_TRUE(closed);
    EXPECT_EQ(cas.value("complete"), 0u);
}

// Row 31: Outlook Anywhere declares 1 GiB and streams it; nothing waits for the whole body.
TEST_F(Hardening, RpcInDataWithAGigabyteDeclaredIsStreamed) {
    fake_backend cas([](backend_connection& c) {
        auto req = c.read_head();
        if (!req) return;
        std::uint64_t got = 0;
        while (got < 256 * 1024) got += c.read_body_some().size();
        c.backend().add("streamed", got);
    });
    start(config(server(cas.port()), "", R"(, "max_allowed_content_length": 2147483648)"));
    test_client client(http());
    client.send(
        "RPC_IN_DATA /rpc/rpcproxy.dll?ex01.contoso.com:6001 HTTP/1.1\r\n"
        "Host: mail.contoso.com\r\nContent-Length: 1073741824\r\n\r\n");
    client.send(std::string(256 * 1024, 'r'));
    ASSERT_TRUE(cas.wait_for_value("streamed", 256 * 1024));
    EXPECT_EQ(cas.requests()[0].method, "RPC_IN_DATA");
    EXPECT_EQ(cas.requests()[0].header("Content-Length"), "1073741824");
}

// Row 54: a head trickled byte by byte is cut at the head deadline, not kept alive by activity.
TEST_F(Hardening, SlowlorisHeadIsAnswered408AtTheHeadDeadline) {
    fake_backend cas(answer("ok"));
    start(config(server(cas.port())));
    test_client client(http());
    auto t0 = std::chrono::steady_clock::now();
    client.send("GET /owa/ HTTP/1.1\r\n");
    std::string received;
    for (int i = 0; i < 40 && received.empty(); ++i) {
        try {
            client.send("X");
        } catch (const std::exception&) {
            break;  // the proxy closed
        }
        std::this_thread::sleep_for(50ms);  // the attacker's pace, not a synchronisation
        if (std::chrono::steady_clock::now() - t0 > 250ms) break;
    }
    auto res = client.read();
    auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_EQ(res.result_int(), 408);
    EXPECT_GE(waited, 250ms);
    EXPECT_LT(waited, 1500ms);
    EXPECT_TRUE(client.wait_closed());
    EXPECT_EQ(cas.connections(), 0u);
}

// Row 59: a connection that sends nothing is closed at the first-byte deadline.
TEST_F(Hardening, SilentConnectionIsClosedAtTheHeadDeadline) {
    fake_backend cas(answer("ok"));
    start(config(server(cas.port())));
    test_client client(http(), 3s);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_TRUE(client.wait_closed());
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1500ms);
}

// Row 34: pipelined requests are answered in order, each by its own response.
TEST_F(Hardening, PipelinedRequestsAreAnsweredInOrder) {
    fake_backend cas([](backend_connection& c) {
        int i = 0;
        while (auto req = c.read_request()) {
            std::this_thread::sleep_for(std::chrono::milliseconds((3 - i++) * 10));
            c.respond(200, req->target);
        }
    });
    start(config(server(cas.port())));
    bool closed = false;
    auto received = exchange_raw(http(),
                                 "GET /owa/1 HTTP/1.1\r\nHost: a\r\n\r\n"
                                 "GET /owa/2 HTTP/1.1\r\nHost: a\r\n\r\n"
                                 "GET /owa/3 HTTP/1.1\r\nHost: a\r\n\r\n",
                                 closed);
    auto one = received.find("/owa/1"), two = received.find("/owa/2"),
         three = received.find("/owa/3");
    ASSERT_NE(three, std::string::npos) << received;
    EXPECT_LT(one, two);
    EXPECT_LT(two, three);
    EXPECT_EQ(status_lines(received), 3u);
}

// Nothing lost (§5.1.3): a response cut mid-body ends the client connection; the requests
// behind it are neither answered twice nor answered by someone else's response.
TEST_F(Hardening, NoRequestIsAnsweredTwiceAfterACutResponse) {
    fake_backend cas([](backend_connection& c) {
        while (auto req = c.read_request()) {
            if (req->target == "/owa/2") {
                c.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
                c.reset();
                return;
            }
            c.respond(200, "whole " + req->target);
        }
    });
    start(config(server(cas.port())));
    bool closed = false;
    auto received = exchange_raw(http(),
                                 "GET /owa/1 HTTP/1.1\r\nHost: a\r\n\r\n"
                                 "GET /owa/2 HTTP/1.1\r\nHost: a\r\n\r\n"
                                 "GET /owa/3 HTTP/1.1\r\nHost: a\r\n\r\n",
                                 closed);
    EXPECT_TRUE(closed);
    EXPECT_EQ(status_lines(received), 2u) << received;
    EXPECT_NE(received.find("whole /owa/1"), std::string::npos);
    EXPECT_EQ(received.find("/owa/3"), std::string::npos);
    for (const auto& r : cas.requests()) EXPECT_NE(r.target, "/owa/3");
}

// Row 72: once a POST's bytes reached a back end, a failure is reported, never retried.
TEST_F(Hardening, PostIsNotRetriedAfterItsBytesReachedABackEnd) {
    auto script = [](backend_connection& c) {
        if (auto req = c.read_request()) {
            c.backend().add("posts");
            c.reset();
        }
    };
    fake_backend a(script), b(script);
    start(config(server(a.port()) + "," + server(b.port())));
    test_client client(http());
    auto res = client.roundtrip(make_request("POST", "/ews/Exchange.asmx", "a", "<soap/>"));
    EXPECT_EQ(res.result_int(), 502);
    EXPECT_EQ(res["X-Gatehouse-Error"], "502.3.12030");
    EXPECT_EQ(a.value("posts") + b.value("posts"), 1u);
}

// Row 71: a connect failure is retried on the next server — the request never left the proxy.
TEST_F(Hardening, ConnectFailureMovesOnAndEachRequestArrivesOnce) {
    fake_backend up([](backend_connection& c) {
        while (auto req = c.read_request()) {
            c.backend().add(req->method + " " + req->target);
            c.respond(200, "ok");
        }
    });
    start(config(server(closed_port()) + "," + server(up.port())));
    for (int i = 0; i < 10; ++i) {
        test_client client(http());
        auto target = "/ews/" + std::to_string(i);
        EXPECT_EQ(client.roundtrip(make_request("POST", target, "a", "x")).result_int(), 200);
        EXPECT_EQ(client.roundtrip(make_request("GET", target)).result_int(), 200);
    }
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(up.value("POST /ews/" + std::to_string(i)), 1u);
        EXPECT_EQ(up.value("GET /ews/" + std::to_string(i)), 1u);
    }
}

// Row 73: a pooled connection the back end closed while idle: a GET goes again on a new
// connection; a POST arrives at most once.
TEST_F(Hardening, KeepAliveRaceRetriesOnlyWhatIsSafe) {
    fake_backend cas([](backend_connection& c) {
        if (auto req = c.read_request()) {
            c.backend().add(req->method);
            c.respond(200, "ok");
            // Closes while the proxy holds the connection idle in its pool.
            c.close();
        }
    });
    start(config(server(cas.port())));
    test_client client(http());
    ASSERT_EQ(client.roundtrip(make_request("GET", "/owa/")).result_int(), 200);
    ASSERT_TRUE(cas.wait_for_connections(1));
    EXPECT_EQ(client.roundtrip(make_request("GET", "/owa/")).result_int(), 200);
    auto post = client.roundtrip(make_request("POST", "/owa/", "a", "body"));
    EXPECT_TRUE(post.result_int() == 200 || post.result_int() == 502) << post.result_int();
    EXPECT_LE(cas.value("POST"), 1u);
    EXPECT_EQ(cas.value("GET"), 2u);
}

// Row 40: a malformed response head is a 502, and its connection is never reused.
TEST_F(Hardening, MalformedResponseHeadsAre502) {
    for (std::string head : {"HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello",
                             "HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 5\r\n\r\nhello",
                             "HTTP/1.1 200 OK\r\nContent-Length : 5\r\n\r\nhello",
                             "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                             "5;a=\"\n\"\r\nhello\r\n0\r\n\r\n"}) {
        SCOPED_TRACE(head);
        fake_backend cas([head](backend_connection& c) {
            while (auto req = c.read_request()) {
                if (c.index() == 0)
                    c.write(head);
                else
                    c.respond(200, "fresh");
            }
        });
        start(config(server(cas.port())));
        auto res = get(http(), "/owa/");
        if (res.result_int() == 200) {
            // The chunk-extension case fails only after the head went out: the client then
            // sees a cut response, never a whole one.
            EXPECT_NE(res.body(), "hello");
        } else {
            EXPECT_EQ(res.result_int(), 502);
            EXPECT_EQ(res["X-Gatehouse-Error"], "502.3.12152");
        }
        EXPECT_EQ(get(http(), "/owa/").body(), "fresh");
        proxy_->stop(200ms);
    }
}

// Row 37: a final response before the body was sent (Expect: 100-continue refused) reaches the
// client without a stray 100, and the back-end connection that never got the body is dropped.
TEST_F(Hardening, EarlyFinalResponseToExpectContinueDropsTheBackEndConnection) {
    fake_backend cas([](backend_connection& c) {
        while (auto req = c.read_head()) {
            if (c.index() == 0)
                c.respond(401, "", {{"WWW-Authenticate", "Basic realm=\"x\""}});
            else
                c.respond(200, "fresh");
        }
    });
    start(config(server(cas.port())));
    test_client client(http());
    client.send(
        "POST /ews/ HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
    auto res = client.read();
    EXPECT_EQ(res.result_int(), 401);
    EXPECT_TRUE(client.wait_closed());  // the body it announced can no longer be taken
    EXPECT_EQ(get(http(), "/owa/").body(), "fresh");
    EXPECT_EQ(cas.connections(), 2u);
}

// A client that writes its whole body before reading (most simple clients do) gets the 404.13
// the proxy answered at the head, not a reset: the proxy drops what it will not forward for a
// while before it closes (lingering close, RFC 9112 §9.6).
TEST_F(Hardening, ClientStillWritingARefusedBodyReadsTheRefusal) {
    fake_backend cas(answer("ok"));
    start(config(server(cas.port())));
    test_client client(http());
    const std::string body(16 * 1024 * 1024, 'x');  // more than both sockets' buffers hold
    client.send("POST /owa/ HTTP/1.1\r\nHost: a\r\nContent-Length: " +
                std::to_string(body.size()) + "\r\n\r\n");
    EXPECT_NO_THROW(client.send(body));
    auto res = client.read();
    EXPECT_EQ(res.result_int(), 404);
    EXPECT_TRUE(std::string(res["X-Gatehouse-Error"]).starts_with("404.13"))
        << res["X-Gatehouse-Error"];
    EXPECT_TRUE(client.wait_closed());
    EXPECT_EQ(cas.connections(), 0u);
}

// A client that keeps its connection open after the refusal is not waited for beyond
// limits.lingering_time_ms.
TEST_F(Hardening, LingeringCloseEndsAtItsLimit) {
    fake_backend cas(answer("ok"));
    start(config(server(cas.port()), R"(, "lingering_time_ms": 100)"));
    test_client client(http(), 3s);
    client.send("POST /owa/ HTTP/1.1\r\nHost: a\r\nContent-Length: 2000000\r\n\r\n");
    auto res = client.read();
    EXPECT_EQ(res.result_int(), 404);
    EXPECT_TRUE(client.wait_closed());
    // The proxy's side is gone, not half-closed: the connection is no longer counted.
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (proxy_->stats().connections_active != 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(2ms);  // polling the condition, bounded above
    EXPECT_EQ(proxy_->stats().connections_active, 0u);
}

// Row 62: one address holding limits.max_connections_per_client connections gets no more, while
// its open connections keep working and other addresses are not affected.
TEST_F(Hardening, PerClientConnectionCapRefusesOnlyThatAddress) {
    fake_backend cas(answer("ok"));
    start(config(server(cas.port()), R"(, "max_connections_per_client": 3)"), {}, 2);
    std::vector<std::unique_ptr<test_client>> held;
    for (int i = 0; i < 3; ++i) {
        held.push_back(std::make_unique<test_client>(http()));
        ASSERT_EQ(held.back()->roundtrip(make_request("GET", "/owa/")).result_int(), 200);
    }
    bool closed = false;
    auto refused = exchange_raw(http(), "GET /owa/ HTTP/1.1\r\nHost: a\r\n\r\n", closed);
    EXPECT_TRUE(refused.empty()) << refused.substr(0, 100);
    EXPECT_TRUE(closed);
    EXPECT_EQ(proxy_->stats().connections_refused_per_client, 1u);

    auto other = exchange_raw(http(), "GET /owa/ HTTP/1.1\r\nHost: a\r\n\r\n", closed, "127.0.0.2");
    EXPECT_TRUE(other.starts_with("HTTP/1.1 200")) << other.substr(0, 100);
    for (auto& c : held)
        EXPECT_EQ(c->roundtrip(make_request("GET", "/owa/")).result_int(), 200);

    // A closed connection gives its place back.
    held.pop_back();
    auto deadline = std::chrono::steady_clock::now() + 2s;
    while (proxy_->stats().connections_active > 2 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(2ms);  // polling the condition, bounded above
    auto again = exchange_raw(http(), "GET /owa/ HTTP/1.1\r\nHost: a\r\n\r\n", closed);
    EXPECT_TRUE(again.starts_with("HTTP/1.1 200")) << again.substr(0, 100);
}

// Row 43: an encoded CR LF in the path never becomes a line break in a head the proxy writes,
// whichever rule copies the path into it: a redirect's Location from {R:n}, {REQUEST_URI} or
// {URL}, a route's rewritten target, or a back end's Location rewritten to the client's host.
TEST_F(Hardening, EncodedLineBreaksInThePathNeverSplitAHeader) {
    fake_backend cas([](backend_connection& c) {
        while (auto req = c.read_request())
            c.respond(200, "ok",
                      {{"Location",
                        "http://127.0.0.1:" + std::to_string(c.backend().port()) + req->target}});
    });
    start(R"({
      "listeners": { "http": { "address": "127.0.0.1", "port": 0 } },
      "farms": { "cas": { "servers": [ { "address": "127.0.0.1", "port": ${PORT} } ],
                          "proxy": { "reverse_rewrite_host_in_response_headers": true,
                                     "preserve_host_header": false } } },
      "rules": [
        { "name": "capture", "pattern": "^r/([\\s\\S]*)$",
          "action": { "type": "redirect", "url": "https://mail.contoso.com/{R:1}" } },
        { "name": "uri", "pattern": "^u/",
          "action": { "type": "redirect", "url": "https://mail.contoso.com{REQUEST_URI}",
                      "append_query_string": false } },
        { "name": "url", "pattern": "^v/",
          "action": { "type": "redirect", "url": "https://mail.contoso.com{URL}" } },
        { "name": "rewrite", "pattern": "^w/([\\s\\S]*)$",
          "action": { "type": "route", "farm": "cas", "url": "/owa/{R:1}" } },
        { "name": "as-is", "pattern": "^owa/", "action": { "type": "route", "farm": "cas" } } ]
    })",
          {{"PORT", std::to_string(cas.port())}});
    const std::string injections[] = {
        "%0d%0aSet-Cookie:%20evil=1",  "%0D%0ASet-Cookie:%20evil=1", "%0aSet-Cookie:%20evil=1",
        "%0dSet-Cookie:%20evil=1",     "%250d%250aSet-Cookie:%20evil=1",
        "%E5%98%8A%E5%98%8DSet-Cookie:%20evil=1",  // U+560A U+560D: CR LF once truncated
    };
    std::size_t forwarded = 0;
    for (const auto& injection : injections) {
        for (std::string prefix : {"/r/", "/u/", "/v/", "/w/", "/owa/"}) {
            auto target = prefix + injection + "?q=%0d%0aSet-Cookie:%20evil=2";
            SCOPED_TRACE(target);
            bool closed = false;
            auto received =
                exchange_raw(http(), "GET " + target + " HTTP/1.1\r\nHost: a\r\n\r\n", closed);
            ASSERT_TRUE(received.starts_with("HTTP/1.1 ")) << received.substr(0, 200);
            auto status = received.substr(9, 3);
            EXPECT_TRUE(status == "301" || status == "200" || status == "400") << status;
            EXPECT_TRUE(head_lines_are_clean(received));
            if (prefix == "/w/" || prefix == "/owa/") ++forwarded;
        }
    }
    ASSERT_TRUE(cas.wait_for_requests(forwarded));
    for (const auto& r : cas.requests()) {
        SCOPED_TRACE(r.raw_head);
        EXPECT_TRUE(head_lines_are_clean(r.raw_head));
        EXPECT_FALSE(r.has("Set-Cookie"));
    }
}

// Row 58: a keep-alive connection left silent after its response is closed at
// limits.keep_alive_timeout_ms (not the head deadline), and is no longer counted.
TEST_F(Hardening, IdleKeepAliveConnectionIsClosedAtTheKeepAliveTimeout) {
    fake_backend cas(answer("ok"));
    start(config(server(cas.port()), R"(, "keep_alive_timeout_ms": 600)"));
    test_client client(http(), 3s);
    ASSERT_EQ(client.roundtrip(make_request("GET", "/owa/")).result_int(), 200);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(proxy_->stats().connections_active, 1u);
    EXPECT_TRUE(client.wait_closed());
    auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(waited, 550ms);  // the head deadline (300 ms) did not apply
    EXPECT_LT(waited, 2000ms);
    EXPECT_TRUE(active_connections_fall_to(*proxy_, 0));
}

// Row 61: twice limits.max_connections clients: the excess wait in the backlog (accept pauses)
// while the accepted ones keep working, and are served once connections close.
TEST_F(Hardening, ConnectionsBeyondTheCapWaitUntilOthersClose) {
    fake_backend cas(answer("ok"));
    start(config(server(cas.port()), R"(, "max_connections": 4, "keep_alive_timeout_ms": 5000)"));
    std::vector<std::unique_ptr<test_client>> served;
    for (int i = 0; i < 4; ++i) {
        served.push_back(std::make_unique<test_client>(http()));
        ASSERT_EQ(served.back()->roundtrip(make_request("GET", "/owa/")).result_int(), 200);
    }
    // The kernel completes these connections; the proxy does not accept them yet.
    std::vector<std::unique_ptr<test_client>> waiting;
    std::vector<std::future<unsigned>> answers;
    for (int i = 0; i < 4; ++i) {
        waiting.push_back(std::make_unique<test_client>(http()));
        waiting.back()->send(make_request("GET", "/owa/waiting"));
        answers.push_back(std::async(
            std::launch::async, [c = waiting.back().get()] { return c->read().result_int(); }));
    }
    for (auto& c : served)
        EXPECT_EQ(c->roundtrip(make_request("GET", "/owa/")).result_int(), 200);
    EXPECT_EQ(answers.front().wait_for(100ms), std::future_status::timeout);
    auto stats = proxy_->stats();
    EXPECT_EQ(stats.connections_accepted, 4u);
    EXPECT_EQ(stats.connections_active, 4u);

    served.clear();
    for (auto& a : answers) EXPECT_EQ(a.get(), 200u);
    EXPECT_EQ(proxy_->stats().connections_accepted, 8u);
    EXPECT_LE(proxy_->stats().connections_active, 4u);
}

// Row 80: a client that closes halfway through its body: the back-end connection is aborted
// (the back end never reads a complete request) and not reused, and the next request works.
TEST_F(Hardening, ClientAbortMidUploadAbortsTheBackEndRequest) {
    fake_backend cas([](backend_connection& c) {
        try {
            while (auto req = c.read_head()) {
                while (c.body_remaining() > 0) c.backend().add("body", c.read_body_some().size());
                c.backend().add("complete " + req->method);
                c.respond(200, "ok");
            }
        } catch (const backend_error& e) {
            if (std::string_view(e.what()).find("timed out") == std::string_view::npos)
                c.backend().add("aborted");
        }
    });
    start(config(server(cas.port())));
    {
        test_client client(http());
        client.send("POST /ews/ HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n");
        client.send(std::string(50'000, 'x'));
        ASSERT_TRUE(cas.wait_for_value("body", 50'000));
    }  // closed halfway
    ASSERT_TRUE(cas.wait_for_value("aborted", 1));
    EXPECT_EQ(cas.value("complete POST"), 0u);

    auto next = get(http(), "/owa/");
    EXPECT_EQ(next.result_int(), 200);
    EXPECT_EQ(cas.value("complete GET"), 1u);
    ASSERT_EQ(cas.requests().size(), 2u);
    EXPECT_EQ(cas.requests()[1].connection, 1u);  // a new connection, not the aborted one
    EXPECT_TRUE(active_connections_fall_to(*proxy_, 0));
}

// Row 79: many clients at once, some pipelining, a back end answering after random delays:
// every response reaches the connection that sent its request, in the order sent.
TEST_F(Hardening, EveryResponseReachesTheConnectionThatAskedForIt) {
    fake_backend cas([](backend_connection& c) {
        std::minstd_rand random(static_cast<unsigned>(c.index()) + 1);
        while (auto req = c.read_request()) {
            std::this_thread::sleep_for(std::chrono::microseconds(random() % 1500));
            c.respond(200, req->target);
        }
    });
    start(config(server(cas.port())), {}, 2);
    constexpr int clients = 50;
    constexpr int rounds = 20;  // each: one request alone, then two pipelined
    std::atomic<int> answered{0};
    std::mutex mutex;
    std::vector<std::string> problems;
    auto client_body = [&](int id) {
        try {
            test_client client(http());
            auto target = [id](int n) {
                return "/owa/" + std::to_string(id) + "/" + std::to_string(n);
            };
            auto check = [&](const response& res, const std::string& expected) {
                if (res.result_int() == 200 && res.body() == expected) {
                    ++answered;
                    return;
                }
                std::lock_guard lock(mutex);
                problems.push_back(expected + " got " + std::to_string(res.result_int()) + " " +
                                   res.body());
            };
            for (int r = 0; r < rounds; ++r) {
                check(client.roundtrip(make_request("GET", target(3 * r))), target(3 * r));
                client.send("GET " + target(3 * r + 1) + " HTTP/1.1\r\nHost: a\r\n\r\nGET " +
                            target(3 * r + 2) + " HTTP/1.1\r\nHost: a\r\n\r\n");
                check(client.read(), target(3 * r + 1));
                check(client.read(), target(3 * r + 2));
            }
        } catch (const std::exception& e) {
            std::lock_guard lock(mutex);
            problems.push_back("client " + std::to_string(id) + ": " + e.what());
        }
    };
    std::vector<std::thread> threads;
    for (int id = 0; id < clients; ++id) threads.emplace_back(client_body, id);
    for (auto& t : threads) t.join();
    EXPECT_TRUE(problems.empty()) << problems.size() << " problems, first: "
                                  << (problems.empty() ? "" : problems.front());
    EXPECT_EQ(answered.load(), clients * rounds * 3);
    EXPECT_EQ(cas.requests().size(), static_cast<std::size_t>(clients * rounds * 3));
}

}  // namespace
}  // namespace gatehouse::test
