#include "load/w3c_log.hpp"

#include "load/errors.hpp"

#include <algorithm>
#include <charconv>
#include <ctime>
#include <fstream>

namespace gatehouse::load {

namespace {

struct columns {
    int method = -1, stem = -1, query = -1, date = -1, time = -1, host = -1, agent = -1;
    std::size_t count = 0;
    std::size_t line = 0;  // where the #Fields directive was
};

std::vector<std::string_view> split_spaces(std::string_view line) {
    std::vector<std::string_view> out;
    std::size_t i = 0;
    while (i < line.size()) {
        while (i < line.size() && line[i] == ' ') ++i;
        auto start = i;
        while (i < line.size() && line[i] != ' ') ++i;
        if (i > start) out.push_back(line.substr(start, i - start));
    }
    return out;
}

bool parse_number(std::string_view s, int& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && p == s.data() + s.size();
}

// "2024-05-01" and "13:45:07" (or "13:45:07.123") as Unix milliseconds.
std::optional<std::int64_t> parse_time(std::string_view date, std::string_view time) {
    int y, mo, d, h, mi, s, ms = 0;
    if (date.size() != 10 || date[4] != '-' || date[7] != '-') return std::nullopt;
    if (time.size() < 8 || time[2] != ':' || time[5] != ':') return std::nullopt;
    if (!parse_number(date.substr(0, 4), y) || !parse_number(date.substr(5, 2), mo) ||
        !parse_number(date.substr(8, 2), d) || !parse_number(time.substr(0, 2), h) ||
        !parse_number(time.substr(3, 2), mi) || !parse_number(time.substr(6, 2), s))
        return std::nullopt;
    if (time.size() > 8) {
        if (time[8] != '.' || time.size() > 12) return std::nullopt;
        auto frac = std::string(time.substr(9));
        frac.resize(3, '0');
        if (!parse_number(frac, ms)) return std::nullopt;
    }
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
    std::tm tm{};
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return std::int64_t(timegm(&tm)) * 1000 + ms;
}

}  // namespace

std::vector<w3c_entry> parse_w3c_log(std::istream& in, const std::string& file_name) {
    std::vector<w3c_entry> entries;
    std::optional<columns> cols;
    std::optional<std::string> directive_date;  // #Date, for logs that have time but no date
    std::string line;
    std::size_t number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        if (line.front() == '#') {
            if (line.starts_with("#Fields:")) {
                columns c;
                c.line = number;
                auto names = split_spaces(std::string_view(line).substr(8));
                c.count = names.size();
                for (std::size_t i = 0; i < names.size(); ++i) {
                    int index = static_cast<int>(i);
                    auto n = names[i];
                    if (n == "cs-method")
                        c.method = index;
                    else if (n == "cs-uri-stem")
                        c.stem = index;
                    else if (n == "cs-uri-query")
                        c.query = index;
                    else if (n == "date")
                        c.date = index;
                    else if (n == "time")
                        c.time = index;
                    else if (n == "cs-host")
                        c.host = index;
                    else if (n == "cs(User-Agent)")
                        c.agent = index;
                }
                if (c.method < 0 || c.stem < 0)
                    throw input_error(file_name, number,
                                      "#Fields must name cs-method and cs-uri-stem");
                cols = c;
            } else if (line.starts_with("#Date:")) {
                auto v = split_spaces(std::string_view(line).substr(6));
                if (!v.empty()) directive_date = std::string(v[0]);
            }
            continue;
        }
        if (!cols) throw input_error(file_name, number, "log entry before any #Fields directive");
        auto f = split_spaces(line);
        if (f.size() != cols->count)
            throw input_error(file_name, number,
                              "expected " + std::to_string(cols->count) +
                                  " fields (per #Fields at line " + std::to_string(cols->line) +
                                  "), found " + std::to_string(f.size()));
        w3c_entry e;
        e.line = number;
        e.method = std::string(f[cols->method]);
        auto stem = f[cols->stem];
        if (stem.empty() || stem.front() != '/')
            throw input_error(file_name, number,
                              "cs-uri-stem '" + std::string(stem) + "' does not start with '/'");
        e.target = std::string(stem);
        if (cols->query >= 0 && f[cols->query] != "-") {
            e.target += '?';
            e.target += f[cols->query];
        }
        if (cols->host >= 0 && f[cols->host] != "-") e.host = std::string(f[cols->host]);
        if (cols->agent >= 0 && f[cols->agent] != "-") {
            e.user_agent = std::string(f[cols->agent]);
            std::replace(e.user_agent.begin(), e.user_agent.end(), '+', ' ');
        }
        if (cols->time >= 0) {
            std::string_view date =
                cols->date >= 0
                    ? f[cols->date]
                    : std::string_view(directive_date ? *directive_date : std::string());
            e.time_ms = parse_time(date, f[cols->time]);
            if (!e.time_ms)
                throw input_error(file_name, number,
                                  "invalid date/time '" + std::string(date) + " " +
                                      std::string(f[cols->time]) + "'");
        }
        entries.push_back(std::move(e));
    }
    if (entries.empty()) throw input_error(file_name, number, "no log entries");
    // Offsets from the earliest time; logs are ordered, but merged logs may not be.
    std::optional<std::int64_t> first;
    for (const auto& e : entries)
        if (e.time_ms && (!first || *e.time_ms < *first)) first = e.time_ms;
    for (auto& e : entries) e.offset_ms = e.time_ms && first ? *e.time_ms - *first : 0;
    std::stable_sort(entries.begin(), entries.end(), [](const w3c_entry& a, const w3c_entry& b) {
        return a.offset_ms < b.offset_ms;
    });
    return entries;
}

std::vector<w3c_entry> load_w3c_log(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw load_error(exit_code::bad_input, path + ": cannot open the log");
    return parse_w3c_log(in, path);
}

}  // namespace gatehouse::load
