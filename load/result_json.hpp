#pragma once
// The JSON form of run_results, schema "gatehouse-load/1" (docs/load.md, "Output"). Histograms
// are written with their non-zero buckets, so a result read back merges exactly; the summary
// figures beside them (mean, p50 … p999) are for people and are ignored when reading.

#include "load/results.hpp"

#include <string>

#include <nlohmann/json.hpp>

namespace gatehouse::load {

inline constexpr const char* result_schema = "gatehouse-load/1";

nlohmann::json to_json(const run_results& r);
nlohmann::json to_json(const histogram& h);
nlohmann::json to_json(const second_sample& s);

// Throws load_error(bad_input) naming `source` and the JSON path of the first problem.
run_results results_from_json(const nlohmann::json& j, const std::string& source);

// Reads and parses a results file; write_results throws load_error(cannot_write).
run_results read_results(const std::string& path);
void write_results(const run_results& r, const std::string& path);

}  // namespace gatehouse::load
