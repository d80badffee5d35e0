#pragma once
// State of farms and servers that outlives a configuration snapshot. A server keeps its
// runtime state (availability set at run time, health, in-flight count, response-time average,
// counters) across a reload when the new configuration still has it (same farm, address and
// port). Shared values that balancing reads are atomics; counters are kept per worker thread
// (one writer each) and summed on read.

#include "proxy/config.hpp"
#include "proxy/failure_detector.hpp"
#include "proxy/health_state.hpp"
#include "proxy/host_affinity.hpp"

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::proxy {

// A counter with a single writer (its worker thread) and any number of readers: a relaxed
// load and store, no locked instruction.
class counter {
public:
    void add(std::uint64_t n = 1) noexcept {
        value_.store(value_.load(std::memory_order_relaxed) + n, std::memory_order_relaxed);
    }
    std::uint64_t get() const noexcept { return value_.load(std::memory_order_relaxed); }

private:
    std::atomic<std::uint64_t> value_{0};
};

// One worker thread's counters for one server, with ARR's monitoring definitions.
struct alignas(64) server_counters {
    counter requests;        // requests sent to the server
    counter finished;        // requests completed (current = requests - finished)
    counter failed;          // 502.3 produced while talking to the server
    counter bytes_sent;      // to the server: request heads and bodies
    counter bytes_received;  // from the server: response heads and bodies
    counter time_taken_ms;   // sum of time-taken over finished requests
};

struct server_totals {
    std::uint64_t requests = 0;
    std::uint64_t current = 0;
    std::uint64_t failed = 0;
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t finished = 0;
    std::uint64_t time_taken_ms = 0;
};

class server_runtime {
public:
    server_runtime(std::string farm, std::string address, std::uint16_t port,
                   availability configured, unsigned threads);

    const std::string& farm() const noexcept { return farm_; }
    const std::string& address() const noexcept { return address_; }
    std::uint16_t port() const noexcept { return port_; }

    // Available / Unavailable / Drain, as configured or set at run time.
    std::atomic<availability> state;
    // Health as decided by health tests (healthy until a test says otherwise).
    std::atomic<bool> healthy{true};
    // Counts the changes of `healthy`: a health probe that sees it move while it is out answered
    // for a state that no longer holds.
    std::atomic<std::uint64_t> health_changes{0};
    std::atomic<std::int64_t> in_flight{0};
    std::atomic<std::uint64_t> traffic_bytes{0};     // request + response bytes, all threads
    std::atomic<std::uint64_t> response_time_us{0};  // EWMA of time to response head

    // Outlier ejection ends here (steady clock, ns since its epoch; 0: not ejected).
    std::atomic<std::int64_t> ejected_until_ns{0};
    // Free memory the server reported on its last health probe (host-name affinity's memory
    // provider); -1: unknown.
    std::atomic<std::int64_t> memory_available_mb{-1};
    // When the server last became healthy and available again (slow start), as above.
    std::atomic<std::int64_t> recovered_at_ns{0};

    // True when a new request (without an NTLM pin) may go to this server.
    bool eligible() const noexcept {
        return state.load(std::memory_order_relaxed) == availability::available &&
               healthy.load(std::memory_order_relaxed);
    }
    bool eligible(steady_time now) const noexcept { return eligible() && !ejected(now); }
    // A client pinned by affinity may keep coming: the server is healthy and Available or
    // Draining (ARR's "Disallow New Connections" keeps existing sessions).
    bool keeps_affinity(steady_time now) const noexcept {
        return state.load(std::memory_order_relaxed) != availability::unavailable &&
               healthy.load(std::memory_order_relaxed) && !ejected(now);
    }
    bool ejected(steady_time now) const noexcept {
        return ejected_until_ns.load(std::memory_order_relaxed) > now.time_since_epoch().count();
    }

    // How long ago the server last came back (slow start).
    milliseconds since_recovery(steady_time now) const noexcept {
        return std::chrono::duration_cast<milliseconds>(
            now.time_since_epoch() -
            steady_time::duration(recovered_at_ns.load(std::memory_order_relaxed)));
    }
    // Sets the health verdict; a server coming back starts its slow start now.
    void set_healthy(bool value, steady_time now) noexcept;
    // Sets the availability; Available after anything else starts a slow start.
    void set_state(availability value, steady_time now) noexcept;

    server_counters& counters(unsigned thread) noexcept { return counters_[thread]; }
    // Totals since the last reset_counters() (current requests are never reset).
    server_totals totals() const;
    void reset_counters();

    // Live-traffic policy, shared by the worker threads (failures are rare: a lock is fine).
    std::mutex policy_mutex;
    live_traffic_detector live_traffic{live_traffic_config{}};
    outlier_detector outlier{outlier_config{}};
    // The health test's state; touched by the health checker's thread only.
    std::optional<health_monitor> monitor{};

    // The state the configuration last asked for: a reload that leaves it unchanged keeps a
    // state set at run time. Touched only by the thread applying configurations.
    availability configured_state;

private:
    std::string farm_;
    std::string address_;
    std::uint16_t port_;
    unsigned threads_;
    std::unique_ptr<server_counters[]> counters_;
    mutable std::mutex baseline_mutex_;
    server_totals baseline_{};
};

struct alignas(64) farm_counters {
    counter no_server;  // answered 502.4
};

class farm_runtime {
public:
    farm_runtime(std::string name, unsigned threads);
    const std::string& name() const noexcept { return name_; }
    farm_counters& counters(unsigned thread) noexcept { return counters_[thread]; }
    std::uint64_t no_server_total() const;
    void reset_counters();

    // Serialises health decisions that look at the whole farm (minServers, ejected share).
    std::mutex health_mutex;
    // Host-name affinity's allocations (kept across reloads).
    std::mutex hosts_mutex;
    host_affinity_table hosts;

private:
    std::string name_;
    unsigned threads_;
    std::unique_ptr<farm_counters[]> counters_;
    std::atomic<std::uint64_t> no_server_baseline_{0};
};

// Hands out the runtime objects for a configuration, reusing the ones still alive for the same
// farm / server. Thread-safe.
class runtime_registry {
public:
    explicit runtime_registry(unsigned threads) : threads_(threads) {}

    std::shared_ptr<farm_runtime> farm(const std::string& name);
    // `port` is the effective port (80/443 filled in). Applies the configured state when it
    // differs from what the configuration said last time.
    std::shared_ptr<server_runtime> server(const std::string& farm, const server_config& config,
                                           std::uint16_t port);

private:
    unsigned threads_;
    std::mutex mutex_;
    std::map<std::string, std::weak_ptr<farm_runtime>> farms_;
    std::map<std::string, std::weak_ptr<server_runtime>> servers_;
};

}  // namespace gatehouse::proxy
