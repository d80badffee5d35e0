#pragma once
// IIS W3C extended access logs as a replay source. `#Fields:` directives decide the columns
// (and may change mid-file, as IIS writes a new header after a restart); cs-method and
// cs-uri-stem are required, cs-uri-query ('-' for none), date and time, cs-host, cs(User-Agent)
// (spaces written as '+') and cs(Cookie) are used when present. Other columns are ignored.
// A malformed line throws load_error(bad_input) naming file:line.

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

namespace gatehouse::load {

struct w3c_entry {
    std::string method{};
    std::string target{};                   // stem, plus '?' and the query when there is one
    std::string host{};                     // cs-host, when logged
    std::string user_agent{};               // cs(User-Agent), '+' turned back into spaces
    std::optional<std::int64_t> time_ms{};  // date + time as Unix milliseconds, when logged
    std::int64_t offset_ms = 0;  // time since the first entry that has a time (0 without times)
    std::size_t line = 0;
};

std::vector<w3c_entry> parse_w3c_log(std::istream& in, const std::string& file_name);
std::vector<w3c_entry> load_w3c_log(const std::string& path);

}  // namespace gatehouse::load
