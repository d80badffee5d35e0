#pragma once
// What a load run observed, in a form that merges exactly: counters add, histograms add bucket
// by bucket, timeline samples add when they cover the same wall-clock second. Results of many
// processes or machines therefore combine into the result one big process would have produced
// (docs/load.md, "Merging"). Pure data; the JSON form is in result_json.hpp.

#include "load/histogram.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::load {

// Why a request got no HTTP response (wrk's connect / read / write / timeout, plus TLS and
// unparseable responses).
enum class failure : std::uint8_t { connect, tls, write, read, timeout, protocol };
inline constexpr std::size_t failure_kinds = 6;
std::string_view failure_name(failure f) noexcept;

struct request_counts {
    std::uint64_t requests = 0;  // requests that got a response or failed
    std::uint64_t errors = 0;    // failures plus responses with an unexpected status
    std::map<unsigned, std::uint64_t> by_status{};          // every response, by status
    std::map<std::string, std::uint64_t> by_proxy_error{};  // X-Gatehouse-Error triples
    std::array<std::uint64_t, failure_kinds> by_failure{};
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    histogram latency{};  // microseconds

    void merge(const request_counts& other);
    friend bool operator==(const request_counts&, const request_counts&) = default;
};

// One wall-clock second of the run (requests are counted in the second they completed).
struct second_sample {
    std::int64_t unix_second = 0;
    request_counts counts{};       // long polls count here, their latency does not
    std::uint64_t iterations = 0;  // iterations completed
    std::uint64_t active_vus = 0;  // the most virtual users busy at once (summed on merge)
    histogram lag{};               // open model: how late requests started, microseconds

    void merge(const second_sample& other);
    friend bool operator==(const second_sample&, const second_sample&) = default;
};

// The open model's bookkeeping: did the generator keep up with its schedule?
struct schedule_stats {
    std::uint64_t due = 0;      // arrivals whose time came before the run ended
    std::uint64_t started = 0;  // arrivals that started
    std::uint64_t missed = 0;   // due but never started (the generator fell behind)
    histogram lag{};            // start time minus due time, microseconds

    void merge(const schedule_stats& other);
    friend bool operator==(const schedule_stats&, const schedule_stats&) = default;
};

struct iteration_stats {
    std::uint64_t started = 0;
    std::uint64_t completed = 0;       // ran to the end, every step as expected
    std::uint64_t failed = 0;          // ended early on a failure or unexpected response
    std::uint64_t interrupted = 0;     // cut by the end of the run
    std::uint64_t tasks_planned = 0;   // user-day profiles: tasks scheduled
    std::uint64_t tasks_achieved = 0;  // and completed successfully

    void merge(const iteration_stats& other);
    friend bool operator==(const iteration_stats&, const iteration_stats&) = default;
};

struct run_results {
    static constexpr int schema_version = 1;

    std::string workload{};  // profile name, "urls" or "w3c"
    std::string model{};     // "closed" or "open"
    std::string target{};    // where the requests went
    std::int64_t start_unix_ms = 0;
    std::int64_t end_unix_ms = 0;
    std::uint64_t processes = 1;  // how many runs were merged into this one

    request_counts totals{};  // long polls count, their latency only in `urls`
    std::map<std::string, request_counts> profiles{};
    std::map<std::string, request_counts> urls{};  // per step or URL
    std::vector<second_sample> timeline{};         // ascending unix_second
    schedule_stats schedule{};
    iteration_stats iterations{};
    std::map<std::string, std::uint64_t> counters{};  // connections_opened, ntlm_handshakes, …
    std::uint64_t interrupted_requests = 0;           // in flight when the run ended: not errors

    // Adds `other` into this result: exact for every count and histogram.
    void merge(const run_results& other);
    friend bool operator==(const run_results&, const run_results&) = default;
};

// Adds a sample into a timeline kept in ascending order of unix_second.
void merge_sample(std::vector<second_sample>& timeline, const second_sample& sample);

}  // namespace gatehouse::load
