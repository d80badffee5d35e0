// Fault knobs do what they promise, at start and at run time.

#include "tests/integration/fake_cas_fixture.hpp"

namespace gatehouse::fake_cas::testing {
namespace {

using test::get;
using test::make_request;
using test::test_client;

class FaultsTest : public FleetTest {};

TEST_F(FaultsTest, ErrorStatusIsAnsweredForTheVdirOnly) {
    start(1);
    server(0).patch({{"vdirs", {{"owa", {{"faults", {{"error_status", 500}}}}}}}});
    EXPECT_EQ(get(ep(), "/owa/HealthCheck.htm").result_int(), 500);
    EXPECT_EQ(get(ep(), "/ews/HealthCheck.htm").result_int(), 200);
    EXPECT_EQ(server(0).observations().at(vdir::owa).statuses.at(500), 1u);
}

TEST_F(FaultsTest, ErrorRateAppliesToAShareOfRequests) {
    start(1);
    server(0).patch({{"faults", {{"error_status", 503}, {"error_rate", 0.5}}}});
    int errors = 0;
    for (int i = 0; i < 200; ++i) errors += get(ep(), "/owa/HealthCheck.htm").result_int() == 503;
    EXPECT_GT(errors, 50);
    EXPECT_LT(errors, 150);
}

TEST_F(FaultsTest, ResetSendsRstInsteadOfAnAnswer) {
    start(1);
    server(0).patch({{"faults", {{"reset_rate", 1}}}});
    test_client c(ep());
    c.send("GET /owa/HealthCheck.htm HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_TRUE(c.read_some().empty());
    auto log = server(0).observations().log;
    ASSERT_EQ(log.size(), 1u);
    EXPECT_EQ(log.back().status, 0u);
}

TEST_F(FaultsTest, CloseMidBodyDeliversAboutHalfOfTheBody) {
    start(1);
    server(0).patch(
        {{"oab", {{"file_bytes", 10000}}},
         {"vdirs",
          {{"oab",
            {{"auth", nlohmann::json::array()}, {"faults", {{"close_mid_body_rate", 1}}}}}}}});
    test_client c(ep());
    c.send(
        "GET "
        "/OAB/d29844a9-724e-468c-8820-0f7b345b767b/d29844a9-724e-468c-8820-0f7b345b767b-data-7.lzx "
        "HTTP/1.1\r\nHost: x\r\n\r\n");
    auto head = c.read_head();
    EXPECT_EQ(head[http::field::content_length], "10000");
    std::string body;
    for (;;) {
        auto piece = c.read_some();
        if (piece.empty()) break;
        body += piece;
    }
    EXPECT_EQ(body.size(), 5000u);
}

TEST_F(FaultsTest, MalformedResponseCannotBeParsed) {
    start(1);
    server(0).patch({{"faults", {{"malformed_rate", 1}}}});
    test_client c(ep());
    c.send("GET /owa/HealthCheck.htm HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_THROW(c.read(), std::runtime_error);
}

TEST_F(FaultsTest, StallAfterNBytesStopsWriting) {
    start(1);
    server(0).patch({{"faults", {{"stall_after_bytes", 10}}}});
    test_client c(ep(), std::chrono::milliseconds(300));
    c.send("GET /owa/HealthCheck.htm HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_EQ(c.read_exactly(10), "HTTP/1.1 2");
    EXPECT_THROW(c.read_some(), std::runtime_error);  // nothing more within the timeout
}

TEST_F(FaultsTest, BandwidthLimitSlowsTheBody) {
    start(1);
    server(0).patch({{"oab", {{"file_bytes", 4000}}},
                     {"vdirs",
                      {{"oab",
                        {{"auth", nlohmann::json::array()},
                         {"faults", {{"bandwidth_bytes_per_s", 20000}}}}}}}});
    auto t0 = steady_clock::now();
    test_client c(ep());
    auto res = c.roundtrip(make_request("GET",
                                        "/OAB/d29844a9-724e-468c-8820-0f7b345b767b/"
                                        "d29844a9-724e-468c-8820-0f7b345b767b-data-7.lzx"));
    EXPECT_EQ(res.body().size(), 4000u);
    EXPECT_GE(steady_clock::now() - t0, std::chrono::milliseconds(180));  // ≥ 4000 B / 20000 B/s
}

TEST_F(FaultsTest, KeepAliveClosesAfterNRequests) {
    start(1);
    server(0).patch({{"faults", {{"close_after_requests", 2}}}});
    test_client c(ep());
    EXPECT_TRUE(
        c.roundtrip(make_request("GET", "/owa/HealthCheck.htm"))[http::field::connection].empty());
    auto second = c.roundtrip(make_request("GET", "/owa/HealthCheck.htm"));
    EXPECT_EQ(second[http::field::connection], "close");
    EXPECT_TRUE(c.wait_closed());
}

TEST_F(FaultsTest, LatencyIsAddedAndScaled) {
    auto config = default_fleet(1);
    config.time_scale = 0.1;
    start(std::move(config));
    server(0).patch({{"faults", {{"latency_ms", 1000}}}});  // 100 ms after scaling
    auto t0 = steady_clock::now();
    EXPECT_EQ(get(ep(), "/owa/HealthCheck.htm").result_int(), 200);
    auto took = steady_clock::now() - t0;
    EXPECT_GE(took, std::chrono::milliseconds(100));
    EXPECT_LT(took, std::chrono::milliseconds(900));
}

TEST_F(FaultsTest, StoppedListenerRefusesConnectionsAndStartsAgainOnTheSamePort) {
    start(1);
    auto before = ep();
    test_client established(before);
    // One answer proves the server accepted it (a connection still in the backlog would be
    // reset when the listening socket closes).
    ASSERT_EQ(established.roundtrip(make_request("GET", "/owa/HealthCheck.htm")).result_int(), 200);
    auto [status, body] = control("POST", "/servers/cas1/listening", R"({"listening": false})");
    ASSERT_EQ(status, 200u);
    EXPECT_EQ(body["listening"], false);
    EXPECT_THROW(test_client refused(before), std::runtime_error);
    // An established connection is not affected.
    EXPECT_EQ(established.roundtrip(make_request("GET", "/owa/HealthCheck.htm")).result_int(), 200);
    server(0).start_listening();
    EXPECT_EQ(ep(), before);
    EXPECT_EQ(get(before, "/owa/HealthCheck.htm").result_int(), 200);
}

TEST_F(FaultsTest, BadKnobPatchIsRefusedWithTheFieldNamed) {
    start(1);
    auto [status, body] = control("PATCH", "/servers/cas1/config",
                                  R"({"vdirs": {"ews": {"faults": {"error_rate": 7}}}})");
    EXPECT_EQ(status, 400u);
    EXPECT_EQ(body["error"], "patch: vdirs.ews.faults.error_rate: must be within [0, 1]");
    EXPECT_DOUBLE_EQ(server(0).config().at(vdir::ews).faults.error_rate, 1.0);
}

}  // namespace
}  // namespace gatehouse::fake_cas::testing
