#pragma once
// The health test's state machine for one server, as a pure class driven by explicit time
// points. It says when the next probe is due and what the results mean; health_checker.cpp does
// the probing. One probe per server at a time: the next one starts `interval` after the start
// of the previous one, or when that one finishes if it took longer (never a burst).
//
// With rise = fall = 1 (ARR's behaviour) a single result flips the verdict. A server that stops
// answering at the start of a probe is found unhealthy after (fall - 1) × interval + timeout
// (with timeout ≤ interval); one that recovers just before a probe is back after
// (rise - 1) × down_interval plus that probe's response time.

#include "proxy/config.hpp"

#include <chrono>
#include <cstdint>

namespace gatehouse::proxy {

using steady_time = std::chrono::steady_clock::time_point;

struct health_thresholds {
    milliseconds interval{30'000};
    milliseconds down_interval{30'000};  // probe period while unhealthy
    milliseconds timeout{30'000};
    std::uint32_t rise = 1;
    std::uint32_t fall = 1;

    static health_thresholds from(const health_config& c);
};

class health_monitor {
public:
    // The first probe is due at `now`; the server counts as healthy until tests say otherwise.
    health_monitor(const health_thresholds& t, steady_time now);

    // A reload may change the thresholds; counts and the verdict stay.
    void configure(const health_thresholds& t) { thresholds_ = t; }

    bool probe_due(steady_time now) const { return !in_flight_ && now >= next_; }
    // When the next probe may start (meaningless while one is in flight).
    steady_time next_probe() const { return next_; }
    bool in_flight() const { return in_flight_; }

    void probe_started(steady_time now);
    // Records a result; returns true when the verdict changed. A probe without an answer within
    // the timeout is a failure (the caller reports it at start + timeout).
    bool probe_finished(bool passed, steady_time now);
    // Ends a probe whose result does not count (the verdict was set while it was out).
    void probe_discarded(steady_time now);

    bool healthy() const { return healthy_; }
    // Sets the verdict from outside (an admin action, live traffic); counts start over.
    void force(bool healthy);

    std::uint32_t consecutive_passes() const { return passes_; }
    std::uint32_t consecutive_failures() const { return failures_; }

private:
    void schedule_after_probe(steady_time now);

    health_thresholds thresholds_;
    steady_time next_;
    steady_time started_{};
    bool in_flight_ = false;
    bool healthy_ = true;
    std::uint32_t passes_ = 0;
    std::uint32_t failures_ = 0;
};

// True when the health test may take one more server of a farm out: ARR's minServers keeps at
// least `min_servers` servers healthy whatever the tests say.
constexpr bool may_mark_unhealthy(std::size_t healthy_servers, std::uint32_t min_servers) {
    return healthy_servers > min_servers;
}

// Whether a health probe's response passes: status within one of the ranges and, when `match`
// is not empty, the body containing it.
bool probe_passes(const health_config& c, unsigned status, std::string_view body);

}  // namespace gatehouse::proxy
