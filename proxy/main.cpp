// gatehouse-proxy: the production reverse proxy as a process.
//   gatehouse-proxy --config gatehouse.json [--threads N] [--time-scale X] [--log-level info]
//   gatehouse-proxy --check gatehouse.json
// Exit codes: 0 stopped cleanly (or --check passed), 2 bad configuration, 1 runtime failure.
// SIGINT / SIGTERM stop gracefully (in-flight requests get stop_timeout_ms); SIGHUP reloads the
// configuration file (a bad one is refused, logged with its JSON path, and the old one stays).
// The file is also watched (config_watch, on by default): a change is applied the same way.

#include "net/log.hpp"
#include "proxy/config_watcher.hpp"
#include "proxy/proxy_server.hpp"
#include "proxy/snapshot.hpp"

#include <csignal>
#include <iostream>
#include <thread>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

namespace {

using namespace gatehouse;

constexpr int exit_ok = 0;
constexpr int exit_runtime = 1;
constexpr int exit_config = 2;

int check(const std::string& path) {
    auto c = proxy::load_config(path);
    proxy::runtime_registry registry(1);
    // Compiles rules and builds TLS contexts exactly as a start would, without binding.
    proxy::snapshot built(std::move(c), 1, registry, path, false);
    std::cout << path << ": OK (" << built.settings().listeners.size() << " listener(s), "
              << built.farms().size() << " farm(s), " << built.rules().size() << " rule(s))\n";
    return exit_ok;
}

// The configuration file with its durations multiplied by `time_scale`.
proxy::config load_scaled(const std::string& path, double time_scale) {
    auto c = proxy::load_config(path);
    return time_scale == 1 ? c : proxy::scale_durations(std::move(c), time_scale);
}

int serve(const std::string& path, unsigned threads, double time_scale) {
    proxy::server_options options;
    options.threads = threads;
    options.source = path;
    auto initial = load_scaled(path, time_scale);
    auto watch = initial.config_watch;
    // Signals are caught before the banner: a SIGTERM sent as soon as "serving" appears (or while
    // the listeners start) stops the proxy gracefully instead of killing it.
    asio::io_context signals_context(1);
    asio::signal_set signals(signals_context, SIGINT, SIGTERM, SIGHUP);
    proxy::proxy_server server(std::move(initial), options);
    server.start();
    GATEHOUSE_LOG(info, "proxy") << "serving with " << server.threads() << " thread(s)";
    proxy::config_watcher watcher(
        path, watch.interval,
        [time_scale](const std::string& p) { return load_scaled(p, time_scale); },
        [&server](proxy::config c) { server.reload(std::move(c)); });
    if (watch.enabled) watcher.start();

    std::function<void(const error_code&, int)> on_signal;
    on_signal = [&](const error_code& ec, int number) {
        if (ec) return;
        if (number == SIGHUP) {
            watcher.poll(true);  // refusals are logged with the JSON path
            signals.async_wait(on_signal);
            return;
        }
        GATEHOUSE_LOG(info, "proxy") << "stopping (signal " << number << ")";
        watcher.stop();
        server.stop();
    };
    signals.async_wait(on_signal);
    signals_context.run();
    return exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Gatehouse reverse proxy (ARR-equivalent core)", "gatehouse-proxy"};
    std::string config_path;
    std::string check_path;
    unsigned threads = 0;
    std::string level = "info";
    auto* config_option = app.add_option("--config", config_path, "configuration file (JSON)");
    auto* check_option =
        app.add_option("--check", check_path, "validate a configuration file and exit");
    config_option->excludes(check_option);
    app.add_option("--threads", threads, "worker threads (default: one per core)")
        ->check(CLI::Range(1u, 1024u));
    double time_scale = 1;
    app.add_option("--time-scale", time_scale,
                   "multiply every duration of the configuration (scenarios run Exchange time "
                   "faster)")
        ->check(CLI::Range(1e-6, 1.0));
    app.add_option("--log-level", level, "debug, info, warning, error or off");
    CLI11_PARSE(app, argc, argv);

    net::log_level parsed;
    if (!net::parse_log_level(level, parsed)) {
        std::cerr << "gatehouse-proxy: unknown log level " << level << '\n';
        return exit_config;
    }
    net::set_log_level(parsed);
    if (config_path.empty() && check_path.empty()) {
        std::cerr << "gatehouse-proxy: --config FILE or --check FILE is required\n" << app.help();
        return exit_config;
    }
    try {
        if (!check_path.empty()) return check(check_path);
        return serve(config_path, threads, time_scale);
    } catch (const proxy::config_error& e) {
        std::cerr << "gatehouse-proxy: " << e.what() << '\n';
        return exit_config;
    } catch (const std::exception& e) {
        std::cerr << "gatehouse-proxy: " << e.what() << '\n';
        return exit_runtime;
    }
}
