#pragma once
// Finding, filtering and checking scenario files. A catalog is a directory of scenario files
// (*.json, searched recursively; the `templates` subdirectory holds peer config templates, not
// scenarios).

#include "scenarios/scenario.hpp"

#include <filesystem>
#include <string_view>
#include <vector>

namespace gatehouse::scenarios {

// The scenario files under `paths` (files are taken as given, directories searched), sorted.
// Throws scenario_error for a path that does not exist.
std::vector<std::filesystem::path> find_scenarios(const std::vector<std::filesystem::path>& paths);

// True when `filter` is empty or one of its comma-separated terms occurs in the scenario's id,
// title or one of its tags (case-insensitive).
bool matches_filter(const scenario& s, std::string_view filter);

// Checks what parsing alone cannot: the fleet config, the gatehouse proxy config, the peer
// templates' variables and the load plans, with placeholder addresses; and that actions and
// expectations name servers of the fleet. Throws scenario_error (file and JSON path) or the
// component's own configuration error (fleet, proxy).
void validate_deeply(const scenario& s);

}  // namespace gatehouse::scenarios
