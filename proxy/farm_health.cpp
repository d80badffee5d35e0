#include "proxy/farm_health.hpp"

#include "net/log.hpp"

namespace gatehouse::proxy {

namespace {

std::size_t healthy_count(const farm_snapshot& farm) {
    std::size_t n = 0;
    for (const auto& s : farm.servers)
        if (s.runtime->healthy.load()) ++n;
    return n;
}

}  // namespace

bool apply_health_verdict(const farm_snapshot& farm, std::size_t index, bool healthy,
                          steady_time now) {
    auto& rt = *farm.servers[index].runtime;
    std::lock_guard lock(farm.runtime->health_mutex);
    if (rt.healthy.load() == healthy) return false;
    if (!healthy && !may_mark_unhealthy(healthy_count(farm), farm.config->health.min_servers)) {
        GATEHOUSE_LOG(warning, "health")
            << farm.config->name << "/" << farm.servers[index].authority
            << " failed its health test but stays in: min_servers is "
            << farm.config->health.min_servers;
        return false;
    }
    rt.set_healthy(healthy, now);
    GATEHOUSE_LOG(info, "health") << farm.config->name << "/" << farm.servers[index].authority
                                  << (healthy ? " is healthy" : " is unhealthy");
    return true;
}

void record_outcome(const farm_snapshot& farm, std::size_t index, const request_outcome& outcome,
                    steady_time now) {
    const auto& fc = *farm.config;
    if (fc.live_traffic.max_failures == 0 && !fc.outlier.enabled) return;
    auto& rt = *farm.servers[index].runtime;
    bool mark = false;
    bool eject = false;
    {
        std::lock_guard lock(rt.policy_mutex);
        mark = rt.live_traffic.record(outcome, now);
        eject = rt.outlier.record(outcome, now);
    }
    if (mark) {
        std::lock_guard lock(farm.runtime->health_mutex);
        if (rt.healthy.load() &&
            may_mark_unhealthy(healthy_count(farm), farm.config->health.min_servers)) {
            rt.set_healthy(false, now);
            GATEHOUSE_LOG(warning, "health")
                << fc.name << "/" << farm.servers[index].authority
                << " is unhealthy: " << fc.live_traffic.max_failures
                << " live-traffic failures within the failover period";
        }
    }
    if (eject) {
        std::lock_guard lock(farm.runtime->health_mutex);
        std::size_t ejected = 0;
        for (const auto& s : farm.servers)
            if (s.runtime->ejected(now)) ++ejected;
        std::lock_guard policy(rt.policy_mutex);
        if (may_eject(ejected, farm.servers.size(), fc.outlier.max_ejection_percent)) {
            rt.outlier.eject(now);
            rt.ejected_until_ns.store(rt.outlier.ejected_until().time_since_epoch().count());
            rt.recovered_at_ns.store(rt.outlier.ejected_until().time_since_epoch().count());
            GATEHOUSE_LOG(warning, "health")
                << fc.name << "/" << farm.servers[index].authority << " ejected (ejection "
                << rt.outlier.ejections() << ")";
        } else {
            rt.outlier.reset_run();
        }
    }
}

request_outcome outcome_of(unsigned status, unsigned substatus, unsigned win32) {
    request_outcome o;
    // WinHTTP codes (12xxx) are failures talking to the server, whether they replaced the
    // response (502.3) or cut a relayed one off.
    if (win32 >= 12000 && win32 < 13000) {
        o.win32 = win32;
        if (!(status == 502 && substatus == 3)) o.status = status;
        return o;
    }
    o.status = status;
    return o;
}

}  // namespace gatehouse::proxy
