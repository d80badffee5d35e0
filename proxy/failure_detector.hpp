#pragma once
// Failure detection from live traffic, as pure classes driven by explicit time points.
//
// live_traffic_detector is ARR's live traffic test: a request outcome that matches the farm's
// failure statuses or 502.3 error kinds is a failure; `max_failures` of them within
// `failover_period` (a sliding window) mark the server unhealthy. It never brings a server
// back: ARR forwards no live requests to an unhealthy server, so only the health test or an
// admin action can.
//
// outlier_detector is Envoy's consecutive-gateway-failure ejection: `consecutive_failures`
// failures in a row (502.3 or a 5xx from the server) eject the server for
// base_ejection_time × (number of ejections); it returns by itself when the time is up. A
// success resets the run; a whole base_ejection_time without ejection lowers the multiplier by
// one. The farm-wide limit (max_ejection_percent) is checked by the caller with may_eject().

#include "proxy/config.hpp"
#include "proxy/health_state.hpp"

#include <cstdint>
#include <deque>

namespace gatehouse::proxy {

// What one request's outcome was, as seen from the server it went to.
struct request_outcome {
    unsigned status = 0;  // the server's status; 0 when no response came
    unsigned win32 = 0;   // the 502.3 win32 code when the proxy failed talking to the server
};

class live_traffic_detector {
public:
    explicit live_traffic_detector(const live_traffic_config& c) : config_(c) {}
    void configure(const live_traffic_config& c) { config_ = c; }

    bool enabled() const { return config_.max_failures > 0; }
    bool is_failure(const request_outcome& o) const;
    // Records an outcome; returns true when it brings the count within the period to
    // max_failures (the server should be marked unhealthy). The count then starts over.
    bool record(const request_outcome& o, steady_time now);
    std::size_t failures_in_window(steady_time now);

private:
    void expire(steady_time now);

    live_traffic_config config_;
    std::deque<steady_time> failures_;
};

class outlier_detector {
public:
    explicit outlier_detector(const outlier_config& c) : config_(c) {}
    void configure(const outlier_config& c) { config_ = c; }

    // A 502.3, or a 5xx status from the server.
    static bool is_failure(const request_outcome& o) {
        return o.win32 != 0 || (o.status >= 500 && o.status <= 599);
    }
    // Records an outcome. Returns true when this one reaches the run that ejects (the caller
    // checks the farm limit, then calls eject()).
    bool record(const request_outcome& o, steady_time now);
    // Ejects until now + base × ejections (ejections counted including this one).
    void eject(steady_time now);
    bool ejected(steady_time now) const { return ejections_ > 0 && now < ejected_until_; }
    steady_time ejected_until() const { return ejected_until_; }
    std::uint32_t ejections() const { return ejections_; }
    // Called when the run was refused by the farm limit: count from zero again.
    void reset_run() { run_ = 0; }

private:
    void decay(steady_time now);

    outlier_config config_;
    std::uint32_t run_ = 0;
    std::uint32_t ejections_ = 0;
    steady_time ejected_until_{};
    steady_time last_change_{};
};

// Whether one more server of a farm of `servers` may be ejected while `ejected` already are:
// at most max_ejection_percent of the farm, but one server always may (Envoy's rule).
constexpr bool may_eject(std::size_t ejected, std::size_t servers, std::uint32_t max_percent) {
    return ejected == 0 || (ejected + 1) * 100 <= servers * max_percent;
}

// The weight a server gets `elapsed` after it came back with slow start `window`: from 10 % of
// `weight` rising linearly to the full weight at the end of the window (never below 1).
std::uint32_t slow_start_weight(std::uint32_t weight, milliseconds elapsed, milliseconds window);

}  // namespace gatehouse::proxy
