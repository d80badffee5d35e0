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
    return t;
}

farm_runtime::farm_runtime(std::string name, unsigned threads)
    : name_(std::move(name)),
      threads_(threads),
      counters_(std::make_unique<farm_counters[]>(threads)) {}

std::uint64_t farm_runtime::no_server_total() const {
    std::uint64_t n = 0;
    for (unsigned i = 0; i < threads_; ++i) n += counters_[i].no_server.get();
    return n;
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
