#pragma once
// The running world of one scenario: the fake-CAS fleet (in-process) and, when asked for, the
// recording back end of the reliability case table, the system under test
// (the embedded gatehouse proxy — one node, or an HA pair behind the VIP stand-in — a separate
// gatehouse-proxy process, HAProxy or nginx), and the variables that name their addresses.
// It also carries out the timeline's actions on them.

#include "scenarios/external_proxy.hpp"
#include "scenarios/scenario.hpp"
#include "scenarios/variables.hpp"

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace gatehouse::fake_cas {
class fleet;
}
namespace gatehouse::proxy {
class proxy_server;
}

namespace gatehouse::scenarios {

class recording_backend;
class vip;

// How to run the system under test.
enum class sut_mode { embedded, process, haproxy, nginx };
// "gatehouse", "gatehouse-process", "haproxy", "nginx".
std::optional<sut_mode> parse_sut_mode(std::string_view text);
std::string_view to_string(sut_mode mode);
// The scenario's `sut` entry this mode runs ("gatehouse" for both gatehouse modes).
std::string_view variant_name(sut_mode mode);

struct topology_options {
    sut_mode sut = sut_mode::embedded;
    double time_scale = 1;
    std::filesystem::path work_dir{};          // configs, logs and certificates of this run
    std::filesystem::path proxy_executable{};  // gatehouse-proxy, for sut_mode::process
    unsigned proxy_threads = 1;
};

class topology {
public:
    // Prepares (nothing runs yet). The scenario must have a runnable variant for the mode.
    topology(const scenario& s, topology_options options);
    ~topology();
    topology(const topology&) = delete;
    topology& operator=(const topology&) = delete;

    // Starts the fleet, then the system under test. Throws (std::runtime_error,
    // configuration errors) with a message that says what failed to start.
    void start();
    // Stops the system under test, then the fleet. Idempotent.
    void stop();

    const variables& vars() const noexcept { return vars_; }
    fake_cas::fleet& fleet() { return *fleet_; }
    // The scenario's recording back end (its `recording_backend`), or nullptr.
    recording_backend* recording() const noexcept { return recording_.get(); }
    // Where clients connect (the VIP of an HA pair).
    tcp::endpoint entry(bool tls) const;
    // Trust for clients talking TLS to the proxy (the lab authority's certificate, PEM).
    const std::string& lab_authority_pem() const noexcept { return lab_authority_pem_; }
    // The fleet server whose NetBIOS name is `netbios` (X-FEServer), or "".
    std::string server_name_of(std::string_view netbios) const;
    std::vector<std::string> server_names() const;

    // "gatehouse (embedded)", "haproxy 2.6.12" …, and its configuration as text.
    std::string description() const;
    std::string config_text() const;

    // Carries out a timeline action. Throws unsupported_action when the system under test
    // cannot do it, std::runtime_error when it failed.
    void apply(const action& a);
    // Human text for the action, for the report's markers ("cas2 owa → inactive").
    static std::string describe(const action& a);

private:
    void start_fleet();
    void start_embedded();
    void start_external();
    nlohmann::json proxy_config_json(const variables& v) const;
    std::unique_ptr<proxy::proxy_server> make_proxy(const nlohmann::json& config_json) const;
    void set_server_state(const std::string& farm, const std::string& server,
                          const std::string& state);
    void reload(const action& a);
    // "address:port" of a fleet server, as the proxy names it.
    std::string server_key(const std::string& fleet_server) const;
    void node(std::size_t index, bool start);
    std::string render_template() const;

    const scenario& scenario_;
    const sut_variant* variant_ = nullptr;
    topology_options options_;
    variables vars_;
    std::string lab_authority_pem_;
    nlohmann::json current_config_;  // gatehouse: the config as last applied (unexpanded)

    std::unique_ptr<fake_cas::fleet> fleet_;
    std::unique_ptr<recording_backend> recording_;
    // embedded: one proxy per HA node, and the VIP in front of a pair
    std::vector<std::unique_ptr<proxy::proxy_server>> nodes_;
    std::vector<variables> node_vars_;
    asio::io_context vip_context_;
    std::vector<std::unique_ptr<vip>> vips_;
    std::thread vip_thread_;
    // process, haproxy, nginx
    std::unique_ptr<external_proxy> external_;
    std::map<std::string, double> fault_restore_{};  // stop_server: reset rate to restore
    bool started_ = false;
};

}  // namespace gatehouse::scenarios
