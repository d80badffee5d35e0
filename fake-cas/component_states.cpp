#include "fake-cas/component_states.hpp"

#include "net/http_message.hpp"

#include <optional>

namespace gatehouse::fake_cas {

namespace {

std::optional<std::string> canonical(std::string_view component) {
    if (net::iequals(component, server_wide_offline)) return std::string(server_wide_offline);
    if (auto v = vdir_from_component(component)) return std::string(component_name(*v));
    return std::nullopt;
}

}  // namespace

bool component_states::set(std::string_view component, std::string_view requester, bool active) {
    auto name = canonical(component);
    if (!name) return false;
    if (active) {
        auto it = inactive_.find(*name);
        if (it == inactive_.end()) return true;
        it->second.erase(std::string(requester));
        if (it->second.empty()) inactive_.erase(it);
    } else {
        inactive_[*name].insert(std::string(requester));
    }
    return true;
}

bool component_states::server_offline() const {
    return inactive_.count(std::string(server_wide_offline)) != 0;
}

bool component_states::is_active(vdir v) const {
    return !server_offline() && inactive_.count(std::string(component_name(v))) == 0;
}

std::vector<std::string> component_states::inactive_requesters(std::string_view component) const {
    auto name = canonical(component);
    if (!name) return {};
    auto it = inactive_.find(*name);
    if (it == inactive_.end()) return {};
    return {it->second.begin(), it->second.end()};
}

bool health_answer_ok(bool active, std::uint32_t flap_every, std::uint64_t probe) {
    if (flap_every == 0 || probe == 0) return active;
    bool flipped = ((probe - 1) / flap_every) % 2 == 1;
    return flipped ? !active : active;
}

}  // namespace gatehouse::fake_cas
