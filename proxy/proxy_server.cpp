#include "proxy/proxy_server.hpp"

#include "net/log.hpp"
#include "proxy/admin_api.hpp"
#include "proxy/farm_health.hpp"
#include "proxy/health_checker.hpp"
#include "proxy/snapshot.hpp"
#include "proxy/worker.hpp"

#include <map>
#include <mutex>
#include <thread>

#include <boost/asio/detail/socket_option.hpp>

namespace gatehouse::proxy {

namespace {

using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

std::unique_ptr<tcp::acceptor> bind_acceptor(asio::io_context& context,
                                             const tcp::endpoint& endpoint,
                                             const std::string& listener) {
    auto acceptor = std::make_unique<tcp::acceptor>(context);
    error_code ec;
    auto fail = [&](const char* what) {
        throw std::runtime_error("listeners." + listener + ": cannot " + what + " " +
                                 endpoint.address().to_string() + ":" +
                                 std::to_string(endpoint.port()) + ": " + ec.message());
    };
    acceptor->open(endpoint.protocol(), ec);
    if (ec) fail("open");
    acceptor->set_option(asio::socket_base::reuse_address(true), ec);
    acceptor->set_option(reuse_port(true), ec);
    if (ec) fail("set SO_REUSEPORT for");
    acceptor->bind(endpoint, ec);
    if (ec) fail("bind");
    acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) fail("listen on");
    return acceptor;
}

class control_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "gatehouse.proxy.control"; }
    std::string message(int ev) const override {
        switch (static_cast<control_errc>(ev)) {
            case control_errc::unknown_farm:
                return "unknown farm";
            case control_errc::unknown_server:
                return "unknown server";
        }
        return "unknown error";
    }
};

// The index of the server named `name` in `farm` (see set_server_state), or -1.
int find_server(const farm_snapshot& farm, std::string_view name) {
    int by_address = -1;
    int matches = 0;
    for (std::size_t i = 0; i < farm.servers.size(); ++i) {
        const auto& slot = farm.servers[i];
        const auto& sc = farm.config->servers[i];
        if (name == slot.authority) return static_cast<int>(i);
        if (sc.port && name == sc.address + ":" + std::to_string(sc.port))
            return static_cast<int>(i);
        if (name == sc.address) {
            by_address = static_cast<int>(i);
            ++matches;
        }
    }
    if (matches == 1) return by_address;
    if (!name.empty() && name.find_first_not_of("0123456789") == std::string_view::npos &&
        name.size() < 6) {
        auto index = std::stoul(std::string(name));
        if (index < farm.servers.size()) return static_cast<int>(index);
    }
    return -1;
}

}  // namespace

const boost::system::error_category& control_category() noexcept {
    static const control_category_impl instance;
    return instance;
}

boost::system::error_code make_error_code(control_errc e) noexcept {
    return {static_cast<int>(e), control_category()};
}

struct proxy_server::impl {
    std::string source;
    unsigned threads;
    runtime_registry registry;
    std::unique_ptr<access_log_sink> log;
    std::shared_ptr<const snapshot> current;
    // Per listener, shared by the workers' acceptors; outlives the workers and their sessions.
    std::vector<std::unique_ptr<client_address_limiter>> per_client;
    std::vector<std::unique_ptr<worker>> workers;
    std::vector<std::thread> threads_running;
    std::vector<std::pair<std::string, tcp::endpoint>> endpoints;
    bool started = false;
    bool stopped = false;
    std::mutex stats_mutex;
    struct rate_sample {
        std::uint64_t requests = 0;
        steady_clock::time_point at{};
    };
    std::map<std::string, rate_sample> rates;
    steady_clock::time_point started_at{};
    mutable std::mutex current_mutex;  // guards `current` for the thread-safe operations
    std::unique_ptr<health_checker> health;
    std::unique_ptr<admin_api> admin;

    std::shared_ptr<const snapshot> snap() const {
        std::lock_guard lock(current_mutex);
        return current;
    }

    // The farm and server a live operation names.
    boost::system::result<std::pair<std::shared_ptr<const snapshot>, std::pair<std::size_t, int>>>
    locate(std::string_view farm, std::string_view server) const {
        auto s = snap();
        for (std::size_t f = 0; f < s->farms().size(); ++f) {
            if (s->farms()[f].config->name != farm) continue;
            int index = find_server(s->farms()[f], server);
            if (index < 0) return make_error_code(control_errc::unknown_server);
            return std::pair{s, std::pair{f, index}};
        }
        return make_error_code(control_errc::unknown_farm);
    }

    impl(config c, server_options& options)
        : source(options.source),
          threads(options.threads ? options.threads
                                  : std::max(1u, std::thread::hardware_concurrency())),
          registry(threads) {
        std::string log_path = c.access_log.path;
        current = std::make_shared<const snapshot>(std::move(c), threads, registry, source);
        if (options.access_log)
            log = access_log_sink::to_callback(std::move(options.access_log));
        else if (!log_path.empty())
            log = access_log_sink::open(log_path);
    }
};

proxy_server::proxy_server(config c, server_options options)
    : impl_(std::make_unique<impl>(std::move(c), options)) {}

proxy_server::~proxy_server() {
    if (impl_->started && !impl_->stopped) stop(milliseconds(0));
}

unsigned proxy_server::threads() const noexcept {
    return impl_->threads;
}

bool proxy_server::running() const noexcept {
    return impl_->started && !impl_->stopped;
}

void proxy_server::start() {
    auto& d = *impl_;
    if (d.started) throw std::logic_error("proxy_server::start called twice");
    for (unsigned t = 0; t < d.threads; ++t)
        d.workers.push_back(std::make_unique<worker>(t, d.log.get()));
    const auto& listeners = d.current->listeners();
    for (std::size_t i = 0; i < listeners.size(); ++i) {
        const auto& l = *listeners[i].config;
        d.per_client.push_back(std::make_unique<client_address_limiter>());
        tcp::endpoint endpoint(asio::ip::make_address(l.address), l.port);
        for (unsigned t = 0; t < d.threads; ++t) {
            auto acceptor = bind_acceptor(d.workers[t]->context(), endpoint, l.name);
            if (t == 0) {
                endpoint = acceptor->local_endpoint();  // port 0: the others join this port
                d.endpoints.emplace_back(l.name, endpoint);
                GATEHOUSE_LOG(info, "proxy") << "listener " << l.name << " on "
                                             << (l.tls ? "https://" : "http://") << endpoint;
            }
            d.workers[t]->add_acceptor(std::move(acceptor), i, d.per_client[i].get());
        }
    }
    for (auto& w : d.workers) w->set_initial_snapshot(d.current);
    const auto& settings = d.current->settings();
    if (settings.admin.enabled)
        d.admin = std::make_unique<admin_api>(*this, settings.admin);  // binds, or throws
    d.started_at = steady_clock::now();
    d.started = true;
    for (auto& w : d.workers) d.threads_running.emplace_back([wp = w.get()] { wp->run(); });
    d.health = std::make_unique<health_checker>();
    d.health->start(d.current);
    if (d.admin) d.admin->start();
}

void proxy_server::reload(config c) {
    auto& d = *impl_;
    validate(c, d.source);
    // The sockets stay: a listener may change its limits and certificates, not where it listens.
    const auto& old = d.current->settings().listeners;
    for (const auto& l : c.listeners) {
        auto it = std::find_if(old.begin(), old.end(),
                               [&](const listener_config& o) { return o.name == l.name; });
        if (it == old.end() || it->address != l.address || it->port != l.port || it->tls != l.tls)
            throw config_error(d.source, "listeners." + l.name,
                               "adding a listener or changing its address, port or protocol "
                               "needs a restart");
    }
    if (c.listeners.size() != old.size())
        throw config_error(d.source, "listeners", "removing a listener needs a restart");
    const auto& admin = d.current->settings().admin;
    if (c.admin.enabled != admin.enabled || c.admin.address != admin.address ||
        c.admin.port != admin.port) {
        GATEHOUSE_LOG(warning, "proxy") << d.source
                                        << ": admin: a changed admin listener takes effect at the "
                                           "next restart";
    }
    auto next = std::make_shared<const snapshot>(std::move(c), d.threads, d.registry, d.source);
    {
        std::lock_guard lock(d.current_mutex);
        d.current = next;
    }
    for (auto& w : d.workers) w->post_snapshot(next);
    if (d.health) d.health->update(next);
    GATEHOUSE_LOG(info, "proxy") << "configuration reloaded";
}

void proxy_server::stop() {
    stop(impl_->current->settings().stop_timeout);
}

void proxy_server::stop(milliseconds deadline) {
    auto& d = *impl_;
    if (!d.started || d.stopped) return;
    if (d.admin) d.admin->stop();
    if (d.health) d.health->stop();
    for (auto& w : d.workers) w->post_stop(deadline);
    wait();
}

void proxy_server::wait() {
    auto& d = *impl_;
    for (auto& t : d.threads_running)
        if (t.joinable()) t.join();
    if (d.admin) d.admin->stop();
    if (d.health) d.health->stop();
    if (d.started && !d.stopped) {
        d.stopped = true;
        if (d.log) d.log->flush();
    }
}

tcp::endpoint proxy_server::endpoint(std::string_view name) const {
    for (const auto& [n, e] : impl_->endpoints)
        if (n == name) return e;
    throw std::out_of_range("no listener named " + std::string(name));
}

proxy_stats proxy_server::stats() {
    auto& d = *impl_;
    std::lock_guard lock(d.stats_mutex);
    proxy_stats s;
    for (const auto& w : d.workers) {
        const auto& c = w->counters();
        s.connections_accepted += c.connections_opened.get();
        s.connections_refused_per_client += c.refused_per_client.get();
        auto closed = c.connections_closed.get();
        auto opened = c.connections_opened.get();
        s.connections_active += opened > closed ? opened - closed : 0;
        s.connections_parked += c.connections_parked.load(std::memory_order_relaxed);
        s.requests += c.requests.get();
        s.redirects += c.redirects.get();
        s.aborted_by_rule += c.aborted_by_rule.get();
        for (std::size_t k = 0; k < generated_response_kinds; ++k)
            s.generated[k] += c.generated[k].get();
        s.relay_buffers_in_use += w->relay_buffers_in_use();
        s.upstream_connections_idle += c.upstream_idle.load(std::memory_order_relaxed);
        s.upstream_connections_opened += c.upstream_opened.get();
    }
    s.relay_buffer_bytes = s.relay_buffers_in_use * relay_buffer::size();

    const auto now = steady_clock::now();
    auto rate = [&](const std::string& key, std::uint64_t requests) {
        auto [it, inserted] = d.rates.try_emplace(key, impl::rate_sample{0, d.started_at});
        auto seconds = std::chrono::duration<double>(now - it->second.at).count();
        // Counters reset since the previous call: count from zero.
        auto delta = requests >= it->second.requests ? requests - it->second.requests : requests;
        double r = seconds > 0 ? static_cast<double>(delta) / seconds : 0;
        it->second = {requests, now};
        return r;
    };
    auto current = d.snap();
    for (const auto& f : current->farms()) {
        farm_stats fs;
        fs.name = f.config->name;
        fs.algorithm = f.config->load_balancing.algorithm;
        fs.no_server_requests = f.runtime->no_server_total();
        if (f.config->host_affinity.enabled) {
            std::lock_guard lock(f.runtime->hosts_mutex);
            fs.host_routes = f.runtime->hosts.table(now, f.config->host_affinity.timeout);
        }
        std::uint64_t finished = 0;
        std::uint64_t time_taken = 0;
        for (std::size_t i = 0; i < f.servers.size(); ++i) {
            const auto& slot = f.servers[i];
            const auto& rt = *slot.runtime;
            auto t = rt.totals();
            server_stats ss;
            ss.address = rt.address();
            ss.port = rt.port();
            ss.state = rt.state.load();
            ss.healthy = rt.healthy.load();
            ss.ejected = rt.ejected(now);
            ss.weight = slot.weight;
            ss.total_requests = t.requests;
            ss.current_requests = t.current;
            ss.failed_requests = t.failed;
            ss.bytes_sent = t.bytes_sent;
            ss.bytes_received = t.bytes_received;
            ss.response_time_ms =
                t.finished ? static_cast<double>(t.time_taken_ms) / static_cast<double>(t.finished)
                           : 0;
            ss.requests_per_second = rate(fs.name + "/" + slot.authority, t.requests);
            fs.total_requests += t.requests;
            fs.current_requests += t.current;
            fs.failed_requests += t.failed;
            fs.bytes_sent += t.bytes_sent;
            fs.bytes_received += t.bytes_received;
            finished += t.finished;
            time_taken += t.time_taken_ms;
            fs.servers.push_back(std::move(ss));
        }
        for (auto& ss : fs.servers)
            ss.distribution_percent = fs.total_requests
                                          ? 100.0 * static_cast<double>(ss.total_requests) /
                                                static_cast<double>(fs.total_requests)
                                          : 0;
        fs.total_requests += fs.no_server_requests;
        fs.failed_requests += fs.no_server_requests;
        fs.response_time_ms =
            finished ? static_cast<double>(time_taken) / static_cast<double>(finished) : 0;
        fs.requests_per_second = rate(fs.name, fs.total_requests);
        s.farms.push_back(std::move(fs));
    }
    return s;
}

}  // namespace gatehouse::proxy

namespace gatehouse::proxy {

boost::system::result<void> proxy_server::set_server_state(std::string_view farm,
                                                           std::string_view server,
                                                           availability state) {
    auto found = impl_->locate(farm, server);
    if (!found) return found.error();
    auto& [snap, where] = *found;
    const auto& slot = snap->farms()[where.first].servers[static_cast<std::size_t>(where.second)];
    slot.runtime->set_state(state, steady_clock::now());
    GATEHOUSE_LOG(info, "proxy") << farm << "/" << slot.authority << " set " << to_string(state);
    return {};
}

boost::system::result<void> proxy_server::set_server_health(std::string_view farm,
                                                            std::string_view server, bool healthy) {
    auto found = impl_->locate(farm, server);
    if (!found) return found.error();
    auto& [snap, where] = *found;
    const auto& f = snap->farms()[where.first];
    const auto& slot = f.servers[static_cast<std::size_t>(where.second)];
    {
        // An admin's verdict is not subject to minServers (ARR's "Set Server as Unhealthy").
        std::lock_guard lock(f.runtime->health_mutex);
        slot.runtime->set_healthy(healthy, steady_clock::now());
    }
    GATEHOUSE_LOG(info, "proxy") << farm << "/" << slot.authority << " set "
                                 << (healthy ? "healthy" : "unhealthy");
    return {};
}

void proxy_server::reset_counters() {
    auto snap = impl_->snap();
    for (const auto& f : snap->farms()) {
        f.runtime->reset_counters();
        for (const auto& s : f.servers) s.runtime->reset_counters();
    }
}

std::optional<tcp::endpoint> proxy_server::admin_endpoint() const {
    if (!impl_->admin) return std::nullopt;
    return impl_->admin->endpoint();
}

std::uint64_t proxy_server::health_probes_sent() const {
    return impl_->health ? impl_->health->probes_sent() : 0;
}

}  // namespace gatehouse::proxy
