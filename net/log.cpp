#include "net/log.hpp"

#include <chrono>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <mutex>

namespace gatehouse::net {

namespace {

std::atomic<log_level> threshold{log_level::info};
std::mutex output_mutex;

std::string_view name_of(log_level level) {
    switch (level) {
        case log_level::debug: return "debug";
        case log_level::info: return "info";
        case log_level::warning: return "warning";
        case log_level::error: return "error";
        case log_level::off: return "off";
    }
    return "?";
}

}  // namespace

void set_log_level(log_level level) noexcept { threshold.store(level, std::memory_order_relaxed); }

log_level current_log_level() noexcept { return threshold.load(std::memory_order_relaxed); }

bool parse_log_level(std::string_view text, log_level& level) noexcept {
    for (auto candidate : {log_level::debug, log_level::info, log_level::warning,
                           log_level::error, log_level::off}) {
        if (text == name_of(candidate)) {
            level = candidate;
            return true;
        }
    }
    return false;
}

log_line::log_line(log_level level, std::string_view component) : level_(level) {
    auto now = std::chrono::system_clock::now();
    auto seconds = std::chrono::system_clock::to_time_t(now);
    auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) %
                  1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    out_ << std::put_time(&utc, "%Y-%m-%dT%H:%M:%S") << '.' << std::setfill('0') << std::setw(3)
         << millis.count() << "Z " << name_of(level) << ' ' << component << ": ";
}

log_line::~log_line() {
    out_ << '\n';
    auto text = out_.str();
    std::lock_guard lock(output_mutex);
    std::cerr << text << std::flush;
    (void)level_;
}

}  // namespace gatehouse::net
