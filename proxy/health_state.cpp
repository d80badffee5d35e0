#include "proxy/health_state.hpp"

#include <algorithm>

namespace gatehouse::proxy {

health_thresholds health_thresholds::from(const health_config& c) {
    health_thresholds t;
    t.interval = c.interval;
    t.down_interval = c.down_interval.value_or(c.interval);
    t.timeout = c.timeout;
    t.rise = c.rise;
    t.fall = c.fall;
    return t;
}

health_monitor::health_monitor(const health_thresholds& t, steady_time now)
    : thresholds_(t), next_(now) {}

void health_monitor::probe_started(steady_time now) {
    in_flight_ = true;
    started_ = now;
    next_ = now + (healthy_ ? thresholds_.interval : thresholds_.down_interval);
}

bool health_monitor::probe_finished(bool passed, steady_time now) {
    in_flight_ = false;
    bool was = healthy_;
    if (passed) {
        failures_ = 0;
        ++passes_;
        if (!healthy_ && passes_ >= thresholds_.rise) healthy_ = true;
    } else {
        passes_ = 0;
        ++failures_;
        if (healthy_ && failures_ >= thresholds_.fall) healthy_ = false;
    }
    schedule_after_probe(now);
    return was != healthy_;
}

void health_monitor::probe_discarded(steady_time now) {
    in_flight_ = false;
    schedule_after_probe(now);
}

void health_monitor::schedule_after_probe(steady_time now) {
    // The period follows the verdict now in force, counted from the probe's start; a probe
    // that outlived the period is followed at once (one in flight at most, never a backlog).
    next_ = started_ + (healthy_ ? thresholds_.interval : thresholds_.down_interval);
    next_ = std::max(next_, now);
}

void health_monitor::force(bool healthy) {
    healthy_ = healthy;
    passes_ = 0;
    failures_ = 0;
}

bool probe_passes(const health_config& c, unsigned status, std::string_view body) {
    bool accepted =
        std::any_of(c.acceptable_statuses.begin(), c.acceptable_statuses.end(),
                    [&](const status_range& r) { return status >= r.first && status <= r.last; });
    return accepted && (c.match.empty() || body.find(c.match) != std::string_view::npos);
}

}  // namespace gatehouse::proxy
