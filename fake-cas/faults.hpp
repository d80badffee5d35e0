#pragma once
// Fault decisions, separate from the I/O that carries them out: given a server's and a vdir's
// fault knobs and a random source, what happens to one request. Pure and deterministic for a
// given random sequence, so every branch is unit-tested without a socket.

#include "fake-cas/config.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>

namespace gatehouse::fake_cas {

// Uniform numbers in [0, 1). Tests inject a fixed sequence.
class random_source {
public:
    virtual ~random_source() = default;
    virtual double uniform() = 0;
};

// A fast generator for production use (one per connection or thread; not thread-safe).
class default_random final : public random_source {
public:
    explicit default_random(std::uint64_t seed) : engine_(seed) {}
    double uniform() override { return std::uniform_real_distribution<double>(0.0, 1.0)(engine_); }

private:
    std::mt19937_64 engine_;
};

// The knobs in force for one request: the server's combined with its vdir's (see fault_knobs).
fault_knobs combine(const fault_knobs& server, const fault_knobs& vdir);

// What the server does with one request. At most one of reset / malformed / error applies, in
// that order of precedence; the write-path faults (close mid-body, bandwidth, stall) apply to
// whatever is answered.
struct fault_plan {
    std::chrono::milliseconds latency{0};  // unscaled; the caller applies time_scale
    bool reset = false;                    // RST, no answer
    bool malformed = false;                // unparsable status line, then close
    unsigned error_status = 0;             // answer this instead of the real response
    bool close_mid_body = false;           // close after the head and half the body
    std::uint64_t bandwidth_bytes_per_s = 0;
    std::optional<std::uint64_t> stall_after_bytes{};
    bool close_after = false;  // this is the last request of the connection (Connection: close)

    bool any_write_fault() const {
        return close_mid_body || bandwidth_bytes_per_s != 0 || stall_after_bytes.has_value();
    }
};

// `request_number` counts requests on the connection from 1.
fault_plan decide_faults(const fault_knobs& knobs, std::uint64_t request_number,
                         random_source& random);

// The latency alone (for HealthCheck's own latency knob and tests).
std::chrono::milliseconds draw_latency(std::uint32_t fixed_ms, std::uint32_t jitter_ms,
                                       latency_distribution distribution, random_source& random);

}  // namespace gatehouse::fake_cas
