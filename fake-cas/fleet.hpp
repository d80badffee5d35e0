#pragma once
// A fleet of simulated Exchange front ends running in-process on their own threads: the API the
// scenario runner, the proxy's integration tests and the load generator's tests use.
//
//   fake_cas::fleet fleet(fake_cas::default_fleet(2));
//   fleet.start();
//   auto ep = fleet.server(0).endpoint();              // 127.0.0.1:<ephemeral>
//   fleet.server("cas1").set_component_state("OwaProxy", "HealthApi", false);
//   fleet.server(1).patch(R"({"vdirs":{"ews":{"faults":{"latency_ms":200}}}})"_json);
//   auto seen = fleet.server(0).observations();
//   fleet.stop();
//
// Every method of fleet and server_handle is thread-safe, except start() and stop(), which the
// owner calls once each.

#include "fake-cas/config.hpp"
#include "fake-cas/observations.hpp"
#include "net/awaitable.hpp"
#include "net/certificate.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace boost::asio {
class io_context;
}

namespace gatehouse::fake_cas {

class server;
struct farm_state;
class control_api;

// Events the harness can inject (the triggers of long polls).
enum class event_kind { eas_ping_change, mapi_notification, ews_notification };
// Parses "eas_ping_change", "mapi_notification", "ews_notification".
std::optional<event_kind> parse_event_kind(std::string_view text);

// The thread-safe handle of one server.
class server_handle {
public:
    explicit server_handle(server& s) : server_(s) {}

    const std::string& name() const;
    // Where it listens (valid after fleet::start; the port stays the same across
    // stop_listening/start_listening).
    tcp::endpoint endpoint() const;
    bool tls() const;
    // "http://127.0.0.1:port" or "https://…".
    std::string url() const;
    server_config config() const;

    // Applies a knob patch (the JSON shape of a server in the config file). Throws config_error
    // naming the field; on error nothing changes.
    void patch(const nlohmann::json& patch);
    // Changes knobs in code; the result is validated like a patch (config_error).
    void update(const std::function<void(server_config&)>& change);

    // Set-ServerComponentState: `component` is a vdir component ("OwaProxy", ...) or
    // "ServerWideOffline". Returns false for an unknown component.
    bool set_component_state(std::string_view component, std::string_view requester, bool active);
    // Component → requesters holding it inactive.
    std::map<std::string, std::vector<std::string>> inactive_components() const;
    bool component_active(vdir v) const;

    // Closes the listening socket (new connections are refused; established ones go on), and
    // opens it again on the same port. Both wait until done (bounded).
    void stop_listening();
    void start_listening();
    bool listening() const;

    // Injects an event for `user` ("*": every user waiting) into this server's farm state.
    // Returns how many waiting long polls were woken.
    std::size_t inject(event_kind kind, const std::string& user, const std::string& payload = {});

    observation_snapshot observations(bool with_log = true) const;
    void reset_observations();

    server& impl() { return server_; }

private:
    server& server_;
};

class fleet {
public:
    // Validates the configuration (config_error) and prepares certificates; nothing listens
    // until start().
    explicit fleet(fleet_config config);
    ~fleet();
    fleet(const fleet&) = delete;
    fleet& operator=(const fleet&) = delete;

    // Binds every server and the control API (if enabled) and starts the threads. Throws
    // std::runtime_error when a port cannot be bound, or when the fleet was stopped before (a
    // fleet runs once).
    void start();
    // Stops the control API, closes every connection and joins the threads (bounded).
    // Handles stay readable (config, observations) afterwards.
    void stop();
    bool running() const { return running_; }

    std::size_t size() const { return handles_.size(); }
    server_handle& server(std::size_t index);
    // Throws std::out_of_range for an unknown name.
    server_handle& server(std::string_view name);
    server_handle* find(std::string_view name);

    // The authority that issued every server certificate (trust it to verify the servers).
    const net::certificate& authority() const { return authority_; }
    std::optional<tcp::endpoint> control_endpoint() const;
    double time_scale() const { return config_.time_scale; }
    const fleet_config& config() const { return config_; }

    // Injects into the farm (every server sees it).
    std::size_t inject(event_kind kind, const std::string& user, const std::string& payload = {});

private:
    fleet_config config_;
    net::certificate authority_;
    std::unique_ptr<farm_state> farm_;
    std::vector<std::unique_ptr<asio::io_context>> contexts_;
    std::vector<std::unique_ptr<fake_cas::server>> servers_;
    std::vector<server_handle> handles_;
    std::unique_ptr<asio::io_context> control_context_;
    std::unique_ptr<control_api> control_;
    std::vector<std::thread> threads_;
    bool running_ = false;
    bool stopped_ = false;
};

}  // namespace gatehouse::fake_cas
