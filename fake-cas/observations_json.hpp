#pragma once
// Observations as the control API serves them.

#include "fake-cas/observations.hpp"

#include <nlohmann/json_fwd.hpp>

namespace gatehouse::fake_cas {

nlohmann::json to_json(const observation_snapshot& s);
nlohmann::json to_json(const connection_record& c);
nlohmann::json to_json(const request_record& r);

}  // namespace gatehouse::fake_cas
