#include "load/workload.hpp"

#include "load/errors.hpp"
#include "load/exchange_client.hpp"
#include "load/url_workload.hpp"

namespace gatehouse::load {

const std::vector<std::string>& profile_names() {
    static const std::vector<std::string> names{
        "urls", "w3c", "owa", "ews", "activesync", "outlook-anywhere", "mapi", "user-day"};
    return names;
}

std::unique_ptr<workload> make_workload(const workload_options& options) {
    if (options.profile == "urls") return make_url_workload(options);
    if (options.profile == "w3c") return make_w3c_workload(options);
    if (options.profile == "user-day") return make_user_day_workload(options);
    if (auto w = make_session_workload(options.profile)) return w;
    std::string known;
    for (const auto& n : profile_names()) known += (known.empty() ? "" : ", ") + n;
    throw load_error(exit_code::unknown_profile,
                     "unknown profile '" + options.profile + "' (known: " + known + ")");
}

}  // namespace gatehouse::load
