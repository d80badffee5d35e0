#pragma once
// One simulated Exchange front end: its configuration (an immutable snapshot swapped atomically
// when knobs change, so requests in flight finish on the one they started with), component
// states, observations, instance-scoped tables, and its listener. Connections are served by the
// fleet's worker io_contexts, one coroutine per connection (see session.cpp).

#include "fake-cas/component_states.hpp"
#include "fake-cas/config.hpp"
#include "fake-cas/farm_state.hpp"
#include "fake-cas/fba_cookie.hpp"
#include "fake-cas/observations.hpp"
#include "net/awaitable.hpp"
#include "net/certificate.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

namespace gatehouse::fake_cas {

// A configuration and everything derived from it once per change.
struct server_snapshot {
    server_config config{};
    double time_scale = 1.0;
    fba_key fba{};
    std::string canary_secret{};  // per canary_scope
    std::string health_body{};    // "200 OK<br/>EX01.CONTOSO.LOCAL"
    std::string cookie_secret{};  // MAPI context MACs

    std::chrono::steady_clock::duration ms(std::uint64_t v) const {
        return scaled_ms(time_scale, v);
    }
    std::chrono::steady_clock::duration s(std::uint64_t v) const { return scaled_s(time_scale, v); }
    // The keep-alive idle timeout, scaled but never under a second: a heavily scaled fleet must
    // not drop clients that merely pause between requests.
    std::chrono::steady_clock::duration idle() const {
        return std::max<std::chrono::steady_clock::duration>(s(config.idle_close_s),
                                                             std::chrono::seconds(1));
    }
};

class server {
public:
    // `acceptor_context` runs the listener; `workers` serve connections (round robin).
    // `certificate` is required when config.tls.enabled.
    server(farm_state& farm, server_config config, const fleet_config& fleet,
           asio::io_context& acceptor_context, std::vector<asio::io_context*> workers,
           const net::certificate* certificate);
    ~server();
    server(const server&) = delete;
    server& operator=(const server&) = delete;

    const std::string& name() const { return name_; }
    farm_state& farm() { return farm_; }
    observations& obs() { return obs_; }
    scoped_tables& instance_tables() { return tables_; }
    scoped_tables& tables(scope s) { return s == scope::farm ? farm_.shared : tables_; }

    std::shared_ptr<const server_snapshot> snapshot() const { return snapshot_.load(); }
    server_config config() const { return snapshot()->config; }
    // Installs a new configuration (already validated).
    void set_config(server_config config);

    // Component states (thread-safe).
    bool set_component(std::string_view component, std::string_view requester, bool active);
    bool component_active(vdir v) const;
    component_states components() const;
    // Counts a HealthCheck.htm probe on `v`; returns its number (from 1).
    std::uint64_t next_probe(vdir v);

    // Listener. bind() opens the acceptor (synchronously, before the fleet's threads run or
    // from any thread); start_listening/stop_listening may be called from any thread and wait
    // (bounded) until the acceptor's executor has done it.
    void bind();
    void start_accepting();
    void stop_listening();
    void start_listening();
    bool listening() const { return listening_.load(); }
    tcp::endpoint endpoint() const { return endpoint_; }
    bool tls() const { return tls_context_ != nullptr; }
    asio::ssl::context* tls_context() { return tls_context_.get(); }
    const net::certificate* certificate() const { return certificate_.get(); }

    // Drops the acceptor once the fleet's threads have stopped (before the contexts go).
    void release_listener();

    // The worker context for the next connection.
    asio::io_context& next_worker();

    // OAB file content of `size` bytes for `name` (cached, deterministic).
    std::shared_ptr<const std::string> oab_file(const std::string& name, std::size_t size);

private:
    void open_acceptor();
    void run_on_acceptor(std::function<void()> f);

    farm_state& farm_;
    std::string name_;
    asio::io_context& acceptor_context_;
    std::vector<asio::io_context*> workers_;
    std::atomic<std::size_t> next_worker_{0};
    std::atomic<std::shared_ptr<const server_snapshot>> snapshot_;
    mutable std::mutex components_mutex_;
    component_states components_;
    std::array<std::atomic<std::uint64_t>, vdir_count> probes_{};
    observations obs_;
    scoped_tables tables_;
    std::unique_ptr<net::certificate> certificate_;
    std::unique_ptr<asio::ssl::context> tls_context_;
    std::shared_ptr<tcp::acceptor> acceptor_;
    tcp::endpoint endpoint_;
    std::atomic<bool> listening_{false};
    std::mutex oab_mutex_;
    std::map<std::string, std::shared_ptr<const std::string>> oab_files_;
};

// The coroutine serving one accepted connection (session.cpp).
awaitable<void> run_connection(server& srv, tcp::socket socket);

}  // namespace gatehouse::fake_cas
