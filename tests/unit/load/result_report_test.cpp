// A load run's results as a report: the timeline, totals, error keys and tables the HTML, JSON
// and terminal writers show, from results built here and from their JSON form.
#include "load/result_json.hpp"
#include "load/result_report.hpp"
#include "reports/writers.hpp"

#include <gtest/gtest.h>
#include <sstream>

namespace gatehouse::load {
namespace {

constexpr std::int64_t start_second = 1'700'000'000;

request_counts counts(std::uint64_t ok, std::uint64_t latency_us) {
    request_counts c;
    c.requests = ok;
    c.by_status[200] = ok;
    c.latency.record(latency_us, ok);
    return c;
}

// Three seconds of an open-model URL-list run with a silent second in between: 100 requests,
// then nothing, then 50 requests of which 4 failed (two 502 from the gatehouse proxy, one bare
// 503, one refused connection) and one 401.
run_results small_run() {
    run_results r;
    r.workload = "urls";
    r.model = "open";
    r.target = "http://127.0.0.1:8080";
    r.start_unix_ms = start_second * 1000 + 400;
    r.end_unix_ms = start_second * 1000 + 3400;

    second_sample first;
    first.unix_second = start_second;
    first.counts = counts(100, 2000);
    first.lag.record(100, 100);

    second_sample third;
    third.unix_second = start_second + 2;
    third.counts = counts(45, 4000);
    third.counts.requests = 50;
    third.counts.errors = 5;
    third.counts.by_status[502] = 2;
    third.counts.by_status[503] = 1;
    third.counts.by_status[401] = 1;
    third.counts.by_proxy_error["502.3.12002"] = 2;
    third.counts.by_failure[static_cast<std::size_t>(failure::connect)] = 1;
    third.counts.latency.record(30000, 4);
    third.lag.record(8000, 50);
    r.timeline = {first, third};

    r.totals = first.counts;
    r.totals.merge(third.counts);
    r.urls["GET /owa/"] = r.totals;
    r.profiles["urls"] = r.totals;
    r.schedule = {.due = 150, .started = 150, .missed = 0, .lag = {}};
    r.schedule.lag.merge(first.lag);
    r.schedule.lag.merge(third.lag);
    r.iterations = {.started = 150, .completed = 145, .failed = 5};
    r.counters["connections_opened"] = 10;
    return r;
}

TEST(ResultReport, TimelineHasOnePointPerSecondWithSilentSecondsAsZero) {
    auto s = to_scenario_result(small_run(), {});
    ASSERT_EQ(s.timeline.size(), 3u);
    EXPECT_EQ(s.timeline[0].t_s, 0);
    EXPECT_EQ(s.timeline[0].requests, 100u);
    EXPECT_NEAR(s.timeline[0].p50_ms, 2.0, 0.02);
    EXPECT_EQ(s.timeline[1].t_s, 1);
    EXPECT_EQ(s.timeline[1].requests, 0u);
    EXPECT_TRUE(s.timeline[1].errors.empty());
    EXPECT_EQ(s.timeline[2].t_s, 2);
    EXPECT_EQ(s.timeline[2].requests, 50u);
    EXPECT_NEAR(s.timeline[2].p50_ms, 4.0, 0.04);
    EXPECT_NEAR(s.timeline[2].p99_ms, 30.0, 0.3);
    EXPECT_NEAR(s.timeline[0].lag_p99_ms, 0.1, 0.001);
    EXPECT_NEAR(s.timeline[2].lag_p99_ms, 8.0, 0.08);
}

TEST(ResultReport, ErrorsAreKeyedByProxyTripleStatusOrFailure) {
    auto s = to_scenario_result(small_run(), {});
    std::map<std::string, std::uint64_t> expected{
        {"502.3.12002", 2}, {"503", 1}, {"401", 1}, {"connect", 1}};
    EXPECT_EQ(s.timeline[2].errors, expected);
    // In an Exchange profile a 401 is an authentication leg, not an error.
    auto r = small_run();
    r.workload = "ews";
    expected.erase("401");
    EXPECT_EQ(to_scenario_result(r, {}).timeline[2].errors, expected);
}

TEST(ResultReport, TotalsTablesAndScheduleComeAcross) {
    auto s = to_scenario_result(small_run(), {});
    EXPECT_EQ(s.id, "urls");
    EXPECT_EQ(s.summary.requests, 150u);
    EXPECT_EQ(s.summary.errors, 5u);
    EXPECT_DOUBLE_EQ(s.duration_s, 3.0);
    EXPECT_DOUBLE_EQ(s.summary.throughput_rps, 50.0);
    EXPECT_NEAR(s.summary.max_ms, 30.0, 0.3);
    // One profile only: its row would repeat the totals, so only the per-URL table.
    ASSERT_EQ(s.breakdowns.size(), 1u);
    EXPECT_EQ(s.breakdowns[0].title, "Per step or URL");
    ASSERT_EQ(s.breakdowns[0].rows.size(), 1u);
    EXPECT_EQ(s.breakdowns[0].rows[0].name, "GET /owa/");
    EXPECT_EQ(s.breakdowns[0].rows[0].summary.errors, 5u);
    EXPECT_EQ(s.breakdowns[0].rows[0].errors.at("502.3.12002"), 2u);
    auto fact = [&](const std::string& name) {
        for (const auto& f : s.facts)
            if (f.name == name) return f.value;
        return std::string("(absent)");
    };
    EXPECT_EQ(fact("schedule"), "150 due, 150 started, 0 missed");
    EXPECT_EQ(fact("iterations"), "150 started, 145 completed, 5 failed, 0 interrupted");
    EXPECT_EQ(fact("counters"), "connections_opened 10");
}

TEST(ResultReport, VerdictFollowsTheErrorRateLimit) {
    auto failed = to_scenario_result(small_run(), {});
    EXPECT_EQ(failed.outcome, reports::verdict::failed);
    ASSERT_EQ(failed.expectations.size(), 1u);
    EXPECT_EQ(failed.expectations[0].expected, "no errors");
    EXPECT_EQ(failed.expectations[0].observed, "3.33% (5 of 150)");
    auto passed = to_scenario_result(small_run(), {.max_error_rate = 0.05});
    EXPECT_EQ(passed.outcome, reports::verdict::passed);
    EXPECT_EQ(passed.expectations[0].expected, "≤ 5.00%");
}

TEST(ResultReport, TheJsonFormGivesTheSameReport) {
    auto r = small_run();
    auto again = results_from_json(nlohmann::json::parse(to_json(r).dump()), "run.json");
    std::ostringstream direct, via_json;
    reports::write_json(to_report(r, {}), direct);
    reports::write_json(to_report(again, {}), via_json);
    EXPECT_EQ(direct.str(), via_json.str());
    auto report = to_report(r, {});
    EXPECT_EQ(report.run.sut, "http://127.0.0.1:8080");
    EXPECT_EQ(report.run.tool, "gatehouse-load");
    EXPECT_EQ(report.run.started_at, "2023-11-14T22:13:20Z");
}

TEST(ResultReport, HtmlDrawsTrafficLatencyAndScheduleLag) {
    std::ostringstream out;
    reports::write_html(to_report(small_run(), {}), out);
    auto html = out.str();
    EXPECT_NE(html.find("aria-label=\"Requests and errors per second\""), std::string::npos);
    EXPECT_NE(html.find("aria-label=\"Latency\""), std::string::npos);
    EXPECT_NE(html.find("aria-label=\"Schedule lag of the load generator\""), std::string::npos);
    EXPECT_EQ(html.find("Requests per back-end server"), std::string::npos);
    EXPECT_NE(html.find("<title>502.3.12002</title>"), std::string::npos);  // an error series
    EXPECT_NE(html.find("<caption>Per step or URL</caption>"), std::string::npos);
}

}  // namespace
}  // namespace gatehouse::load
