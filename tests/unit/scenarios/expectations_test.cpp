// Expectations are pure functions of what was recorded: these drive them with hand-made request
// records, fake CAS logs and action times, in wall-clock seconds at time scale 0.1.

#include "scenarios/expectations.hpp"

#include <gtest/gtest.h>

namespace gatehouse::scenarios {
namespace {

using namespace std::chrono_literals;

expectation make(const std::string& kind, nlohmann::json args, const std::string& check,
                 window span = {}) {
    expectation e;
    e.kind = kind;
    e.args = args.is_null() ? nlohmann::json::object() : std::move(args);
    e.check = *parse_condition(check);
    e.span = span;
    e.name = kind;
    return e;
}

struct fixture : ::testing::Test {
    recorder requests;
    evaluation_context context;
    std::chrono::system_clock::time_point origin = std::chrono::system_clock::now();

    void SetUp() override {
        context.time_scale = 0.1;
        context.end_s = 10;
        context.origin = origin;
        context.requests = &requests;
        context.sut = "gatehouse";
    }
    void add(double end_s, unsigned status, std::string server = "cas1", std::string error = {}) {
        request_record r;
        r.source = "load:users";
        r.start_s = end_s - 0.001;
        r.end_s = end_s;
        r.status = status;
        r.server = std::move(server);
        r.error = std::move(error);
        r.latency_ms = 1;
        requests.add(std::move(r));
    }
    // A request the fake CAS `server` logged at wall second `t`.
    void logged(const std::string& server, double t, std::string route, bool probe = false) {
        fake_cas::request_record r;
        r.time = origin + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                              std::chrono::duration<double>(t));
        r.route = std::move(route);
        r.health_probe = probe;
        context.servers[server].log.push_back(r);
    }
};

TEST_F(fixture, ErrorRateCountsFiveHundredsAndMissingResponsesInItsWindowOnly) {
    add(0.5, 200);
    add(1.5, 502, "", "502.4.0");
    add(2.5, 200);
    add(3.5, 401);  // an authentication leg is not a failure
    auto all = evaluate(make("error_rate", {}, "== 0.25"), context);
    EXPECT_TRUE(all.passed) << all.observed;
    // Window [20 s, 40 s) of scenario time is [2 s, 4 s) of wall time at scale 0.1.
    auto late = evaluate(make("error_rate", {}, "== 0", {20.0, 40.0}), context);
    EXPECT_TRUE(late.passed) << late.observed;
    EXPECT_EQ(late.where, "[20s, 40s)");
}

TEST_F(fixture, RequestsMatchAnErrorTripleByItsLeadingParts) {
    add(1, 502, "", "502.3.12002");
    add(2, 502, "", "502.3.12030");
    add(3, 502, "", "502.4.0");
    EXPECT_TRUE(evaluate(make("requests", {{"error", "502.3"}}, "== 2"), context).passed);
    EXPECT_TRUE(evaluate(make("requests", {{"error", "502.3.12002"}}, "== 1"), context).passed);
    EXPECT_FALSE(evaluate(make("requests", {{"error", "502.3.1200"}}, "> 0"), context).passed);
}

TEST_F(fixture, FailoverTimeIsTheLastRequestAfterTheActionInScenarioSeconds) {
    context.actions["down"] = 3.0;
    logged("cas2", 2.0, "owa");
    logged("cas2", 3.2, "owa");
    logged("cas2", 3.45, "owa");
    logged("cas2", 3.9, "owa", true);  // probes do not count
    auto r = evaluate(make("failover_time", {{"server", "cas2"}, {"after", "down"}}, "<= 5"),
                      context);
    EXPECT_TRUE(r.passed) << r.observed;
    EXPECT_NE(r.observed.find("4.50 s after 'down'"), std::string::npos) << r.observed;
    EXPECT_NE(r.observed.find("2 requests reached cas2"), std::string::npos) << r.observed;
}

TEST_F(fixture, ServerRequestsSeparateVdirsAndProbes) {
    logged("cas1", 1, "owa");
    logged("cas1", 2, "ews");
    logged("cas1", 3, "owa", true);
    EXPECT_TRUE(evaluate(make("server_requests", {{"server", "cas1"}, {"vdir", "owa"}}, "== 1"),
                         context).passed);
    EXPECT_TRUE(evaluate(make("server_requests",
                              {{"server", "cas1"}, {"vdir", "owa"}, {"include_probes", true}},
                              "== 2"),
                         context).passed);
    auto missing = evaluate(make("server_requests", {{"server", "cas9"}}, "== 0"), context);
    EXPECT_FALSE(missing.passed);
    EXPECT_EQ(missing.observed, "no server named cas9");
}

TEST_F(fixture, ProbeBurstFindsTheMostProbesInAnyWindow) {
    for (double t : {1.0, 1.5, 1.52, 1.54, 2.5}) logged("cas1", t, "owa", true);
    // 1 scenario second = 0.1 wall seconds: three probes within 0.04 s.
    auto r = evaluate(make("probe_burst", {{"server", "cas1"}, {"vdir", "owa"}, {"per_s", 1}},
                           "<= 1"),
                      context);
    EXPECT_FALSE(r.passed);
    EXPECT_NE(r.observed.find("3 probes within 1 s"), std::string::npos) << r.observed;
}

TEST_F(fixture, AffinityCountsTheServersOneClientReached) {
    request_record r;
    r.source = "user";
    r.status = 200;
    for (auto [t, server] : {std::pair{1.0, "cas1"}, {2.0, "cas1"}, {3.0, "cas2"}}) {
        r.end_s = t;
        r.server = server;
        requests.add(r);
    }
    auto all = evaluate(make("affinity", {{"client", "user"}}, "== 1"), context);
    EXPECT_FALSE(all.passed);
    EXPECT_NE(all.observed.find("cas1, cas2"), std::string::npos);
    EXPECT_TRUE(evaluate(make("affinity", {{"client", "user"}}, "== 1", {0.0, 25.0}), context).passed);
}

TEST_F(fixture, ExpectationsForAnotherSystemAreNotJudged) {
    scenario s;
    auto only_haproxy = make("requests", {{"status", 503}}, "> 0");
    only_haproxy.only_sut = {"haproxy"};
    s.expectations = {only_haproxy, make("requests", {}, "== 0")};
    auto results = evaluate_all(s, context);
    ASSERT_EQ(results.size(), 1u);
    EXPECT_TRUE(results[0].passed);
}

TEST_F(fixture, AnExpectationWithNothingToMeasureFails) {
    auto r = evaluate(make("latency", {{"percentile", 99}}, "< 100"), context);
    EXPECT_FALSE(r.passed);
    EXPECT_NE(r.observed.find("no responses"), std::string::npos);
}

TEST_F(fixture, ReliabilityCasesCountsFailedCasesAndNamesEachWithItsReason) {
    client_outcome grader;
    grader.cases.push_back({.id = "1", .title = "CL+TE", .passed = true});
    grader.cases.push_back({.id = "52", .title = "Declared body over the limit", .passed = false,
                            .problems = "status 200"});
    grader.cases_not_applicable = 3;
    context.clients["grader"] = grader;
    auto r = evaluate(make("reliability_cases", {{"client", "grader"}}, "== 0"), context);
    EXPECT_FALSE(r.passed);
    EXPECT_EQ(r.observed,
              "1 — 1 of 2 cases failed, 1 passed, 3 of another profile not sent\n"
              "        52 (Declared body over the limit): status 200");
    context.clients["grader"].cases.pop_back();
    auto none_failed = make("reliability_cases", {{"client", "grader"}}, "== 0");
    EXPECT_TRUE(evaluate(none_failed, context).passed);
    context.clients["grader"].cases.clear();  // nothing sent is never a pass
    EXPECT_FALSE(evaluate(none_failed, context).passed);
}

}  // namespace
}  // namespace gatehouse::scenarios
