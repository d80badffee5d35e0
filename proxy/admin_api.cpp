#include "proxy/admin_api.hpp"

#include "net/http_io.hpp"
#include "net/log.hpp"
#include "net/stream.hpp"
#include "proxy/percent_decoding.hpp"
#include "proxy/proxy_server.hpp"

#include <set>
#include <sstream>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

namespace gatehouse::proxy {

using nlohmann::json;

namespace {

constexpr std::size_t max_body = 64 * 1024;
constexpr auto request_timeout = std::chrono::seconds(10);

json server_json(const server_stats& s) {
    return json{{"address", s.address},
                {"port", s.port},
                {"availability", to_string(s.state)},
                {"healthy", s.healthy},
                {"ejected", s.ejected},
                {"weight", s.weight},
                {"requests_per_second", s.requests_per_second},
                {"response_time_ms", s.response_time_ms},
                {"current_requests", s.current_requests},
                {"total_requests", s.total_requests},
                {"failed_requests", s.failed_requests},
                {"bytes_sent", s.bytes_sent},
                {"bytes_received", s.bytes_received},
                {"distribution_percent", s.distribution_percent}};
}

json farm_json(const farm_stats& f) {
    json servers = json::array();
    for (const auto& s : f.servers) servers.push_back(server_json(s));
    json hosts = json::object();
    for (const auto& [host, servers] : f.host_routes) hosts[host] = servers;
    return json{{"name", f.name},
                {"host_affinity", hosts},
                {"algorithm", to_string(f.algorithm)},
                {"requests_per_second", f.requests_per_second},
                {"response_time_ms", f.response_time_ms},
                {"current_requests", f.current_requests},
                {"total_requests", f.total_requests},
                {"failed_requests", f.failed_requests},
                {"no_server_requests", f.no_server_requests},
                {"bytes_sent", f.bytes_sent},
                {"bytes_received", f.bytes_received},
                {"servers", servers}};
}

// A label value in the exposition format: backslash, quote and newline escaped.
std::string label(std::string_view v) {
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"') out.push_back('\\');
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out.push_back(c);
    }
    return out;
}

std::vector<std::string> split_path(std::string_view target) {
    target = target.substr(0, target.find('?'));
    std::vector<std::string> parts;
    while (!target.empty()) {
        if (target.front() == '/') {
            target.remove_prefix(1);
            continue;
        }
        auto slash = target.find('/');
        percent_decode(target.substr(0, slash), parts.emplace_back());
        if (slash == std::string_view::npos) break;
        target.remove_prefix(slash);
    }
    return parts;
}

struct reply {
    unsigned status = 200;
    std::string body{};
    std::string content_type{"application/json"};
};

reply error_reply(unsigned status, const std::string& message) {
    return reply{status, json{{"error", message}}.dump() + "\n"};
}

}  // namespace

std::string farms_json(const proxy_stats& stats) {
    json farms = json::array();
    for (const auto& f : stats.farms) farms.push_back(farm_json(f));
    return json{{"farms", farms}}.dump(2) + "\n";
}

std::string prometheus_text(const proxy_stats& stats) {
    std::ostringstream out;
    auto family = [&](const char* name, const char* type, const char* help) {
        out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
    };
    struct metric {
        const char* name;
        const char* type;
        const char* help;
        double (*farm)(const farm_stats&);
        double (*server)(const server_stats&);
    };
    static const metric metrics[] = {
        {"gatehouse_requests_total", "counter", "Requests sent (farm: including 502.4).",
         [](const farm_stats& f) { return double(f.total_requests); },
         [](const server_stats& s) { return double(s.total_requests); }},
        {"gatehouse_current_requests", "gauge", "Requests in progress.",
         [](const farm_stats& f) { return double(f.current_requests); },
         [](const server_stats& s) { return double(s.current_requests); }},
        {"gatehouse_failed_requests_total", "counter",
         "Requests failed: 502.3 talking to the server (farm: plus 502.4).",
         [](const farm_stats& f) { return double(f.failed_requests); },
         [](const server_stats& s) { return double(s.failed_requests); }},
        {"gatehouse_bytes_sent_total", "counter", "Bytes sent to the servers.",
         [](const farm_stats& f) { return double(f.bytes_sent); },
         [](const server_stats& s) { return double(s.bytes_sent); }},
        {"gatehouse_bytes_received_total", "counter", "Bytes received from the servers.",
         [](const farm_stats& f) { return double(f.bytes_received); },
         [](const server_stats& s) { return double(s.bytes_received); }},
        {"gatehouse_response_time_ms", "gauge", "Mean time taken of finished requests.",
         [](const farm_stats& f) { return f.response_time_ms; },
         [](const server_stats& s) { return s.response_time_ms; }},
        {"gatehouse_requests_per_second", "gauge", "Requests per second since the last read.",
         [](const farm_stats& f) { return f.requests_per_second; },
         [](const server_stats& s) { return s.requests_per_second; }},
    };
    for (const auto& m : metrics) {
        family(m.name, m.type, m.help);
        for (const auto& f : stats.farms) {
            out << m.name << "{farm=\"" << label(f.name) << "\"} " << m.farm(f) << '\n';
            for (const auto& s : f.servers)
                out << m.name << "{farm=\"" << label(f.name) << "\",server=\"" << label(s.address)
                    << ':' << s.port << "\"} " << m.server(s) << '\n';
        }
    }
    family("gatehouse_no_server_requests_total", "counter", "Requests answered 502.4.");
    for (const auto& f : stats.farms)
        out << "gatehouse_no_server_requests_total{farm=\"" << label(f.name) << "\"} "
            << f.no_server_requests << '\n';
    family("gatehouse_request_distribution_percent", "gauge",
           "Share of the farm's requests sent to the server.");
    family("gatehouse_server_healthy", "gauge", "1 when the server is healthy.");
    family("gatehouse_server_available", "gauge",
           "1 when the server's availability is the one labelled.");
    for (const auto& f : stats.farms)
        for (const auto& s : f.servers) {
            std::string labels = "farm=\"" + label(f.name) + "\",server=\"" + label(s.address) +
                                 ":" + std::to_string(s.port) + "\"";
            out << "gatehouse_request_distribution_percent{" << labels << "} "
                << s.distribution_percent << '\n';
            out << "gatehouse_server_healthy{" << labels << "} " << (s.healthy ? 1 : 0) << '\n';
            for (auto a : {availability::available, availability::unavailable, availability::drain})
                out << "gatehouse_server_available{" << labels << ",state=\"" << to_string(a)
                    << "\"} " << (s.state == a ? 1 : 0) << '\n';
        }
    family("gatehouse_connections_accepted_total", "counter", "Client connections accepted.");
    out << "gatehouse_connections_accepted_total " << stats.connections_accepted << '\n';
    family("gatehouse_connections_active", "gauge", "Client connections open.");
    out << "gatehouse_connections_active " << stats.connections_active << '\n';
    family("gatehouse_connections_parked", "gauge",
           "Idle client connections compacted to a readiness wait.");
    out << "gatehouse_connections_parked " << stats.connections_parked << '\n';
    family("gatehouse_connections_refused_per_client_total", "counter",
           "Connections closed at accept: the client address had max_connections_per_client.");
    out << "gatehouse_connections_refused_per_client_total "
        << stats.connections_refused_per_client << '\n';
    family("gatehouse_client_requests_total", "counter", "Request heads read from clients.");
    out << "gatehouse_client_requests_total " << stats.requests << '\n';
    return out.str();
}

struct admin_api::impl {
    impl(proxy_server& p, const admin_config& c) : proxy(p), acceptor(context) {
        tcp::endpoint ep(asio::ip::make_address(c.address), c.port);
        error_code ec;
        acceptor.open(ep.protocol(), ec);
        if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
        if (!ec) acceptor.bind(ep, ec);
        if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
        if (ec)
            throw std::runtime_error("admin: cannot listen on " + c.address + ":" +
                                     std::to_string(c.port) + ": " + ec.message());
        bound = acceptor.local_endpoint();
    }

    reply route(const net::http_head& head, const std::string& body);

    proxy_server& proxy;
    asio::io_context context{1};
    tcp::acceptor acceptor;
    tcp::endpoint bound;
    std::set<net::stream*> open;  // context thread only
    std::thread thread;
};

reply admin_api::impl::route(const net::http_head& head, const std::string& body) {
    auto parts = split_path(head.target);
    const bool get = head.method == "GET";
    const bool post = head.method == "POST";
    if (parts == std::vector<std::string>{"metrics"} && get)
        return reply{200, prometheus_text(proxy.stats()), "text/plain; version=0.0.4"};
    if (parts.empty() || parts[0] != "api") return error_reply(404, "no such route");
    if (parts.size() == 2 && parts[1] == "stats" && get) {
        auto s = proxy.stats();
        json generated = json::object();
        for (std::size_t k = 0; k < generated_response_kinds; ++k)
            generated[std::to_string(k)] = s.generated[k];
        return reply{200, json{{"connections_accepted", s.connections_accepted},
                               {"connections_active", s.connections_active},
                               {"connections_parked", s.connections_parked},
                               {"connections_refused_per_client",
                                s.connections_refused_per_client},
                               {"requests", s.requests},
                               {"redirects", s.redirects},
                               {"health_probes_sent", proxy.health_probes_sent()},
                               {"upstream_connections_opened", s.upstream_connections_opened},
                               {"upstream_connections_idle", s.upstream_connections_idle}}
                                  .dump(2) +
                              "\n"};
    }
    if (parts.size() == 3 && parts[1] == "counters" && parts[2] == "reset" && post) {
        proxy.reset_counters();
        return reply{200, "{\"reset\":true}\n"};
    }
    if (parts.size() >= 2 && parts[1] == "farms") {
        auto stats = proxy.stats();
        if (parts.size() == 2 && get) return reply{200, farms_json(stats)};
        const farm_stats* farm = stats.farm(parts[2]);
        if (!farm) return error_reply(404, "unknown farm " + parts[2]);
        if (parts.size() == 3 && get) return reply{200, farm_json(*farm).dump(2) + "\n"};
        if (parts.size() == 6 && parts[3] == "servers" && post) {
            json j;
            try {
                j = json::parse(body);
            } catch (const std::exception& e) {
                return error_reply(400, std::string("the body is not JSON: ") + e.what());
            }
            boost::system::result<void> r;
            if (parts[5] == "state") {
                auto value = j.value("state", std::string());
                availability a;
                if (value == "available")
                    a = availability::available;
                else if (value == "unavailable")
                    a = availability::unavailable;
                else if (value == "drain")
                    a = availability::drain;
                else
                    return error_reply(400, "state: must be available, unavailable or drain");
                r = proxy.set_server_state(parts[2], parts[4], a);
            } else if (parts[5] == "health") {
                if (!j.contains("healthy") || !j["healthy"].is_boolean())
                    return error_reply(400, "healthy: must be true or false");
                r = proxy.set_server_health(parts[2], parts[4], j["healthy"].get<bool>());
            } else {
                return error_reply(404, "no such action " + parts[5]);
            }
            if (!r) return error_reply(404, r.error().message() + " " + parts[4]);
            auto after = proxy.stats();
            return reply{200, farm_json(*after.farm(parts[2])).dump(2) + "\n"};
        }
    }
    return error_reply(get || post ? 404 : 405, "no such route");
}

namespace {

awaitable<void> serve_admin(admin_api::impl* d, tcp::socket socket) {
    net::stream s(std::move(socket));
    d->open.insert(&s);
    beast::flat_buffer buffer;
    for (;;) {
        s.expires_after(request_timeout);
        net::http_head head;
        net::parser_limits limits;
        limits.body_bytes = max_body;
        net::request_parser parser(head, limits);
        if (co_await net::read_head(s, buffer, parser)) break;
        std::string body(max_body, '\0');
        std::size_t used = 0;
        bool failed = false;
        while (!parser.is_done()) {
            auto [ec, n] = co_await net::read_body(
                s, buffer, parser, asio::buffer(body.data() + used, body.size() - used));
            if (ec) {
                failed = true;
                break;
            }
            used += n;
        }
        if (failed) break;
        body.resize(used);
        reply r;
        try {
            r = d->route(head, body);
        } catch (const std::exception& e) {
            r = error_reply(500, e.what());
        }
        const bool keep = parser.keep_alive();
        std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " +
                          std::string(net::reason_phrase(r.status)) +
                          "\r\nContent-Type: " + r.content_type +
                          "\r\nContent-Length: " + std::to_string(r.body.size()) +
                          (keep ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n") + r.body;
        auto [wec, wn] = co_await s.write(asio::buffer(out));
        if (wec || !keep) break;
    }
    d->open.erase(&s);
    co_await s.shutdown(std::chrono::milliseconds(100));
}

awaitable<void> accept_admin(admin_api::impl* d) {
    for (;;) {
        auto [ec, socket] = co_await d->acceptor.async_accept(use_nothrow);
        if (ec) {
            if (!d->acceptor.is_open()) co_return;
            continue;
        }
        asio::co_spawn(d->context, serve_admin(d, std::move(socket)), asio::detached);
    }
}

}  // namespace

admin_api::admin_api(proxy_server& proxy, const admin_config& config)
    : impl_(std::make_unique<impl>(proxy, config)) {}

admin_api::~admin_api() {
    stop();
}

void admin_api::start() {
    auto* d = impl_.get();
    asio::co_spawn(d->context, accept_admin(d), asio::detached);
    d->thread = std::thread([d] { d->context.run(); });
    GATEHOUSE_LOG(info, "proxy") << "admin API on http://" << d->bound;
}

void admin_api::stop() {
    auto* d = impl_.get();
    if (!d->thread.joinable()) return;
    asio::post(d->context, [d] {
        error_code ignored;
        d->acceptor.close(ignored);
        for (auto* s : d->open) s->close();
    });
    asio::post(d->context, [d] { d->context.stop(); });
    d->thread.join();
}

tcp::endpoint admin_api::endpoint() const {
    return impl_->bound;
}

}  // namespace gatehouse::proxy
