#include "scenarios/runner.hpp"

#include "fake-cas/fleet.hpp"
#include "load/results.hpp"
#include "scenarios/client_script.hpp"
#include "scenarios/expectations.hpp"
#include "scenarios/load_plan.hpp"
#include "scenarios/recorder.hpp"

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cmath>
#include <limits>
#include <mutex>
#include <thread>

namespace gatehouse::scenarios {

namespace {

// Problems that end a scenario without a pass/fail verdict, collected while it runs.
struct problems {
    std::mutex mutex;
    std::string unsupported;
    std::string error;

    void set_unsupported(const std::string& why) {
        std::lock_guard lock(mutex);
        if (unsupported.empty()) unsupported = why;
    }
    void set_error(const std::string& why) {
        std::lock_guard lock(mutex);
        if (error.empty()) error = why;
    }
};

std::chrono::nanoseconds scaled(double scenario_seconds, double time_scale) {
    return std::chrono::nanoseconds(static_cast<long long>(scenario_seconds * time_scale * 1e9));
}

// The width of the report's timeline buckets: about sixty over the run, on a round value.
double bucket_width(double wall_seconds) {
    double target = wall_seconds / 60;
    for (double w : {0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0})
        if (w >= target) return w;
    return 60;
}

struct client_slot {
    std::shared_ptr<client_control> control = std::make_shared<client_control>();
    client_outcome outcome{};
    bool done = false;
};

awaitable<void> run_client_at(const client_script& script, client_context context,
                              client_slot* slot) {
    auto delay = scaled(script.start_s, context.time_scale);
    if (delay.count() > 0) {
        asio::steady_timer timer(co_await asio::this_coro::executor, context.origin + delay);
        slot->control->registry.add(&timer);
        co_await timer.async_wait(use_nothrow);
        slot->control->registry.remove(&timer);
    }
    if (!slot->control->stopped) slot->outcome = co_await run_client(script, context, slot->control);
    slot->outcome.trace.client = script.name;
    slot->done = true;
}

struct timeline_state {
    std::vector<reports::action_mark> marks{};
    std::map<std::string, double> times{};  // label → wall seconds
    bool done = false;
    asio::steady_timer* timer = nullptr;  // so the runner can cut it short
};

awaitable<void> run_timeline(const scenario& s, topology& world, double time_scale,
                             steady_clock::time_point origin, timeline_state* state,
                             problems* issues) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    state->timer = &timer;
    for (const auto& a : s.timeline) {
        timer.expires_at(origin + scaled(a.at_s, time_scale));
        auto [ec] = co_await timer.async_wait(use_nothrow);
        if (ec) break;  // the scenario is ending
        double at = std::chrono::duration<double>(steady_clock::now() - origin).count();
        try {
            world.apply(a);
        } catch (const unsupported_action& e) {
            issues->set_unsupported(a.path + ": " + e.what());
        } catch (const std::exception& e) {
            issues->set_error(a.path + ": " + a.kind + " failed: " + e.what());
        }
        state->marks.push_back({at, a.kind, topology::describe(a)});
        if (!a.label.empty()) state->times[a.label] = at;
    }
    state->timer = nullptr;
    state->done = true;
}

// One load phase on a thread of its own: waits for its start, runs, records every request.
struct load_slot {
    std::thread thread{};
    std::atomic<bool> done{false};
    std::mutex mutex{};
    load::load_runner* runner = nullptr;  // while running, for stop()
    bool stop_requested = false;

    void stop() {
        std::lock_guard lock(mutex);
        stop_requested = true;
        if (runner) runner->stop();
    }
};

void run_load_phase(const load_phase& phase, const topology& world, double time_scale,
                    steady_clock::time_point origin, recorder* requests, load_slot* slot,
                    problems* issues) {
    try {
        auto plan = load_plan_from_json(phase.plan, phase.path, phase.duration_s, time_scale);
        auto entry = world.entry(plan.target.tls);
        plan.target.host = entry.address().to_string();
        plan.target.port = std::to_string(entry.port());
        plan.target.tls_options.verify = true;
        plan.target.tls_options.trusted_pem = world.lab_authority_pem();
        plan.target.tls_options.system_trust = false;
        std::string source = "load:" + phase.name;
        plan.observer = [requests, &world, origin, source](const load::recorder::request& r) {
            request_record record;
            record.source = source;
            record.end_s = std::chrono::duration<double>(r.finished - origin).count();
            record.latency_ms = static_cast<double>(r.latency_us) / 1000;
            record.start_s = record.end_s - record.latency_ms / 1000;
            record.status = r.status;
            record.error = std::string(r.proxy_error);
            if (r.failed) record.failure = std::string(load::failure_name(*r.failed));
            record.server = world.server_name_of(r.server);
            record.long_poll = r.long_poll;
            requests->add(std::move(record));
        };
        std::this_thread::sleep_until(origin + scaled(phase.start_s, time_scale));
        load::load_runner runner(std::move(plan));
        {
            std::lock_guard lock(slot->mutex);
            if (slot->stop_requested) {
                slot->done = true;
                return;
            }
            slot->runner = &runner;
        }
        runner.run(1);
        std::lock_guard lock(slot->mutex);
        slot->runner = nullptr;
    } catch (const std::exception& e) {
        issues->set_error(phase.path + ": " + e.what());
    }
    slot->done = true;
}

}  // namespace

reports::scenario_result run_scenario(const scenario& s, const run_options& options) {
    reports::scenario_result result;
    result.id = s.id;
    result.title = s.title;
    result.description = s.description;
    result.tags = s.tags;
    double time_scale = options.time_scale.value_or(s.time_scale.value_or(options.default_time_scale));
    result.time_scale = time_scale;

    topology_options topo{.sut = options.sut,
                          .time_scale = time_scale,
                          .work_dir = options.work_root / s.id,
                          .proxy_executable = options.proxy_executable,
                          .proxy_threads = 1};
    std::unique_ptr<topology> world;
    try {
        world = std::make_unique<topology>(s, topo);
        world->start();
    } catch (const unsupported_action& e) {
        result.outcome = reports::verdict::unsupported;
        result.reason = e.what();
        return result;
    } catch (const std::exception& e) {
        result.outcome = reports::verdict::error;
        result.reason = std::string("the topology did not start: ") + e.what();
        return result;
    }
    result.servers = world->server_names();

    asio::io_context context;
    auto work = asio::make_work_guard(context);
    recorder requests;
    barriers meeting(s.clients.size());
    problems issues;
    auto origin = steady_clock::now();
    auto origin_system = std::chrono::system_clock::now();

    std::vector<client_slot> clients(s.clients.size());
    for (std::size_t i = 0; i < s.clients.size(); ++i) {
        client_context cc{.world = world.get(),
                          .gatehouse = variant_name(options.sut) == "gatehouse",
                          .requests = &requests,
                          .meeting = &meeting,
                          .origin = origin,
                          .time_scale = time_scale,
                          .default_timeout = std::chrono::milliseconds(
                              static_cast<long long>(s.timeout_s * 1000))};
        asio::co_spawn(context, run_client_at(s.clients[i], cc, &clients[i]), asio::detached);
    }
    timeline_state timeline;
    asio::co_spawn(context, run_timeline(s, *world, time_scale, origin, &timeline, &issues),
                   asio::detached);
    std::vector<std::unique_ptr<load_slot>> loads;
    for (const auto& phase : s.load) {
        loads.push_back(std::make_unique<load_slot>());
        auto* slot = loads.back().get();
        slot->thread = std::thread(run_load_phase, std::cref(phase), std::cref(*world), time_scale,
                                   origin, &requests, slot, &issues);
    }

    auto planned_end = origin + scaled(planned_duration(s), time_scale);
    auto deadline = origin + std::chrono::milliseconds(static_cast<long long>(s.timeout_s * 1000));
    auto finished = [&] {
        for (const auto& c : clients)
            if (!c.done) return false;
        for (const auto& l : loads)
            if (!l->done) return false;
        return timeline.done && steady_clock::now() >= planned_end;
    };
    bool timed_out = false;
    while (!finished()) {
        auto now = steady_clock::now();
        if (now >= deadline) {
            timed_out = true;
            break;
        }
        context.run_one_until(std::min(deadline, now + std::chrono::milliseconds(20)));
    }
    if (timed_out) {
        // Cut everything short; what was observed still counts.
        for (auto& c : clients) c.control->stop();
        meeting.release_all();
        if (timeline.timer) timeline.timer->cancel();
        for (auto& l : loads) l->stop();
    }
    // Let the clients and the timeline notice the end (bounded).
    work.reset();
    context.run_for(std::chrono::seconds(5));
    for (auto& l : loads)
        if (l->thread.joinable()) l->thread.join();
    double end_s = std::chrono::duration<double>(steady_clock::now() - origin).count();

    evaluation_context evaluation;
    evaluation.sut = std::string(variant_name(options.sut));
    evaluation.time_scale = time_scale;
    evaluation.end_s = end_s;
    evaluation.origin = origin_system;
    evaluation.requests = &requests;
    evaluation.actions = timeline.times;
    for (const auto& name : world->server_names())
        evaluation.servers[name] = world->fleet().server(name).observations(true);
    for (std::size_t i = 0; i < s.clients.size(); ++i)
        evaluation.clients[s.clients[i].name] = clients[i].outcome;
    world->stop();

    result.expectations = evaluate_all(s, evaluation);
    result.duration_s = end_s;
    auto all = requests.between(0, std::numeric_limits<double>::infinity());
    result.summary = {.requests = all.requests,
                      .errors = all.failures,
                      .throughput_rps = end_s > 0 ? static_cast<double>(all.requests) / end_s : 0,
                      .p50_ms = all.p50_ms,
                      .p90_ms = all.p90_ms,
                      .p99_ms = all.p99_ms,
                      .max_ms = all.max_ms};
    result.timeline = requests.timeline(bucket_width(end_s), end_s);
    result.actions = timeline.marks;
    for (auto& c : clients) {
        auto& steps = c.outcome.trace.steps;
        if (steps.size() > 400) steps.resize(400);  // a long-repeating client: its start is enough
        result.traces.push_back(c.outcome.trace);
    }

    std::size_t failed = 0;
    for (const auto& e : result.expectations) failed += e.passed ? 0 : 1;
    if (!issues.unsupported.empty()) {
        result.outcome = reports::verdict::unsupported;
        result.reason = issues.unsupported;
    } else if (!issues.error.empty()) {
        result.outcome = reports::verdict::error;
        result.reason = issues.error;
    } else if (timed_out) {
        result.outcome = reports::verdict::error;
        result.reason = "did not finish within its timeout of " + std::to_string(s.timeout_s) +
                        " s (wall clock)";
    } else if (failed > 0) {
        result.outcome = reports::verdict::failed;
        result.reason = std::to_string(failed) + " of " + std::to_string(result.expectations.size()) +
                        " expectations failed";
    } else {
        result.outcome = reports::verdict::passed;
    }
    return result;
}

std::vector<reports::scenario_result> run_scenarios(const std::vector<scenario>& scenarios,
                                                    const run_options& options) {
    std::vector<reports::scenario_result> results(scenarios.size());
    std::mutex progress;
    std::atomic<std::size_t> next{0};
    auto worker = [&] {
        for (;;) {
            auto i = next++;
            if (i >= scenarios.size()) return;
            if (options.on_progress) {
                std::lock_guard lock(progress);
                options.on_progress(scenarios[i], nullptr);
            }
            results[i] = run_scenario(scenarios[i], options);
            if (options.on_progress) {
                std::lock_guard lock(progress);
                options.on_progress(scenarios[i], &results[i]);
            }
        }
    };
    unsigned threads = std::max(1u, std::min<unsigned>(options.parallel, scenarios.size()));
    std::vector<std::thread> pool;
    for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (auto& t : pool) t.join();
    return results;
}

}  // namespace gatehouse::scenarios
