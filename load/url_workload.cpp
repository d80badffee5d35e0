// Plain URL lists and IIS W3C log replays: one request per iteration.
#include "load/url_workload.hpp"

#include "load/errors.hpp"

#include <array>

namespace gatehouse::load {

namespace {

// A request prepared once per entry: its step name and the request description.
struct prepared {
    std::string key_name;
    std::string method;
    std::string target;
    std::string host;
    std::string user_agent;
    std::uint64_t body = 0;
};

class list_user final : public user {
public:
    list_user(const std::vector<prepared>& entries, std::size_t first, vu& v,
              const std::string& profile)
        : entries_(entries), next_(first % entries.size()) {
        profile_ = v.rec().profile_id(profile);
        keys_.reserve(entries.size());
        for (const auto& e : entries) keys_.push_back(v.rec().key_id(e.key_name));
    }

    awaitable<bool> iteration(vu& v) override {
        std::size_t i;
        if (auto n = v.arrival()) {
            i = static_cast<std::size_t>(*n % entries_.size());
        } else {
            i = next_;
            next_ = (next_ + 1) % entries_.size();
        }
        const auto& e = entries_[i];
        http_request req;
        req.method = e.method;
        req.target = e.target;
        req.host = e.host;
        req.generated_body = e.body;
        if (!e.user_agent.empty()) {
            agent_[0] = {"User-Agent", e.user_agent};
            req.headers.assign(agent_.begin(), agent_.end());
        }
        co_return co_await v.step(profile_, keys_[i], req);
    }

private:
    const std::vector<prepared>& entries_;
    std::size_t next_;
    std::uint32_t profile_ = 0;
    std::vector<std::uint32_t> keys_;
    std::array<header, 1> agent_{};
};

class list_workload final : public workload {
public:
    list_workload(std::string name, std::vector<prepared> entries,
                  std::optional<arrival_schedule> schedule)
        : name_(std::move(name)), entries_(std::move(entries)), schedule_(std::move(schedule)) {}

    std::string name() const override { return name_; }
    std::unique_ptr<user> make_user(vu& v) const override {
        // Users start at different entries so a list is spread across them from the start.
        return std::make_unique<list_user>(entries_, v.index() - 1, v, name_);
    }
    std::optional<arrival_schedule> own_schedule() const override { return schedule_; }

private:
    std::string name_;
    std::vector<prepared> entries_;
    std::optional<arrival_schedule> schedule_;
};

}  // namespace

std::unique_ptr<workload> make_url_workload(const workload_options& options) {
    auto list = options.urls;
    if (list.empty()) {
        if (options.input.empty())
            throw load_error(exit_code::bad_option, "urls: no URL list given (--urls FILE)");
        list = load_url_list(options.input);
    }
    std::vector<prepared> entries;
    for (const auto& u : list) {
        prepared p;
        p.method = u.method;
        p.target = u.target;
        p.host = u.host;
        p.body = u.body_bytes;
        p.key_name = u.method + " " + u.target.substr(0, u.target.find('?'));
        entries.push_back(std::move(p));
    }
    return std::make_unique<list_workload>("urls", std::move(entries), std::nullopt);
}

std::unique_ptr<workload> make_w3c_workload(const workload_options& options) {
    auto log = options.log;
    if (log.empty()) {
        if (options.input.empty())
            throw load_error(exit_code::bad_option, "w3c: no log given (--log FILE)");
        log = load_w3c_log(options.input);
    }
    std::vector<prepared> entries;
    std::vector<run_duration> times;
    for (const auto& e : log) {
        prepared p;
        p.method = e.method;
        p.target = e.target;
        p.host = e.host;
        p.user_agent = e.user_agent;
        p.key_name = e.method + " " + e.target.substr(0, e.target.find('?'));
        entries.push_back(std::move(p));
        times.push_back(std::chrono::duration_cast<run_duration>(
            std::chrono::duration<double, std::milli>(double(e.offset_ms) / options.replay_speed)));
    }
    std::optional<arrival_schedule> schedule;
    if (options.replay_timing) schedule = arrival_schedule::at_times(std::move(times));
    return std::make_unique<list_workload>("w3c", std::move(entries), std::move(schedule));
}

}  // namespace gatehouse::load
