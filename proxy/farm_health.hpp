#pragma once
// Health decisions that look at a whole farm: minServers for health verdicts and live-traffic
// failures, the ejected share for outlier ejection. Thread-safe (the farm's health_mutex); the
// decisions themselves are the pure classes of health_state.hpp and failure_detector.hpp.

#include "proxy/failure_detector.hpp"
#include "proxy/snapshot.hpp"

#include <string>

namespace gatehouse::proxy {

// Applies the health test's verdict to server `index`. Marking it unhealthy is refused while
// only min_servers healthy servers remain (the server stays in). Returns whether the server's
// health changed.
bool apply_health_verdict(const farm_snapshot& farm, std::size_t index, bool healthy,
                          steady_time now);

// Records a request's outcome against server `index`: the live traffic test (may mark it
// unhealthy, within minServers) and outlier ejection (may eject it, within the farm's share).
void record_outcome(const farm_snapshot& farm, std::size_t index, const request_outcome& outcome,
                    steady_time now);

// The outcome a finished request reports: `status` / `substatus` / `win32` as logged.
request_outcome outcome_of(unsigned status, unsigned substatus, unsigned win32);

}  // namespace gatehouse::proxy
