// Start, reload, stop: a graceful stop lets requests in flight finish, a reload changes routing
// for new requests only and keeps server state, and several workers share one port.

#include "tests/integration/proxy_fixture.hpp"

#include <future>
#include <thread>

namespace gatehouse::test {
namespace {

std::string routed_to(std::uint16_t port, const std::string& extra_rules = "") {
    return R"({
      "listeners": { "http": { "address": "127.0.0.1", "port": 0 } },
      "farms": { "cas": { "servers": [ { "address": "127.0.0.1", "port": )" +
           std::to_string(port) + R"( } ] } },
      "rules": [ )" +
           extra_rules + R"(
        { "name": "all", "pattern": ".*", "action": { "type": "route", "farm": "cas" } } ]
    })";
}

// A back end that holds each request until the test adds "release".
fake_backend::script held(std::string body) {
    return [body = std::move(body)](backend_connection& c) {
        while (auto req = c.read_request()) {
            if (!c.backend().wait_for_value("release", 1, std::chrono::seconds(10))) return;
            c.respond(200, body);
        }
    };
}

// True when a new connection to `endpoint` is refused (or closed unanswered) within the limit.
bool refuses_connections(const tcp::endpoint& endpoint) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (std::chrono::steady_clock::now() < deadline) {
        try {
            test_client probe(endpoint, std::chrono::milliseconds(200));
        } catch (const std::runtime_error&) {
            return true;
        }
        std::this_thread::yield();
    }
    return false;
}

class Lifecycle : public ProxyTest {};

TEST_F(Lifecycle, GracefulStopLetsTheRequestInFlightFinish) {
    fake_backend cas(held("done"));
    start(routed_to(cas.port()));
    auto endpoint = http();
    auto response = std::async(std::launch::async, [endpoint] { return get(endpoint, "/owa/"); });
    ASSERT_TRUE(cas.wait_for_requests(1));
    auto stopped =
        std::async(std::launch::async, [this] { proxy_->stop(std::chrono::seconds(5)); });
    EXPECT_TRUE(refuses_connections(endpoint));
    EXPECT_EQ(stopped.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
    cas.add("release");
    auto res = response.get();
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "done");
    EXPECT_EQ(res["Connection"], "close");
    EXPECT_EQ(stopped.wait_for(std::chrono::seconds(5)), std::future_status::ready);
}

TEST_F(Lifecycle, StopDeadlineClosesWhatIsStillBusy) {
    fake_backend cas(held("never"));
    start(routed_to(cas.port()));
    test_client client(http(), std::chrono::seconds(5));
    client.send(make_request("GET", "/owa/"));
    ASSERT_TRUE(cas.wait_for_requests(1));
    auto t0 = std::chrono::steady_clock::now();
    proxy_->stop(std::chrono::milliseconds(100));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    EXPECT_TRUE(client.wait_closed());
    cas.add("release");
}

TEST_F(Lifecycle, StopClosesIdleKeepAliveConnectionsAtOnce) {
    fake_backend cas(answer("ok"));
    start(routed_to(cas.port()));
    test_client client(http());
    EXPECT_EQ(client.roundtrip(make_request("GET", "/owa/")).result_int(), 200);
    auto t0 = std::chrono::steady_clock::now();
    proxy_->stop(std::chrono::seconds(30));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    EXPECT_TRUE(client.wait_closed());
}

TEST_F(Lifecycle, ReloadRoutesNewRequestsWhileOldOnesFinish) {
    fake_backend a(held("A")), b(answer("B"));
    start(routed_to(a.port()));
    auto endpoint = http();
    auto in_flight = std::async(std::launch::async, [endpoint] { return get(endpoint, "/owa/"); });
    ASSERT_TRUE(a.wait_for_requests(1));
    proxy_->reload(proxy::parse_config(routed_to(b.port()), "test.json"));
    EXPECT_EQ(get(endpoint, "/owa/").body(), "B");
    a.add("release");
    EXPECT_EQ(in_flight.get().body(), "A");
}

TEST_F(Lifecycle, ReloadKeepsTheRuntimeStateOfServersThatStay) {
    fake_backend cas(answer("ok"));
    start(routed_to(cas.port()));
    for (int i = 0; i < 3; ++i) get(http(), "/owa/");
    proxy_->reload(
        proxy::parse_config(routed_to(cas.port(), R"({ "name": "deny-ecp", "pattern": "^ecp",
                                   "action": { "type": "custom_response", "status": 403,
                                               "substatus": 6, "reason": "Forbidden" } },)"),
                            "test.json"));
    get(http(), "/owa/");
    auto res = get(http(), "/ecp/");
    EXPECT_EQ(res.result_int(), 403);
    EXPECT_EQ(res["X-Gatehouse-Error"], "403.6.0");
    EXPECT_EQ(proxy_->stats().farm("cas")->servers[0].total_requests, 4u);
}

TEST_F(Lifecycle, ReloadRefusesBadConfigurationsAndKeepsServing) {
    fake_backend cas(answer("ok"));
    start(routed_to(cas.port()));
    auto moved = routed_to(cas.port());
    moved.replace(moved.find("\"port\": 0"), 9, "\"port\": 1");
    EXPECT_THROW(proxy_->reload(proxy::parse_config(moved, "test.json")), proxy::config_error);
    auto broken = proxy::parse_config(routed_to(cas.port()), "test.json");
    broken.rules[0].action.farm = "gone";
    try {
        proxy_->reload(std::move(broken));
        ADD_FAILURE() << "a rule routing to a missing farm was accepted";
    } catch (const proxy::config_error& e) {
        EXPECT_EQ(e.path(), "rules.all.action.farm");
    }
    EXPECT_EQ(get(http(), "/owa/").result_int(), 200);
}

TEST_F(Lifecycle, WorkersShareOnePort) {
    fake_backend cas(answer("ok"));
    start(routed_to(cas.port()), {}, 2);
    EXPECT_EQ(proxy_->threads(), 2u);
    for (int i = 0; i < 20; ++i) EXPECT_EQ(get(http(), "/owa/").result_int(), 200);
    EXPECT_EQ(proxy_->stats().connections_accepted, 20u);
}

TEST_F(Lifecycle, AbortRuleDropsTheConnectionWithoutAnswer) {
    fake_backend cas(answer("ok"));
    start(routed_to(cas.port(), R"({ "name": "eomt", "pattern": ".*",
        "conditions": [ { "input": "{HTTP_COOKIE}", "pattern": "X-BEResource=.+/.+~.+" } ],
        "action": { "type": "abort" } },)"));
    test_client client(http());
    client.send("GET /ecp/y.js HTTP/1.1\r\nHost: h\r\nCookie: X-BEResource=a/b~1\r\n\r\n");
    EXPECT_TRUE(client.read_some().empty());
    EXPECT_EQ(cas.connections(), 0u);
    EXPECT_EQ(proxy_->stats().aborted_by_rule, 1u);
    EXPECT_EQ(get(http(), "/owa/").result_int(), 200);
}

// Idle plain connections are compacted ("parked") after worker::park_delay: their coroutine ends
// and only the session and a readiness wait remain until the next request's bytes arrive.

// Waits (bounded) until the proxy counts `n` parked connections.
bool parked_connections_reach(proxy::proxy_server& proxy, std::uint64_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (proxy.stats().connections_parked != n) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling, bounded above
    }
    return true;
}

TEST_F(Lifecycle, ParkedConnectionsServeTheirNextRequests) {
    fake_backend cas(answer("ok"));
    start(routed_to(cas.port()));
    std::vector<std::unique_ptr<test_client>> clients;
    for (int i = 0; i < 4; ++i) {
        clients.push_back(std::make_unique<test_client>(http()));
        ASSERT_EQ(clients.back()->roundtrip(make_request("GET", "/owa/")).result_int(), 200);
    }
    ASSERT_TRUE(parked_connections_reach(*proxy_, 4));
    EXPECT_EQ(proxy_->stats().connections_active, 4u);

    // A short request; a head far longer than an idle connection's first read; a request with
    // a body; two requests in one segment.
    auto plain = clients[0]->roundtrip(make_request("GET", "/owa/"));
    EXPECT_EQ(plain.result_int(), 200);
    EXPECT_EQ(plain.body(), "ok");
    auto long_head = make_request("GET", "/owa/" + std::string(3000, 'a'));
    long_head.set("Cookie", std::string(4000, 'c'));
    EXPECT_EQ(clients[1]->roundtrip(long_head).result_int(), 200);
    EXPECT_EQ(clients[2]
                  ->roundtrip(make_request("POST", "/ews/exchange.asmx", "mail.contoso.com",
                                           std::string(10000, 'b')))
                  .result_int(),
              200);
    clients[3]->send(
        "GET /owa/1 HTTP/1.1\r\nHost: mail.contoso.com\r\n\r\n"
        "GET /owa/2 HTTP/1.1\r\nHost: mail.contoso.com\r\n\r\n");
    EXPECT_EQ(clients[3]->read().result_int(), 200);
    EXPECT_EQ(clients[3]->read().result_int(), 200);
    EXPECT_EQ(cas.requests().size(), 4u + 5u);

    // Served, they are idle again, and park again.
    EXPECT_TRUE(parked_connections_reach(*proxy_, 4));
    for (auto& c : clients) EXPECT_EQ(c->roundtrip(make_request("GET", "/owa/")).result_int(), 200);
}

TEST_F(Lifecycle, StopClosesParkedConnectionsAtOnce) {
    fake_backend cas(answer("ok"));
    start(routed_to(cas.port()));
    test_client client(http());
    EXPECT_EQ(client.roundtrip(make_request("GET", "/owa/")).result_int(), 200);
    ASSERT_TRUE(parked_connections_reach(*proxy_, 1));
    auto t0 = std::chrono::steady_clock::now();
    proxy_->stop(std::chrono::seconds(30));
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(2));
    EXPECT_TRUE(client.wait_closed());
}

TEST_F(Lifecycle, ParkedConnectionsCloseAtTheKeepAliveTimeoutOrWhenTheClientLeaves) {
    fake_backend cas(answer("ok"));
    auto config = routed_to(cas.port());
    config.replace(config.find(R"("port": 0 })"), 12,
                   R"("port": 0, "limits": { "keep_alive_timeout_ms": 700 } })");
    start(config);
    test_client timed_out(http(), std::chrono::seconds(5));
    auto leaving = std::make_unique<test_client>(http());
    EXPECT_EQ(timed_out.roundtrip(make_request("GET", "/owa/")).result_int(), 200);
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_EQ(leaving->roundtrip(make_request("GET", "/owa/")).result_int(), 200);
    ASSERT_TRUE(parked_connections_reach(*proxy_, 2));

    leaving.reset();  // the client closes its parked connection
    EXPECT_TRUE(parked_connections_reach(*proxy_, 1));
    // The keep-alive timeout still applies to a parked connection, kept by the worker.
    EXPECT_TRUE(timed_out.wait_closed());
    auto waited = std::chrono::steady_clock::now() - t0;
    EXPECT_GE(waited, std::chrono::milliseconds(650));
    EXPECT_LT(waited, std::chrono::milliseconds(2000));
    EXPECT_TRUE(parked_connections_reach(*proxy_, 0));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
    while (proxy_->stats().connections_active != 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));  // polling, bounded above
    EXPECT_EQ(proxy_->stats().connections_active, 0u);
}

}  // namespace
}  // namespace gatehouse::test
