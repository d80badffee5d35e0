#include "reports/svg_chart.hpp"

#include <gtest/gtest.h>

namespace gatehouse::reports {
namespace {

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
    return n;
}

TEST(SvgChart, NiceCeilingRoundsUpToOneTwoFive) {
    EXPECT_DOUBLE_EQ(nice_ceiling(0), 1);
    EXPECT_DOUBLE_EQ(nice_ceiling(7), 10);
    EXPECT_DOUBLE_EQ(nice_ceiling(1.5), 2);
    EXPECT_DOUBLE_EQ(nice_ceiling(230), 250);
    EXPECT_DOUBLE_EQ(nice_ceiling(1000), 1000);
}

TEST(SvgChart, LineChartDrawsOnePolylinePerSeriesAndEachMarker) {
    line_chart chart{.title = "Requests", .y_unit = "per s",
                     .series = {{"requests", {{0, 10}, {1, 20}}}, {"502.4.0", {{0, 0}, {1, 5}}}},
                     .markers = {{0.5, "drain cas2"}, {0.8, "reload"}}};
    auto svg = render_svg(chart);
    EXPECT_EQ(occurrences(svg, "<polyline"), 2u);
    EXPECT_EQ(occurrences(svg, "class=\"marker\""), 2u);
    EXPECT_NE(svg.find("<title>drain cas2</title>"), std::string::npos);
    EXPECT_EQ(svg.rfind("<svg", 0), 0u);
}

TEST(SvgChart, StackedBarsHaveARectPerNonZeroPart) {
    stacked_bar_chart chart{.title = "Per server", .y_unit = "per s", .keys = {"cas1", "cas2"},
                            .bars = {{0, {5, 5}}, {1, {10, 0}}}};
    auto svg = render_svg(chart);
    EXPECT_EQ(occurrences(svg, "class=\"bar\""), 3u);
}

TEST(SvgChart, TextIsEscaped) {
    EXPECT_EQ(escape_xml("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    line_chart chart{.title = "<script>", .y_unit = ""};
    EXPECT_EQ(render_svg(chart).find("<script>"), std::string::npos);
}

}  // namespace
}  // namespace gatehouse::reports
