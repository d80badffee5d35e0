// The user-day mix, in the spirit of Exchange Load Generator's action profiles: each virtual
// user is one client type (drawn by weight from the mix), logs on at the start of a simulated
// day, performs its day's tasks at random times spread over the (time-scaled) day, and logs
// off. Tasks planned and achieved are reported, LoadGen's pass criterion. Task counts per day:
// light 33, average 66, heavy 132 (LoadGen's "Heavy" profile is 132 tasks per user-day; the
// lighter ones keep its ratio of 20/80, 10/40 and 5/20 messages sent/received).
#include "load/errors.hpp"
#include "load/exchange_client.hpp"
#include "load/plan_text.hpp"

#include <algorithm>
#include <random>

namespace gatehouse::load {

namespace {

struct client_kind {
    std::string name;
    double weight = 0;
};

unsigned tasks_per_day(const std::string& day) {
    if (day == "light") return 33;
    if (day == "average") return 66;
    if (day == "heavy") return 132;
    throw load_error(exit_code::bad_option,
                     "--day: expected light, average or heavy, not '" + day + "'");
}

std::unique_ptr<exchange_client> make_client(const std::string& name, vu& v) {
    if (name == "owa") return make_owa_client(v);
    if (name == "ews") return make_ews_client(v);
    if (name == "activesync") return make_activesync_client(v);
    return make_mapi_client(v);
}

class day_user final : public user {
public:
    day_user(std::unique_ptr<exchange_client> c, unsigned tasks)
        : client_(std::move(c)), tasks_(tasks) {}

    awaitable<bool> iteration(vu& v) override {
        auto start = steady_clock::now();
        auto day = v.scaled(v.options().day_length);
        // Task times: uniform over the day, sorted (a Poisson process conditioned on its count).
        std::uniform_real_distribution<double> at(0.0, 1.0);
        std::vector<double> times(tasks_);
        for (auto& t : times) t = at(v.random());
        std::sort(times.begin(), times.end());

        std::uint64_t achieved = 0;
        bool ok = co_await client_->logon(v);
        if (ok) {
            for (double t : times) {
                auto due = start + std::chrono::duration_cast<steady_clock::duration>(day * t);
                if (!co_await v.pause_until(due)) break;
                if (co_await client_->task(v)) ++achieved;
                if (v.stopping()) break;
            }
            ok = co_await client_->logoff(v) && achieved == tasks_;
        }
        v.rec().tasks(tasks_, achieved);
        co_return ok;
    }

private:
    std::unique_ptr<exchange_client> client_;
    unsigned tasks_;
};

class day_workload final : public workload {
public:
    day_workload(std::vector<client_kind> mix, unsigned tasks)
        : mix_(std::move(mix)), tasks_(tasks) {}

    std::string name() const override { return "user-day"; }

    std::unique_ptr<user> make_user(vu& v) const override {
        // Deterministic by user number: the mix's proportions hold for any population size
        // (a low-discrepancy sequence over the cumulative weights).
        double total = 0;
        for (const auto& k : mix_) total += k.weight;
        double x = std::fmod(double(v.index()) * 0.6180339887498949, 1.0) * total;
        const client_kind* chosen = &mix_.back();
        for (const auto& k : mix_) {
            if (x < k.weight) {
                chosen = &k;
                break;
            }
            x -= k.weight;
        }
        return std::make_unique<day_user>(make_client(chosen->name, v), tasks_);
    }

private:
    std::vector<client_kind> mix_;
    unsigned tasks_;
};

}  // namespace

std::unique_ptr<workload> make_user_day_workload(const workload_options& options) {
    std::vector<client_kind> mix;
    for (auto& [name, weight] : parse_mix(options.mix, "--mix")) {
        if (name != "mapi" && name != "owa" && name != "activesync" && name != "ews")
            throw load_error(exit_code::bad_option, "--mix: unknown client type '" + name +
                                                        "' (mapi, owa, activesync, ews)");
        mix.push_back({name, weight});
    }
    return std::make_unique<day_workload>(std::move(mix), tasks_per_day(options.day));
}

}  // namespace gatehouse::load
