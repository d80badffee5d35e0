#pragma once
// k6-style threshold conditions: an operator and a number, e.g. "< 0.01", ">= 5", "== 0".

#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::scenarios {

struct condition {
    enum class op { less, less_equal, greater, greater_equal, equal, not_equal };
    op comparison = op::equal;
    double value = 0;

    bool holds(double observed) const noexcept;
    // The condition as text, normalised: "< 0.01".
    std::string text() const;
};

// Parses "<op> <number>" (spaces optional). None when `text` is not a condition.
std::optional<condition> parse_condition(std::string_view text);

}  // namespace gatehouse::scenarios
