#include "load/url_list.hpp"

#include "load/errors.hpp"
#include "net/http_message.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

namespace gatehouse::load {

namespace {

bool valid_target_char(char c) {
    return c > 0x20 && c != 0x7f;
}

std::vector<std::string_view> words(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        auto start = i;
        while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

}  // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
    if (text.empty()) return std::nullopt;
    std::uint64_t multiplier = 1;
    switch (text.back()) {
        case 'k':
        case 'K':
            multiplier = 1ull << 10;
            break;
        case 'm':
        case 'M':
            multiplier = 1ull << 20;
            break;
        case 'g':
        case 'G':
            multiplier = 1ull << 30;
            break;
        default:
            break;
    }
    if (multiplier != 1) text.remove_suffix(1);
    std::uint64_t value = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || p != text.data() + text.size() || text.empty()) return std::nullopt;
    constexpr std::uint64_t limit = 1ull << 40;  // 1 TiB: beyond, surely a typo
    if (value > limit / multiplier) return std::nullopt;
    return value * multiplier;
}

bool split_url(std::string_view url, std::string& host, std::string& target,
               std::optional<bool>& tls) {
    host.clear();
    tls.reset();
    if (!url.empty() && url.front() == '/') {
        target = std::string(url);
    } else {
        std::string_view rest;
        if (url.size() > 7 && net::iequals(url.substr(0, 7), "http://")) {
            tls = false;
            rest = url.substr(7);
        } else if (url.size() > 8 && net::iequals(url.substr(0, 8), "https://")) {
            tls = true;
            rest = url.substr(8);
        } else {
            return false;
        }
        auto slash = rest.find_first_of("/?");
        host = std::string(rest.substr(0, slash));
        if (host.empty() || host.find('@') != std::string::npos) return false;
        // Built by appending: GCC 12 warns falsely (-Wrestrict) on "/" + string.
        target.assign(1, '/');
        if (slash != std::string_view::npos) {
            if (rest[slash] == '/') target.clear();
            target.append(rest.substr(slash));
        }
    }
    for (char c : target)
        if (!valid_target_char(c)) return false;
    if (auto hash = target.find('#'); hash != std::string::npos) target.resize(hash);
    return true;
}

std::vector<url_entry> parse_url_list(std::istream& in, const std::string& file_name) {
    std::vector<url_entry> entries;
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto w = words(line);
        if (w.empty() || w.front().front() == '#') continue;
        if (w.size() < 2)
            throw input_error(file_name, number,
                              "expected METHOD URL [body size], found '" + line + "'");
        if (w.size() > 3)
            throw input_error(file_name, number,
                              "too many fields: expected METHOD URL "
                              "[body size]");
        url_entry e;
        e.line = number;
        for (char c : w[0])
            if (!net::is_token_char(c))
                throw input_error(file_name, number, "invalid method '" + std::string(w[0]) + "'");
        e.method = std::string(w[0]);
        if (!split_url(w[1], e.host, e.target, e.tls))
            throw input_error(
                file_name, number,
                "invalid URL '" + std::string(w[1]) + "': expected http(s)://host/path or /path");
        if (w.size() == 3) {
            auto size = parse_size(w[2]);
            if (!size)
                throw input_error(file_name, number,
                                  "invalid body size '" + std::string(w[2]) +
                                      "': expected bytes, or a number with k, m or g");
            e.body_bytes = *size;
        }
        entries.push_back(std::move(e));
    }
    if (entries.empty()) throw input_error(file_name, number, "no requests in the list");
    return entries;
}

std::vector<url_entry> load_url_list(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw load_error(exit_code::bad_input, path + ": cannot open the URL list");
    return parse_url_list(in, path);
}

}  // namespace gatehouse::load
