#include "load/runner.hpp"

#include "load/connector.hpp"
#include "load/errors.hpp"
#include "load/recorder.hpp"
#include "load/stream_registry.hpp"
#include "load/worker_services.hpp"
#include "net/log.hpp"

#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_future.hpp>

namespace gatehouse::load {

namespace {

std::int64_t unix_now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

[[noreturn]] void bad(const std::string& message) {
    throw load_error(exit_code::bad_option, message);
}

}  // namespace

void validate(const plan& p) {
    const auto& m = p.model;
    if (m.kind == model_kind::closed) {
        if (m.stages.empty() && m.vus == 0) bad("vus: must be at least 1");
    } else {
        if (m.vus == 0) bad("vus: the open model needs at least 1 virtual user to send with");
        if (m.stages.empty() && !(m.rate > 0) && p.workload.profile != "w3c")
            bad("rate: must be > 0 for the open model");
    }
    if (!(m.start >= 0)) bad("ramp start: must be >= 0");
    for (std::size_t i = 0; i < m.stages.size(); ++i) {
        if (m.stages[i].length <= run_duration::zero())
            bad("stages[" + std::to_string(i) + "]: duration must be > 0");
        if (!(m.stages[i].target >= 0))
            bad("stages[" + std::to_string(i) + "]: target must be >= 0");
    }
    if (m.think_time.count() < 0) bad("think time: must be >= 0");
    bool bounded = p.duration || p.count || !m.stages.empty() ||
                   (p.workload.profile == "w3c" && p.workload.replay_timing);
    if (!bounded) bad("the run needs a bound: a duration, a count, or ramp stages");
    if (p.duration && p.duration->count() <= 0) bad("duration: must be > 0");
    if (p.count && *p.count == 0) bad("count: must be > 0");
    if (p.target.host.empty()) bad("target: no host");
    if (p.target.port.empty()) bad("target: no port");
    if (p.client.connect_timeout.count() <= 0) bad("connect timeout: must be > 0");
    if (p.client.request_timeout.count() <= 0) bad("request timeout: must be > 0");
    if (!(p.workload.time_scale > 0)) bad("time scale: must be > 0");
    if (!(p.workload.replay_speed > 0)) bad("replay speed: must be > 0");
    if (p.graceful_stop.count() < 0) bad("graceful stop: must be >= 0");
}

struct load_runner::shared {
    std::atomic<std::uint64_t> iterations{0};
    std::optional<std::uint64_t> count;

    // Takes one iteration from the count, if any is left.
    bool claim() {
        auto n = iterations.fetch_add(1, std::memory_order_relaxed);
        return !count || n < *count;
    }
};

struct load_runner::worker {
    worker(load_runner& o, unsigned i, unsigned n, asio::any_io_executor ex,
           steady_clock::time_point s, std::int64_t s_unix_ns)
        : owner(o),
          p(o.plan_),
          index(i),
          workers(n),
          executor(ex),
          start(s),
          rec(s, s_unix_ns),
          conn(o.plan_.target, o.endpoints_),
          services{conn, p.client, p.account, p.workload, rec, registry, ex, false},
          all_done(ex),
          supervisor_timer(ex) {
        if (p.duration) deadline = start + *p.duration;
        profile = rec.profile_id(o.workload_->name());
        rec.set_observer(&p.observer);
        if (p.model.kind == model_kind::open) {
            if (auto own = o.workload_->own_schedule()) {
                arrivals = std::move(*own);
            } else if (p.model.stages.empty()) {
                arrivals = arrival_schedule::constant(p.model.rate).scaled(1.0 / workers);
            } else {
                arrivals =
                    arrival_schedule::ramping(p.model.start, p.model.stages).scaled(1.0 / workers);
            }
        } else {
            vus = p.model.stages.empty()
                      ? vu_schedule::constant(p.model.vus)
                      : vu_schedule::ramping(static_cast<unsigned>(p.model.start), p.model.stages);
        }
    }

    // Runs every virtual user of this worker to the end; returns when all are done.
    awaitable<void> run() {
        std::size_t total = p.model.kind == model_kind::open ? p.model.vus : vus->peak();
        for (std::size_t i = index + 1; i <= total; i += workers) {
            ++live;
            if (p.model.kind == model_kind::open)
                asio::co_spawn(executor, open_vu(i), [this](std::exception_ptr e) { done(e); });
            else
                asio::co_spawn(executor, closed_vu(i), [this](std::exception_ptr e) { done(e); });
        }
        supervising = true;
        asio::co_spawn(executor, supervise(), [this](std::exception_ptr e) {
            supervising = false;
            done(e, false);
        });
        while (live > 0 || supervising) {
            all_done.expires_at(steady_clock::time_point::max());
            co_await all_done.async_wait(use_nothrow);
        }
        finished_at = steady_clock::now();
    }

    void done(std::exception_ptr e, bool vu = true) {
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                GATEHOUSE_LOG(error, "load") << "virtual user failed: " << ex.what();
            }
        }
        if (vu) --live;
        if (live == 0) supervisor_timer.cancel();
        if (live == 0 && !supervising) all_done.cancel();
    }

    // Enforces the duration: at the deadline no new requests start; after the graceful stop
    // period everything still open is closed.
    awaitable<void> supervise() {
        if (!deadline) co_return;
        supervisor_timer.expires_at(*deadline);
        co_await supervisor_timer.async_wait(use_nothrow);
        if (live == 0) co_return;
        services.soft_stopped = true;
        supervisor_timer.expires_at(*deadline + p.graceful_stop);
        co_await supervisor_timer.async_wait(use_nothrow);
        if (live == 0) co_return;
        registry.close_all();
    }

    // Called on the worker's executor: ends everything now.
    void stop_now() {
        services.soft_stopped = true;
        registry.close_all();
        supervisor_timer.cancel();
    }

    bool past_deadline(steady_clock::time_point t) const { return deadline && t >= *deadline; }

    awaitable<void> iterate(vu& v, user& u) {
        rec.iteration_started();
        rec.active(++busy, steady_clock::now());
        v.clear_interrupted();
        bool ok = co_await u.iteration(v);
        --busy;
        // Cut short by the end of the run (a step refused, a hold interrupted): interrupted.
        bool cut = v.interrupted() || services.soft_stopped || registry.closed();
        auto end = ok    ? recorder::iteration_end::completed
                   : cut ? recorder::iteration_end::interrupted
                         : recorder::iteration_end::failed;
        rec.iteration_finished(end, steady_clock::now());
    }

    awaitable<void> closed_vu(std::size_t number) {
        vu v(number, services);
        auto u = owner.workload_->make_user(v);
        while (!services.soft_stopped && !registry.closed()) {
            auto now = steady_clock::now();
            if (past_deadline(now)) break;
            auto t = now - start;
            if (vus->end() && t >= *vus->end()) break;
            if (number > vus->target_at(t)) {
                // Parked by the ramp: check again shortly.
                if (!co_await v.pause(std::chrono::milliseconds(50))) break;
                continue;
            }
            if (!owner.shared_->claim()) break;
            co_await iterate(v, *u);
            if (p.model.think_time.count() > 0 && !co_await v.pause(p.model.think_time)) break;
        }
    }

    awaitable<void> open_vu(std::size_t number) {
        vu v(number, services);
        auto u = owner.workload_->make_user(v);
        while (!services.soft_stopped && !registry.closed()) {
            // Explicit times (a replayed log) are dealt out by index; rates were scaled.
            auto n = arrivals->is_explicit() ? next_arrival++ * workers + index : next_arrival++;
            auto due = arrivals->due(n);
            if (!due) break;
            auto at = start + *due;
            if (past_deadline(at)) break;
            if (!owner.shared_->claim()) break;
            if (at > steady_clock::now() && !co_await v.pause_until(at)) break;
            if (services.soft_stopped) break;
            auto now = steady_clock::now();
            auto lag = std::chrono::duration_cast<std::chrono::microseconds>(now - at).count();
            rec.record_start(static_cast<std::uint64_t>(std::max<std::int64_t>(lag, 0)), now);
            v.set_intended(at);
            v.set_arrival(arrivals->is_explicit() ? std::optional<std::uint64_t>(n) : std::nullopt);
            co_await iterate(v, *u);
        }
    }

    load_runner& owner;
    const plan& p;
    unsigned index;
    unsigned workers;
    asio::any_io_executor executor;
    steady_clock::time_point start;
    recorder rec;
    connector conn;
    stream_registry registry;
    worker_services services;
    std::uint32_t profile = 0;
    std::optional<arrival_schedule> arrivals;
    std::optional<vu_schedule> vus;
    std::optional<steady_clock::time_point> deadline;
    std::uint64_t next_arrival = 0;
    std::size_t live = 0;
    std::atomic<std::size_t> busy{0};  // read by the sampler thread for the gauge
    bool supervising = false;
    asio::steady_timer all_done;
    asio::steady_timer supervisor_timer;
    steady_clock::time_point finished_at{};
    std::atomic<bool> finished{false};
};

load_runner::load_runner(plan p) : plan_(std::move(p)), shared_(std::make_unique<shared>()) {
    validate(plan_);
    workload_ = make_workload(plan_.workload);
    if (plan_.model.kind == model_kind::closed && workload_->own_schedule())
        throw load_error(exit_code::bad_option,
                         "model: a replay that keeps the log's timing needs the open model");
    endpoints_ = resolve_target(plan_.target);
    shared_->count = plan_.count;
}

load_runner::~load_runner() = default;

void load_runner::stop() {
    stop_requested_ = true;
    std::lock_guard lock(mutex_);
    for (auto* w : active_) asio::post(w->executor, [w] { w->stop_now(); });
}

awaitable<void> load_runner::preflight() {
    if (!plan_.preflight) co_return;
    connector c(plan_.target, endpoints_);
    auto r = co_await c.connect(plan_.client.connect_timeout);
    if (r.stream) {
        co_await r.stream->shutdown();
        co_return;
    }
    auto what = plan_.target.display();
    if (r.failed == failure::tls)
        throw load_error(exit_code::unreachable,
                         "TLS handshake with " + what + " failed: " + r.ec.message());
    throw load_error(exit_code::unreachable, "cannot connect to " + what + ": " + r.ec.message());
}

run_results load_runner::finish(std::vector<std::unique_ptr<worker>>& workers,
                                steady_clock::time_point end) {
    run_results r;
    bool first = true;
    for (auto& w : workers) {
        auto part = w->rec.snapshot();
        part.processes = 1;
        if (first)
            r = std::move(part);
        else {
            r.merge(part);
            r.processes = 1;
        }
        first = false;
    }
    r.workload = workload_->name();
    r.model = plan_.model.kind == model_kind::open ? "open" : "closed";
    r.target = plan_.target.display();
    auto start = workers.front()->start;
    auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(end - start);
    r.end_unix_ms = r.start_unix_ms + elapsed.count();
    if (plan_.model.kind == model_kind::open) {
        // Arrivals due before the run ended (or its deadline), at most the count.
        auto limit = end - start;
        if (plan_.duration && *plan_.duration < limit) limit = *plan_.duration;
        std::uint64_t due = 0;
        if (auto own = workload_->own_schedule()) {
            due = own->due_before(limit);
        } else if (plan_.model.stages.empty()) {
            due = arrival_schedule::constant(plan_.model.rate).due_before(limit);
        } else {
            due =
                arrival_schedule::ramping(plan_.model.start, plan_.model.stages).due_before(limit);
        }
        if (plan_.count) due = std::min(due, *plan_.count);
        r.schedule.due = due;
        r.schedule.missed = due > r.schedule.started ? due - r.schedule.started : 0;
    }
    return r;
}

run_results load_runner::run(unsigned threads, sample_handler on_sample) {
    if (threads == 0) threads = 1;
    {
        asio::io_context ioc;
        auto f = asio::co_spawn(ioc, preflight(), asio::use_future);
        ioc.run();
        f.get();  // rethrows load_error(unreachable)
    }
    auto start = steady_clock::now() + std::chrono::milliseconds(5);
    auto start_unix = unix_now_ns() + 5'000'000;
    std::vector<std::unique_ptr<asio::io_context>> contexts;
    std::vector<std::unique_ptr<worker>> workers;
    for (unsigned i = 0; i < threads; ++i) {
        contexts.push_back(std::make_unique<asio::io_context>(1));
        workers.push_back(std::make_unique<worker>(
            *this, i, threads, contexts.back()->get_executor(), start, start_unix));
    }
    {
        std::lock_guard lock(mutex_);
        for (auto& w : workers) active_.push_back(w.get());
    }
    if (stop_requested_)
        for (auto& w : workers) asio::post(w->executor, [p = w.get()] { p->stop_now(); });
    std::vector<std::thread> pool;
    for (unsigned i = 0; i < threads; ++i) {
        pool.emplace_back([ctx = contexts[i].get(), w = workers[i].get()] {
            asio::co_spawn(*ctx, w->run(), [w](std::exception_ptr) { w->finished = true; });
            ctx->run();
        });
    }

    // Once a second, hand out the seconds every worker has finished, merged.
    auto deliver = [&](steady_clock::time_point now) {
        std::vector<second_sample> taken;
        for (auto& w : workers) w->rec.take_completed(now, taken);
        std::map<std::int64_t, second_sample> merged;
        for (auto& s : taken) {
            auto [it, inserted] = merged.try_emplace(s.unix_second, s);
            if (!inserted) it->second.merge(s);
        }
        if (on_sample)
            for (auto& [second, s] : merged) on_sample(s);
    };
    auto all_finished = [&] {
        for (auto& w : workers)
            if (!w->finished) return false;
        return true;
    };
    while (!all_finished()) {
        auto now_unix = unix_now_ns();
        auto next_tick = (now_unix / 1'000'000'000 + 1) * 1'000'000'000 + 20'000'000;
        auto wake = steady_clock::now() + std::chrono::nanoseconds(next_tick - now_unix);
        while (!all_finished() && steady_clock::now() < wake) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
            // Users busy in long polls start nothing for seconds: sample the gauge too.
            auto now = steady_clock::now();
            for (auto& w : workers) w->rec.active(w->busy.load(), now);
        }
        deliver(steady_clock::now());
    }
    for (auto& t : pool) t.join();
    {
        std::lock_guard lock(mutex_);
        active_.clear();
    }
    steady_clock::time_point end = start;
    for (auto& w : workers) end = std::max(end, w->finished_at);
    deliver(end + std::chrono::seconds(2));  // the last, partial second too
    return finish(workers, end);
}

namespace {

// Hands out finished seconds once a second until `finished`; `timer` is cancelled to end it.
awaitable<void> sample_loop(recorder& rec, const load_runner::sample_handler& on_sample,
                            const bool& finished, const std::atomic<std::size_t>& busy,
                            steady_clock::time_point start, asio::steady_timer& timer) {
    auto tick = start;
    while (!finished) {
        tick += std::chrono::seconds(1);
        timer.expires_at(tick + std::chrono::milliseconds(20));
        co_await timer.async_wait(use_nothrow);
        rec.active(busy.load(), steady_clock::now());
        std::vector<second_sample> taken;
        rec.take_completed(steady_clock::now(), taken);
        if (on_sample)
            for (auto& s : taken) on_sample(s);
    }
}

}  // namespace

awaitable<run_results> load_runner::run_async(sample_handler on_sample) {
    co_await preflight();
    auto executor = co_await asio::this_coro::executor;
    auto start = steady_clock::now() + std::chrono::milliseconds(5);
    auto start_unix = unix_now_ns() + 5'000'000;
    std::vector<std::unique_ptr<worker>> workers;
    workers.push_back(std::make_unique<worker>(*this, 0, 1, executor, start, start_unix));
    auto& w = *workers.front();
    {
        std::lock_guard lock(mutex_);
        active_.push_back(&w);
    }
    if (stop_requested_) w.stop_now();
    bool finished = false;
    bool sampler_done = false;
    asio::steady_timer sampler_wait(executor, steady_clock::time_point::max());
    asio::steady_timer tick_timer(executor);
    asio::co_spawn(executor, sample_loop(w.rec, on_sample, finished, w.busy, start, tick_timer),
                   [&](std::exception_ptr) {
                       sampler_done = true;
                       sampler_wait.cancel();
                   });
    co_await w.run();
    finished = true;
    tick_timer.cancel();
    while (!sampler_done) co_await sampler_wait.async_wait(use_nothrow);
    {
        std::lock_guard lock(mutex_);
        active_.clear();
    }
    std::vector<second_sample> rest;
    w.rec.take_completed(w.finished_at + std::chrono::seconds(2), rest);
    if (on_sample)
        for (auto& s : rest) on_sample(s);
    co_return finish(workers, w.finished_at);
}

}  // namespace gatehouse::load
