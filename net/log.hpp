#pragma once
// Process-wide logging to standard error, one line per event:
//   2026-11-23T10:00:00.123Z info proxy: listening on 127.0.0.1:8080
// GCC 12 has no <format>, so a line is built with an ostream and written whole under a lock.
// Levels below the threshold cost one comparison: the stream expression is not evaluated.

#include <atomic>
#include <sstream>
#include <string_view>

namespace gatehouse::net {

enum class log_level { debug = 0, info, warning, error, off };

void set_log_level(log_level level) noexcept;
log_level current_log_level() noexcept;
// Parses "debug", "info", "warning", "error" or "off"; false when `text` is none of them.
bool parse_log_level(std::string_view text, log_level& level) noexcept;

// One log line; written to standard error when destroyed.
class log_line {
public:
    log_line(log_level level, std::string_view component);
    ~log_line();
    log_line(const log_line&) = delete;
    log_line& operator=(const log_line&) = delete;
    std::ostream& stream() { return out_; }

private:
    log_level level_;
    std::ostringstream out_;
};

inline bool log_enabled(log_level level) noexcept { return level >= current_log_level(); }

}  // namespace gatehouse::net

// GATEHOUSE_LOG(info, "proxy") << "listening on " << endpoint;
#define GATEHOUSE_LOG(level, component)                                                 \
    if (!::gatehouse::net::log_enabled(::gatehouse::net::log_level::level)) {           \
    } else                                                                              \
        ::gatehouse::net::log_line(::gatehouse::net::log_level::level, component).stream()
