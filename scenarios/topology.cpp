#include "scenarios/topology.hpp"

#include "fake-cas/config_json.hpp"
#include "fake-cas/fleet.hpp"
#include "fake-cas/vdir.hpp"
#include "net/certificate.hpp"
#include "net/http_message.hpp"
#include "proxy/config.hpp"
#include "proxy/proxy_server.hpp"
#include "scenarios/recording_backend.hpp"
#include "scenarios/vip.hpp"

#include <fstream>
#include <sstream>

namespace gatehouse::scenarios {

namespace {

void write_file(const std::filesystem::path& path, const std::string& text) {
    std::ofstream out(path);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error("cannot read " + path.string());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The fake-CAS component an action names: a vdir key ("owa") or a component ("OwaProxy").
std::string component_of(const std::string& name) {
    if (auto v = fake_cas::vdir_from_key(name)) return std::string(fake_cas::component_name(*v));
    if (fake_cas::vdir_from_component(name) || name == "ServerWideOffline") return name;
    throw std::runtime_error("unknown vdir or component '" + name + "'");
}

}  // namespace

std::optional<sut_mode> parse_sut_mode(std::string_view text) {
    for (auto m : {sut_mode::embedded, sut_mode::process, sut_mode::haproxy, sut_mode::nginx})
        if (text == to_string(m)) return m;
    return std::nullopt;
}

std::string_view to_string(sut_mode mode) {
    switch (mode) {
        case sut_mode::embedded: return "gatehouse";
        case sut_mode::process: return "gatehouse-process";
        case sut_mode::haproxy: return "haproxy";
        case sut_mode::nginx: return "nginx";
    }
    return "?";
}

std::string_view variant_name(sut_mode mode) {
    switch (mode) {
        case sut_mode::embedded:
        case sut_mode::process: return "gatehouse";
        case sut_mode::haproxy: return "haproxy";
        case sut_mode::nginx: return "nginx";
    }
    return "?";
}

topology::topology(const scenario& s, topology_options options)
    : scenario_(s), options_(std::move(options)), vars_(options_.time_scale) {
    auto it = scenario_.sut.find(std::string(variant_name(options_.sut)));
    if (it == scenario_.sut.end())
        throw unsupported_action("the scenario has no " + std::string(variant_name(options_.sut)) +
                                 " configuration");
    variant_ = &it->second;
    if (!variant_->unsupported.empty()) throw unsupported_action(variant_->unsupported);
    if (variant_->nodes > 1 && options_.sut != sut_mode::embedded)
        throw unsupported_action("an HA pair of nodes runs with the embedded gatehouse proxy only");
    current_config_ = variant_->config;
}

topology::~topology() { stop(); }

void topology::start() {
    std::filesystem::create_directories(options_.work_dir);
    for (const auto& [name, value] : scenario_.vars) vars_.set(name, value);
    start_fleet();
    if (scenario_.recording_backend) {
        recording_ = std::make_unique<recording_backend>();
        recording_->start();
        auto endpoint = recording_->endpoint();
        vars_.set("recording_backend_addr", endpoint.address().to_string());
        vars_.set("recording_backend_port", endpoint.port());
        vars_.set("recording_backend_host",
                  endpoint.address().to_string() + ":" + std::to_string(endpoint.port()));
    }
    vars_.set("proxy_addr", "127.0.0.1");
    vars_.set("proxy_port", reserve_port());
    vars_.set("proxy_https_port", reserve_port());
    vars_.set("admin_port", reserve_port());
    vars_.set("work_dir", options_.work_dir.string());
    vars_.set("haproxy_socket", (options_.work_dir / "haproxy.sock").string());
    started_ = true;
    if (options_.sut == sut_mode::embedded)
        start_embedded();
    else
        start_external();
}

void topology::start_fleet() {
    auto config = fake_cas::fleet_from_json(scenario_.fleet, scenario_.file.string() + " $.fleet");
    config.time_scale = options_.time_scale;
    config.control.enabled = false;  // the runner drives the fleet in-process
    // Expectations read the servers' request logs: keep every request of a scenario unless the
    // scenario says otherwise.
    if (!scenario_.fleet.contains("request_log_capacity")) config.request_log_capacity = 250'000;
    fleet_ = std::make_unique<fake_cas::fleet>(std::move(config));
    fleet_->start();
    for (std::size_t i = 0; i < fleet_->size(); ++i) {
        auto& server = fleet_->server(i);
        const auto& name = server.name();
        auto endpoint = server.endpoint();
        auto config_of = server.config();
        vars_.set(name + "_addr", endpoint.address().to_string());
        vars_.set(name + "_port", endpoint.port());
        vars_.set(name + "_host", endpoint.address().to_string() + ":" +
                                      std::to_string(endpoint.port()));
        vars_.set(name + "_scheme", server.tls() ? "https" : "http");
        vars_.set(name + "_fqdn", config_of.fqdn);
        vars_.set(name + "_netbios", config_of.netbios);
    }
    auto ca_file = options_.work_dir / "fleet-ca.pem";
    write_file(ca_file, fleet_->authority().chain_pem);
    vars_.set("fleet_ca_file", ca_file.string());

    // The proxy's own certificate, for scenarios with an HTTPS listener.
    auto lab_ca = net::make_authority("Gatehouse lab CA");
    auto lab = net::issue_certificate(
        lab_ca, {"mail.contoso.com", "autodiscover.contoso.com", "localhost", "127.0.0.1"});
    lab_authority_pem_ = lab_ca.chain_pem;
    write_file(options_.work_dir / "lab-cert.pem", lab.chain_pem);
    write_file(options_.work_dir / "lab-key.pem", lab.key_pem);
    write_file(options_.work_dir / "lab.pem", lab.chain_pem + lab.key_pem);
    write_file(options_.work_dir / "lab-ca.pem", lab_ca.chain_pem);
    vars_.set("lab_cert_file", (options_.work_dir / "lab-cert.pem").string());
    vars_.set("lab_key_file", (options_.work_dir / "lab-key.pem").string());
    vars_.set("lab_pem_file", (options_.work_dir / "lab.pem").string());
    vars_.set("lab_ca_file", (options_.work_dir / "lab-ca.pem").string());
}

nlohmann::json topology::proxy_config_json(const variables& v) const {
    return v.expand_json(current_config_, variant_->path + ".config");
}

std::unique_ptr<proxy::proxy_server> topology::make_proxy(const nlohmann::json& config_json) const {
    auto source = scenario_.file.string() + " " + variant_->path + ".config";
    auto config = proxy::parse_config(config_json.dump(2), source,
                                      scenario_.file.parent_path().string());
    config = proxy::scale_durations(std::move(config), options_.time_scale);
    proxy::server_options options;
    options.threads = options_.proxy_threads;
    options.source = source;
    return std::make_unique<proxy::proxy_server>(std::move(config), options);
}

void topology::start_embedded() {
    if (variant_->nodes == 1) {
        nodes_.push_back(make_proxy(proxy_config_json(vars_)));
        nodes_.back()->start();
        return;
    }
    // An HA pair: each node gets its own ports; the VIP stand-ins take the public ones.
    std::vector<tcp::endpoint> plain, secure;
    for (unsigned i = 1; i <= variant_->nodes; ++i) {
        variables v = vars_;
        auto port = reserve_port();
        auto https_port = reserve_port();
        v.set("proxy_port", port);
        v.set("proxy_https_port", https_port);
        v.set("admin_port", reserve_port());
        vars_.set("node" + std::to_string(i) + "_port", port);
        vars_.set("node" + std::to_string(i) + "_https_port", https_port);
        plain.emplace_back(asio::ip::make_address("127.0.0.1"), port);
        secure.emplace_back(asio::ip::make_address("127.0.0.1"), https_port);
        node_vars_.push_back(v);
        nodes_.push_back(make_proxy(proxy_config_json(v)));
        nodes_.back()->start();
    }
    // keepalived-like: a node is down after two missed probes one scaled second apart.
    auto interval = std::max(std::chrono::milliseconds(20),
                             std::chrono::milliseconds(static_cast<long>(1000 * options_.time_scale)));
    for (auto [endpoints, port_var] : {std::pair{plain, "proxy_port"}, {secure, "proxy_https_port"}}) {
        vip_config config;
        config.nodes = endpoints;
        config.port = static_cast<unsigned short>(std::stoi(vars_.all().at(port_var)));
        config.probe_interval = interval;
        config.probe_timeout = interval;
        config.policy = {.fall = 2, .rise = 2, .preempt = false};
        vips_.push_back(std::make_unique<vip>(vip_context_, config));
        vips_.back()->start();
    }
    vip_thread_ = std::thread([this] { vip_context_.run(); });
}

std::string topology::render_template() const {
    return vars_.expand(read_file(variant_->config_template), variant_->config_template.string());
}

void topology::start_external() {
    peer_kind kind = options_.sut == sut_mode::process   ? peer_kind::gatehouse_process
                     : options_.sut == sut_mode::haproxy ? peer_kind::haproxy
                                                         : peer_kind::nginx;
    std::string text;
    if (kind == peer_kind::gatehouse_process) {
        // Validate here first: a bad config is a clear error, not a process that exits.
        auto json = proxy_config_json(vars_);
        make_proxy(json);
        text = json.dump(2);
    } else {
        text = render_template();
    }
    external_ = std::make_unique<external_proxy>(kind, text, options_.work_dir,
                                                 options_.proxy_executable, options_.time_scale);
    // Ready when the plain listener (or, failing that, the TLS one) accepts connections.
    bool has_plain = text.find(vars_.all().at("proxy_port")) != std::string::npos;
    external_->start(entry(!has_plain), std::chrono::seconds(10));
}

void topology::stop() {
    if (!started_) return;
    started_ = false;
    for (auto& v : vips_) v->stop();
    if (vip_thread_.joinable()) {
        vip_context_.stop();
        vip_thread_.join();
    }
    for (auto& n : nodes_)
        if (n && n->running()) n->stop(std::chrono::milliseconds(500));
    if (external_) external_->stop();
    if (recording_) recording_->stop();
    if (fleet_ && fleet_->running()) fleet_->stop();
}

tcp::endpoint topology::entry(bool tls) const {
    auto port = std::stoi(vars_.all().at(tls ? "proxy_https_port" : "proxy_port"));
    return {asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)};
}

std::string topology::server_name_of(std::string_view netbios) const {
    if (netbios.empty() || !fleet_) return {};
    for (std::size_t i = 0; i < fleet_->size(); ++i) {
        auto& server = fleet_->server(i);
        if (net::iequals(server.config().netbios, netbios)) return server.name();
    }
    return {};
}

std::vector<std::string> topology::server_names() const {
    std::vector<std::string> names;
    if (fleet_)
        for (std::size_t i = 0; i < fleet_->size(); ++i) names.push_back(fleet_->server(i).name());
    return names;
}

std::string topology::description() const {
    switch (options_.sut) {
        case sut_mode::embedded:
            return variant_->nodes > 1 ? "gatehouse (embedded, HA pair behind a VIP)"
                                       : "gatehouse (embedded)";
        case sut_mode::process: return "gatehouse-proxy (separate process)";
        case sut_mode::haproxy: return peer_version(peer_kind::haproxy);
        case sut_mode::nginx: return peer_version(peer_kind::nginx);
    }
    return "?";
}

std::string topology::config_text() const {
    if (external_) return external_->config_text();
    return current_config_.dump(2);
}

std::string topology::describe(const action& a) {
    const auto& args = a.args;
    auto str = [&](const char* key) { return args.value(key, std::string()); };
    std::string text;
    if (a.kind == "health")
        text = str("server") + " " + str("vdir") + " HealthCheck.htm → " + str("state");
    else if (a.kind == "server_offline")
        text = str("server") + " ServerWideOffline → " + str("state");
    else if (a.kind == "fault")
        text = "fault on " + str("server") + ": " + args["knobs"].dump();
    else if (a.kind == "stop_server" || a.kind == "start_server")
        text = (a.kind == "stop_server" ? "stop " : "start ") + str("server");
    else if (a.kind == "inject")
        text = "inject " + args["event"].value("kind", std::string("event")) + " on " + str("server");
    else if (a.kind == "reload")
        text = "reload the proxy configuration";
    else if (a.kind == "stop_node" || a.kind == "start_node")
        text = (a.kind == "stop_node" ? "stop proxy node " : "start proxy node ") +
               std::to_string(args["node"].get<int>());
    else
        text = a.kind + " " + str("farm") + "/" + str("server");
    return a.label.empty() ? text : a.label + ": " + text;
}

void topology::apply(const action& a) {
    const auto& args = a.args;
    if (a.kind == "health") {
        auto& server = fleet_->server(args["server"].get<std::string>());
        bool active = args["state"] == "active";
        auto component = component_of(args["vdir"].get<std::string>());
        server.set_component_state(component, args.value("requester", std::string("HealthApi")),
                                   active);
    } else if (a.kind == "server_offline") {
        fleet_->server(args["server"].get<std::string>())
            .set_component_state("ServerWideOffline", "Maintenance", args["state"] == "active");
    } else if (a.kind == "fault") {
        fleet_->server(args["server"].get<std::string>()).patch(args["knobs"]);
    } else if (a.kind == "stop_server") {
        // A stopped server refuses new connections and resets the ones a proxy keeps pooled.
        auto name = args["server"].get<std::string>();
        auto& server = fleet_->server(name);
        fault_restore_[name] = server.config().faults.reset_rate;
        server.stop_listening();
        server.patch({{"faults", {{"reset_rate", 1.0}}}});
    } else if (a.kind == "start_server") {
        auto name = args["server"].get<std::string>();
        auto& server = fleet_->server(name);
        auto restore = fault_restore_.count(name) ? fault_restore_[name] : 0.0;
        server.patch({{"faults", {{"reset_rate", restore}}}});
        server.start_listening();
    } else if (a.kind == "inject") {
        const auto& event = args["event"];
        auto kind = fake_cas::parse_event_kind(event.value("kind", std::string()));
        if (!kind)
            throw std::runtime_error(a.path + ".inject.event.kind: expected eas_ping_change, "
                                              "mapi_notification or ews_notification");
        fleet_->server(args["server"].get<std::string>())
            .inject(*kind, event.value("user", std::string("*")), event.value("payload", std::string()));
    } else if (a.kind == "drain" || a.kind == "undrain" || a.kind == "unavailable" ||
               a.kind == "available") {
        std::string state = a.kind == "drain"         ? "drain"
                             : a.kind == "unavailable" ? "unavailable"
                                                       : "available";
        set_server_state(args["farm"].get<std::string>(), args["server"].get<std::string>(), state);
    } else if (a.kind == "mark_healthy" || a.kind == "mark_unhealthy") {
        if (options_.sut != sut_mode::embedded)
            throw unsupported_action(a.kind + " runs against the embedded gatehouse proxy only");
        auto farm = args["farm"].get<std::string>();
        auto server = server_key(args["server"].get<std::string>());
        for (auto& n : nodes_) {
            if (!n->running()) continue;
            if (auto r = n->set_server_health(farm, server, a.kind == "mark_healthy"); !r)
                throw std::runtime_error(a.path + ": " + r.error().message() + " (farm '" + farm +
                                         "', server " + server + ")");
        }
    } else if (a.kind == "reload") {
        reload(a);
    } else if (a.kind == "stop_node" || a.kind == "start_node") {
        node(static_cast<std::size_t>(args["node"].get<int>()), a.kind == "start_node");
    } else {
        throw std::logic_error("unhandled action kind " + a.kind);
    }
}

void topology::set_server_state(const std::string& farm, const std::string& server,
                                const std::string& state) {
    if (options_.sut == sut_mode::haproxy) {
        external_->set_server_state(farm, server,
                                    state == "available" ? "ready"
                                    : state == "drain"   ? "drain"
                                                         : "maint");
        return;
    }
    if (options_.sut == sut_mode::nginx)
        throw unsupported_action("nginx open source cannot change a server's state at run time");
    if (options_.sut == sut_mode::embedded) {
        // The live operation (ARR's Make Server Available / Unavailable, Disallow New
        // Connections), on every node of a pair.
        auto key = server_key(server);
        auto wanted = state == "drain"         ? proxy::availability::drain
                      : state == "unavailable" ? proxy::availability::unavailable
                                               : proxy::availability::available;
        for (auto& n : nodes_) {
            if (!n->running()) continue;
            if (auto r = n->set_server_state(farm, key, wanted); !r)
                throw std::runtime_error("farm '" + farm + "', server " + key + ": " +
                                         r.error().message());
        }
        return;
    }
    // A separate gatehouse-proxy: the server's state in the config, applied by a reload
    // (requests in flight and NTLM-pinned connections carry on).
    auto& farms = current_config_["farms"];
    if (!farms.contains(farm)) throw std::runtime_error("the proxy config has no farm '" + farm + "'");
    auto port = vars_.all().at(server + "_port");
    bool found = false;
    for (auto& s : farms[farm]["servers"]) {
        auto value = s.value("port", nlohmann::json());
        auto text = value.is_string() ? vars_.expand(value.get<std::string>(), "port") : value.dump();
        if (text == port) {
            s["state"] = state;
            found = true;
        }
    }
    if (!found) throw std::runtime_error("farm '" + farm + "' has no server on " + server + "'s port");
    action reload_action;
    reload_action.kind = "reload";
    reload_action.args = {{"config", current_config_}};
    reload(reload_action);
}

std::string topology::server_key(const std::string& fleet_server) const {
    const auto& all = vars_.all();
    auto addr = all.find(fleet_server + "_addr");
    auto port = all.find(fleet_server + "_port");
    if (addr == all.end() || port == all.end())
        throw std::runtime_error("the fleet has no server named '" + fleet_server + "'");
    return addr->second + ":" + port->second;
}

void topology::reload(const action& a) {
    if (a.args.contains("config")) current_config_ = a.args["config"];
    if (a.args.contains("patch")) current_config_.merge_patch(a.args["patch"]);
    switch (options_.sut) {
        case sut_mode::embedded: {
            for (std::size_t i = 0; i < nodes_.size(); ++i) {
                if (!nodes_[i]->running()) continue;
                const auto& v = node_vars_.empty() ? vars_ : node_vars_[i];
                auto json = proxy_config_json(v);
                auto config = proxy::parse_config(json.dump(2), scenario_.file.string(),
                                                  scenario_.file.parent_path().string());
                nodes_[i]->reload(proxy::scale_durations(std::move(config), options_.time_scale));
            }
            return;
        }
        case sut_mode::process: external_->reload(proxy_config_json(vars_).dump(2)); return;
        case sut_mode::haproxy:
        case sut_mode::nginx: external_->reload(render_template()); return;
    }
}

void topology::node(std::size_t index, bool start) {
    if (nodes_.size() < 2 || index < 1 || index > nodes_.size())
        throw unsupported_action("node " + std::to_string(index) +
                                 ": the scenario's proxy is not an HA pair with that node");
    auto& n = nodes_[index - 1];
    if (!start) {
        // The node dies: nothing is allowed to finish.
        n->stop(std::chrono::milliseconds(0));
        return;
    }
    if (n->running()) return;
    n = make_proxy(proxy_config_json(node_vars_[index - 1]));
    n->start();
}

}  // namespace gatehouse::scenarios
