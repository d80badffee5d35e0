#pragma once
// A workload is what each virtual user does: a profile (an Exchange client's sequence), a URL
// list, or a log replay. The runner makes one `user` per virtual user and calls iteration()
// again and again (closed model) or once per scheduled arrival (open model). The `vu` is the
// virtual user's side of the runner: its HTTP client and cookies, its identity, and step(),
// which sends a request and records its outcome under a step name.

#include "load/http_client.hpp"
#include "load/pacing.hpp"
#include "load/recorder.hpp"
#include "load/target.hpp"
#include "load/url_list.hpp"
#include "load/w3c_log.hpp"

#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace gatehouse::load {

// What profiles need to know beyond the target: their inputs and Exchange timings.
struct workload_options {
    // urls | w3c | owa | ews | activesync | outlook-anywhere | mapi | user-day
    std::string profile{"urls"};
    std::string input{};            // the URL list or W3C log file (urls, w3c)
    std::vector<url_entry> urls{};  // or the entries themselves (in-process callers)
    std::vector<w3c_entry> log{};
    bool replay_timing = false;  // w3c: send at the logged offsets (divided by replay_speed)
    double replay_speed = 1.0;
    // Multiplies every Exchange timer (Ping heartbeat, RPC keep-alive and hold, user day), to
    // match a fake CAS running with the same time_scale.
    double time_scale = 1.0;
    unsigned tasks = 5;                            // tasks per session (owa, ews, mapi)
    std::chrono::seconds heartbeat{480};           // activesync Ping HeartbeatInterval
    unsigned pings = 1;                            // Pings per activesync session
    std::chrono::seconds rpc_hold{600};            // outlook-anywhere: channel pair held this long
    std::chrono::seconds rpc_keepalive{300};       // outlook-anywhere: IN-channel ping interval
    std::chrono::milliseconds rpc_interval{1000};  // outlook-anywhere: one echo PDU this often
    std::string day{"average"};                    // user-day: light | average | heavy
    std::chrono::seconds day_length{8 * 3600};     // user-day: simulated day (scaled)
    std::string mix{"mapi:50,owa:20,activesync:20,ews:10"};  // user-day client types
};

struct worker_services;

// The statuses a step expects (up to four); none listed means any status below 400. A plain
// class rather than std::initializer_list: GCC 12 cannot keep an initializer list's array
// across a co_await ("array used as initializer").
struct expected_status {
    expected_status() = default;
    expected_status(unsigned a, unsigned b = 0, unsigned c = 0, unsigned d = 0)
        : codes{a, b, c, d} {}
    bool accepts(unsigned status) const noexcept {
        if (codes[0] == 0) return status != 0 && status < 400;
        for (auto c : codes)
            if (c != 0 && c == status) return true;
        return false;
    }
    unsigned codes[4] = {0, 0, 0, 0};
};

class vu {
public:
    using time_point = steady_clock::time_point;

    vu(std::size_t index, worker_services& services);
    ~vu();

    // 1-based number of this virtual user across the whole run.
    std::size_t index() const noexcept { return index_; }
    http_client& http() noexcept { return *http_; }
    cookie_jar& cookies() noexcept { return jar_; }
    const cookie_jar& cookies() const noexcept { return jar_; }
    recorder& rec() noexcept;
    const workload_options& options() const noexcept;
    std::mt19937_64& random() noexcept { return random_; }
    const asio::any_io_executor& executor() const noexcept;

    // The account, with "{n}" replaced by the user's number.
    const std::string& user() const noexcept { return user_; }
    const std::string& domain() const noexcept { return domain_; }
    const std::string& password() const noexcept { return password_; }
    const std::string& email() const noexcept { return email_; }
    // Stable per-user identifiers derived from the user name: a mailbox GUID and a device id.
    const std::string& mailbox_guid() const noexcept { return mailbox_guid_; }
    const std::string& device_id() const noexcept { return device_id_; }

    // Sends `req` as step `key` of profile `profile`, records the outcome and returns true when
    // a response arrived with an expected status (any status below 400 when `expected` is
    // empty). Returns false without sending once the run is stopping.
    // `check`, when given, also judges the response (a cookie that must now be set, a SOAP
    // ResponseClass…); false makes it count as an error.
    using response_check = bool (*)(const http_response&, const vu&);
    awaitable<bool> step(std::uint32_t profile, std::uint32_t key, const http_request& req,
                         expected_status expected = {}, bool long_poll = false,
                         response_check check = nullptr);
    const http_response& last() const noexcept { return response_; }
    // Records an outcome measured by the profile itself (for example an RPC echo PDU);
    // `proxy_error` is the response's X-Gatehouse-Error, when it had one.
    void record(std::uint32_t profile, std::uint32_t key, unsigned status,
                std::optional<failure> failed, std::uint64_t latency_us, bool unexpected,
                bool long_poll = false, std::string_view proxy_error = {});

    // Waits `d` (or until `t`); false when the run ended meanwhile.
    awaitable<bool> pause(steady_clock::duration d);
    awaitable<bool> pause_until(time_point t);
    // True once the run stops starting requests; hard_stopped() once connections are closed.
    bool stopping() const noexcept;
    bool interrupted() const noexcept { return interrupted_; }
    void clear_interrupted() noexcept { interrupted_ = false; }

    // Open model: the next request's latency is measured from `t`, when it was due.
    void set_intended(time_point t) noexcept { intended_ = t; }
    // Open model with a schedule of the workload's own: which arrival this iteration serves.
    void set_arrival(std::optional<std::uint64_t> n) noexcept { arrival_ = n; }
    std::optional<std::uint64_t> arrival() const noexcept { return arrival_; }
    // Time-scaled duration of an Exchange timer.
    steady_clock::duration scaled(steady_clock::duration d) const noexcept;

private:
    std::size_t index_;
    worker_services& services_;
    cookie_jar jar_;
    std::unique_ptr<http_client> http_;
    http_response response_;
    std::mt19937_64 random_;
    std::string user_, domain_, password_, email_, mailbox_guid_, device_id_;
    std::optional<time_point> intended_;
    std::optional<std::uint64_t> arrival_;
    bool interrupted_ = false;
};

// A virtual user's state within a workload (logged on, sync keys, session cookies…).
class user {
public:
    virtual ~user() = default;
    // One iteration; true when every step went as expected.
    virtual awaitable<bool> iteration(vu& v) = 0;
};

class workload {
public:
    virtual ~workload() = default;
    virtual std::string name() const = 0;
    virtual std::unique_ptr<user> make_user(vu& v) const = 0;
    // A schedule of its own (a log replayed at its logged times), replacing the plan's model.
    virtual std::optional<arrival_schedule> own_schedule() const { return std::nullopt; }
};

// Makes the workload `options.profile` names, reading its input file. Throws
// load_error(unknown_profile) or load_error(bad_input).
std::unique_ptr<workload> make_workload(const workload_options& options);

// The profile names make_workload knows, for help texts and error messages.
const std::vector<std::string>& profile_names();

}  // namespace gatehouse::load
