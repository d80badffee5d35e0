#pragma once
// Variable substitution for scenario files, proxy configs and peer templates. Addresses are never
// written in a scenario: they come from variables filled in once the topology is up
// (`${cas1_addr}`, `${cas1_port}`, `${proxy_port}` …), as in HAProxy's reg-tests. Durations in
// templates are scaled with the scenario's time scale: `${ms:30000}` is 30000 scenario
// milliseconds in wall-clock milliseconds, `${s:900}` the same in whole seconds (at least 1);
// the argument may also name a variable that holds the number (`${ms:server_timeout_ms}`).
// `${name|text}` is `text` when nothing defines `name` (a template's default).

#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>

namespace gatehouse::scenarios {

// A reference to a variable nobody defined, or a malformed ${…}.
class substitution_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class variables {
public:
    explicit variables(double time_scale = 1) : time_scale_(time_scale) {}

    void set(std::string name, std::string value) { values_[std::move(name)] = std::move(value); }
    void set(std::string name, long long value) { set(std::move(name), std::to_string(value)); }
    bool contains(std::string_view name) const { return values_.count(std::string(name)) > 0; }
    double time_scale() const noexcept { return time_scale_; }
    const std::map<std::string, std::string>& all() const noexcept { return values_; }

    // Replaces every ${…} in `text`. `where` names the place for error messages.
    std::string expand(std::string_view text, std::string_view where) const;

    // Expands every string in `value` (recursively). A string that is exactly one reference to a
    // variable holding an integer becomes that integer, so `"port": "${cas1_port}"` yields a
    // number. `where` is the JSON path of `value` for error messages.
    nlohmann::json expand_json(const nlohmann::json& value, const std::string& where) const;

private:
    std::string resolve(std::string_view reference, std::string_view where) const;

    double time_scale_;
    std::map<std::string, std::string> values_;
};

}  // namespace gatehouse::scenarios
