#pragma once
// Pacing: when each arrival of an open-model run is due, and how many virtual users a closed-
// model run should have at a given moment. Pure: time is a duration since the start of the run,
// passed in by the caller, so tests drive it with a manual clock and the schedule is exact.
//
// Open model (wrk2 -R, k6 constant-/ramping-arrival-rate): arrival n (0-based) is due when the
// integral of the rate from the start reaches n, so the first arrival is due at once and a
// constant rate r puts arrival n at n/r seconds. A ramp moves the rate linearly from the end of
// the previous stage (or `start_rate`) to the stage's target over the stage's length.
//
// Closed model (wrk -c, k6 constant-/ramping-vus): a fixed number of virtual users, or a ramp
// that moves the count linearly between stage targets, rounded down.

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace gatehouse::load {

using run_duration = std::chrono::nanoseconds;

// One segment of a ramp: over `length`, move linearly to `target`.
struct stage {
    run_duration length{};
    double target = 0;
};

class arrival_schedule {
public:
    // A constant rate (> 0 arrivals per second) for ever; the caller bounds the run.
    static arrival_schedule constant(double per_second);
    // A ramp; the schedule ends with the last stage. Rates are >= 0.
    static arrival_schedule ramping(double start_rate, std::vector<stage> stages);
    // Arrivals at the given times (ascending), as a log replay keeps them.
    static arrival_schedule at_times(std::vector<run_duration> times);
    bool is_explicit() const noexcept { return !times_.empty(); }

    // When arrival `n` is due, or nullopt when the schedule ends before it.
    std::optional<run_duration> due(std::uint64_t n) const;
    // How many arrivals are due strictly before `t`.
    std::uint64_t due_before(run_duration t) const;
    // The end of the last stage; nullopt for a constant rate.
    std::optional<run_duration> end() const;
    // The rate at `t` (arrivals per second).
    double rate_at(run_duration t) const;
    // This schedule with every rate multiplied by `factor` (0 < factor <= 1): the share of one
    // of several workers running side by side.
    arrival_schedule scaled(double factor) const;

private:
    struct segment {
        double start_s = 0;   // seconds since the run started
        double length_s = 0;  // 0 and infinite `open` for a constant rate
        double from = 0;      // rate at the segment's start
        double to = 0;        // rate at its end
        double before = 0;    // arrivals due before the segment
        bool open = false;    // lasts for ever
    };
    double arrivals_in(const segment& s, double elapsed_s) const;

    std::vector<segment> segments_;
    std::vector<run_duration> times_;
};

class vu_schedule {
public:
    static vu_schedule constant(unsigned vus);
    static vu_schedule ramping(unsigned start_vus, std::vector<stage> stages);

    // The number of virtual users that should be active at `t` (0 after the end of a ramp).
    unsigned target_at(run_duration t) const;
    // The largest count the schedule ever asks for.
    unsigned peak() const;
    std::optional<run_duration> end() const;

private:
    unsigned start_ = 0;
    std::vector<stage> stages_;
    bool ramp_ = false;
};

}  // namespace gatehouse::load
