// The runner end to end against the embedded proxy: a catalog scenario passes with its shipped
// configuration, and the same scenario with a deliberately broken proxy configuration fails with
// expectations that say what went wrong.

#include "scenarios/runner.hpp"

#include <gtest/gtest.h>
#include <algorithm>
#include <unistd.h>

namespace gatehouse::scenarios {
namespace {

const std::filesystem::path catalog = std::filesystem::path(GATEHOUSE_SOURCE_DIR) / "scenarios/catalog";

// Work directories of this process's runs, removed when the test program ends.
struct work_roots : ::testing::Environment {
    std::vector<std::filesystem::path> paths;
    void TearDown() override {
        std::error_code ignored;
        for (const auto& p : paths) std::filesystem::remove_all(p, ignored);
    }
};
work_roots* const roots =
    static_cast<work_roots*>(::testing::AddGlobalTestEnvironment(new work_roots));

run_options options_for(const std::string& name) {
    run_options o;
    o.work_root = std::filesystem::temp_directory_path() /
                  ("gatehouse-runner-test-" + std::to_string(getpid()) + "-" + name);
    roots->paths.push_back(o.work_root);
    return o;
}

const reports::expectation_result* find(const reports::scenario_result& r, std::string_view part) {
    auto it = std::find_if(r.expectations.begin(), r.expectations.end(),
                           [&](const auto& e) { return e.name.find(part) != std::string::npos; });
    return it == r.expectations.end() ? nullptr : &*it;
}

TEST(ScenarioRunner, ShippedFailoverScenarioPasses) {
    auto s = load_scenario(catalog / "failover-healthcheck.json");
    auto r = run_scenario(s, options_for("pass"));
    EXPECT_EQ(r.outcome, reports::verdict::passed) << r.reason;
    for (const auto& e : r.expectations) EXPECT_TRUE(e.passed) << e.name << ": " << e.observed;
    EXPECT_GT(r.summary.requests, 500u);
    EXPECT_FALSE(r.timeline.empty());
    ASSERT_EQ(r.actions.size(), 1u);
}

TEST(ScenarioRunner, BrokenHealthTestMakesFailoverScenarioFailWithReasons) {
    auto s = load_scenario(catalog / "failover-healthcheck.json");
    // The classic mistake: the health test probes a page every server always answers.
    s.sut["gatehouse"].config["farms"]["exchange"]["health"]["url"] = "http://exchange/owa/auth/logon.aspx";
    s.sut["gatehouse"].config["farms"]["exchange"]["health"].erase("match");
    auto r = run_scenario(s, options_for("broken"));
    EXPECT_EQ(r.outcome, reports::verdict::failed);
    const auto* failover = find(r, "out of rotation");
    ASSERT_NE(failover, nullptr);
    EXPECT_FALSE(failover->passed);
    EXPECT_NE(failover->observed.find("requests reached cas2 after it"), std::string::npos)
        << failover->observed;
    const auto* after = find(r, "server_requests server=cas2");
    ASSERT_NE(after, nullptr);
    EXPECT_FALSE(after->passed);
    EXPECT_EQ(after->expected, "== 0");
    EXPECT_NE(after->observed.find("requests served by cas2"), std::string::npos) << after->observed;
}

TEST(ScenarioRunner, ScenarioTheSystemCannotRunIsUnsupportedWithItsReason) {
    auto s = load_scenario(catalog / "failover-healthcheck.json");
    auto o = options_for("nginx");
    o.sut = sut_mode::nginx;
    auto r = run_scenario(s, o);
    EXPECT_EQ(r.outcome, reports::verdict::unsupported);
    EXPECT_NE(r.reason.find("active health checks"), std::string::npos) << r.reason;
}

TEST(ScenarioRunner, ReliabilityCaseTablePassesAgainstGatehouse) {
    auto s = load_scenario(catalog / "reliability-cases.json");
    auto r = run_scenario(s, options_for("cases"));
    EXPECT_EQ(r.outcome, reports::verdict::passed) << r.reason;
    ASSERT_EQ(r.expectations.size(), 1u);
    EXPECT_NE(r.expectations[0].observed.find("0 of "), std::string::npos)
        << r.expectations[0].observed;
    ASSERT_EQ(r.traces.size(), 1u);
    auto cases = std::count_if(r.traces[0].steps.begin(), r.traces[0].steps.end(),
                               [](const auto& step) { return step.kind == "case"; });
    EXPECT_GT(cases, 100);
}

TEST(ScenarioRunner, ReliabilityCaseTableNamesTheCasesAProxyFails) {
    auto s = load_scenario(catalog / "reliability-cases.json");
    // A body limit above the case's 2 MB declaration: case 52's request is forwarded, not 413.
    s.sut["gatehouse"].config["request_filtering"]["max_allowed_content_length"] = 4000000;
    s.clients[0].steps[0].args["only"] = {"1", "52"};
    auto r = run_scenario(s, options_for("cases-broken"));
    EXPECT_EQ(r.outcome, reports::verdict::failed);
    ASSERT_EQ(r.expectations.size(), 1u);
    const auto& e = r.expectations[0];
    EXPECT_FALSE(e.passed);
    EXPECT_NE(e.observed.find("1 of 2 cases failed"), std::string::npos) << e.observed;
    EXPECT_NE(e.observed.find("52 (Declared body over the limit)"), std::string::npos)
        << e.observed;
}

TEST(ScenarioRunner, ExchangeCasesAreNotApplicableToPeersWithoutThePreset) {
    auto s = load_scenario(catalog / "reliability-cases-exchange.json");
    auto o = options_for("cases-haproxy");
    o.sut = sut_mode::haproxy;
    auto r = run_scenario(s, o);
    EXPECT_EQ(r.outcome, reports::verdict::unsupported);
    EXPECT_NE(r.reason.find("R1-R12"), std::string::npos) << r.reason;
}

}  // namespace
}  // namespace gatehouse::scenarios
