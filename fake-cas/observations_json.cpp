#include "fake-cas/observations_json.hpp"

#include <nlohmann/json.hpp>

namespace gatehouse::fake_cas {

namespace {

std::int64_t millis(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

nlohmann::json statuses(const std::map<unsigned, std::uint64_t>& m) {
    nlohmann::json j = nlohmann::json::object();
    for (auto [status, n] : m) j[std::to_string(status)] = n;
    return j;
}

}  // namespace

nlohmann::json to_json(const connection_record& c) {
    return {{"id", c.id},
            {"remote_address", c.remote_address},
            {"remote_port", c.remote_port},
            {"tls", c.tls},
            {"open", c.open},
            {"user", c.user},
            {"auth_scheme", c.auth_scheme},
            {"identities", c.identities},
            {"requests", c.requests},
            {"ntlm_handshakes", c.ntlm_handshakes},
            {"bytes_in", c.bytes_in},
            {"bytes_out", c.bytes_out},
            {"identity_mismatch", c.identity_mismatch},
            {"opened_ms", millis(c.opened)},
            {"closed_ms", c.open ? 0 : millis(c.closed)}};
}

nlohmann::json to_json(const request_record& r) {
    return {{"time_ms", millis(r.time)},
            {"connection_id", r.connection_id},
            {"method", r.method},
            {"target", r.target},
            {"vdir", r.route},
            {"status", r.status},
            {"user", r.user},
            {"duration_us", r.duration_us},
            {"bytes_in", r.bytes_in},
            {"bytes_out", r.bytes_out},
            {"x_forwarded_for", r.x_forwarded_for},
            {"x_arr_log_id", r.x_arr_log_id},
            {"host", r.host},
            {"health_probe", r.health_probe},
            {"identity_mismatch", r.identity_mismatch}};
}

nlohmann::json to_json(const observation_snapshot& s) {
    nlohmann::json routes = nlohmann::json::object();
    for (std::size_t i = 0; i < route_slots; ++i) {
        const auto& r = s.routes[i];
        routes[std::string(slot_name(i))] = {{"requests", r.requests},
                                             {"health_probes", r.health_probes},
                                             {"bytes_in", r.bytes_in},
                                             {"bytes_out", r.bytes_out},
                                             {"statuses", statuses(r.statuses)}};
    }
    nlohmann::json polls = nlohmann::json::object();
    for (std::size_t i = 0; i < long_poll_kinds; ++i)
        polls[std::string(long_poll_name(static_cast<long_poll>(i)))] = s.open_long_polls[i];
    nlohmann::json connections = nlohmann::json::array();
    for (const auto& c : s.connections) connections.push_back(to_json(c));
    nlohmann::json log = nlohmann::json::array();
    for (const auto& r : s.log) log.push_back(to_json(r));
    return {{"requests", s.requests},
            {"connections_accepted", s.connections_accepted},
            {"connections_open", s.connections_open},
            {"bytes_in", s.bytes_in},
            {"bytes_out", s.bytes_out},
            {"identity_mismatches", s.identity_mismatches},
            {"ntlm_handshakes", s.ntlm_handshakes},
            {"statuses", statuses(s.statuses)},
            {"vdirs", routes},
            {"open_long_polls", polls},
            {"connections", connections},
            {"log", log}};
}

}  // namespace gatehouse::fake_cas
