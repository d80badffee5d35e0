#pragma once
// Managed Availability server component states, as Set-ServerComponentState keeps them: each
// component has a set of requesters (HealthApi, Maintenance, Functional, Sidelined, Deployment)
// holding it inactive, and the component is active only while that set is empty and
// ServerWideOffline's set is empty too (§2.3). Pure; the owner serialises access.

#include "fake-cas/vdir.hpp"

#include <map>
#include <set>
#include <string>
#include <vector>

namespace gatehouse::fake_cas {

inline constexpr std::string_view server_wide_offline = "ServerWideOffline";

class component_states {
public:
    // Sets `component` (a vdir component name or ServerWideOffline, any case) to active or
    // inactive on behalf of `requester`. Returns false for an unknown component.
    bool set(std::string_view component, std::string_view requester, bool active);
    // Forgets every inactive requester.
    void clear() { inactive_.clear(); }

    // The vdir's component is active and the server is not offline.
    bool is_active(vdir v) const;
    bool server_offline() const;
    // Requesters holding `component` inactive (canonical component names).
    std::vector<std::string> inactive_requesters(std::string_view component) const;
    // Every component with its inactive requesters (empty sets omitted).
    const std::map<std::string, std::set<std::string>>& inactive() const { return inactive_; }

private:
    std::map<std::string, std::set<std::string>> inactive_;  // canonical component name → set
};

// Whether HealthCheck.htm answers 200 for probe number `probe` (counted from 1) given the
// component's state and the flap knob: with flap_every = N, the answer inverts for probes
// N+1..2N, 3N+1..4N, and so on.
bool health_answer_ok(bool active, std::uint32_t flap_every, std::uint64_t probe);

}  // namespace gatehouse::fake_cas
