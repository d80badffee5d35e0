#include "proxy/health_checker.hpp"

#include "net/http_io.hpp"
#include "net/log.hpp"
#include "net/stream.hpp"
#include "proxy/farm_health.hpp"

#include <atomic>
#include <charconv>
#include <mutex>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

namespace gatehouse::proxy {

namespace {

// Enough of the body for a response match; the rest is not read.
constexpr std::size_t match_window = 64 * 1024;

struct probe_target {
    std::string path{};
    std::string host{};  // empty: the server's own address:port
};

probe_target parse_url(const std::string& url, const std::string& farm) {
    probe_target t;
    if (url.starts_with("/")) {
        t.path = url;
        return t;
    }
    auto rest = std::string_view(url).substr(url.find("//") + 2);
    auto slash = rest.find('/');
    auto host = rest.substr(0, slash);
    t.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    auto bare =
        host.substr(0, host.rfind(':') == std::string_view::npos ? host.size() : host.rfind(':'));
    if (!net::iequals(bare, farm)) t.host = std::string(host);
    return t;
}

}  // namespace

struct health_checker::impl {
    impl() : wake(context) {}

    asio::io_context context{1};
    asio::steady_timer wake;
    std::shared_ptr<const snapshot> current;  // context thread only
    std::uint32_t in_flight = 0;              // context thread only
    std::uint64_t generation = 0;             // bumped by stop: late results are dropped
    bool stopping = false;
    std::atomic<std::uint64_t> probes{0};
    std::thread thread;
};

namespace {

struct probe_result {
    bool passed = false;
    std::int64_t memory_mb = -1;  // the free memory the server reported; -1: none
};

// Sends one probe. Every step is bounded by the health timeout.
awaitable<probe_result> run_probe(asio::io_context& context, const farm_snapshot& farm,
                                  const server_slot& slot) {
    const auto& h = farm.config->health;
    probe_result failed;
    if (!slot.endpoint) co_return failed;
    auto target = parse_url(h.url, farm.config->name);
    std::unique_ptr<net::stream> s;
    if (farm.tls)
        s = std::make_unique<net::stream>(tcp::socket(context), *farm.tls);
    else
        s = std::make_unique<net::stream>(tcp::socket(context));
    s->expires_after(h.timeout);
    auto [cec] = co_await s->socket().async_connect(*slot.endpoint, use_nothrow);
    if (cec) co_return failed;
    if (farm.tls) {
        s->set_server_name(slot.tls_name, farm.config->tls.verify);
        if (co_await s->handshake(asio::ssl::stream_base::client)) co_return failed;
    }
    std::string request = "GET " + target.path + " HTTP/1.1\r\nHost: " +
                          (target.host.empty() ? slot.authority : target.host) +
                          "\r\nUser-Agent: Gatehouse-HealthCheck\r\nAccept: */*\r\n"
                          "Connection: close\r\n\r\n";
    auto [wec, wn] = co_await s->write(asio::buffer(request));
    if (wec) co_return failed;
    net::http_head head;
    net::response_parser parser(head);
    beast::flat_buffer buffer;
    if (co_await net::read_head(*s, buffer, parser)) co_return failed;
    std::string body;
    if (!h.match.empty()) {
        body.resize(match_window);
        std::size_t used = 0;
        while (!parser.is_done() && used < body.size()) {
            auto [rec, n] = co_await net::read_body(
                *s, buffer, parser, asio::buffer(body.data() + used, body.size() - used));
            if (rec) co_return failed;
            used += n;
        }
        body.resize(used);
    }
    s->close();
    probe_result result;
    result.passed = probe_passes(h, head.status, body);
    if (auto memory = head.fields.find(farm.config->host_affinity.memory_header)) {
        std::int64_t mb = 0;
        auto [end, ec] = std::from_chars(memory->data(), memory->data() + memory->size(), mb);
        if (ec == std::errc() && end == memory->data() + memory->size()) result.memory_mb = mb;
    }
    co_return result;
}

// `changes` is the server's health_changes when the probe started.
awaitable<void> probe(health_checker::impl* d, std::shared_ptr<const snapshot> snap,
                      std::size_t farm_index, std::size_t server_index, std::uint64_t changes) {
    const auto generation = d->generation;
    const auto& farm = snap->farms()[farm_index];
    const auto& slot = farm.servers[server_index];
    auto [passed, memory_mb] = co_await run_probe(d->context, farm, slot);
    --d->in_flight;
    d->wake.cancel();
    if (d->stopping || generation != d->generation) co_return;
    auto& rt = *slot.runtime;
    const auto now = steady_clock::now();
    if (passed) rt.memory_available_mb.store(memory_mb, std::memory_order_relaxed);
    if (!rt.monitor) co_return;
    // An admin action or the live traffic test may have changed the health since: the test
    // goes on from there.
    if (rt.monitor->healthy() != rt.healthy.load()) rt.monitor->force(rt.healthy.load());
    if (rt.health_changes.load() != changes) {
        // Set while this probe was out (ARR's "Set Server as Unhealthy", live traffic): its
        // answer may predate that, so the next probe's decides.
        rt.monitor->probe_discarded(now);
        co_return;
    }
    rt.monitor->probe_finished(passed, now);
    if (!passed) {
        GATEHOUSE_LOG(debug, "health")
            << farm.config->name << "/" << slot.authority << " failed its health test";
    }
    if (rt.monitor->healthy() != rt.healthy.load())
        apply_health_verdict(farm, server_index, rt.monitor->healthy(), now);
}

awaitable<void> schedule(health_checker::impl* d) {
    while (!d->stopping) {
        auto snap = d->current;
        const auto now = steady_clock::now();
        auto next = now + std::chrono::hours(1);
        for (std::size_t f = 0; f < snap->farms().size(); ++f) {
            const auto& farm = snap->farms()[f];
            const bool tested = !farm.config->health.url.empty();
            auto thresholds = health_thresholds::from(farm.config->health);
            for (std::size_t i = 0; i < farm.servers.size(); ++i) {
                auto& rt = *farm.servers[i].runtime;
                if (!tested) {
                    if (rt.monitor) {
                        // The test was removed: its verdict goes with it.
                        rt.monitor.reset();
                        apply_health_verdict(farm, i, true, now);
                    }
                    continue;
                }
                if (!rt.monitor)
                    rt.monitor.emplace(thresholds, now);
                else
                    rt.monitor->configure(thresholds);
                if (rt.monitor->probe_due(now) &&
                    d->in_flight < snap->settings().health_max_in_flight) {
                    rt.monitor->probe_started(now);
                    ++d->in_flight;
                    d->probes.fetch_add(1, std::memory_order_relaxed);
                    asio::co_spawn(d->context, probe(d, snap, f, i, rt.health_changes.load()),
                                   asio::detached);
                }
                if (!rt.monitor->in_flight()) next = std::min(next, rt.monitor->next_probe());
            }
        }
        d->wake.expires_at(next);
        co_await d->wake.async_wait(use_nothrow);
    }
}

}  // namespace

health_checker::health_checker() : impl_(std::make_unique<impl>()) {}

health_checker::~health_checker() {
    stop();
}

void health_checker::start(std::shared_ptr<const snapshot> s) {
    auto& d = *impl_;
    d.current = std::move(s);
    asio::co_spawn(d.context, schedule(impl_.get()), asio::detached);
    d.thread = std::thread([&d] { d.context.run(); });
}

void health_checker::update(std::shared_ptr<const snapshot> s) {
    asio::post(impl_->context, [d = impl_.get(), s = std::move(s)]() mutable {
        d->current = std::move(s);
        d->wake.cancel();
    });
}

void health_checker::stop() {
    auto& d = *impl_;
    if (!d.thread.joinable()) return;
    asio::post(d.context, [&d] {
        d.stopping = true;
        ++d.generation;
        d.wake.cancel();
    });
    // Probes in flight end at their timeout at the latest; do not wait for them.
    asio::post(d.context, [&d] { d.context.stop(); });
    d.thread.join();
}

std::uint64_t health_checker::probes_sent() const {
    return impl_->probes.load(std::memory_order_relaxed);
}

}  // namespace gatehouse::proxy
