#include "scenarios/external_proxy.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

namespace gatehouse::scenarios {

namespace {

const char* name_of(peer_kind kind) {
    switch (kind) {
        case peer_kind::gatehouse_process: return "gatehouse-proxy";
        case peer_kind::haproxy: return "haproxy";
        case peer_kind::nginx: return "nginx";
    }
    return "?";
}

// The first line a command prints (stdout and stderr together), or "".
std::string first_line_of(const std::string& command) {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((command + " 2>&1").c_str(), "r"), pclose);
    if (!pipe) return {};
    char line[256] = {};
    if (!std::fgets(line, sizeof line, pipe.get())) return {};
    std::string text(line);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    return text;
}

bool accepts_connections(const tcp::endpoint& endpoint) {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    error_code ec;
    socket.connect(endpoint, ec);
    return !ec;
}

}  // namespace

std::string peer_version(peer_kind kind) {
    switch (kind) {
        case peer_kind::haproxy: {
            // "HAProxy version 2.6.12-1+deb12u1 2023/12/16 - https://haproxy.org/"
            auto line = first_line_of("haproxy -v");
            auto at = line.find("version ");
            if (at == std::string::npos) return "haproxy";
            auto version = line.substr(at + 8);
            return "haproxy " + version.substr(0, version.find_first_of(" -"));
        }
        case peer_kind::nginx: {
            // "nginx version: nginx/1.22.1"
            auto line = first_line_of("nginx -v");
            auto at = line.find("nginx/");
            return at == std::string::npos ? "nginx" : "nginx " + line.substr(at + 6);
        }
        case peer_kind::gatehouse_process: return "gatehouse-proxy (separate process)";
    }
    return "?";
}

unsigned short reserve_port(const std::string& address) {
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, {asio::ip::make_address(address), 0});
    return acceptor.local_endpoint().port();
}

std::string unix_socket_command(const std::filesystem::path& socket_path,
                                const std::string& command) {
    asio::io_context ioc;
    asio::local::stream_protocol::socket socket(ioc);
    error_code ec;
    socket.connect(asio::local::stream_protocol::endpoint(socket_path.string()), ec);
    if (ec)
        throw std::runtime_error("cannot reach " + socket_path.string() + ": " + ec.message());
    asio::write(socket, asio::buffer(command + "\n"), ec);
    if (ec) throw std::runtime_error("cannot send to " + socket_path.string() + ": " + ec.message());
    std::string answer;
    std::array<char, 4096> chunk;
    for (;;) {
        auto n = socket.read_some(asio::buffer(chunk), ec);
        answer.append(chunk.data(), n);
        if (ec) break;  // eof: the runtime API closes after one command
    }
    return answer;
}

external_proxy::external_proxy(peer_kind kind, std::string config_text,
                               std::filesystem::path work_dir,
                               std::filesystem::path gatehouse_proxy_executable,
                               double time_scale)
    : kind_(kind),
      config_text_(std::move(config_text)),
      work_dir_(std::move(work_dir)),
      executable_(std::move(gatehouse_proxy_executable)),
      time_scale_(time_scale),
      log_(work_dir_ / (std::string(name_of(kind)) + ".log")) {}

external_proxy::~external_proxy() { stop(); }

std::filesystem::path external_proxy::config_file() const {
    switch (kind_) {
        case peer_kind::gatehouse_process: return work_dir_ / "gatehouse-proxy.json";
        case peer_kind::haproxy: return work_dir_ / "haproxy.cfg";
        case peer_kind::nginx: return work_dir_ / "nginx.conf";
    }
    return work_dir_ / "proxy.conf";
}

std::vector<std::string> external_proxy::command() const {
    switch (kind_) {
        case peer_kind::gatehouse_process:
            return {executable_.string(),  "--config",     config_file().string(), "--threads",
                    "1",                   "--time-scale", std::to_string(time_scale_)};
        case peer_kind::haproxy:
            // Master-worker (-W) so that SIGUSR2 reloads; foreground (-db).
            return {"haproxy", "-W", "-db", "-f", config_file().string()};
        case peer_kind::nginx:
            return {"nginx", "-p", work_dir_.string(), "-c", config_file().string(), "-e",
                    (work_dir_ / "nginx-error.log").string(), "-g",
                    "daemon off; pid " + (work_dir_ / "nginx.pid").string() + ";"};
    }
    return {};
}

void external_proxy::start(const tcp::endpoint& probe, std::chrono::milliseconds ready_within) {
    std::filesystem::create_directories(work_dir_);
    {
        std::ofstream out(config_file());
        out << config_text_;
        if (!out) throw std::runtime_error("cannot write " + config_file().string());
    }
    process_ = std::make_unique<child_process>(command(), log_);
    auto deadline = std::chrono::steady_clock::now() + ready_within;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!process_->running())
            throw std::runtime_error(std::string(name_of(kind_)) + " exited with status " +
                                     std::to_string(process_->exit_status().value_or(-1)) +
                                     " before listening; its output:\n" + tail_of(log_));
        if (accepts_connections(probe)) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    throw std::runtime_error(std::string(name_of(kind_)) + " did not listen on port " +
                             std::to_string(probe.port()) + " within " +
                             std::to_string(ready_within.count()) + " ms; its output:\n" +
                             tail_of(log_));
}

void external_proxy::stop() {
    if (process_) process_->stop(std::chrono::seconds(5));
}

void external_proxy::reload(std::string config_text) {
    config_text_ = std::move(config_text);
    {
        std::ofstream out(config_file());
        out << config_text_;
    }
    if (!process_ || !process_->running())
        throw std::runtime_error(std::string(name_of(kind_)) + " is not running");
    process_->signal(kind_ == peer_kind::haproxy ? SIGUSR2 : SIGHUP);
}

void external_proxy::set_server_state(const std::string& farm, const std::string& server,
                                      const std::string& state) {
    if (kind_ != peer_kind::haproxy)
        throw unsupported_action(std::string(name_of(kind_)) +
                                 " has no run-time API to set a server's state (" + state + ")");
    auto answer =
        unix_socket_command(admin_socket(), "set server " + farm + "/" + server + " state " + state);
    // The runtime API answers nothing on success and a message on failure.
    if (answer.find_first_not_of("\r\n ") != std::string::npos)
        throw std::runtime_error("haproxy refused `set server " + farm + "/" + server + " state " +
                                 state + "`: " + answer);
}

std::string external_proxy::description() const { return peer_version(kind_); }

}  // namespace gatehouse::scenarios
