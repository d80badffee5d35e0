#include "reports/svg_chart.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace gatehouse::reports {

namespace {

constexpr double left_margin = 56;
constexpr double right_margin = 16;
constexpr double top_margin = 28;
constexpr double bottom_margin = 30;

// A round step (1, 2 or 5 × 10^k) that cuts `range` into about `parts` intervals.
double nice_step(double range, int parts) {
    if (!(range > 0)) return 1;
    double raw = range / parts;
    double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    for (double step : {1.0, 2.0, 5.0})
        if (raw <= step * magnitude * (1 + 1e-9)) return step * magnitude;
    return 10 * magnitude;
}

// An axis from 0 to a multiple of a round step that covers `max`.
struct axis {
    double max;
    double step;
    static axis covering(double max, int parts) {
        double step = nice_step(max, parts);
        double top = step * std::ceil(max / step - 1e-9);
        return {top > 0 ? top : step, step};
    }
};

std::string number(double v) {
    std::ostringstream out;
    if (std::fabs(v) >= 100 || v == std::floor(v))
        out << std::fixed << std::setprecision(0) << v;
    else
        out << std::setprecision(3) << v;
    return out.str();
}

std::string coordinate(double v) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(1) << v;
    return out.str();
}

// The frame shared by both chart kinds: title, axes, grid, tick labels, markers.
struct frame {
    double width;
    double height;
    axis x;
    axis y;
    double x_max = x.max;
    double y_max = y.max;

    double px(double x) const {
        return left_margin + (x_max > 0 ? x / x_max : 0) * (width - left_margin - right_margin);
    }
    double py(double y) const {
        return height - bottom_margin -
               (y_max > 0 ? y / y_max : 0) * (height - top_margin - bottom_margin);
    }

    void open(std::ostringstream& out, const std::string& title, const std::string& unit) const {
        out << "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" width=\""
            << number(width) << "\" height=\"" << number(height) << "\" viewBox=\"0 0 "
            << number(width) << ' ' << number(height) << "\" role=\"img\" aria-label=\""
            << escape_xml(title) << "\">";
        out << "<text class=\"chart-title\" x=\"" << left_margin << "\" y=\"16\">"
            << escape_xml(title) << (unit.empty() ? "" : " (" + escape_xml(unit) + ")")
            << "</text>";
        for (double y = 0; y <= y_max * (1 + 1e-9); y += this->y.step) {
            out << "<line class=\"grid\" x1=\"" << left_margin << "\" x2=\""
                << coordinate(width - right_margin) << "\" y1=\"" << coordinate(py(y))
                << "\" y2=\"" << coordinate(py(y)) << "\"/>";
            out << "<text class=\"tick\" x=\"" << left_margin - 6 << "\" y=\""
                << coordinate(py(y) + 4) << "\" text-anchor=\"end\">" << number(y) << "</text>";
        }
        for (double x = 0; x <= x_max * (1 + 1e-9); x += this->x.step) {
            out << "<text class=\"tick\" x=\"" << coordinate(px(x)) << "\" y=\""
                << coordinate(height - bottom_margin + 16) << "\" text-anchor=\"middle\">"
                << number(x) << "s</text>";
        }
        out << "<line class=\"axis\" x1=\"" << left_margin << "\" x2=\"" << left_margin
            << "\" y1=\"" << top_margin << "\" y2=\"" << coordinate(height - bottom_margin)
            << "\"/>";
        out << "<line class=\"axis\" x1=\"" << left_margin << "\" x2=\""
            << coordinate(width - right_margin) << "\" y1=\""
            << coordinate(height - bottom_margin) << "\" y2=\""
            << coordinate(height - bottom_margin) << "\"/>";
    }

    void markers(std::ostringstream& out, const std::vector<chart_marker>& list) const {
        for (std::size_t i = 0; i < list.size(); ++i) {
            double x = px(list[i].x);
            out << "<g class=\"marker\"><title>" << escape_xml(list[i].label) << "</title>";
            out << "<line x1=\"" << coordinate(x) << "\" x2=\"" << coordinate(x) << "\" y1=\""
                << top_margin << "\" y2=\"" << coordinate(height - bottom_margin) << "\"/>";
            out << "<circle cx=\"" << coordinate(x) << "\" cy=\"" << top_margin
                << "\" r=\"8\"/><text x=\"" << coordinate(x) << "\" y=\"" << top_margin + 4
                << "\" text-anchor=\"middle\">" << i + 1 << "</text></g>";
        }
    }
};

double max_x(const std::vector<chart_marker>& markers, double x) {
    for (const auto& m : markers) x = std::max(x, m.x);
    return x;
}

}  // namespace

std::string escape_xml(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&#39;"; break;
            default: out += c;
        }
    }
    return out;
}

double nice_ceiling(double max) {
    if (!(max > 0)) return 1;
    double magnitude = std::pow(10.0, std::floor(std::log10(max)));
    for (double step : {1.0, 2.0, 2.5, 5.0, 10.0})
        if (max <= step * magnitude * (1 + 1e-9)) return step * magnitude;
    return 10 * magnitude;
}

std::string series_colour(std::size_t index) {
    static const char* palette[] = {"#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed",
                                    "#0891b2", "#db2777", "#65a30d", "#475569", "#b45309"};
    return palette[index % (sizeof palette / sizeof palette[0])];
}

std::string render_svg(const line_chart& chart) {
    double x_hi = chart.x_end;
    double y_hi = 0;
    for (const auto& s : chart.series)
        for (auto [x, y] : s.points) {
            x_hi = std::max(x_hi, x);
            y_hi = std::max(y_hi, y);
        }
    frame f{chart.width, chart.height, axis::covering(max_x(chart.markers, x_hi), 8),
            axis::covering(y_hi, 4)};
    std::ostringstream out;
    f.open(out, chart.title, chart.y_unit);
    for (std::size_t i = 0; i < chart.series.size(); ++i) {
        const auto& s = chart.series[i];
        if (s.points.empty()) continue;
        out << "<polyline class=\"series\" fill=\"none\" stroke=\"" << series_colour(i)
            << "\" stroke-width=\"2\" points=\"";
        for (auto [x, y] : s.points) out << coordinate(f.px(x)) << ',' << coordinate(f.py(y)) << ' ';
        out << "\"><title>" << escape_xml(s.name) << "</title></polyline>";
    }
    f.markers(out, chart.markers);
    double legend_x = chart.width - right_margin;
    for (std::size_t i = chart.series.size(); i-- > 0;) {
        const auto& name = chart.series[i].name;
        legend_x -= 20 + 7.0 * static_cast<double>(name.size());
        out << "<rect x=\"" << coordinate(legend_x) << "\" y=\"8\" width=\"10\" height=\"10\" fill=\""
            << series_colour(i) << "\"/><text class=\"legend\" x=\"" << coordinate(legend_x + 13)
            << "\" y=\"17\">" << escape_xml(name) << "</text>";
    }
    out << "</svg>";
    return out.str();
}

std::string render_svg(const stacked_bar_chart& chart) {
    double x_hi = 0;
    double y_hi = 0;
    for (const auto& [x, values] : chart.bars) {
        double total = 0;
        for (double v : values) total += v;
        x_hi = std::max(x_hi, x + chart.bar_span);
        y_hi = std::max(y_hi, total);
    }
    frame f{chart.width, chart.height, axis::covering(max_x(chart.markers, x_hi), 8),
            axis::covering(y_hi, 4)};
    std::ostringstream out;
    f.open(out, chart.title, chart.y_unit);
    double bar_width = std::max(1.0, (f.px(chart.bar_span) - f.px(0)) * 0.8);
    for (const auto& [x, values] : chart.bars) {
        double base = 0;
        for (std::size_t k = 0; k < values.size() && k < chart.keys.size(); ++k) {
            if (values[k] <= 0) continue;
            double top = base + values[k];
            out << "<rect class=\"bar\" x=\"" << coordinate(f.px(x)) << "\" y=\""
                << coordinate(f.py(top)) << "\" width=\"" << coordinate(bar_width)
                << "\" height=\"" << coordinate(f.py(base) - f.py(top)) << "\" fill=\""
                << series_colour(k) << "\"><title>" << escape_xml(chart.keys[k]) << " at "
                << number(x) << "s: " << number(values[k]) << "</title></rect>";
            base = top;
        }
    }
    f.markers(out, chart.markers);
    double legend_x = chart.width - right_margin;
    for (std::size_t i = chart.keys.size(); i-- > 0;) {
        legend_x -= 20 + 7.0 * static_cast<double>(chart.keys[i].size());
        out << "<rect x=\"" << coordinate(legend_x) << "\" y=\"8\" width=\"10\" height=\"10\" fill=\""
            << series_colour(i) << "\"/><text class=\"legend\" x=\"" << coordinate(legend_x + 13)
            << "\" y=\"17\">" << escape_xml(chart.keys[i]) << "</text>";
    }
    out << "</svg>";
    return out.str();
}

}  // namespace gatehouse::reports
