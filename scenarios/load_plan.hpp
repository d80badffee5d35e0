#pragma once
// A scenario's load phase, written as JSON, into a gatehouse::load plan aimed at the system under
// test. The keys mirror gatehouse-load's command-line options (docs/scenarios.md). Durations are
// scenario seconds and are scaled; rates and user counts are wall-clock, as load is real.

#include "load/runner.hpp"

#include <nlohmann/json.hpp>
#include <string>

namespace gatehouse::scenarios {

// Throws scenario_error naming `path` and the key when the plan is not valid.
load::plan load_plan_from_json(const nlohmann::json& plan, const std::string& path,
                               double duration_s, double time_scale);

}  // namespace gatehouse::scenarios
