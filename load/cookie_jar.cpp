#include "load/cookie_jar.hpp"

#include "net/http_message.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>

namespace gatehouse::load {

namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Splits "a; b; c" into its parts, one call per part.
template <class F>
void for_each_part(std::string_view s, char separator, F f) {
    while (true) {
        auto end = s.find(separator);
        f(trim(s.substr(0, end)));
        if (end == std::string_view::npos) break;
        s.remove_prefix(end + 1);
    }
}

bool parse_int(std::string_view s, int& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

}  // namespace

bool cookie_jar::path_matches(std::string_view request_path, std::string_view cookie_path) {
    if (request_path == cookie_path) return true;
    if (!request_path.starts_with(cookie_path)) return false;
    return cookie_path.ends_with('/') || request_path[cookie_path.size()] == '/';
}

std::string cookie_jar::default_path(std::string_view request_path) {
    if (request_path.empty() || request_path.front() != '/') return "/";
    auto last = request_path.rfind('/');
    if (last == 0) return "/";
    return std::string(request_path.substr(0, last));
}

std::optional<cookie_jar::time_point> cookie_jar::parse_date(std::string_view text) {
    // Tokens separated by spaces, commas and dashes: a day-of-month, a month name, a year and
    // hh:mm:ss, in any order (RFC 6265 5.1.1 is this lenient too). The weekday is ignored.
    static constexpr std::string_view months[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                  "jul", "aug", "sep", "oct", "nov", "dec"};
    int day = -1, month = -1, year = -1, hour = -1, minute = -1, second = -1;
    std::size_t i = 0;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == ',' || text[i] == '-')) ++i;
        auto start = i;
        while (i < text.size() && text[i] != ' ' && text[i] != ',' && text[i] != '-') ++i;
        auto token = text.substr(start, i - start);
        if (token.empty()) continue;
        if (hour < 0 && token.size() == 8 && token[2] == ':' && token[5] == ':') {
            if (!parse_int(token.substr(0, 2), hour) || !parse_int(token.substr(3, 2), minute) ||
                !parse_int(token.substr(6, 2), second))
                return std::nullopt;
            continue;
        }
        int number = 0;
        if (parse_int(token, number)) {
            if (day < 0 && token.size() <= 2)
                day = number;
            else if (year < 0)
                year = token.size() <= 2 ? (number < 70 ? 2000 : 1900) + number : number;
            continue;
        }
        if (month < 0 && token.size() >= 3) {
            for (int m = 0; m < 12; ++m)
                if (net::iequals(token.substr(0, 3), months[m])) month = m;
        }
    }
    if (day < 1 || day > 31 || month < 0 || year < 1601 || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 60)
        return std::nullopt;
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

void cookie_jar::store(std::string_view set_cookie, std::string_view request_path, time_point now) {
    auto semicolon = set_cookie.find(';');
    auto pair = trim(set_cookie.substr(0, semicolon));
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) return;
    cookie c;
    c.name = std::string(trim(pair.substr(0, eq)));
    c.value = std::string(trim(pair.substr(eq + 1)));
    if (c.name.empty()) return;
    if (c.value.size() >= 2 && c.value.front() == '"' && c.value.back() == '"')
        c.value = c.value.substr(1, c.value.size() - 2);

    std::optional<time_point> max_age_expiry, expires;
    if (semicolon != std::string_view::npos) {
        for_each_part(set_cookie.substr(semicolon + 1), ';', [&](std::string_view attr) {
            auto aeq = attr.find('=');
            auto name = trim(attr.substr(0, aeq));
            auto value =
                aeq == std::string_view::npos ? std::string_view{} : trim(attr.substr(aeq + 1));
            if (net::iequals(name, "path")) {
                if (!value.empty() && value.front() == '/') c.path = std::string(value);
            } else if (net::iequals(name, "domain")) {
                c.domain = std::string(value);
            } else if (net::iequals(name, "max-age")) {
                int seconds = 0;
                if (parse_int(value, seconds))
                    max_age_expiry =
                        seconds <= 0 ? time_point::min() : now + std::chrono::seconds(seconds);
            } else if (net::iequals(name, "expires")) {
                expires = parse_date(value);
            } else if (net::iequals(name, "secure")) {
                c.secure = true;
            } else if (net::iequals(name, "httponly")) {
                c.http_only = true;
            }
        });
    }
    if (c.path.empty()) c.path = default_path(request_path);
    c.expires = max_age_expiry ? max_age_expiry : expires;  // Max-Age wins (RFC 6265 5.3)

    auto same = std::find_if(cookies_.begin(), cookies_.end(),
                             [&](const cookie& o) { return o.name == c.name && o.path == c.path; });
    bool expired = c.expires && *c.expires <= now;
    if (same != cookies_.end()) {
        if (expired) {
            cookies_.erase(same);
            return;
        }
        c.created = same->created;  // replacing keeps the creation order (5.3 step 11)
        *same = std::move(c);
        return;
    }
    if (expired) return;
    c.created = next_++;
    cookies_.push_back(std::move(c));
}

void cookie_jar::append_header(std::string& out, std::string_view request_path, bool secure_channel,
                               time_point now) const {
    // Longer paths first, then earlier creation (RFC 6265 5.4 step 2). Jars are small.
    const cookie* chosen[64];
    std::size_t n = 0;
    for (const auto& c : cookies_) {
        if (n == std::size(chosen)) break;
        if (c.expires && *c.expires <= now) continue;
        if (c.secure && !secure_channel) continue;
        if (!path_matches(request_path, c.path)) continue;
        chosen[n++] = &c;
    }
    std::sort(chosen, chosen + n, [](const cookie* a, const cookie* b) {
        if (a->path.size() != b->path.size()) return a->path.size() > b->path.size();
        return a->created < b->created;
    });
    for (std::size_t i = 0; i < n; ++i) {
        if (i > 0) out += "; ";
        out += chosen[i]->name;
        out += '=';
        out += chosen[i]->value;
    }
}

std::string cookie_jar::header(std::string_view request_path, bool secure_channel,
                               time_point now) const {
    std::string out;
    append_header(out, request_path, secure_channel, now);
    return out;
}

std::optional<std::string_view> cookie_jar::find(std::string_view name) const {
    const cookie* best = nullptr;
    for (const auto& c : cookies_)
        if (c.name == name && (!best || c.path.size() > best->path.size())) best = &c;
    if (!best) return std::nullopt;
    return std::string_view(best->value);
}

}  // namespace gatehouse::load
