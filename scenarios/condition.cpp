#include "scenarios/condition.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

namespace gatehouse::scenarios {

bool condition::holds(double observed) const noexcept {
    if (std::isnan(observed)) return false;
    switch (comparison) {
        case op::less: return observed < value;
        case op::less_equal: return observed <= value;
        case op::greater: return observed > value;
        case op::greater_equal: return observed >= value;
        case op::equal: return observed == value;
        case op::not_equal: return observed != value;
    }
    return false;
}

std::string condition::text() const {
    static constexpr const char* names[] = {"<", "<=", ">", ">=", "==", "!="};
    std::ostringstream out;
    out << names[static_cast<int>(comparison)] << ' ' << value;
    return out.str();
}

std::optional<condition> parse_condition(std::string_view text) {
    auto skip_spaces = [&] {
        while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
    };
    skip_spaces();
    condition c;
    static constexpr std::pair<std::string_view, condition::op> operators[] = {
        {"<=", condition::op::less_equal}, {">=", condition::op::greater_equal},
        {"==", condition::op::equal},      {"!=", condition::op::not_equal},
        {"<", condition::op::less},        {">", condition::op::greater}};
    bool found = false;
    for (auto [symbol, op] : operators) {
        if (text.starts_with(symbol)) {
            c.comparison = op;
            text.remove_prefix(symbol.size());
            found = true;
            break;
        }
    }
    if (!found) return std::nullopt;
    skip_spaces();
    while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
    if (text.empty()) return std::nullopt;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), c.value);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return c;
}

}  // namespace gatehouse::scenarios
