#pragma once
// Plain URL lists: one request per line, `METHOD URL [body size]`. The URL is absolute
// (http://host[:port]/path?query, whose authority becomes the Host header) or origin-form
// (/path?query). The body size is bytes, or with a k/m/g suffix KiB/MiB/GiB; the body is
// generated while it is sent, never held in memory. Blank lines and lines starting with '#'
// are skipped. A malformed line throws load_error(bad_input) naming file:line.

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::load {

struct url_entry {
    std::string method{};
    std::string target{};       // origin-form: path and query
    std::string host{};         // authority of an absolute URL (empty for origin-form)
    std::optional<bool> tls{};  // https: true, http: false, origin-form: unknown
    std::uint64_t body_bytes = 0;
    std::size_t line = 0;
};

std::vector<url_entry> parse_url_list(std::istream& in, const std::string& file_name);
std::vector<url_entry> load_url_list(const std::string& path);

// A size such as "512", "64k", "1g" (k = 1024). nullopt when malformed or absurdly large.
std::optional<std::uint64_t> parse_size(std::string_view text);

// Splits an absolute http(s) URL or an origin-form target. False when it is neither.
bool split_url(std::string_view url, std::string& host, std::string& target,
               std::optional<bool>& tls);

}  // namespace gatehouse::load
