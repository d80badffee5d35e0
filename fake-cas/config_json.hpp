#pragma once
// JSON ⇄ configuration. Comments are allowed; unknown keys are errors; every error message names
// the source (a file name, or "patch") and the JSON path, e.g.
//   fleet.json: servers[1].vdirs.owa.faults.error_rate: must be within [0, 1]

#include "fake-cas/config.hpp"

#include <string>

#include <nlohmann/json_fwd.hpp>

namespace gatehouse::fake_cas {

// Parses a whole fleet. `source` names the text in error messages.
fleet_config parse_fleet_config(const std::string& text, const std::string& source);
fleet_config load_fleet_config(const std::string& path);
fleet_config fleet_from_json(const nlohmann::json& j, const std::string& source);

// Applies `patch` (the shape of one server object of the config file, any subset of its keys)
// to `server`, then validates the result. On error `server` is unchanged and config_error names
// `source` and the path inside the patch. Identity keys (name, address, port, tls) are refused:
// they cannot change while the server runs.
void apply_server_patch(server_config& server, const nlohmann::json& patch,
                        const std::string& source);

// The complete knob set of `server`, in the shape the config file and patches use.
nlohmann::json to_json(const server_config& server);
nlohmann::json to_json(const fault_knobs& faults);

}  // namespace gatehouse::fake_cas
