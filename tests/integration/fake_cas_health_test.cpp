// HealthCheck.htm, component states driven through the control API, routing of unknown paths,
// and malformed requests that must not disturb other connections.

#include "tests/integration/fake_cas_fixture.hpp"

namespace gatehouse::fake_cas::testing {
namespace {

using test::get;
using test::make_request;
using test::test_client;

class HealthTest : public FleetTest {};

TEST_F(HealthTest, HealthCheckAnswersFqdnBodyWithFrontEndHeaders) {
    start(2);
    auto res = get(ep(1), "/owa/HealthCheck.htm");
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "200 OK<br/>EX02.CONTOSO.LOCAL");
    EXPECT_EQ(res["X-FEServer"], "EX02");
    EXPECT_EQ(res["Server"], "Microsoft-IIS/10.0");
    EXPECT_EQ(res["X-Powered-By"], "ASP.NET");
    EXPECT_FALSE(res["request-id"].empty());
    EXPECT_FALSE(res["Date"].empty());
    EXPECT_TRUE(res["X-BEServer"].empty());  // answered by the front end itself
}

TEST_F(HealthTest, ReportsAvailableMemoryOnlyWhenConfigured) {
    start(1);
    EXPECT_TRUE(get(ep(), "/owa/HealthCheck.htm")["X-Memory-Available-MB"].empty());
    server(0).patch({{"memory_available_mb", 4096}});
    EXPECT_EQ(get(ep(), "/owa/HealthCheck.htm")["X-Memory-Available-MB"], "4096");
}

TEST_F(HealthTest, EveryVdirHasItsHealthPageInAnyCase) {
    start(1);
    for (auto path :
         {"/ews/healthcheck.htm", "/Microsoft-Server-ActiveSync/HealthCheck.htm",
          "/RPC/HEALTHCHECK.HTM", "/mapi/HealthCheck.htm", "/Autodiscover/HealthCheck.htm",
          "/oab/HealthCheck.htm", "/ecp/HealthCheck.htm", "/PowerShell/HealthCheck.htm"})
        EXPECT_EQ(get(ep(), path).result_int(), 200) << path;
}

TEST_F(HealthTest, HeadGetsHeadersOnly) {
    start(1);
    test_client c(ep());
    auto res = c.roundtrip(make_request("HEAD", "/ews/HealthCheck.htm"));
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res[http::field::content_length], "29");
    EXPECT_TRUE(res.body().empty());
}

TEST_F(HealthTest, ComponentFlippedThroughTheControlApiTakesOnlyItsVdirOut) {
    start(2);
    auto [status, body] =
        control("POST", "/servers/cas1/components",
                R"({"component":"OwaProxy","requester":"HealthApi","state":"Inactive"})");
    ASSERT_EQ(status, 200u) << body.dump();
    EXPECT_EQ(get(ep(0), "/owa/HealthCheck.htm").result_int(), 503);
    EXPECT_EQ(get(ep(0), "/ews/HealthCheck.htm").result_int(), 200);
    EXPECT_EQ(get(ep(1), "/owa/HealthCheck.htm").result_int(), 200);
    control("POST", "/servers/cas1/components",
            R"({"component":"OwaProxy","requester":"HealthApi","state":"Active"})");
    EXPECT_EQ(get(ep(0), "/owa/HealthCheck.htm").result_int(), 200);
}

TEST_F(HealthTest, ComponentStaysInactiveWhileAnyRequesterHoldsIt) {
    start(1);
    server(0).set_component_state("EwsProxy", "Maintenance", false);
    server(0).set_component_state("EwsProxy", "HealthApi", false);
    server(0).set_component_state("EwsProxy", "HealthApi", true);
    EXPECT_EQ(get(ep(), "/EWS/HealthCheck.htm").result_int(), 503);
}

TEST_F(HealthTest, ServerWideOfflineTakesEveryVdirOut) {
    start(1);
    auto [status, body] = control(
        "POST", "/servers/cas1/components",
        R"({"component":"ServerWideOffline","requester":"Maintenance","state":"Inactive"})");
    ASSERT_EQ(status, 200u);
    for (auto path : {"/owa/HealthCheck.htm", "/rpc/HealthCheck.htm", "/mapi/HealthCheck.htm"})
        EXPECT_EQ(get(ep(), path).result_int(), 503) << path;
}

TEST_F(HealthTest, InactiveResponseCanBeAResetOrA404) {
    start(1);
    server(0).patch({{"vdirs",
                      {{"owa", {{"health", {{"inactive_response", "reset"}}}}},
                       {"ews", {{"health", {{"inactive_response", 404}}}}}}}});
    server(0).set_component_state("ServerWideOffline", "Maintenance", false);
    EXPECT_EQ(get(ep(), "/ews/HealthCheck.htm").result_int(), 404);
    test_client c(ep());
    c.send("GET /owa/HealthCheck.htm HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(c.read_some().empty());  // reset: no answer
}

TEST_F(HealthTest, HangingHealthPageNeverAnswers) {
    start(1);
    server(0).patch({{"health", {{"inactive_response", "hang"}}}});
    server(0).set_component_state("OwaProxy", "HealthApi", false);
    test_client c(ep(), std::chrono::milliseconds(300));
    c.send("GET /owa/HealthCheck.htm HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_THROW(c.read(), std::runtime_error);  // the client's own timeout fires
}

TEST_F(HealthTest, ProbesAreCountedPerVdirAndServer) {
    start(2);
    for (int i = 0; i < 3; ++i) get(ep(0), "/owa/HealthCheck.htm");
    get(ep(0), "/ews/HealthCheck.htm");
    auto o = server(0).observations();
    EXPECT_EQ(o.at(vdir::owa).health_probes, 3u);
    EXPECT_EQ(o.at(vdir::ews).health_probes, 1u);
    EXPECT_EQ(server(1).observations().at(vdir::owa).health_probes, 0u);
}

TEST_F(HealthTest, FlappingHealthAlternatesEveryNProbes) {
    start(1);
    server(0).patch({{"vdirs", {{"owa", {{"health", {{"flap_every", 2}}}}}}}});
    std::vector<int> seen;
    for (int i = 0; i < 6; ++i) seen.push_back(get(ep(), "/owa/HealthCheck.htm").result_int());
    EXPECT_EQ(seen, (std::vector<int>{200, 200, 503, 503, 200, 200}));
}

TEST_F(HealthTest, RootRedirectsToOwaAndUnknownPathsAre404) {
    start(1);
    auto root = get(ep(), "/");
    EXPECT_EQ(root.result_int(), 302);
    EXPECT_EQ(root[http::field::location], "/owa");
    auto unknown = get(ep(), "/nothing/here");
    EXPECT_EQ(unknown.result_int(), 404);
    EXPECT_EQ(unknown["X-FEServer"], "EX01");
    EXPECT_EQ(get(ep(), "/owax").result_int(), 404);
}

TEST_F(HealthTest, DisabledVdirIs404) {
    start(1);
    server(0).patch({{"vdirs", {{"oab", {{"enabled", false}}}}}});
    EXPECT_EQ(get(ep(), "/OAB/HealthCheck.htm").result_int(), 404);
}

TEST_F(HealthTest, MalformedRequestGets400AndOtherConnectionsCarryOn) {
    start(1);
    test_client good(ep());
    EXPECT_EQ(good.roundtrip(make_request("GET", "/owa/HealthCheck.htm")).result_int(), 200);
    test_client bad(ep());
    bad.send("GET /owa/HealthCheck.htm HTTP/1.1\r\nHost: x\r\nBroken header line\r\n\r\n");
    auto res = bad.read();
    EXPECT_EQ(res.result_int(), 400);
    EXPECT_EQ(res["Server"], "Microsoft-HTTPAPI/2.0");
    EXPECT_TRUE(bad.wait_closed());
    EXPECT_EQ(good.roundtrip(make_request("GET", "/owa/HealthCheck.htm")).result_int(), 200);
    EXPECT_EQ(server(0).observations().statuses.at(400), 1u);
}

TEST_F(HealthTest, OversizedHeaderIsRejectedLikeHttpSys) {
    start(1);
    test_client c(ep());
    auto req = make_request("GET", "/owa/HealthCheck.htm");
    req.set("X-Big", std::string(20000, 'a'));
    EXPECT_EQ(c.roundtrip(req).result_int(), 400);
}

TEST_F(HealthTest, TargetAndForwardingHeadersAreLoggedByteExact) {
    start(1);
    test_client c(ep());
    auto req = make_request("GET", "/OWA/HealthCheck.htm?x=%41&y=@z");
    req.set("X-Forwarded-For", "203.0.113.7");
    req.set("X-ARR-LOG-ID", "abc-123");
    c.roundtrip(req);
    auto log = server(0).observations().log;
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log[0].target, "/OWA/HealthCheck.htm?x=%41&y=@z");
    EXPECT_EQ(log[0].x_forwarded_for, "203.0.113.7");
    EXPECT_EQ(log[0].x_arr_log_id, "abc-123");
    EXPECT_EQ(log[0].host, "mail.contoso.com");
    EXPECT_EQ(log[0].route, "owa");
    EXPECT_TRUE(log[0].health_probe);
}

}  // namespace
}  // namespace gatehouse::fake_cas::testing
