// gatehouse-load: an Exchange-aware load generator. `gatehouse-load run …` runs one load plan
// and writes its results; `gatehouse-load merge a.json b.json …` combines results of several
// processes exactly. Exit codes are listed in docs/load.md.
#include "load/errors.hpp"
#include "load/plan_text.hpp"
#include "load/result_json.hpp"
#include "load/result_report.hpp"
#include "load/runner.hpp"
#include "load/summary.hpp"
#include "net/log.hpp"
#include "reports/writers.hpp"

#include <atomic>
#include <csignal>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <unistd.h>

namespace {

using namespace gatehouse;
using namespace gatehouse::load;

constexpr const char* version = "0.1.0";

std::atomic<bool> interrupted{false};

extern "C" void on_interrupt(int) {
    interrupted = true;
}

std::string read_file(const std::string& path, const char* option) {
    std::ifstream in(path);
    if (!in) throw load_error(exit_code::bad_option, std::string(option) + ": cannot read " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct run_args {
    std::string target, host, sni, ca, profile, urls, log, model, stages, out, html;
    std::string duration, count_text, graceful = "2s", think = "0", connect_timeout = "5s";
    std::string timeout = "60s", expect_wait = "1s", user_agent, auth = "none";
    std::string user = "user{n}", domain = "CONTOSO", password = "P@ssw0rd";
    std::string email_domain = "contoso.com";
    std::string heartbeat = "480s", rpc_hold = "10m", rpc_keepalive = "5m", rpc_interval = "1s";
    std::string day = "average", day_length = "8h", mix;
    double rate = 0, start = 0, time_scale = 1, replay_speed = 1, max_error_rate = -1;
    unsigned vus = 0, threads = 1, tasks = 5, pings = 1;
    bool insecure = false, no_resume = false, new_connection = false, replay_timing = false;
    bool quiet = false, no_preflight = false;
    std::string log_level = "warning";
};

plan make_plan(const run_args& a) {
    plan p;
    // Workload first: a URL list or log may supply the target.
    auto& w = p.workload;
    w.profile = a.profile;
    if (w.profile.empty()) w.profile = !a.log.empty() ? "w3c" : "urls";
    w.input = w.profile == "w3c" ? a.log : a.urls;
    if (w.profile == "urls" && !a.urls.empty()) w.urls = load_url_list(a.urls);
    if (w.profile == "w3c" && !a.log.empty()) w.log = load_w3c_log(a.log);
    w.replay_timing = a.replay_timing;
    w.replay_speed = a.replay_speed;
    w.time_scale = a.time_scale;
    w.tasks = a.tasks;
    w.pings = a.pings;
    w.heartbeat = std::chrono::duration_cast<std::chrono::seconds>(
        parse_duration(a.heartbeat, "--heartbeat"));
    w.rpc_hold =
        std::chrono::duration_cast<std::chrono::seconds>(parse_duration(a.rpc_hold, "--rpc-hold"));
    w.rpc_keepalive = std::chrono::duration_cast<std::chrono::seconds>(
        parse_duration(a.rpc_keepalive, "--rpc-keepalive"));
    w.rpc_interval = parse_duration(a.rpc_interval, "--rpc-interval");
    w.day = a.day;
    w.day_length = std::chrono::duration_cast<std::chrono::seconds>(
        parse_duration(a.day_length, "--day-length"));
    if (!a.mix.empty()) w.mix = a.mix;

    if (!a.target.empty()) {
        parse_target_url(a.target, p.target);
    } else if (!w.urls.empty() && !w.urls.front().host.empty() && w.urls.front().tls) {
        parse_target_url((*w.urls.front().tls ? "https://" : "http://") + w.urls.front().host,
                         p.target);
    } else {
        throw load_error(exit_code::bad_option, "--target: required (e.g. http://127.0.0.1:8080)");
    }
    p.target.host_header = a.host;
    p.target.server_name = a.sni;
    p.target.tls_options.verify = !a.insecure;
    p.target.tls_options.session_resumption = !a.no_resume;
    if (!a.ca.empty()) p.target.tls_options.trusted_pem = read_file(a.ca, "--ca");

    auto& m = p.model;
    if (a.model == "open" || (a.model.empty() && a.rate > 0))
        m.kind = model_kind::open;
    else if (a.model.empty() || a.model == "closed")
        m.kind = model_kind::closed;
    else
        throw load_error(exit_code::bad_option, "--model: expected open or closed");
    if (m.kind == model_kind::open && w.profile == "w3c" && w.replay_timing && a.rate > 0)
        throw load_error(exit_code::bad_option,
                         "--rate: a replay that keeps the log's timing "
                         "takes its rate from the log");
    if (w.profile == "w3c" && w.replay_timing) m.kind = model_kind::open;
    m.rate = a.rate;
    m.vus = a.vus ? a.vus : (m.kind == model_kind::open ? 100 : 1);
    if (!a.stages.empty()) m.stages = parse_stages(a.stages, "--stages");
    m.start = a.start;
    m.think_time = parse_duration(a.think, "--think");

    if (!a.duration.empty()) p.duration = parse_duration(a.duration, "--duration");
    if (!a.count_text.empty()) {
        try {
            std::size_t used = 0;
            auto n = std::stoull(a.count_text, &used);
            if (used != a.count_text.size()) throw std::invalid_argument(a.count_text);
            p.count = n;
        } catch (const std::exception&) {
            throw load_error(exit_code::bad_option,
                             "--count: invalid number '" + a.count_text + "'");
        }
    }
    p.graceful_stop = parse_duration(a.graceful, "--graceful-stop");
    p.preflight = !a.no_preflight;

    auto& c = p.client;
    c.keep_alive = !a.new_connection;
    c.connect_timeout = parse_duration(a.connect_timeout, "--connect-timeout");
    c.request_timeout = parse_duration(a.timeout, "--timeout");
    c.expect_wait = parse_duration(a.expect_wait, "--expect-wait");
    if (!a.user_agent.empty()) c.user_agent = a.user_agent;
    c.auth = parse_auth(a.auth);
    p.account = {
        .domain = a.domain, .user = a.user, .password = a.password, .email_domain = a.email_domain};
    return p;
}

std::string host_name() {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    return name;
}

// The HTML report of a run: the same charts as a scenario report (docs/reports.md).
void write_html_report(const run_results& results, const run_args& a) {
    std::ofstream out(a.html, std::ios::trunc);
    if (!out) throw load_error(exit_code::cannot_write, a.html + ": cannot open for writing");
    report_options options{.max_error_rate = std::max(0.0, a.max_error_rate),
                           .version = version,
                           .host = host_name()};
    reports::write_html(to_report(results, options), out);
    out.flush();
    if (!out) throw load_error(exit_code::cannot_write, a.html + ": write failed");
}

int run_command(const run_args& a) {
    net::log_level level;
    if (!net::parse_log_level(a.log_level, level))
        throw load_error(exit_code::bad_option,
                         "--log-level: expected debug, info, warning, "
                         "error or off");
    net::set_log_level(level);
    auto p = make_plan(a);
    load_runner runner(p);

    std::signal(SIGINT, on_interrupt);
    std::signal(SIGTERM, on_interrupt);
    std::atomic<bool> done{false};
    std::thread watcher([&] {
        while (!done) {
            if (interrupted) {
                runner.stop();
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });

    bool tty = !a.quiet && isatty(STDERR_FILENO);
    std::uint64_t total = 0, errors = 0;
    std::int64_t first_second = 0;
    auto on_sample = [&](const second_sample& s) {
        total += s.counts.requests;
        errors += s.counts.errors;
        if (first_second == 0) first_second = s.unix_second;
        if (tty)
            std::cerr << '\r' << progress_line(s, s.unix_second - first_second + 1, total, errors)
                      << "\x1b[K" << std::flush;
    };
    run_results results;
    try {
        results = runner.run(a.threads, on_sample);
    } catch (...) {
        done = true;
        watcher.join();
        throw;
    }
    done = true;
    watcher.join();
    if (tty) std::cerr << '\n';
    if (!a.out.empty()) write_results(results, a.out);
    if (!a.html.empty()) write_html_report(results, a);
    if (!a.quiet) write_summary(std::cout, results);
    if (interrupted) return static_cast<int>(exit_code::interrupted);
    if (a.max_error_rate >= 0 && results.totals.requests > 0 &&
        double(results.totals.errors) / double(results.totals.requests) > a.max_error_rate) {
        std::cerr << "gatehouse-load: error rate above --max-error-rate " << a.max_error_rate
                  << '\n';
        return static_cast<int>(exit_code::thresholds_failed);
    }
    return 0;
}

int merge_command(const std::vector<std::string>& inputs, const std::string& out, bool quiet) {
    run_results merged = read_results(inputs.front());
    for (std::size_t i = 1; i < inputs.size(); ++i) merged.merge(read_results(inputs[i]));
    if (!out.empty())
        write_results(merged, out);
    else
        std::cout << to_json(merged).dump() << '\n';
    if (!quiet && !out.empty()) write_summary(std::cout, merged);
    return 0;
}

int main_impl(int argc, char** argv) {
    CLI::App app{"gatehouse-load: an Exchange-aware load generator (open and closed models)"};
    app.require_subcommand(1);
    run_args a;
    auto* run = app.add_subcommand("run", "run a load plan against a target");
    run->add_option("--target", a.target, "http(s)://host[:port] to send to");
    run->add_option("--host", a.host, "Host header (default: the target's host:port)");
    run->add_option("--sni", a.sni, "TLS server name to send and verify");
    run->add_flag("--insecure", a.insecure, "do not verify the server certificate");
    run->add_option("--ca", a.ca, "PEM file of extra trusted certificates");
    run->add_flag("--no-tls-resume", a.no_resume, "full TLS handshake on every connection");
    run->add_option("--profile", a.profile,
                    "urls, w3c, owa, ews, activesync, outlook-anywhere, mapi, user-day");
    run->add_option("--urls", a.urls, "URL list: METHOD URL [body size] per line");
    run->add_option("--log", a.log, "IIS W3C extended log to replay");
    run->add_flag("--replay-timing", a.replay_timing, "replay at the logged times");
    run->add_option("--replay-speed", a.replay_speed, "divide logged offsets by this");
    run->add_option("--model", a.model, "closed (default) or open (default with --rate)");
    run->add_option("-c,--vus", a.vus,
                    "closed: virtual users; open: most busy at once (default 1 / 100)");
    run->add_option("-R,--rate", a.rate, "open model: arrivals per second");
    run->add_option("--stages", a.stages, "ramp, e.g. 30s:100,1m:100,10s:0 (VUs or rate)");
    run->add_option("--start", a.start, "ramp start (VUs or rate), default 0");
    run->add_option("--think", a.think, "closed: pause between iterations");
    run->add_option("-d,--duration", a.duration, "run time, e.g. 30s, 5m");
    run->add_option("-n,--count", a.count_text, "iterations in total");
    run->add_option("--graceful-stop", a.graceful, "time in-flight requests get after -d");
    run->add_option("-t,--threads", a.threads, "worker threads (default 1)");
    run->add_flag("--new-connection", a.new_connection, "one connection per request");
    run->add_option("--connect-timeout", a.connect_timeout, "default 5s");
    run->add_option("--timeout", a.timeout, "request timeout, default 60s");
    run->add_option("--expect-wait", a.expect_wait, "wait for 100 Continue, default 1s");
    run->add_option("--user-agent", a.user_agent, "default User-Agent");
    run->add_option("--auth", a.auth, "none, basic, ntlm, negotiate (profiles pick their own)");
    run->add_option("--user", a.user, "account, {n} = user number (default user{n})");
    run->add_option("--domain", a.domain, "NetBIOS domain (default CONTOSO)");
    run->add_option("--password", a.password, "password, {n} allowed");
    run->add_option("--email-domain", a.email_domain, "SMTP domain (default contoso.com)");
    run->add_option("--time-scale", a.time_scale, "multiply Exchange timers by this");
    run->add_option("--tasks", a.tasks, "tasks per session (owa, ews, mapi)");
    run->add_option("--heartbeat", a.heartbeat, "ActiveSync Ping HeartbeatInterval");
    run->add_option("--pings", a.pings, "Pings per ActiveSync session");
    run->add_option("--rpc-hold", a.rpc_hold, "Outlook Anywhere: hold the channel pair");
    run->add_option("--rpc-keepalive", a.rpc_keepalive, "Outlook Anywhere: ping interval");
    run->add_option("--rpc-interval", a.rpc_interval, "Outlook Anywhere: one RPC this often");
    run->add_option("--day", a.day, "user-day: light, average or heavy");
    run->add_option("--day-length", a.day_length, "user-day: simulated day (default 8h)");
    run->add_option("--mix", a.mix, "user-day client mix, e.g. mapi:50,owa:20,activesync:30");
    run->add_option("-o,--out", a.out, "write results (JSON) to this file");
    run->add_option("--html", a.html, "write the HTML report to this file");
    run->add_option("--max-error-rate", a.max_error_rate, "exit 99 above this error fraction");
    run->add_flag("-q,--quiet", a.quiet, "no progress line, no summary");
    run->add_flag("--no-preflight", a.no_preflight, "skip the initial connection check");
    run->add_option("--log-level", a.log_level, "debug, info, warning (default), error, off");

    std::vector<std::string> inputs;
    std::string merge_out;
    bool merge_quiet = false;
    auto* merge = app.add_subcommand("merge", "combine results files exactly");
    merge->add_option("inputs", inputs, "results files")->required();
    merge->add_option("-o,--out", merge_out, "write the merged results here (default stdout)");
    merge->add_flag("-q,--quiet", merge_quiet, "no summary");

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "gatehouse-load: " << e.what() << '\n';
        return static_cast<int>(exit_code::bad_option);
    }
    if (*run) return run_command(a);
    return merge_command(inputs, merge_out, merge_quiet);
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return main_impl(argc, argv);
    } catch (const load_error& e) {
        std::cerr << "gatehouse-load: " << e.what() << '\n';
        return static_cast<int>(e.code());
    } catch (const std::exception& e) {
        std::cerr << "gatehouse-load: internal error: " << e.what() << '\n';
        return static_cast<int>(exit_code::internal);
    }
}
