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
}

}  // namespace
}  // namespace gatehouse::reports
