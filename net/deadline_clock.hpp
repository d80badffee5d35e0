#pragma once
// A cheap reading of the clock for deadlines and ages.

#include <chrono>

namespace gatehouse::net {

// A time no earlier than std::chrono::steady_clock::now() and at most a few milliseconds later
// (two kernel ticks), read several times faster: CLOCK_MONOTONIC_COARSE, the same clock as of
// the last tick, plus two of its steps. For deadlines and ages of seconds, which then end a few
// milliseconds late but never early. Never for a duration that is reported.
std::chrono::steady_clock::time_point deadline_now() noexcept;

// How far deadline_now() may run ahead of steady_clock::now().
std::chrono::steady_clock::duration deadline_slack() noexcept;

}  // namespace gatehouse::net
