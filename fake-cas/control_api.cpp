// The control API: one coroutine per connection, JSON requests and responses, routes:
//   GET    /fleet                              time scale, servers, authority certificate
//   GET    /authority.pem                      the fleet authority (PEM)
//   GET    /servers                            list of servers
//   GET    /servers/{name}                     one server: endpoint, listening, components
//   GET    /servers/{name}/config              every knob
//   PATCH  /servers/{name}/config              change knobs (same JSON as the config file)
//   GET    /servers/{name}/components          inactive components and their requesters
//   POST   /servers/{name}/components          {"component","requester","state"}
//   POST   /servers/{name}/listening           {"listening": false|true}
//   POST   /servers/{name}/inject              {"kind","user","payload"}
//   POST   /inject                             the same, farm-wide
//   GET    /servers/{name}/observations        counters, connections, request log (?log=0)
//   DELETE /servers/{name}/observations        reset
//   GET    /observations                       every server's counters (no log)

#include "fake-cas/control_api.hpp"

#include "fake-cas/config_json.hpp"
#include "fake-cas/encoding.hpp"
#include "fake-cas/fleet.hpp"
#include "fake-cas/observations_json.hpp"
#include "net/http_date.hpp"
#include "net/http_io.hpp"
#include "net/log.hpp"

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

namespace gatehouse::fake_cas {

namespace {

using json = nlohmann::json;

struct reply {
    unsigned status = 200;
    json body = json::object();
    std::string text{};  // a non-JSON body (PEM)
};

reply error(unsigned status, std::string message) {
    return {status, json{{"error", std::move(message)}}, {}};
}

std::vector<std::string_view> split_path(std::string_view path) {
    std::vector<std::string_view> parts;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        auto slash = path.find('/');
        parts.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash);
    }
    return parts;
}

json server_summary(server_handle& s) {
    auto c = s.config();
    return {{"name", s.name()},
            {"netbios", c.netbios},
            {"fqdn", c.fqdn},
            {"address", s.endpoint().address().to_string()},
            {"port", s.endpoint().port()},
            {"url", s.url()},
            {"tls", s.tls()},
            {"listening", s.listening()},
            {"inactive_components", s.inactive_components()}};
}

json parse_body(const std::string& body) {
    if (body.empty()) return json::object();
    return json::parse(body, nullptr, true, true);
}

reply inject(fleet* f, server_handle* s, const json& j) {
    if (!j.is_object()) return error(400, "body: must be an object");
    auto kind_text = j.value("kind", std::string());
    auto kind = parse_event_kind(kind_text);
    if (!kind)
        return error(400,
                     "kind: must be \"eas_ping_change\", \"mapi_notification\" or "
                     "\"ews_notification\"");
    if (!j.contains("user") || !j["user"].is_string())
        return error(400, "user: is required (a user name, or \"*\")");
    auto payload = j.value("payload", std::string());
    auto woken = s ? s->inject(*kind, j["user"].get<std::string>(), payload)
                   : f->inject(*kind, j["user"].get<std::string>(), payload);
    return {200, json{{"woken", woken}}, {}};
}

reply route(fleet& f, const std::string& method, std::string_view target, const std::string& body) {
    auto path = target.substr(0, target.find('?'));
    auto query = target.find('?') == std::string_view::npos ? std::string_view{}
                                                            : target.substr(target.find('?') + 1);
    auto parts = split_path(path);
    json j;
    try {
        j = parse_body(body);
    } catch (const json::parse_error& e) {
        return error(400, std::string("body: invalid JSON: ") + e.what());
    }
    if (parts.size() == 1 && parts[0] == "fleet" && method == "GET") {
        json servers = json::array();
        for (std::size_t i = 0; i < f.size(); ++i) servers.push_back(server_summary(f.server(i)));
        return {200,
                json{{"time_scale", f.time_scale()},
                     {"servers", servers},
                     {"authority_pem", f.authority().chain_pem}},
                {}};
    }
    if (parts.size() == 1 && parts[0] == "authority.pem" && method == "GET")
        return {200, {}, f.authority().chain_pem};
    if (parts.size() == 1 && parts[0] == "inject" && method == "POST")
        return inject(&f, nullptr, j);
    if (parts.size() == 1 && parts[0] == "observations" && method == "GET") {
        json all = json::object();
        for (std::size_t i = 0; i < f.size(); ++i)
            all[f.server(i).name()] = to_json(f.server(i).observations(false));
        return {200, all, {}};
    }
    if (parts.empty() || parts[0] != "servers") return error(404, "no such route");
    if (parts.size() == 1) {
        if (method != "GET") return error(405, "use GET");
        json servers = json::array();
        for (std::size_t i = 0; i < f.size(); ++i) servers.push_back(server_summary(f.server(i)));
        return {200, servers, {}};
    }
    auto* s = f.find(std::string(parts[1]));
    if (!s) return error(404, "no server named \"" + std::string(parts[1]) + "\"");
    if (parts.size() == 2) {
        if (method != "GET") return error(405, "use GET");
        return {200, server_summary(*s), {}};
    }
    auto what = parts[2];
    if (what == "config") {
        if (method == "GET") return {200, to_json(s->config()), {}};
        if (method == "PATCH" || method == "POST") {
            try {
                s->patch(j);
            } catch (const config_error& e) {
                return error(400, e.what());
            }
            return {200, to_json(s->config()), {}};
        }
        return error(405, "use GET or PATCH");
    }
    if (what == "components") {
        if (method == "GET") return {200, json(s->inactive_components()), {}};
        if (method != "POST") return error(405, "use GET or POST");
        if (!j.is_object()) return error(400, "body: must be an object");
        auto component = j.value("component", std::string());
        auto requester = j.value("requester", std::string("HealthApi"));
        auto state = j.value("state", std::string());
        if (state != "Active" && state != "Inactive")
            return error(400, "state: must be \"Active\" or \"Inactive\"");
        if (!s->set_component_state(component, requester, state == "Active"))
            return error(400, "component: unknown component \"" + component + "\"");
        return {200, json(s->inactive_components()), {}};
    }
    if (what == "listening") {
        if (method != "POST") return error(405, "use POST");
        if (!j.is_object() || !j.contains("listening") || !j["listening"].is_boolean())
            return error(400, "listening: must be true or false");
        try {
            if (j["listening"].get<bool>())
                s->start_listening();
            else
                s->stop_listening();
        } catch (const std::exception& e) {
            return error(500, e.what());
        }
        return {200, server_summary(*s), {}};
    }
    if (what == "inject") {
        if (method != "POST") return error(405, "use POST");
        return inject(nullptr, s, j);
    }
    if (what == "observations") {
        if (parts.size() == 4 && parts[3] == "reset" && method == "POST") {
            s->reset_observations();
            return {200, json{{"reset", true}}, {}};
        }
        if (method == "DELETE") {
            s->reset_observations();
            return {200, json{{"reset", true}}, {}};
        }
        if (method != "GET") return error(405, "use GET or DELETE");
        bool with_log = form_value(query, "log").value_or("1") != "0";
        auto snapshot = s->observations(with_log);
        if (auto since = form_value(query, "since_ms")) {
            // Only log records at or after `since_ms` (milliseconds since the epoch).
            long long from = 0;
            try {
                from = std::stoll(*since);
            } catch (const std::exception&) {
                return error(400, "since_ms: must be an integer");
            }
            auto t = std::chrono::system_clock::time_point(std::chrono::milliseconds(from));
            std::erase_if(snapshot.log, [&](const auto& r) { return r.time < t; });
        }
        return {200, to_json(snapshot), {}};
    }
    return error(404, "no such route");
}

awaitable<void> serve_control(fleet* f, tcp::socket socket) {
    net::stream stream(std::move(socket));
    beast::flat_buffer buffer;
    net::http_head head;
    std::string body, out;
    for (;;) {
        stream.expires_after(std::chrono::seconds(60));
        net::request_parser parser(head);
        if (auto ec_ = co_await net::read_head(stream, buffer, parser); ec_) break;
        body.clear();
        std::array<char, 8192> chunk;
        bool too_large = false;
        while (!parser.is_done()) {
            auto [ec, n] = co_await net::read_body(stream, buffer, parser, asio::buffer(chunk));
            if (ec) co_return;
            body.append(chunk.data(), n);
            if (body.size() > 1024 * 1024) {
                too_large = true;
                break;
            }
        }
        reply r = too_large ? error(413, "body: larger than 1 MiB")
                            : route(*f, head.method, head.target, body);
        std::string payload = r.text.empty() ? r.body.dump(2) + "\n" : r.text;
        net::http_head res;
        res.status = r.status;
        res.fields.add("Content-Type",
                       r.text.empty() ? "application/json" : "application/x-pem-file");
        res.fields.add("Date", net::http_date());
        res.fields.add("Content-Length", std::to_string(payload.size()));
        if (too_large) res.fields.add("Connection", "close");
        out.clear();
        res.write_response(out);
        out += payload;
        auto [ec, n] = co_await stream.write(asio::buffer(out));
        if (ec || too_large) break;
    }
    co_await stream.shutdown(std::chrono::milliseconds(100));
}

awaitable<void> control_accept_loop(fleet* f, std::shared_ptr<tcp::acceptor> acceptor) {
    for (;;) {
        auto [ec, socket] = co_await acceptor->async_accept(use_nothrow);
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
        if (ec) continue;
        asio::co_spawn(acceptor->get_executor(), serve_control(f, std::move(socket)),
                       asio::detached);
    }
}

}  // namespace

control_api::control_api(fleet& f, asio::io_context& context, const tcp::endpoint& endpoint)
    : fleet_(f), context_(context), acceptor_(std::make_shared<tcp::acceptor>(context)) {
    acceptor_->open(endpoint.protocol());
    acceptor_->set_option(asio::socket_base::reuse_address(true));
    acceptor_->bind(endpoint);
    acceptor_->listen();
    endpoint_ = acceptor_->local_endpoint();
}

void control_api::start() {
    asio::co_spawn(context_, control_accept_loop(&fleet_, acceptor_), asio::detached);
}

}  // namespace gatehouse::fake_cas
