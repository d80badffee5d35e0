#pragma once
// Every request the scenario's clients and load phases made, as the client saw it: when it
// started and ended (wall-clock seconds since the scenario started), its status, the proxy's
// error triple, which back end answered (X-FEServer), its latency. Expectations and the report's
// timeline are computed from these records. Thread-safe (load phases record from their own
// threads); the queries are pure functions of what was recorded.

#include "reports/report.hpp"

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::scenarios {

struct request_record {
    std::string source{};    // "c1" (a client script) or "load:owa-users" (a load phase)
    double start_s = 0;      // wall-clock seconds since the scenario started
    double end_s = 0;
    unsigned status = 0;     // 0: no response (failure says why), or a step inside a channel
                             // such as an RPC echo on an Outlook Anywhere pair (no failure)
    std::string error{};     // X-Gatehouse-Error triple ("502.3.12002"), when the proxy sent one
    std::string failure{};   // no response: "connect", "timeout", "read", "write", "tls" …
    std::string server{};    // the back end that answered (fleet server name), if known
    double latency_ms = 0;
    bool long_poll = false;  // an ActiveSync Ping, MAPI NotificationWait, RPC channel …
};

// A request failed when it got no response or a 5xx (the Exchange auth legs' 401s are normal).
// A record with neither a status nor a failure is a protocol step inside a long-lived channel.
bool is_failure(const request_record& r) noexcept;
// The key a request is counted under in the error breakdown: its error triple, its status when
// it is an error status (>= 400, except the 401 of an authentication leg), or its failure kind.
// Empty when it is not an error.
std::string error_key(const request_record& r);

struct aggregate {
    std::uint64_t requests = 0;
    std::uint64_t failures = 0;
    std::map<std::string, std::uint64_t> errors{};      // by error_key
    std::map<std::string, std::uint64_t> per_server{};  // by server
    double p50_ms = 0;
    double p90_ms = 0;
    double p99_ms = 0;
    double max_ms = 0;

    double error_rate() const noexcept {
        return requests == 0 ? 0 : static_cast<double>(failures) / static_cast<double>(requests);
    }
    // The latency at `percentile` (0..100] of the requests counted, long polls excluded.
    double percentile(double p) const;

    std::vector<double> latencies_ms{};  // sorted
};

class recorder {
public:
    void add(request_record r);

    // Requests that ended in [from_s, to_s) (wall seconds), optionally only from `source`
    // (a client name, "load:<phase>", or "load" for every phase).
    aggregate between(double from_s, double to_s, const std::string& source = {}) const;
    // Every record, in the order they ended.
    std::vector<request_record> records() const;
    std::vector<request_record> records_of(const std::string& source) const;

    // The report's timeline: one point per `bucket_s` from 0 to `end_s`.
    std::vector<reports::timeline_point> timeline(double bucket_s, double end_s) const;

private:
    static bool matches(const request_record& r, const std::string& source);

    mutable std::mutex mutex_;
    std::vector<request_record> records_;
};

}  // namespace gatehouse::scenarios
