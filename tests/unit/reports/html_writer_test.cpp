#include "reports/writers.hpp"

#include "tests/unit/reports/sample_report.hpp"

#include <gtest/gtest.h>
#include <regex>
#include <sstream>

namespace gatehouse::reports {
namespace {

std::string html_of(const report& r) {
    std::ostringstream out;
    write_html(r, out);
    return out.str();
}

TEST(HtmlWriter, IsOneSelfContainedDocument) {
    auto html = html_of(test::sample_report());
    EXPECT_EQ(html.rfind("<!DOCTYPE html>", 0), 0u);
    // Nothing is fetched: no external scripts, styles, images or fonts.
    EXPECT_FALSE(std::regex_search(html, std::regex(R"((src|href)\s*=\s*"(https?:)?//)")));
    EXPECT_EQ(html.find("<link"), std::string::npos);
    EXPECT_EQ(html.find("@import"), std::string::npos);
}

TEST(HtmlWriter, ShowsEveryScenarioWithItsChartsAndActions) {
    auto html = html_of(test::sample_report());
    EXPECT_NE(html.find("id=\"s-failover-health\""), std::string::npos);
    EXPECT_NE(html.find("Requests and errors per second"), std::string::npos);
    EXPECT_NE(html.find("Requests per back-end server"), std::string::npos);
    EXPECT_NE(html.find("cas2 /owa/HealthCheck.htm → 503"), std::string::npos);
    EXPECT_NE(html.find("502.3.12029"), std::string::npos);
}

std::size_t count_of(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
}

TEST(HtmlWriter, DrawsTheScheduleLagOnlyWhereItWasMeasured) {
    auto html = html_of(test::sample_report());
    // Passed and failed carry a timeline: traffic, latency and distribution each; only the
    // passed one has schedule lag.
    EXPECT_EQ(count_of(html, "<svg "), 7u);
    EXPECT_EQ(count_of(html, "aria-label=\"Schedule lag of the load generator\""), 1u);
}

TEST(HtmlWriter, ShowsFactsAndBreakdownTables) {
    auto html = html_of(test::sample_report());
    EXPECT_NE(html.find("<th>schedule</th><td>4000 due, 4000 started, 0 missed</td>"),
              std::string::npos);
    EXPECT_NE(html.find("<caption>Per step or URL</caption>"), std::string::npos);
    EXPECT_NE(html.find("<td>GET /owa/ &lt;&amp;&gt;</td>"), std::string::npos);
    EXPECT_NE(html.find("502.3.12029 ×2"), std::string::npos);
}

TEST(HtmlWriter, TimeScaleIsTheScenariosOwnWhenTheRunSetNone) {
    auto r = test::sample_report();
    auto html = html_of(r);
    EXPECT_EQ(html.find("time scale 0.000"), std::string::npos);
    EXPECT_NE(html.find("· time scale 0.05 ·"), std::string::npos);  // the only one recorded
    EXPECT_NE(html.find("s, time scale 0.05</p>"), std::string::npos);
    r.scenarios[1].time_scale = 0.02;
    EXPECT_NE(html_of(r).find("· time scale per scenario ·"), std::string::npos);
    r.run.time_scale = 0.1;
    EXPECT_NE(html_of(r).find("· time scale 0.1 ·"), std::string::npos);
    r.run.time_scale = 0;
    for (auto& s : r.scenarios) s.time_scale = 0;
    EXPECT_EQ(html_of(r).find("time scale"), std::string::npos);
}

TEST(HtmlWriter, FailedTraceIsOpenAndMarked) {
    auto html = html_of(test::sample_report());
    EXPECT_NE(html.find("<details class=\"trace\" open><summary>Client device1"),
              std::string::npos);
    EXPECT_NE(html.find("class=\"failed-step\""), std::string::npos);
}

TEST(HtmlWriter, EscapesEverythingFromTheModel) {
    auto html = html_of(test::sample_report());
    EXPECT_EQ(html.find("<b>bold</b>"), std::string::npos);
    EXPECT_NE(html.find("a &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; name"),
              std::string::npos);
    EXPECT_NE(html.find("&lt;&amp;&gt;"), std::string::npos);  // in the SUT config
}

TEST(HtmlWriter, ComparisonPutsBothRunsSideBySide) {
    auto left = test::sample_report();
    auto right = test::sample_report();
    right.run.sut = "haproxy 2.6.12";
    right.scenarios[0].outcome = verdict::failed;
    right.scenarios[0].summary.throughput_rps = 476.2;
    std::ostringstream out;
    write_html_comparison(left, right, out);
    auto html = out.str();
    EXPECT_NE(html.find("gatehouse (embedded)"), std::string::npos);
    EXPECT_NE(html.find("haproxy 2.6.12"), std::string::npos);
    EXPECT_NE(html.find("0.50×"), std::string::npos);
    EXPECT_NE(html.find("class=\"diff\""), std::string::npos);
    // Traffic and latency side by side for the two scenarios with a timeline, on both sides.
    EXPECT_EQ(count_of(html, "<svg "), 8u);
}

}  // namespace
}  // namespace gatehouse::reports
