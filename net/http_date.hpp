#pragma once
// The HTTP Date header value (IMF-fixdate, RFC 9110 §5.6.7), e.g. "Tue, 01 Jul 2025 10:00:00 GMT",
// formatted at most once per second per thread.

#include <ctime>
#include <string>
#include <string_view>

namespace gatehouse::net {

// The current date. The view stays valid until the calling thread asks again.
std::string_view http_date();

// Formats `when` as IMF-fixdate.
std::string format_http_date(std::time_t when);

}  // namespace gatehouse::net
