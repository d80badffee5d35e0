#pragma once
// A system under test that runs as a separate process: gatehouse-proxy with a config file, or a
// peer (HAProxy, nginx) whose config is rendered from a template shipped with the catalog. The
// runner only talks to it over the network: its listeners, and for HAProxy its runtime API
// (a Unix socket) for drain/ready/maint. Actions a peer cannot perform at run time are reported
// as unsupported, never silently skipped.

#include "net/awaitable.hpp"
#include "scenarios/child_process.hpp"
#include "scenarios/variables.hpp"

#include <chrono>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

namespace gatehouse::scenarios {

// The system under test cannot do what the scenario asks (for example nginx open source has no
// run-time drain). The scenario's verdict becomes "unsupported" with this message.
class unsupported_action : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class peer_kind { gatehouse_process, haproxy, nginx };

class external_proxy {
public:
    // `config_text` is the rendered configuration (a gatehouse JSON config, or the expanded
    // template). gatehouse-proxy runs with `time_scale` (its --time-scale). Nothing starts
    // until start().
    external_proxy(peer_kind kind, std::string config_text, std::filesystem::path work_dir,
                   std::filesystem::path gatehouse_proxy_executable = {}, double time_scale = 1);
    ~external_proxy();

    // Writes the config, starts the process and waits (bounded by `ready_within`) until
    // `probe` accepts TCP connections. Throws std::runtime_error with the process's last output
    // when it exits or does not become ready.
    void start(const tcp::endpoint& probe, std::chrono::milliseconds ready_within);
    void stop();

    // Applies a new configuration: gatehouse-proxy and nginx re-read their file on SIGHUP,
    // HAProxy (master-worker mode) on SIGUSR2.
    void reload(std::string config_text);
    // Sets a back end's administrative state: "drain", "ready" or "maint". HAProxy only
    // (runtime API); others throw unsupported_action.
    void set_server_state(const std::string& farm, const std::string& server,
                          const std::string& state);

    // "haproxy 2.6.12", "nginx 1.22.1", "gatehouse-proxy (process)".
    std::string description() const;
    const std::string& config_text() const noexcept { return config_text_; }
    const std::filesystem::path& log_file() const noexcept { return log_; }
    // The Unix socket HAProxy's runtime API listens on (the template's ${haproxy_socket}).
    std::filesystem::path admin_socket() const { return work_dir_ / "haproxy.sock"; }

private:
    std::filesystem::path config_file() const;
    std::vector<std::string> command() const;

    peer_kind kind_;
    std::string config_text_;
    std::filesystem::path work_dir_;
    std::filesystem::path executable_;
    double time_scale_;
    std::filesystem::path log_;
    std::unique_ptr<child_process> process_;
};

// The installed version line of a peer ("haproxy 2.6.12"), or the bare name when unknown.
std::string peer_version(peer_kind kind);

// A free TCP port on `address`, found by binding port 0. The runner reserves the ports of
// separate proxies this way, since their configs need the numbers before they start.
unsigned short reserve_port(const std::string& address = "127.0.0.1");

// Sends one command to a Unix stream socket and returns the answer (HAProxy's runtime API).
// Throws std::runtime_error when the socket cannot be reached.
std::string unix_socket_command(const std::filesystem::path& socket, const std::string& command);

}  // namespace gatehouse::scenarios
