#pragma once
// Runs a load plan: the virtual users of a workload under an open or closed model, bounded by
// a duration and/or an iteration count, reporting one merged sample per wall-clock second while
// it runs and the complete results at the end.
//
//   load::plan p;                      // model, target, workload, bounds
//   load::load_runner runner(p);       // validates; reads input files; resolves the target
//   auto results = runner.run(2, [](const load::second_sample& s) { … });  // two threads
//
// or, on an io_context the caller runs (the scenario runner's own):
//
//   auto results = co_await runner.run_async(on_sample);
//
// stop() may be called from any thread (Ctrl-C): connections close, requests in flight count
// as interrupted, and run() still returns everything observed.

#include "load/pacing.hpp"
#include "load/recorder.hpp"
#include "load/results.hpp"
#include "load/target.hpp"
#include "load/workload.hpp"

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace gatehouse::load {

enum class model_kind { closed, open };

struct load_model {
    model_kind kind = model_kind::closed;
    // closed: the number of virtual users (wrk -c, k6 constant-vus); open: the most virtual
    // users busy at once (wrk2 -c, k6 maxVUs). An arrival that finds all busy waits, and its
    // latency still counts from when it was due.
    unsigned vus = 1;
    double rate = 0;  // open: arrivals per second (wrk2 -R)
    // A ramp (k6 ramping-vus / ramping-arrival-rate): from `start` through each stage's target.
    std::vector<stage> stages{};
    double start = 0;
    std::chrono::milliseconds think_time{0};  // closed: pause between iterations
};

struct plan {
    load_model model{};
    target_options target{};
    client_options client{};
    credentials account{};
    workload_options workload{};
    std::optional<std::chrono::milliseconds> duration{};
    std::optional<std::uint64_t> count{};  // iterations, across all virtual users
    // After the duration: requests in flight may finish for this long, then are interrupted.
    std::chrono::milliseconds graceful_stop{2000};
    bool preflight = true;  // connect once before starting; failure is load_error(unreachable)
    // Called for every request as it completes (from the worker threads). Optional.
    recorder::observer observer{};
};

// Throws load_error(bad_option) naming the first invalid value.
void validate(const plan& p);

class load_runner {
public:
    using sample_handler = std::function<void(const second_sample&)>;

    // Validates the plan, builds the workload (reading its input) and resolves the target.
    // Throws load_error.
    explicit load_runner(plan p);
    ~load_runner();
    load_runner(const load_runner&) = delete;
    load_runner& operator=(const load_runner&) = delete;

    // Runs on `threads` threads of its own; `on_sample` is called on the calling thread.
    // Throws load_error(unreachable) when the preflight connection fails.
    run_results run(unsigned threads = 1, sample_handler on_sample = {});
    // Runs on the awaiting coroutine's executor, which must be single-threaded (an io_context
    // run by one thread, or a strand); `on_sample` is called there.
    awaitable<run_results> run_async(sample_handler on_sample = {});

    // Ends the run early. Thread-safe, idempotent.
    void stop();
    bool stopped() const noexcept { return stop_requested_.load(); }

    const plan& get_plan() const noexcept { return plan_; }
    const workload& get_workload() const noexcept { return *workload_; }

private:
    struct worker;
    struct shared;

    awaitable<void> preflight();
    run_results finish(std::vector<std::unique_ptr<worker>>& workers, steady_clock::time_point end);

    plan plan_;
    std::unique_ptr<workload> workload_;
    std::vector<tcp::endpoint> endpoints_;
    std::atomic<bool> stop_requested_{false};
    std::mutex mutex_;  // guards `active_` against stop() from another thread
    std::vector<worker*> active_;
    std::unique_ptr<shared> shared_;
};

}  // namespace gatehouse::load
