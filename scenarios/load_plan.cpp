#include "scenarios/load_plan.hpp"

#include "load/errors.hpp"
#include "load/plan_text.hpp"
#include "load/url_list.hpp"
#include "scenarios/scenario.hpp"

#include <cmath>
#include <sstream>

namespace gatehouse::scenarios {

namespace {

std::chrono::milliseconds scaled_ms(double scenario_seconds, double time_scale) {
    return std::chrono::milliseconds(
        static_cast<long long>(std::ceil(scenario_seconds * 1000 * time_scale)));
}

}  // namespace

load::plan load_plan_from_json(const nlohmann::json& j, const std::string& path,
                               double duration_s, double time_scale) {
    static const char* keys[] = {"profile", "urls",      "model",     "vus",        "rate",
                                 "stages",  "start",     "think_s",   "count",      "tls",
                                 "new_connection",       "timeout_s", "auth",       "user",
                                 "domain",  "password",  "tasks",     "heartbeat_s", "pings",
                                 "rpc_hold_s",           "rpc_keepalive_s", "rpc_interval_s",
                                 "day",     "day_length_s", "mix",    "host"};
    for (const auto& [key, value] : j.items()) {
        bool known = false;
        for (const char* k : keys) known = known || key == k;
        if (!known) throw scenario_error(path + ".plan." + key + ": unknown key");
    }
    auto fail = [&](const std::string& key, const std::string& what) -> scenario_error {
        return scenario_error(path + ".plan." + key + ": " + what);
    };
    try {
        load::plan p;
        p.workload.profile = j.value("profile", std::string(j.contains("urls") ? "urls" : ""));
        if (p.workload.profile.empty()) throw fail("profile", "is required (or give urls)");
        if (j.contains("urls")) {
            std::stringstream list;
            for (const auto& line : j["urls"]) list << line.get<std::string>() << '\n';
            p.workload.urls = load::parse_url_list(list, path + ".plan.urls");
        }
        auto model = j.value("model", std::string(j.contains("rate") ? "open" : "closed"));
        if (model != "open" && model != "closed") throw fail("model", "must be open or closed");
        p.model.kind = model == "open" ? load::model_kind::open : load::model_kind::closed;
        p.model.vus = j.value("vus", 1u);
        p.model.rate = j.value("rate", 0.0);
        if (j.contains("stages")) p.model.stages = load::parse_stages(j["stages"].get<std::string>(), "stages");
        p.model.start = j.value("start", 0.0);
        p.model.think_time = scaled_ms(j.value("think_s", 0.0), time_scale);
        if (j.contains("count")) p.count = j["count"].get<std::uint64_t>();
        p.duration = scaled_ms(duration_s, time_scale);
        p.graceful_stop = std::chrono::milliseconds(500);
        p.preflight = false;  // the topology is known to be up; a failure is an observation

        p.target.tls = j.value("tls", false);
        p.target.host_header = j.value("host", std::string("mail.contoso.com"));
        p.target.server_name = "mail.contoso.com";
        p.client.keep_alive = !j.value("new_connection", false);
        if (j.contains("timeout_s")) p.client.request_timeout = scaled_ms(j["timeout_s"].get<double>(), time_scale);
        if (j.contains("auth")) p.client.auth = load::parse_auth(j["auth"].get<std::string>());
        if (j.contains("user")) p.account.user = j["user"].get<std::string>();
        if (j.contains("domain")) p.account.domain = j["domain"].get<std::string>();
        if (j.contains("password")) p.account.password = j["password"].get<std::string>();

        auto& w = p.workload;
        w.time_scale = time_scale;
        w.tasks = j.value("tasks", w.tasks);
        if (j.contains("heartbeat_s")) w.heartbeat = std::chrono::seconds(j["heartbeat_s"].get<long>());
        w.pings = j.value("pings", w.pings);
        if (j.contains("rpc_hold_s")) w.rpc_hold = std::chrono::seconds(j["rpc_hold_s"].get<long>());
        if (j.contains("rpc_keepalive_s"))
            w.rpc_keepalive = std::chrono::seconds(j["rpc_keepalive_s"].get<long>());
        if (j.contains("rpc_interval_s"))
            w.rpc_interval = scaled_ms(j["rpc_interval_s"].get<double>(), 1.0);
        w.day = j.value("day", w.day);
        if (j.contains("day_length_s")) w.day_length = std::chrono::seconds(j["day_length_s"].get<long>());
        w.mix = j.value("mix", w.mix);
        return p;
    } catch (const load::load_error& e) {
        throw scenario_error(path + ".plan: " + e.what());
    } catch (const nlohmann::json::exception& e) {
        throw scenario_error(path + ".plan: a value has the wrong type (" + std::string(e.what()) + ")");
    }
}

}  // namespace gatehouse::scenarios
