// Time scaling of a configuration: every duration multiplied by one factor, so that a scenario
// can run hour-long Exchange behaviour (30 s health intervals, 59-minute long-poll timeouts)
// in seconds against a fake CAS fleet scaled the same way.

#include "proxy/config.hpp"

#include <cmath>

namespace gatehouse::proxy {

namespace {

// A positive duration never scales below one millisecond (0 keeps its meaning).
milliseconds scale(milliseconds d, double factor) {
    if (d.count() <= 0) return d;
    auto scaled = static_cast<long long>(std::llround(static_cast<double>(d.count()) * factor));
    return milliseconds(std::max(1LL, scaled));
}

void scale(std::optional<milliseconds>& d, double factor) {
    if (d) *d = scale(*d, factor);
}

}  // namespace

config scale_durations(config c, double factor) {
    if (!(factor > 0)) throw std::invalid_argument("scale_durations: the factor must be > 0");
    for (auto& l : c.listeners) {
        l.limits.header_timeout = scale(l.limits.header_timeout, factor);
        l.limits.keep_alive_timeout = scale(l.limits.keep_alive_timeout, factor);
        l.limits.send_timeout = scale(l.limits.send_timeout, factor);
        l.limits.lingering_time = scale(l.limits.lingering_time, factor);
    }
    c.proxy.timeout = scale(c.proxy.timeout, factor);
    c.proxy.connect_timeout = scale(c.proxy.connect_timeout, factor);
    c.proxy.upstream_idle_timeout = scale(c.proxy.upstream_idle_timeout, factor);
    for (auto& f : c.farms) {
        f.health.interval = scale(f.health.interval, factor);
        f.health.timeout = scale(f.health.timeout, factor);
        scale(f.health.down_interval, factor);
        f.live_traffic.failover_period = scale(f.live_traffic.failover_period, factor);
        f.outlier.base_ejection_time = scale(f.outlier.base_ejection_time, factor);
        scale(f.slow_start, factor);
        f.host_affinity.timeout = scale(f.host_affinity.timeout, factor);
        scale(f.proxy.timeout, factor);
        scale(f.proxy.connect_timeout, factor);
        scale(f.proxy.upstream_idle_timeout, factor);
    }
    for (auto& r : c.rules) scale(r.timeout, factor);
    c.stop_timeout = scale(c.stop_timeout, factor);
    c.config_watch.interval = scale(c.config_watch.interval, factor);
    return c;
}

}  // namespace gatehouse::proxy
