#pragma once
// What a fake CAS saw, so that scenarios can assert on it: counters per vdir and status, open
// long polls, per-connection identity (which user a TCP connection was authenticated as and
// whether it ever carried another identity), and a bounded log of requests. Thread-safe; every
// method takes one short lock. Recording a request does not allocate in steady state: the log is
// a ring of records whose strings keep their capacity.

#include "fake-cas/vdir.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace gatehouse::fake_cas {

// Where a request was routed, for counting: a vdir, the root, or anything else (404).
inline constexpr std::size_t route_slots = vdir_count + 2;
inline constexpr std::size_t root_slot = vdir_count;
inline constexpr std::size_t other_slot = vdir_count + 1;
std::string_view slot_name(std::size_t slot) noexcept;

struct route_stats {
    std::uint64_t requests = 0;
    std::uint64_t health_probes = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::map<unsigned, std::uint64_t> statuses{};
};

enum class long_poll { eas_ping, mapi_notification_wait, rpc_in, rpc_out, ews_streaming };
inline constexpr std::size_t long_poll_kinds = 5;
std::string_view long_poll_name(long_poll kind) noexcept;

struct connection_record {
    std::uint64_t id = 0;
    std::string remote_address{};
    unsigned short remote_port = 0;
    bool tls = false;
    bool open = true;
    // The identity the connection is authenticated as (NTLM/Negotiate), or else the last
    // per-request identity it carried (Basic, FBA); "" if none.
    std::string user{};
    std::string auth_scheme{};              // "NTLM", "Negotiate", "Basic", "FBA"
    std::vector<std::string> identities{};  // every distinct identity seen on the connection
    std::uint64_t requests = 0;
    std::uint64_t ntlm_handshakes = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    // A request carried credentials or an identity other than the connection's user, or the
    // connection served more than one identity: proof that a proxy shared it between clients.
    bool identity_mismatch = false;
    std::chrono::system_clock::time_point opened{};
    std::chrono::system_clock::time_point closed{};
};

struct request_record {
    std::chrono::system_clock::time_point time{};  // when the request head was complete
    std::uint64_t connection_id = 0;
    std::string method{};
    std::string target{};
    std::string route{};  // vdir key, "root" or "other"
    unsigned status = 0;  // 0: no response (reset, closed)
    std::string user{};
    std::uint64_t duration_us = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::string x_forwarded_for{};
    std::string x_arr_log_id{};
    std::string host{};
    bool health_probe = false;
    bool identity_mismatch = false;
};

// The inputs of one request record (views into the connection's buffers).
struct request_event {
    std::chrono::system_clock::time_point time{};
    std::uint64_t connection_id = 0;
    std::string_view method{};
    std::string_view target{};
    std::size_t slot = other_slot;
    unsigned status = 0;
    std::string_view user{};
    std::chrono::steady_clock::duration duration{};
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::string_view x_forwarded_for{};
    std::string_view x_arr_log_id{};
    std::string_view host{};
    bool health_probe = false;
    bool identity_mismatch = false;
};

struct observation_snapshot {
    std::array<route_stats, route_slots> routes{};
    std::map<unsigned, std::uint64_t> statuses{};
    std::uint64_t requests = 0;
    std::uint64_t connections_accepted = 0;
    std::uint64_t connections_open = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::uint64_t identity_mismatches = 0;
    std::uint64_t ntlm_handshakes = 0;
    std::array<std::uint64_t, long_poll_kinds> open_long_polls{};
    std::vector<connection_record> connections{};  // open ones, then recently closed ones
    std::vector<request_record> log{};             // oldest first

    const route_stats& at(vdir v) const { return routes[static_cast<std::size_t>(v)]; }
    std::uint64_t open(long_poll kind) const {
        return open_long_polls[static_cast<std::size_t>(kind)];
    }
    // Requests in the log whose time lies in [from, to).
    std::size_t requests_between(std::chrono::system_clock::time_point from,
                                 std::chrono::system_clock::time_point to) const;
    const connection_record* connection(std::uint64_t id) const;
};

class observations {
public:
    observations(std::size_t log_capacity, std::size_t closed_kept);

    // A new TCP connection; returns its id (unique within the process).
    std::uint64_t open_connection(std::string remote_address, unsigned short remote_port, bool tls);
    void close_connection(std::uint64_t id);
    // The connection is now authenticated as `user` with `scheme`.
    void authenticated(std::uint64_t id, std::string_view user, std::string_view scheme);
    void ntlm_handshake(std::uint64_t id);
    // Notes that a request on `id` carried `identity`; returns true when this reveals sharing
    // (the connection is authenticated as someone else, or served another identity before).
    bool identity_seen(std::uint64_t id, std::string_view identity);

    void record(const request_event& e);
    void long_poll_started(long_poll kind);
    void long_poll_ended(long_poll kind);

    observation_snapshot snapshot(bool with_log = true) const;
    // Forgets counters and the log; open connections stay, with their counters zeroed.
    void reset();

private:
    void trim_closed();

    mutable std::mutex mutex_;
    std::array<route_stats, route_slots> routes_{};
    std::array<std::uint64_t, 600> statuses_{};
    std::uint64_t requests_ = 0;
    std::uint64_t accepted_ = 0;
    std::uint64_t bytes_in_ = 0;
    std::uint64_t bytes_out_ = 0;
    std::uint64_t mismatches_ = 0;
    std::uint64_t handshakes_ = 0;
    std::array<std::uint64_t, long_poll_kinds> long_polls_{};
    std::unordered_map<std::uint64_t, connection_record> open_;
    std::deque<connection_record> closed_;
    std::size_t closed_kept_;
    std::vector<request_record> ring_;
    std::size_t ring_next_ = 0;
    std::size_t ring_size_ = 0;
};

// Counts a long poll as open for the guard's lifetime.
class long_poll_guard {
public:
    long_poll_guard(observations& o, long_poll kind) : o_(o), kind_(kind) {
        o_.long_poll_started(kind_);
    }
    ~long_poll_guard() { o_.long_poll_ended(kind_); }
    long_poll_guard(const long_poll_guard&) = delete;
    long_poll_guard& operator=(const long_poll_guard&) = delete;

private:
    observations& o_;
    long_poll kind_;
};

}  // namespace gatehouse::fake_cas
