// gatehouse — runs Exchange reverse-proxy scenarios and reports on them.
//
//   gatehouse run [PATH…] [--sut gatehouse|gatehouse-process|haproxy|nginx] [--filter TEXT]
//                 [--parallel N] [--time-scale X] [--json F] [--junit F] [--html F]
//   gatehouse validate [PATH…]
//   gatehouse list [PATH…]
//   gatehouse report RESULTS.json [--compare OTHER.json] [--html F] [--junit F] [--json F]
//                    (RESULTS: written by gatehouse run --json or by gatehouse-load)
//
// Exit codes: 0 every scenario passed (or could not be expressed by the system under test),
// 1 a scenario failed or could not run, 2 a scenario file, option or input is invalid.

#include "load/result_json.hpp"
#include "load/result_report.hpp"
#include "net/log.hpp"
#include "reports/writers.hpp"
#include "scenarios/catalog.hpp"
#include "scenarios/runner.hpp"

#include <CLI/CLI.hpp>
#include <chrono>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace {

using namespace gatehouse;

constexpr const char* version = "0.1.0";
constexpr int exit_failed = 1;
constexpr int exit_invalid = 2;

std::vector<std::filesystem::path> default_paths(std::vector<std::filesystem::path> paths) {
    // The catalog relative to the working directory (a checkout), else the one this program was
    // built from.
    if (paths.empty())
        paths.emplace_back(std::filesystem::exists("scenarios/catalog")
                               ? std::filesystem::path("scenarios/catalog")
                               : std::filesystem::path(GATEHOUSE_DEFAULT_CATALOG));
    return paths;
}

// Loads every scenario under `paths`; the first invalid one throws (scenario_error or a
// component's configuration error) with its file and JSON path.
std::vector<scenarios::scenario> load_all(const std::vector<std::filesystem::path>& paths,
                                          bool deeply) {
    std::vector<scenarios::scenario> all;
    for (const auto& file : scenarios::find_scenarios(paths)) {
        all.push_back(scenarios::load_scenario(file));
        if (deeply) scenarios::validate_deeply(all.back());
    }
    if (all.empty()) throw scenarios::scenario_error("no scenario files found");
    return all;
}

std::string now_iso8601() {
    auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm utc{};
    gmtime_r(&now, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return text;
}

std::string host_name() {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    return name;
}

// gatehouse-proxy next to this program in the build tree (build/scenarios/gatehouse and
// build/proxy/gatehouse-proxy), or on the PATH.
std::filesystem::path default_proxy_executable() {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto candidate = self.parent_path().parent_path() / "proxy" / "gatehouse-proxy";
        if (std::filesystem::exists(candidate)) return candidate;
    }
    return "gatehouse-proxy";
}

void write_outputs(const reports::report& r, const std::string& json, const std::string& junit,
                   const std::string& html) {
    auto open = [](const std::string& path) {
        std::ofstream out(path);
        if (!out) throw std::runtime_error("cannot write " + path);
        return out;
    };
    if (!json.empty()) {
        auto out = open(json);
        reports::write_json(r, out);
    }
    if (!junit.empty()) {
        auto out = open(junit);
        reports::write_junit(r, out);
    }
    if (!html.empty()) {
        auto out = open(html);
        reports::write_html(r, out);
    }
}

struct run_arguments {
    std::vector<std::filesystem::path> paths;
    std::string sut = "gatehouse";
    std::string filter;
    unsigned parallel = 1;
    double time_scale = 0;
    std::string json, junit, html, work_dir, proxy_executable;
    bool quiet = false;
    bool no_colour = false;
    bool keep = false;
};

int run(const run_arguments& a) {
    auto mode = scenarios::parse_sut_mode(a.sut);
    if (!mode) {
        std::cerr << "gatehouse: --sut must be gatehouse, gatehouse-process, haproxy or nginx\n";
        return exit_invalid;
    }
    std::vector<scenarios::scenario> selected;
    for (auto& s : load_all(default_paths(a.paths), false))
        if (scenarios::matches_filter(s, a.filter)) selected.push_back(std::move(s));
    if (selected.empty()) {
        std::cerr << "gatehouse: no scenario matches --filter " << a.filter << '\n';
        return exit_invalid;
    }

    scenarios::run_options options;
    options.sut = *mode;
    if (a.time_scale > 0) options.time_scale = a.time_scale;
    options.parallel = std::max(1u, a.parallel);
    options.proxy_executable =
        a.proxy_executable.empty() ? default_proxy_executable()
                                   : std::filesystem::path(a.proxy_executable);
    options.work_root = a.work_dir.empty() ? std::filesystem::temp_directory_path() /
                                                 ("gatehouse-run-" + std::to_string(getpid()))
                                           : std::filesystem::path(a.work_dir);
    bool tty = isatty(STDERR_FILENO) != 0;
    std::size_t done = 0;
    options.on_progress = [&](const scenarios::scenario& s, const reports::scenario_result* r) {
        if (a.quiet) return;
        if (!r) {
            if (tty)
                std::cerr << "\r\033[K[" << done + 1 << '/' << selected.size() << "] " << s.id
                          << " …" << std::flush;
            return;
        }
        ++done;
        if (tty) std::cerr << "\r\033[K";
        std::cerr << '[' << done << '/' << selected.size() << "] "
                  << reports::to_string(r->outcome) << ' ' << s.id << " (" << r->duration_s
                  << " s)\n";
    };

    reports::report report;
    report.run = {.tool = "gatehouse run",
                  .version = version,
                  .sut = "",
                  .sut_config = "",
                  .catalog = default_paths(a.paths).front().string(),
                  .started_at = now_iso8601(),
                  .host = host_name(),
                  .time_scale = options.time_scale.value_or(0)};
    report.scenarios = scenarios::run_scenarios(selected, options);
    report.run.sut = a.sut == "gatehouse" ? "gatehouse (embedded)" : a.sut;
    if (*mode == scenarios::sut_mode::haproxy)
        report.run.sut = scenarios::peer_version(scenarios::peer_kind::haproxy);
    if (*mode == scenarios::sut_mode::nginx)
        report.run.sut = scenarios::peer_version(scenarios::peer_kind::nginx);
    if (!a.keep) {
        std::error_code ignored;
        std::filesystem::remove_all(options.work_root, ignored);
    }

    if (!a.quiet) std::cout << '\n';
    reports::write_terminal(report, std::cout,
                            {.colour = !a.no_colour && isatty(STDOUT_FILENO) != 0, .details = true});
    write_outputs(report, a.json, a.junit, a.html);
    auto t = reports::count(report);
    return t.failed + t.errors > 0 ? exit_failed : 0;
}

int validate(const std::vector<std::filesystem::path>& paths) {
    auto all = load_all(default_paths(paths), true);
    std::cout << all.size() << " scenarios are valid\n";
    return 0;
}

int list(const std::vector<std::filesystem::path>& paths) {
    for (const auto& s : load_all(default_paths(paths), false)) {
        std::string suts;
        for (const auto& [name, variant] : s.sut)
            suts += (suts.empty() ? "" : ",") + name + (variant.unsupported.empty() ? "" : "(n/a)");
        std::string tags;
        for (const auto& t : s.tags) tags += (tags.empty() ? "" : ",") + t;
        std::cout << s.id << "\t" << s.title << "\t[" << tags << "]\t" << suts << '\n';
    }
    return 0;
}

// A results file: a report written by `gatehouse run --json`, or the results of
// `gatehouse-load run` / `merge`, told apart by their "schema" member. Throws (exit 2) with the
// file and the JSON path when it is neither, or not a valid one of them.
reports::report read_report(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw reports::report_error(path + ": cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    nlohmann::json doc;
    try {
        doc = nlohmann::json::parse(text.str(), nullptr, true, true);
    } catch (const nlohmann::json::parse_error& e) {
        throw reports::report_error(path + ": not JSON: " + e.what());
    }
    std::string schema;
    if (doc.is_object() && doc.contains("schema") && doc["schema"].is_string())
        schema = doc["schema"].get<std::string>();
    if (schema == load::result_schema)
        return load::to_report(load::results_from_json(doc, path), {});
    if (schema == "gatehouse-report") {
        std::istringstream again(text.str());
        return reports::read_json(again, path);
    }
    throw reports::report_error(path +
                                ": $.schema: neither a gatehouse report (\"gatehouse-report\") "
                                "nor gatehouse-load results (\"" +
                                load::result_schema + "\")");
}

int report(const std::string& input, const std::string& compare, const std::string& html,
           const std::string& junit, const std::string& json) {
    auto left = read_report(input);
    if (!compare.empty()) {
        auto right = read_report(compare);
        if (html.empty()) {
            std::cerr << "gatehouse: --compare needs --html\n";
            return exit_invalid;
        }
        std::ofstream out(html);
        reports::write_html_comparison(left, right, out);
        return 0;
    }
    if (html.empty() && junit.empty() && json.empty())
        reports::write_terminal(left, std::cout,
                                {.colour = isatty(STDOUT_FILENO) != 0, .details = true});
    write_outputs(left, json, junit, html);
    return 0;
}

int main_impl(int argc, char** argv) {
    CLI::App app{"gatehouse: Exchange reverse-proxy scenarios"};
    app.require_subcommand(1);
    std::string log_level = "warning";
    app.add_option("--log-level", log_level, "debug, info, warning, error or off");

    run_arguments r;
    auto* run_cmd = app.add_subcommand("run", "run scenarios and report");
    run_cmd->add_option("paths", r.paths, "scenario files or directories (default scenarios/catalog)");
    run_cmd->add_option("--sut", r.sut, "gatehouse, gatehouse-process, haproxy or nginx");
    run_cmd->add_option("--filter", r.filter, "only scenarios whose id, title or tag contains it");
    run_cmd->add_option("--parallel", r.parallel, "scenarios to run at once (default 1)");
    run_cmd->add_option("--time-scale", r.time_scale, "override every scenario's time scale");
    run_cmd->add_option("--json", r.json, "write the results as JSON");
    run_cmd->add_option("--junit", r.junit, "write JUnit XML");
    run_cmd->add_option("--html", r.html, "write the HTML report");
    run_cmd->add_option("--work-dir", r.work_dir, "where configs and logs go (default: a temp dir)");
    run_cmd->add_option("--proxy", r.proxy_executable, "gatehouse-proxy for --sut gatehouse-process");
    run_cmd->add_flag("--keep", r.keep, "keep the work directory");
    run_cmd->add_flag("-q,--quiet", r.quiet, "no progress lines");
    run_cmd->add_flag("--no-colour", r.no_colour, "plain text even on a terminal");

    std::vector<std::filesystem::path> validate_paths, list_paths;
    auto* validate_cmd = app.add_subcommand("validate", "check scenario files and their configs");
    validate_cmd->add_option("paths", validate_paths, "scenario files or directories");
    auto* list_cmd = app.add_subcommand("list", "list scenarios");
    list_cmd->add_option("paths", list_paths, "scenario files or directories");

    std::string input, compare, html, junit, json;
    auto* report_cmd = app.add_subcommand("report", "render saved results");
    report_cmd
        ->add_option("results", input,
                     "results JSON written by gatehouse run --json or by gatehouse-load")
        ->required();
    report_cmd->add_option("--compare", compare, "a second results file to put beside it");
    report_cmd->add_option("--html", html, "write the HTML report");
    report_cmd->add_option("--junit", junit, "write JUnit XML");
    report_cmd->add_option("--json", json, "write the report as JSON (schema gatehouse-report)");

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? 0 : exit_invalid;
    }
    net::log_level level;
    if (!net::parse_log_level(log_level, level)) {
        std::cerr << "gatehouse: --log-level: unknown level " << log_level << '\n';
        return exit_invalid;
    }
    net::set_log_level(level);

    if (*run_cmd) return run(r);
    if (*validate_cmd) return validate(validate_paths);
    if (*list_cmd) return list(list_paths);
    return report(input, compare, html, junit, json);
}

}  // namespace

int main(int argc, char** argv) try {
    return main_impl(argc, argv);
} catch (const std::exception& e) {
    // Invalid scenario files, configs and report files end here, with their file and path.
    std::cerr << "gatehouse: " << e.what() << '\n';
    return exit_invalid;
}
