// fake-cas: runs a fleet of simulated Exchange front ends until SIGINT/SIGTERM.
//   fake-cas --servers 2                      EX01, EX02 on 127.0.0.1, ephemeral ports
//   fake-cas --config fleet.json --tls        from a file, every server with TLS
// Exit codes: 0 after a signal, 2 for a bad command line or configuration, 1 when the fleet
// cannot start (a port in use, an unreadable certificate).

#include "fake-cas/config_json.hpp"
#include "fake-cas/fleet.hpp"
#include "net/log.hpp"

#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

namespace {

using namespace gatehouse;

int run(int argc, char** argv) {
    CLI::App app{"fake-cas: simulated Exchange 2019 front ends (CAS) for reverse-proxy tests"};
    unsigned servers = 0;
    std::string config_file;
    bool tls = false;
    double time_scale = 0;
    int control_port = -1;
    unsigned threads = 0;
    std::string log_level = "info";
    std::string authority_out;
    app.add_option("--servers", servers, "number of servers (default 2; with --config: override)")
        ->check(CLI::Range(1, 64));
    app.add_option("--config", config_file, "fleet configuration (JSON, comments allowed)");
    app.add_flag("--tls", tls, "serve TLS on every server (certificates from the fleet authority)");
    app.add_option("--time-scale", time_scale, "multiply every duration (0.01: 100x faster)")
        ->check(CLI::PositiveNumber);
    app.add_option("--control-port", control_port, "control API port (0: ephemeral)")
        ->check(CLI::Range(0, 65535));
    app.add_option("--threads", threads, "worker threads")->check(CLI::Range(1, 64));
    app.add_option("--log-level", log_level, "debug, info, warning, error or off");
    app.add_option("--authority-out", authority_out, "write the fleet authority (PEM) here");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? 0 : 2;
    }
    net::log_level level;
    if (!net::parse_log_level(log_level, level)) {
        std::cerr << "fake-cas: --log-level: unknown level \"" << log_level << "\"\n";
        return 2;
    }
    net::set_log_level(level);

    fake_cas::fleet_config config;
    try {
        config = config_file.empty() ? fake_cas::default_fleet(servers ? servers : 2)
                                     : fake_cas::load_fleet_config(config_file);
        if (!config_file.empty() && servers != 0) {
            while (config.servers.size() < servers)
                config.servers.push_back(fake_cas::default_server(
                    static_cast<unsigned>(config.servers.size() + 1), config.dns_domain));
            config.servers.resize(servers);
        }
        if (tls)
            for (auto& s : config.servers) s.tls.enabled = true;
        if (time_scale > 0) config.time_scale = time_scale;
        if (control_port >= 0) config.control.port = static_cast<std::uint16_t>(control_port);
        if (threads != 0) config.threads = threads;
        fake_cas::validate(config);
    } catch (const fake_cas::config_error& e) {
        std::cerr << "fake-cas: " << e.what() << '\n';
        return 2;
    }

    // Signals are caught from here on: a SIGTERM that arrives while the fleet starts, or right
    // after the banner, still stops it cleanly.
    asio::io_context signals_context;
    asio::signal_set signals(signals_context, SIGINT, SIGTERM);
    signals.async_wait([](const error_code&, int) {});

    std::unique_ptr<fake_cas::fleet> fleet;
    try {
        fleet = std::make_unique<fake_cas::fleet>(std::move(config));
        fleet->start();
    } catch (const fake_cas::config_error& e) {
        std::cerr << "fake-cas: " << e.what() << '\n';
        return 2;
    } catch (const std::exception& e) {
        std::cerr << e.what() << '\n';
        return 1;
    }
    if (!authority_out.empty()) {
        std::ofstream out(authority_out);
        out << fleet->authority().chain_pem;
    }

    std::cout << "fake-cas: " << fleet->size() << " simulated Exchange front end"
              << (fleet->size() == 1 ? "" : "s") << ", time scale " << fleet->time_scale() << "\n";
    for (std::size_t i = 0; i < fleet->size(); ++i) {
        auto& s = fleet->server(i);
        auto c = s.config();
        std::cout << "  " << s.name() << "  " << c.netbios << "  " << c.fqdn << "  " << s.url()
                  << "\n";
    }
    std::string control;
    if (auto ep = fleet->control_endpoint()) {
        control = "http://" + ep->address().to_string() + ":" + std::to_string(ep->port());
        std::cout << "  control API  " << control << "\n";
    }
    auto& first = fleet->server(0);
    std::string k = first.tls() ? "-k " : "";
    std::cout << "\nTry:\n"
              << "  curl -i " << k << first.url() << "/owa/HealthCheck.htm\n"
              << "  curl -i " << k << "--ntlm -u 'CONTOSO\\jdoe:P@ssw0rd' " << first.url()
              << "/EWS/Exchange.asmx\n"
              << "  curl -i " << k << "'" << first.url()
              << "/autodiscover/autodiscover.json/v1.0/jdoe@contoso.com?Protocol=Ews'\n";
    if (!control.empty()) {
        std::cout << "  curl " << control << "/servers\n"
                  << "  curl -X POST " << control << "/servers/" << first.name()
                  << "/components -d '{\"component\":\"OwaProxy\",\"requester\":\"HealthApi\","
                     "\"state\":\"Inactive\"}'\n"
                  << "  curl " << control << "/servers/" << first.name() << "/observations?log=0\n";
    }
    std::cout << "\nPress Ctrl-C to stop." << std::endl;

    signals_context.run();
    std::cout << "fake-cas: stopping" << std::endl;
    fleet->stop();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "fake-cas: " << e.what() << '\n';
        return 1;
    }
}
