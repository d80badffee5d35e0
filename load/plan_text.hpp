#pragma once
// The text forms of plan values on the command line: durations ("250ms", "30s", "5m", "1h",
// a bare number is seconds), ramp stages ("30s:100,1m:100,10s:0"), the target URL
// ("https://mail.contoso.com:8443") and the user-day mix ("mapi:50,owa:20"). Each parser throws
// load_error(bad_option) naming the option and the offending text.

#include "load/pacing.hpp"
#include "load/target.hpp"

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gatehouse::load {

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view option);
std::vector<stage> parse_stages(std::string_view text, std::string_view option);
// Fills host, port and tls of `target` from an http(s) URL (default ports 80 and 443).
void parse_target_url(std::string_view url, target_options& target);
std::vector<std::pair<std::string, double>> parse_mix(std::string_view text,
                                                      std::string_view option);
auth_scheme parse_auth(std::string_view text);

}  // namespace gatehouse::load
