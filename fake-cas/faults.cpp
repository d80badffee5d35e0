#include "fake-cas/faults.hpp"

#include <algorithm>
#include <cmath>

namespace gatehouse::fake_cas {

fault_knobs combine(const fault_knobs& server, const fault_knobs& vdir) {
    fault_knobs k = server;
    k.latency_ms = server.latency_ms + vdir.latency_ms;
    k.latency_jitter_ms = server.latency_jitter_ms + vdir.latency_jitter_ms;
    if (vdir.latency_jitter_ms != 0) k.distribution = vdir.distribution;
    if (vdir.error_status != 0) {
        k.error_status = vdir.error_status;
        k.error_rate = vdir.error_rate;
    }
    k.reset_rate = std::max(server.reset_rate, vdir.reset_rate);
    k.close_mid_body_rate = std::max(server.close_mid_body_rate, vdir.close_mid_body_rate);
    k.malformed_rate = std::max(server.malformed_rate, vdir.malformed_rate);
    if (vdir.bandwidth_bytes_per_s != 0) k.bandwidth_bytes_per_s = vdir.bandwidth_bytes_per_s;
    if (vdir.stall_after_bytes) k.stall_after_bytes = vdir.stall_after_bytes;
    if (vdir.close_after_requests != 0) k.close_after_requests = vdir.close_after_requests;
    return k;
}

std::chrono::milliseconds draw_latency(std::uint32_t fixed_ms, std::uint32_t jitter_ms,
                                       latency_distribution distribution, random_source& random) {
    double extra = 0;
    if (jitter_ms != 0) {
        double u = random.uniform();
        if (distribution == latency_distribution::uniform) {
            extra = u * jitter_ms;
        } else {
            // Inverse CDF of the exponential distribution with mean `jitter_ms`, capped at ten
            // means so a single draw cannot stall a test for ever.
            extra = std::min(-std::log1p(-u) * jitter_ms, 10.0 * jitter_ms);
        }
    }
    return std::chrono::milliseconds(fixed_ms + static_cast<std::int64_t>(std::llround(extra)));
}

namespace {

// A Bernoulli draw that consumes randomness only when the rate is strictly between 0 and 1,
// so that plans for knobs at 0 or 1 are independent of the random sequence.
bool happens(double rate, random_source& random) {
    if (rate <= 0) return false;
    if (rate >= 1) return true;
    return random.uniform() < rate;
}

}  // namespace

fault_plan decide_faults(const fault_knobs& k, std::uint64_t request_number,
                         random_source& random) {
    fault_plan plan;
    plan.latency = draw_latency(k.latency_ms, k.latency_jitter_ms, k.distribution, random);
    if (happens(k.reset_rate, random)) {
        plan.reset = true;
        return plan;
    }
    if (happens(k.malformed_rate, random)) {
        plan.malformed = true;
        return plan;
    }
    if (k.error_status != 0 && happens(k.error_rate, random)) plan.error_status = k.error_status;
    plan.close_mid_body = happens(k.close_mid_body_rate, random);
    plan.bandwidth_bytes_per_s = k.bandwidth_bytes_per_s;
    plan.stall_after_bytes = k.stall_after_bytes;
    plan.close_after = k.close_after_requests != 0 && request_number >= k.close_after_requests;
    return plan;
}

}  // namespace gatehouse::fake_cas
