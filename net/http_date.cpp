#include "net/http_date.hpp"

#include <array>
#include <cstdio>

namespace gatehouse::net {

std::string format_http_date(std::time_t when) {
    static constexpr std::array<const char*, 7> days{"Sun", "Mon", "Tue", "Wed",
                                                     "Thu", "Fri", "Sat"};
    static constexpr std::array<const char*, 12> months{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::tm utc{};
    gmtime_r(&when, &utc);
    std::array<char, 32> text{};
    int n = std::snprintf(text.data(), text.size(), "%s, %02d %s %04d %02d:%02d:%02d GMT",
                          days[utc.tm_wday], utc.tm_mday, months[utc.tm_mon], utc.tm_year + 1900,
                          utc.tm_hour, utc.tm_min, utc.tm_sec);
    return std::string(text.data(), static_cast<std::size_t>(n));
}

std::string_view http_date() {
    thread_local std::time_t cached_second = 0;
    thread_local std::string cached;
    std::time_t now = std::time(nullptr);
    if (now != cached_second) {
        cached = format_http_date(now);
        cached_second = now;
    }
    return cached;
}

}  // namespace gatehouse::net
