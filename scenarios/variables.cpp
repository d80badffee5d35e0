#include "scenarios/variables.hpp"

#include <charconv>
#include <cmath>
#include <optional>

namespace gatehouse::scenarios {

namespace {

bool parse_number(std::string_view text, double& out) {
    if (text.empty()) return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

bool is_integer(std::string_view text) {
    if (text.empty() || text.size() > 18) return false;
    std::size_t i = text[0] == '-' ? 1 : 0;
    if (i == text.size()) return false;
    for (; i < text.size(); ++i)
        if (text[i] < '0' || text[i] > '9') return false;
    return true;
}

}  // namespace

std::string variables::resolve(std::string_view reference, std::string_view where) const {
    // ${name|fallback}: the fallback when nothing defines `name` (a template's default); with a
    // function, ${ms:name|30000} scales the fallback.
    std::optional<std::string_view> fallback;
    if (auto bar = reference.find('|'); bar != std::string_view::npos) {
        fallback = reference.substr(bar + 1);
        reference = reference.substr(0, bar);
    }
    auto lookup = [&](std::string_view name) -> std::optional<std::string> {
        if (auto it = values_.find(std::string(name)); it != values_.end()) return it->second;
        if (fallback) return std::string(*fallback);
        return std::nullopt;
    };
    auto colon = reference.find(':');
    if (colon != std::string_view::npos) {
        auto function = reference.substr(0, colon);
        auto argument = reference.substr(colon + 1);
        double value = 0;
        // The argument is a number or the name of a variable holding one (a scenario's vars).
        std::string number(argument);
        if (!parse_number(number, value))
            if (auto named = lookup(argument)) number = *named;
        if (!parse_number(number, value) || value < 0)
            throw substitution_error(std::string(where) + ": ${" + std::string(reference) +
                                     "}: the argument must be a non-negative number or a "
                                     "variable holding one");
        if (function == "ms")
            return std::to_string(static_cast<long long>(std::ceil(value * time_scale_)));
        if (function == "s")
            return std::to_string(
                std::max(1LL, static_cast<long long>(std::ceil(value * time_scale_))));
        throw substitution_error(std::string(where) + ": ${" + std::string(reference) +
                                 "}: unknown function '" + std::string(function) +
                                 "' (use ms: or s:)");
    }
    auto value = lookup(reference);
    if (!value)
        throw substitution_error(std::string(where) + ": ${" + std::string(reference) +
                                 "} is not defined");
    return *value;
}

std::string variables::expand(std::string_view text, std::string_view where) const {
    std::string out;
    out.reserve(text.size());
    std::size_t i = 0;
    while (i < text.size()) {
        auto start = text.find("${", i);
        if (start == std::string_view::npos) {
            out.append(text.substr(i));
            break;
        }
        out.append(text.substr(i, start - i));
        auto end = text.find('}', start + 2);
        if (end == std::string_view::npos)
            throw substitution_error(std::string(where) + ": unterminated ${ at offset " +
                                     std::to_string(start));
        auto reference = text.substr(start + 2, end - start - 2);
        if (reference.empty())
            throw substitution_error(std::string(where) + ": empty ${} at offset " +
                                     std::to_string(start));
        out.append(resolve(reference, where));
        i = end + 1;
    }
    return out;
}

nlohmann::json variables::expand_json(const nlohmann::json& value, const std::string& where) const {
    if (value.is_string()) {
        const auto& text = value.get_ref<const std::string&>();
        std::string expanded = expand(std::string_view(text), std::string_view(where));
        bool single = text.size() > 3 && text.starts_with("${") && text.find('}') == text.size() - 1;
        if (single && is_integer(expanded)) return std::stoll(expanded);
        return expanded;
    }
    if (value.is_object()) {
        nlohmann::json out = nlohmann::json::object();
        for (const auto& [key, item] : value.items()) out[key] = expand_json(item, where + "." + key);
        return out;
    }
    if (value.is_array()) {
        nlohmann::json out = nlohmann::json::array();
        for (std::size_t i = 0; i < value.size(); ++i)
            out.push_back(expand_json(value[i], where + "[" + std::to_string(i) + "]"));
        return out;
    }
    return value;
}

}  // namespace gatehouse::scenarios
