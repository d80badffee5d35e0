#include "load/plan_text.hpp"

#include "load/errors.hpp"

#include <charconv>
#include <cmath>

namespace gatehouse::load {

namespace {

[[noreturn]] void bad(std::string_view option, const std::string& message) {
    throw load_error(exit_code::bad_option, std::string(option) + ": " + message);
}

bool parse_double(std::string_view s, double& out) {
    if (s.empty()) return false;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size() && std::isfinite(out);
}

// 'text', built by appending (GCC 12 warns falsely, -Wrestrict, on "'" + std::string).
std::string quoted(std::string_view text) {
    std::string out;
    out.reserve(text.size() + 2);
    out += '\'';
    out.append(text);
    out += '\'';
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
}

}  // namespace

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view option) {
    auto t = trim(text);
    double unit_ms = 1000;
    std::string_view number = t;
    if (t.ends_with("ms")) {
        unit_ms = 1;
        number = t.substr(0, t.size() - 2);
    } else if (t.ends_with("s")) {
        number = t.substr(0, t.size() - 1);
    } else if (t.ends_with("m")) {
        unit_ms = 60'000;
        number = t.substr(0, t.size() - 1);
    } else if (t.ends_with("h")) {
        unit_ms = 3'600'000;
        number = t.substr(0, t.size() - 1);
    }
    double value = 0;
    if (!parse_double(number, value) || value < 0)
        bad(option, "invalid duration '" + std::string(text) + "' (examples: 250ms, 30s, 5m, 1h)");
    return std::chrono::milliseconds(std::llround(value * unit_ms));
}

std::vector<stage> parse_stages(std::string_view text, std::string_view option) {
    std::vector<stage> out;
    std::string_view rest = text;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        auto part = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        auto colon = part.find(':');
        if (colon == std::string_view::npos)
            bad(option, "stage '" + std::string(part) + "' is not DURATION:TARGET");
        stage s;
        s.length = parse_duration(part.substr(0, colon), option);
        if (!parse_double(trim(part.substr(colon + 1)), s.target) || s.target < 0)
            bad(option, "stage '" + std::string(part) + "': invalid target");
        if (s.length.count() <= 0) bad(option, "stage '" + std::string(part) + "': zero length");
        out.push_back(s);
    }
    if (out.empty()) bad(option, "no stages");
    return out;
}

void parse_target_url(std::string_view url, target_options& target) {
    std::string_view rest;
    if (url.starts_with("http://")) {
        target.tls = false;
        rest = url.substr(7);
    } else if (url.starts_with("https://")) {
        target.tls = true;
        rest = url.substr(8);
    } else {
        bad("--target", quoted(url) + " is not an http:// or https:// URL");
    }
    rest = rest.substr(0, rest.find('/'));
    if (rest.empty()) bad("--target", quoted(url) + " has no host");
    std::string_view host = rest, port;
    if (rest.front() == '[') {  // IPv6 literal
        auto close = rest.find(']');
        if (close == std::string_view::npos) bad("--target", "unterminated IPv6 address");
        host = rest.substr(1, close - 1);
        if (close + 1 < rest.size()) {
            if (rest[close + 1] != ':') bad("--target", "junk after the IPv6 address");
            port = rest.substr(close + 2);
        }
    } else if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        host = rest.substr(0, colon);
        port = rest.substr(colon + 1);
    }
    if (host.empty()) bad("--target", quoted(url) + " has no host");
    if (!port.empty()) {
        unsigned p = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
        if (ec != std::errc() || end != port.data() + port.size() || p == 0 || p > 65535)
            bad("--target", "invalid port '" + std::string(port) + "'");
    }
    target.host = std::string(host);
    target.port = port.empty() ? (target.tls ? "443" : "80") : std::string(port);
}

std::vector<std::pair<std::string, double>> parse_mix(std::string_view text,
                                                      std::string_view option) {
    std::vector<std::pair<std::string, double>> out;
    std::string_view rest = text;
    while (!rest.empty()) {
        auto comma = rest.find(',');
        auto part = trim(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
        auto colon = part.find(':');
        double weight = 0;
        if (colon == std::string_view::npos || !parse_double(part.substr(colon + 1), weight) ||
            weight < 0)
            bad(option, quoted(part) + " is not NAME:WEIGHT");
        out.emplace_back(std::string(part.substr(0, colon)), weight);
    }
    double total = 0;
    for (auto& [name, w] : out) total += w;
    if (!(total > 0)) bad(option, "the weights add up to nothing");
    return out;
}

auth_scheme parse_auth(std::string_view text) {
    if (text == "none") return auth_scheme::none;
    if (text == "basic") return auth_scheme::basic;
    if (text == "ntlm") return auth_scheme::ntlm;
    if (text == "negotiate") return auth_scheme::negotiate;
    bad("--auth", "unknown scheme '" + std::string(text) + "' (none, basic, ntlm, negotiate)");
}

}  // namespace gatehouse::load
