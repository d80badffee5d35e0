#include "proxy/failure_detector.hpp"

#include <algorithm>

namespace gatehouse::proxy {

bool live_traffic_detector::is_failure(const request_outcome& o) const {
    if (o.win32 != 0)
        return config_.failure_errors.empty() ||
               std::find(config_.failure_errors.begin(), config_.failure_errors.end(), o.win32) !=
                   config_.failure_errors.end();
    return std::any_of(config_.failure_statuses.begin(), config_.failure_statuses.end(),
                       [&](const status_range& r) { return o.status >= r.first &&
                                                           o.status <= r.last; });
}

void live_traffic_detector::expire(steady_time now) {
    // A failure exactly one period old has left the window.
    while (!failures_.empty() && failures_.front() + config_.failover_period <= now)
        failures_.pop_front();
}

bool live_traffic_detector::record(const request_outcome& o, steady_time now) {
    if (!enabled() || !is_failure(o)) return false;
    expire(now);
    failures_.push_back(now);
    if (failures_.size() < config_.max_failures) return false;
    failures_.clear();
    return true;
}

std::size_t live_traffic_detector::failures_in_window(steady_time now) {
    expire(now);
    return failures_.size();
}

void outlier_detector::decay(steady_time now) {
    // Each quiet base_ejection_time after the last ejection ended forgives one ejection.
    while (ejections_ > 0 && now >= ejected_until_ &&
           now - std::max(ejected_until_, last_change_) >= config_.base_ejection_time) {
        --ejections_;
        last_change_ = std::max(ejected_until_, last_change_) + config_.base_ejection_time;
    }
}

bool outlier_detector::record(const request_outcome& o, steady_time now) {
    if (!config_.enabled) return false;
    decay(now);
    if (!is_failure(o)) {
        run_ = 0;
        return false;
    }
    if (ejected(now)) return false;
    return ++run_ >= config_.consecutive_failures;
}

void outlier_detector::eject(steady_time now) {
    ++ejections_;
    run_ = 0;
    ejected_until_ = now + config_.base_ejection_time * ejections_;
    last_change_ = now;
}

std::uint32_t slow_start_weight(std::uint32_t weight, milliseconds elapsed, milliseconds window) {
    if (window.count() <= 0 || elapsed >= window) return weight;
    if (elapsed.count() < 0) elapsed = milliseconds(0);
    double share = 0.1 + 0.9 * static_cast<double>(elapsed.count()) /
                             static_cast<double>(window.count());
    auto w = static_cast<std::uint32_t>(static_cast<double>(weight) * share);
    return std::max<std::uint32_t>(1, w);
}

}  // namespace gatehouse::proxy
