#include "scenarios/catalog.hpp"

#include "fake-cas/config_json.hpp"
#include "load/runner.hpp"
#include "net/certificate.hpp"
#include "net/http_message.hpp"
#include "proxy/config.hpp"
#include "scenarios/load_plan.hpp"
#include "scenarios/variables.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace gatehouse::scenarios {

namespace {

bool icontains(std::string_view text, std::string_view needle) {
    if (needle.size() > text.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= text.size(); ++i)
        if (net::iequals(text.substr(i, needle.size()), needle)) return true;
    return false;
}

}  // namespace

std::vector<std::filesystem::path> find_scenarios(const std::vector<std::filesystem::path>& paths) {
    std::vector<std::filesystem::path> files;
    for (const auto& path : paths) {
        if (std::filesystem::is_regular_file(path)) {
            files.push_back(path);
            continue;
        }
        if (!std::filesystem::is_directory(path))
            throw scenario_error(path.string() + ": no such file or directory");
        for (auto it = std::filesystem::recursive_directory_iterator(path);
             it != std::filesystem::recursive_directory_iterator(); ++it) {
            if (it->is_directory() && it->path().filename() == "templates") {
                it.disable_recursion_pending();
                continue;
            }
            if (it->is_regular_file() && it->path().extension() == ".json")
                files.push_back(it->path());
        }
    }
    std::sort(files.begin(), files.end());
    return files;
}

bool matches_filter(const scenario& s, std::string_view filter) {
    if (filter.empty()) return true;
    while (!filter.empty()) {
        auto comma = filter.find(',');
        auto term = filter.substr(0, comma);
        if (!term.empty()) {
            if (icontains(s.id, term) || icontains(s.title, term)) return true;
            for (const auto& tag : s.tags)
                if (icontains(tag, term)) return true;
        }
        if (comma == std::string_view::npos) break;
        filter.remove_prefix(comma + 1);
    }
    return false;
}

void validate_deeply(const scenario& s) {
    const auto file = s.file.string();
    auto fleet = fake_cas::fleet_from_json(s.fleet, file + " $.fleet");
    std::set<std::string> servers;
    for (const auto& server : fleet.servers) servers.insert(server.name);

    // Placeholder values: enough for every reference to resolve and every parser to run.
    variables placeholders(s.time_scale.value_or(1));
    unsigned port = 20000;
    for (const auto& name : servers) {
        placeholders.set(name + "_addr", "127.0.0.1");
        placeholders.set(name + "_port", ++port);
        placeholders.set(name + "_host", "127.0.0.1:" + std::to_string(port));
        placeholders.set(name + "_scheme", "http");
        placeholders.set(name + "_fqdn", name + ".contoso.local");
        placeholders.set(name + "_netbios", name);
    }
    for (const char* name : {"proxy_port", "proxy_https_port", "admin_port", "node1_port",
                             "node1_https_port", "node2_port", "node2_https_port"})
        placeholders.set(name, ++port);
    placeholders.set("proxy_addr", "127.0.0.1");
    if (s.recording_backend) {
        placeholders.set("recording_backend_addr", "127.0.0.1");
        placeholders.set("recording_backend_port", ++port);
        placeholders.set("recording_backend_host", "127.0.0.1:" + std::to_string(port));
    }
    // Real certificate files, since the proxy's parser loads what its config names.
    auto scratch = std::filesystem::temp_directory_path() / "gatehouse-validate";
    std::filesystem::create_directories(scratch);
    auto ca = net::make_authority("Gatehouse validation CA");
    auto leaf = net::issue_certificate(ca, {"mail.contoso.com"});
    auto write = [&](const char* name, const std::string& text) {
        auto path = scratch / (std::string(name) + ".pem");
        std::ofstream(path) << text;
        placeholders.set(name, path.string());
    };
    write("fleet_ca_file", ca.chain_pem);
    write("lab_ca_file", ca.chain_pem);
    write("lab_cert_file", leaf.chain_pem);
    write("lab_key_file", leaf.key_pem);
    write("lab_pem_file", leaf.chain_pem + leaf.key_pem);
    placeholders.set("work_dir", scratch.string());
    placeholders.set("haproxy_socket", (scratch / "haproxy.sock").string());

    for (const auto& [name, variant] : s.sut) {
        if (!variant.unsupported.empty()) continue;
        if (name == "gatehouse") {
            auto json = placeholders.expand_json(variant.config, variant.path + ".config");
            proxy::parse_config(json.dump(), file + " " + variant.path + ".config",
                                s.file.parent_path().string());
        } else {
            std::ifstream in(variant.config_template);
            std::ostringstream text;
            text << in.rdbuf();
            placeholders.expand(text.str(), variant.config_template.string());
        }
    }
    auto known_server = [&](const nlohmann::json& args, const std::string& path) {
        if (!args.contains("server")) return;
        auto name = args["server"].get<std::string>();
        if (!servers.count(name))
            throw scenario_error(file + ": " + path + ".server: the fleet has no server '" + name + "'");
    };
    for (const auto& a : s.timeline) {
        if (a.kind == "drain" || a.kind == "undrain" || a.kind == "available" ||
            a.kind == "unavailable" || a.kind == "mark_healthy" || a.kind == "mark_unhealthy" ||
            a.kind == "health" || a.kind == "server_offline" || a.kind == "fault" ||
            a.kind == "stop_server" || a.kind == "start_server" || a.kind == "inject")
            known_server(a.args, a.path + "." + a.kind);
        if (a.kind == "fault") {
            auto copy = fleet.servers.front();
            fake_cas::apply_server_patch(copy, a.args["knobs"], file + " " + a.path + ".fault.knobs");
        }
    }
    for (const auto& e : s.expectations) known_server(e.args, e.path + "." + e.kind);
    for (const auto& phase : s.load) {
        auto plan = load_plan_from_json(phase.plan, file + ": " + phase.path, phase.duration_s,
                                        s.time_scale.value_or(1));
        plan.target.host = "127.0.0.1";
        plan.target.port = "1";
        load::validate(plan);
    }
}

}  // namespace gatehouse::scenarios
