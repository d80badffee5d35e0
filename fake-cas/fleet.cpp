#include "fake-cas/fleet.hpp"

#include "fake-cas/config_json.hpp"
#include "fake-cas/control_api.hpp"
#include "fake-cas/encoding.hpp"
#include "fake-cas/farm_state.hpp"
#include "fake-cas/server.hpp"
#include "net/log.hpp"

#include <fstream>
#include <sstream>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

namespace gatehouse::fake_cas {

namespace {

std::string read_file(const std::string& path, const std::string& where) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(where + ": cannot read \"" + path + "\"");
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Names a server certificate covers: the server's own names, the farm's external names, and
// loopback, so clients can verify it whichever name they connect with.
std::vector<std::string> certificate_names(const server_config& s, const fleet_config& f) {
    std::vector<std::string> names = {to_lower(s.fqdn),
                                      to_lower(s.netbios),
                                      "mail." + f.email_domain,
                                      "autodiscover." + f.email_domain,
                                      f.email_domain,
                                      "localhost",
                                      "127.0.0.1",
                                      "::1"};
    if (!s.external_host.empty()) names.push_back(s.external_host);
    error_code ec;
    auto address = asio::ip::make_address(s.address, ec);
    if (!ec && !address.is_unspecified() && s.address != "127.0.0.1" && s.address != "::1")
        names.push_back(s.address);
    return names;
}

}  // namespace

std::optional<event_kind> parse_event_kind(std::string_view text) {
    if (text == "eas_ping_change") return event_kind::eas_ping_change;
    if (text == "mapi_notification") return event_kind::mapi_notification;
    if (text == "ews_notification") return event_kind::ews_notification;
    return std::nullopt;
}

namespace {

std::size_t inject_into(farm_state& farm, event_kind kind, const std::string& user,
                        const std::string& payload) {
    switch (kind) {
        case event_kind::eas_ping_change:
            return farm.eas_changes.inject(user, payload);
        case event_kind::mapi_notification:
            return farm.mapi_notifications.inject(user, payload);
        case event_kind::ews_notification:
            return farm.ews_notifications.inject(user, payload);
    }
    return 0;
}

}  // namespace

// --- server_handle ---------------------------------------------------------------------------

const std::string& server_handle::name() const {
    return server_.name();
}
tcp::endpoint server_handle::endpoint() const {
    return server_.endpoint();
}
bool server_handle::tls() const {
    return server_.tls();
}

std::string server_handle::url() const {
    auto ep = endpoint();
    std::string out = tls() ? "https://" : "http://";
    if (ep.address().is_v6()) out.push_back('[');
    out.append(ep.address().to_string());
    if (ep.address().is_v6()) out.push_back(']');
    out.push_back(':');
    out.append(std::to_string(ep.port()));
    return out;
}

server_config server_handle::config() const {
    return server_.config();
}

void server_handle::patch(const nlohmann::json& patch) {
    auto c = server_.config();
    apply_server_patch(c, patch, "patch");
    server_.set_config(std::move(c));
}

void server_handle::update(const std::function<void(server_config&)>& change) {
    auto c = server_.config();
    auto before = c;
    change(c);
    if (c.name != before.name || c.address != before.address || c.port != before.port ||
        c.tls.enabled != before.tls.enabled)
        throw config_error(
            "update: name, address, port and tls cannot change while the server runs");
    validate(c, "");
    server_.set_config(std::move(c));
}

bool server_handle::set_component_state(std::string_view component, std::string_view requester,
                                        bool active) {
    return server_.set_component(component, requester, active);
}

std::map<std::string, std::vector<std::string>> server_handle::inactive_components() const {
    std::map<std::string, std::vector<std::string>> out;
    auto states = server_.components();
    for (const auto& [component, requesters] : states.inactive())
        out[component] = {requesters.begin(), requesters.end()};
    return out;
}

bool server_handle::component_active(vdir v) const {
    return server_.component_active(v);
}
void server_handle::stop_listening() {
    server_.stop_listening();
}
void server_handle::start_listening() {
    server_.start_listening();
}
bool server_handle::listening() const {
    return server_.listening();
}

std::size_t server_handle::inject(event_kind kind, const std::string& user,
                                  const std::string& payload) {
    return inject_into(server_.farm(), kind, user, payload);
}

observation_snapshot server_handle::observations(bool with_log) const {
    return server_.obs().snapshot(with_log);
}

void server_handle::reset_observations() {
    server_.obs().reset();
}

// --- fleet -----------------------------------------------------------------------------------

fleet::fleet(fleet_config config) : config_(std::move(config)) {
    validate(config_);
    authority_ = net::make_authority("Gatehouse fake CAS authority");
    farm_ = std::make_unique<farm_state>(config_);
    for (unsigned i = 0; i < config_.threads; ++i)
        contexts_.push_back(std::make_unique<asio::io_context>(1));
    std::vector<asio::io_context*> workers;
    for (auto& c : contexts_) workers.push_back(c.get());
    for (std::size_t i = 0; i < config_.servers.size(); ++i) {
        const auto& s = config_.servers[i];
        std::optional<net::certificate> cert;
        if (s.tls.enabled) {
            auto where = "servers[" + std::to_string(i) + "].tls";
            if (!s.tls.cert_file.empty())
                cert = net::certificate{read_file(s.tls.cert_file, where),
                                        read_file(s.tls.key_file, where)};
            else
                cert = net::issue_certificate(authority_, certificate_names(s, config_));
        }
        auto& acceptor_context = *contexts_[i % contexts_.size()];
        servers_.push_back(std::make_unique<fake_cas::server>(*farm_, s, config_, acceptor_context,
                                                              workers, cert ? &*cert : nullptr));
    }
    for (auto& s : servers_) handles_.emplace_back(*s);
}

fleet::~fleet() {
    stop();
}

void fleet::start() {
    if (running_) return;
    if (stopped_) throw std::runtime_error("fake-cas: a fleet cannot start again after stop()");
    for (auto& s : servers_) {
        try {
            s->bind();
        } catch (const std::exception& e) {
            throw std::runtime_error("fake-cas: " + s->name() + ": cannot listen on " +
                                     s->config().address + ":" + std::to_string(s->config().port) +
                                     ": " + e.what());
        }
    }
    for (auto& s : servers_) s->start_accepting();
    if (config_.control.enabled) {
        control_context_ = std::make_unique<asio::io_context>(1);
        tcp::endpoint ep(asio::ip::make_address(config_.control.address), config_.control.port);
        try {
            control_ = std::make_unique<control_api>(*this, *control_context_, ep);
        } catch (const std::exception& e) {
            throw std::runtime_error("fake-cas: control API: cannot listen on " +
                                     config_.control.address + ":" +
                                     std::to_string(config_.control.port) + ": " + e.what());
        }
        control_->start();
    }
    running_ = true;
    for (auto& c : contexts_) {
        threads_.emplace_back([ctx = c.get()] {
            auto guard = asio::make_work_guard(*ctx);
            ctx->run();
        });
    }
    if (control_context_) {
        threads_.emplace_back([ctx = control_context_.get()] {
            auto guard = asio::make_work_guard(*ctx);
            ctx->run();
        });
    }
}

void fleet::stop() {
    if (!running_) return;
    running_ = false;
    stopped_ = true;
    if (control_context_) control_context_->stop();
    for (auto& c : contexts_) c->stop();
    for (auto& t : threads_) t.join();
    threads_.clear();
    farm_->stopping.store(true);
    // Connection coroutines still suspended are destroyed with their contexts; the servers and
    // the farm they refer to outlive them. Acceptors go first: they belong to the contexts.
    for (auto& s : servers_) s->release_listener();
    control_.reset();
    control_context_.reset();
    contexts_.clear();
}

server_handle& fleet::server(std::size_t index) {
    return handles_.at(index);
}

server_handle& fleet::server(std::string_view name) {
    if (auto* h = find(name)) return *h;
    throw std::out_of_range("fake-cas: no server named \"" + std::string(name) + "\"");
}

server_handle* fleet::find(std::string_view name) {
    for (auto& h : handles_)
        if (h.name() == name) return &h;
    return nullptr;
}

std::optional<tcp::endpoint> fleet::control_endpoint() const {
    if (!control_) return std::nullopt;
    return control_->endpoint();
}

std::size_t fleet::inject(event_kind kind, const std::string& user, const std::string& payload) {
    return inject_into(*farm_, kind, user, payload);
}

}  // namespace gatehouse::fake_cas
