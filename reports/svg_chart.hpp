#pragma once
// Inline SVG charts for the HTML report: line charts (requests/s, errors, latency) and stacked
// bar charts (requests per back-end server per second), with the timeline's actions drawn as
// numbered vertical markers. Pure functions from data to SVG text.

#include <string>
#include <utility>
#include <vector>

namespace gatehouse::reports {

struct chart_series {
    std::string name{};
    std::vector<std::pair<double, double>> points{};  // (x seconds, y)
};

struct chart_marker {
    double x = 0;
    std::string label{};
};

struct line_chart {
    std::string title{};
    std::string y_unit{};
    std::vector<chart_series> series{};
    std::vector<chart_marker> markers{};
    double x_end = 0;  // the x axis reaches at least this far (the end of the last bucket)
    double width = 720;
    double height = 220;
};

struct stacked_bar_chart {
    std::string title{};
    std::string y_unit{};
    std::vector<std::string> keys{};  // stack order; one colour each
    std::vector<std::pair<double, std::vector<double>>> bars{};  // (x seconds, value per key)
    std::vector<chart_marker> markers{};
    double bar_span = 1;  // seconds each bar covers
    double width = 720;
    double height = 220;
};

std::string render_svg(const line_chart& chart);
std::string render_svg(const stacked_bar_chart& chart);

// The colour the n-th series uses (stable across charts, so a server keeps its colour).
std::string series_colour(std::size_t index);

// Escapes text for use in HTML or SVG content and attributes.
std::string escape_xml(std::string_view text);

// Round upper bound for an axis whose data reaches `max` (1, 2, 2.5, 5 × 10^k).
double nice_ceiling(double max);

}  // namespace gatehouse::reports
