#pragma once
// Runs scenarios: brings up the topology, runs the clients, load phases and timeline together,
// bounded in time, then evaluates the expectations and returns the report's view of it. Each
// scenario is isolated (its own fleet, proxy, ports and work directory).

#include "reports/report.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/topology.hpp"

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::scenarios {

struct run_options {
    sut_mode sut = sut_mode::embedded;
    double default_time_scale = 1;              // for scenarios that set none
    std::optional<double> time_scale{};         // overrides every scenario's own
    std::filesystem::path work_root{};          // one subdirectory per scenario
    std::filesystem::path proxy_executable{};   // gatehouse-proxy (sut_mode::process)
    unsigned parallel = 1;                      // scenarios run at once
    // Called (from the calling thread) when a scenario starts and when it ends.
    std::function<void(const scenario&, const reports::scenario_result*)> on_progress{};
};

// Runs one scenario. Never throws: a scenario that cannot run has verdict error (or unsupported
// when the system under test cannot express it), with the reason.
reports::scenario_result run_scenario(const scenario& s, const run_options& options);

// Runs `scenarios` (in order, or `parallel` at a time) and returns them in their order.
std::vector<reports::scenario_result> run_scenarios(const std::vector<scenario>& scenarios,
                                                    const run_options& options);

}  // namespace gatehouse::scenarios
