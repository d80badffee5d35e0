#include "proxy/server_runtime.hpp"

namespace gatehouse::proxy {

server_runtime::server_runtime(std::string farm, std::string address, std::uint16_t port,
                               availability configured, unsigned threads)
    : state(configured),
      configured_state(configured),
      farm_(std::move(farm)),
      address_(std::move(address)),
      port_(port),
      threads_(threads),
      counters_(std::make_unique<server_counters[]>(threads)) {}

server_totals server_runtime::totals() const {
    server_totals t;
    for (unsigned i = 0; i < threads_; ++i) {
        const auto& c = counters_[i];
        t.requests += c.requests.get();
        t.finished += c.finished.get();
        t.failed += c.failed.get();
        t.bytes_sent += c.bytes_sent.get();
        t.bytes_received += c.bytes_received.get();
        t.time_taken_ms += c.time_taken_ms.get();
    }
    // Each thread's pair is read at slightly different moments: never report negative.
    t.current = t.requests > t.finished ? t.requests - t.finished : 0;
    std::lock_guard lock(baseline_mutex_);
    auto since = [](std::uint64_t now, std::uint64_t base) { return now > base ? now - base : 0; };
    t.requests = since(t.requests, baseline_.requests);
    t.finished = since(t.finished, baseline_.finished);
    t.failed = since(t.failed, baseline_.failed);
    t.bytes_sent = since(t.bytes_sent, baseline_.bytes_sent);
    t.bytes_received = since(t.bytes_received, baseline_.bytes_received);
    t.time_taken_ms = since(t.time_taken_ms, baseline_.time_taken_ms);
    return t;
}

void server_runtime::reset_counters() {
    // The counters have one writer each (their worker thread): a reset records where they
    // stand instead of writing them.
    server_totals raw;
    for (unsigned i = 0; i < threads_; ++i) {
        const auto& c = counters_[i];
        raw.requests += c.requests.get();
        raw.finished += c.finished.get();
        raw.failed += c.failed.get();
        raw.bytes_sent += c.bytes_sent.get();
        raw.bytes_received += c.bytes_received.get();
        raw.time_taken_ms += c.time_taken_ms.get();
    }
    std::lock_guard lock(baseline_mutex_);
    baseline_ = raw;
}

void server_runtime::set_healthy(bool value, steady_time now) noexcept {
    if (healthy.exchange(value) == value) return;
    health_changes.fetch_add(1);
    if (value) recovered_at_ns.store(now.time_since_epoch().count(), std::memory_order_relaxed);
}

void server_runtime::set_state(availability value, steady_time now) noexcept {
    if (state.exchange(value) != availability::available && value == availability::available)
        recovered_at_ns.store(now.time_since_epoch().count(), std::memory_order_relaxed);
}

farm_runtime::farm_runtime(std::string name, unsigned threads)
    : name_(std::move(name)),
      threads_(threads),
      counters_(std::make_unique<farm_counters[]>(threads)) {}

std::uint64_t farm_runtime::no_server_total() const {
    std::uint64_t n = 0;
    for (unsigned i = 0; i < threads_; ++i) n += counters_[i].no_server.get();
    auto base = no_server_baseline_.load();
    return n > base ? n - base : 0;
}

void farm_runtime::reset_counters() {
    std::uint64_t n = 0;
    for (unsigned i = 0; i < threads_; ++i) n += counters_[i].no_server.get();
    no_server_baseline_.store(n);
}

std::shared_ptr<farm_runtime> runtime_registry::farm(const std::string& name) {
    std::lock_guard lock(mutex_);
    if (auto existing = farms_[name].lock()) return existing;
    auto created = std::make_shared<farm_runtime>(name, threads_);
    farms_[name] = created;
    return created;
}

std::shared_ptr<server_runtime> runtime_registry::server(const std::string& farm,
                                                         const server_config& config,
                                                         std::uint16_t port) {
    std::string key = farm + '\n' + config.address + ':' + std::to_string(port);
    std::lock_guard lock(mutex_);
    for (auto it = servers_.begin(); it != servers_.end();) {
        if (it->second.expired())
            it = servers_.erase(it);
        else
            ++it;
    }
    if (auto existing = servers_[key].lock()) {
        if (existing->configured_state != config.state) {
            existing->configured_state = config.state;
            existing->state.store(config.state);
        }
        return existing;
    }
    auto created =
        std::make_shared<server_runtime>(farm, config.address, port, config.state, threads_);
    servers_[key] = created;
    return created;
}

}  // namespace gatehouse::proxy
