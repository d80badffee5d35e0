#include "load/workload.hpp"

#include "load/errors.hpp"
#include "load/url_workload.hpp"

namespace gatehouse::load {

const std::vector<std::string>& profile_names() {
    static const std::vector<std::string> names{"urls", "w3c"};
    return names;
}

std::unique_ptr<workload> make_workload(const workload_options& options) {
    if (options.profile == "urls") return make_url_workload(options);
    if (options.profile == "w3c") return make_w3c_workload(options);
    std::string known;
    for (const auto& n : profile_names()) known += (known.empty() ? "" : ", ") + n;
    throw load_error(exit_code::unknown_profile,
                     "unknown profile '" + options.profile + "' (known: " + known + ")");
}

}  // namespace gatehouse::load
