#pragma once
// Collects the outcome of every request of one worker into run_results: totals, per-profile
// and per-step/URL counts with latency histograms, and one sample per wall-clock second.
// Pure: every call carries its time point; the only clock reading is the caller's. Thread-safe
// (a mutex): the worker records while a sampler on another thread takes finished seconds.
//
// Long polls (ActiveSync Ping, MAPI NotificationWait, held RPC channels) are counted everywhere,
// but their latency, which is the hold time the client asked for, goes only into their own
// per-step histogram so it does not drown the percentiles of ordinary requests.

#include "load/results.hpp"

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gatehouse::load {

class recorder {
public:
    using time_point = std::chrono::steady_clock::time_point;

    // Past this many distinct step/URL names, further names are counted under "(other)".
    static constexpr std::size_t max_keys = 1000;

    // `start` and `start_unix_ns` name the same instant on the two clocks.
    recorder(time_point start, std::int64_t start_unix_ns);

    std::uint32_t profile_id(std::string_view name);
    std::uint32_t key_id(std::string_view name);

    struct request {
        std::uint32_t profile = 0;
        std::uint32_t key = 0;
        unsigned status = 0;  // 0 when no response arrived
        std::optional<failure> failed{};
        bool unexpected = false;  // a response whose status the step did not expect
        bool long_poll = false;
        std::string_view proxy_error{};  // X-Gatehouse-Error, when present
        std::string_view server{};       // X-FEServer: the back end that answered, when present
        std::uint64_t latency_us = 0;
        std::uint64_t bytes_sent = 0;
        std::uint64_t bytes_received = 0;
        time_point finished{};
    };
    void record(const request& r);

    // Also hands every recorded request to `observer` (outside the recorder's lock, on the
    // recording thread). The scenario runner aligns requests with its own timeline this way.
    using observer = std::function<void(const request&)>;
    void set_observer(const observer* o) noexcept { observer_ = o; }
    // A request cut short by the end of the run: counted apart, never as an error.
    void record_interrupted();

    // Open model: an arrival started `lag_us` after it was due.
    void record_start(std::uint64_t lag_us, time_point at);
    void set_schedule(std::uint64_t due, std::uint64_t missed);

    enum class iteration_end { completed, failed, interrupted };
    void iteration_started();
    void iteration_finished(iteration_end end, time_point at);
    void tasks(std::uint64_t planned, std::uint64_t achieved);
    // Virtual users busy right now (the per-second sample keeps the maximum).
    void active(std::uint64_t vus, time_point at);
    void count(std::string_view counter, std::uint64_t n = 1);

    // Moves the samples of every second that ended at or before `now` into `out` (ascending).
    void take_completed(time_point now, std::vector<second_sample>& out);
    // Everything recorded so far, including samples not taken yet.
    run_results snapshot() const;

    std::int64_t unix_second(time_point t) const;

private:
    second_sample& sample_for(time_point t);
    std::uint32_t intern(std::vector<std::string>& names,
                         std::unordered_map<std::string, std::uint32_t>& ids,
                         std::vector<request_counts>& counts, std::string_view name,
                         std::size_t limit);

    mutable std::mutex mutex_;
    time_point start_;
    std::int64_t start_unix_ns_;
    run_results results_;
    std::vector<std::string> profile_names_;
    std::unordered_map<std::string, std::uint32_t> profile_ids_;
    std::vector<request_counts> profiles_;
    std::vector<std::string> key_names_;
    std::unordered_map<std::string, std::uint32_t> key_ids_;
    std::vector<request_counts> keys_;
    std::vector<second_sample> pending_;  // seconds not yet taken, ascending
    const observer* observer_ = nullptr;
};

}  // namespace gatehouse::load
