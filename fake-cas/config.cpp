#include "fake-cas/config.hpp"

#include "net/http_message.hpp"

#include <cmath>
#include <cstdio>
#include <set>

namespace gatehouse::fake_cas {

namespace {

std::string two_digits(unsigned n) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%02u", n);
    return buf;
}

std::string lower(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return s;
}

}  // namespace

server_config default_server(unsigned index, const std::string& dns_domain) {
    server_config s;
    s.name = "cas" + std::to_string(index);
    s.netbios = "EX" + two_digits(index);
    s.fqdn = lower(s.netbios) + "." + dns_domain;
    using enum auth_scheme;
    // Client-facing authentication of an on-premises front end (§1.3); FBA vdirs and the
    // anonymous ones have no schemes here.
    s.at(vdir::rpc).auth = {negotiate, ntlm, basic};
    s.at(vdir::mapi).auth = {negotiate, ntlm};
    s.at(vdir::ews).auth = {negotiate, ntlm};
    s.at(vdir::activesync).auth = {basic};
    s.at(vdir::autodiscover).auth = {negotiate, ntlm, basic};
    s.at(vdir::oab).auth = {negotiate, ntlm};
    s.at(vdir::powershell).auth = {negotiate};
    // Request size limits from the vdirs' web.config files (§1.1).
    s.at(vdir::rpc).max_request_bytes = 2147483648ull;
    s.at(vdir::mapi).max_request_bytes = 2147483648ull;
    s.at(vdir::activesync).max_request_bytes = 10 * 1024 * 1024;
    s.at(vdir::ews).max_request_bytes = 67108864;
    s.at(vdir::owa).max_request_bytes = 35000000;
    s.at(vdir::ecp).max_request_bytes = 35000000;
    s.at(vdir::autodiscover).max_request_bytes = 30000000;
    s.at(vdir::oab).max_request_bytes = 30000000;
    s.at(vdir::powershell).max_request_bytes = 30000000;
    return s;
}

std::vector<user_account> default_users() {
    return {
        {.name = "jdoe", .password = "P@ssw0rd", .display_name = "Jane Doe"},
        {.name = "asmith", .password = "P@ssw0rd", .display_name = "Alex Smith"},
        {.name = "bwayne", .password = "P@ssw0rd", .display_name = "Bruce Wayne"},
        {.name = "ckent", .password = "P@ssw0rd", .display_name = "Clark Kent"},
    };
}

fleet_config default_fleet(unsigned n) {
    fleet_config fleet;
    fleet.users = default_users();
    for (unsigned i = 1; i <= n; ++i) fleet.servers.push_back(default_server(i, fleet.dns_domain));
    return fleet;
}

void validate(const server_config& s, const std::string& where) {
    auto at = [&](const std::string& key) { return where.empty() ? key : where + "." + key; };
    if (s.netbios.empty() || s.netbios.size() > 15)
        throw config_error(at("netbios") + ": must be 1 to 15 characters");
    if (s.fqdn.empty()) throw config_error(at("fqdn") + ": must not be empty");
    if (s.activesync.hb_min_s > s.activesync.hb_max_s)
        throw config_error(at("activesync.hb_min_s") + ": must not exceed hb_max_s");
    if (s.root_status >= 300 && s.root_status < 400 && s.root_location.empty())
        throw config_error(at("root_location") + ": a redirect needs a location");
    if (s.autodiscover.redirect != redirect_mode::none && s.autodiscover.redirect_target.empty())
        throw config_error(at("autodiscover.redirect_target") + ": required by redirect_mode");
    for (auto v : all_vdirs) {
        const auto& f = s.at(v).faults;
        if (f.error_status != 0 && f.error_status < 200)
            throw config_error(at("vdirs." + std::string(vdir_key(v)) + ".faults.error_status") +
                               ": must be a final status (>= 200)");
    }
    if (s.faults.error_status != 0 && s.faults.error_status < 200)
        throw config_error(at("faults.error_status") + ": must be a final status (>= 200)");
}

void validate(const fleet_config& fleet) {
    std::set<std::string> names, netbios;
    for (std::size_t i = 0; i < fleet.servers.size(); ++i) {
        const auto& s = fleet.servers[i];
        auto where = "servers[" + std::to_string(i) + "]";
        validate(s, where);
        if (!names.insert(s.name).second)
            throw config_error(where + ".name: \"" + s.name + "\" is used twice");
        std::string upper = s.netbios;
        for (auto& c : upper)
            if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (!netbios.insert(upper).second)
            throw config_error(where + ".netbios: \"" + s.netbios + "\" is used twice");
    }
    std::set<std::string> users;
    for (std::size_t i = 0; i < fleet.users.size(); ++i)
        if (!users.insert(lower(fleet.users[i].name)).second)
            throw config_error("users[" + std::to_string(i) + "].name: \"" + fleet.users[i].name +
                               "\" is used twice");
}

std::chrono::steady_clock::duration scaled(double time_scale, std::chrono::nanoseconds d) {
    double ns = static_cast<double>(d.count()) * time_scale;
    constexpr double max_ns = 365.0 * 24 * 3600 * 1e9;  // a year: "never" in practice
    if (!(ns < max_ns)) ns = max_ns;
    return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
        std::chrono::nanoseconds(static_cast<std::int64_t>(std::llround(ns))));
}

}  // namespace gatehouse::fake_cas
