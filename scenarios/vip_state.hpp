#pragma once
// Which node of an HA pair owns the virtual IP, decided from health probes, as keepalived's VRRP
// or Windows NLB single-host mode would: the highest-priority healthy node is active; a node is
// declared down after `fall` consecutive failed probes and up again after `rise` successes.
// With `preempt`, a recovered higher-priority node takes the address back. Pure: driven by
// explicit time points, no I/O.

#include <chrono>
#include <cstddef>
#include <optional>
#include <vector>

namespace gatehouse::scenarios {

struct vip_policy {
    unsigned fall = 2;     // consecutive failures before a node is down
    unsigned rise = 2;     // consecutive successes before a down node is up again
    bool preempt = true;   // a recovered higher-priority node becomes active again
};

class vip_state {
public:
    using time_point = std::chrono::steady_clock::time_point;

    struct transition {
        time_point at{};
        std::optional<std::size_t> from{};  // none: no node was active
        std::optional<std::size_t> to{};    // none: every node is down
    };

    // `nodes` in priority order (index 0 is the preferred, "active" node); all start up.
    vip_state(std::size_t nodes, vip_policy policy);

    // Records one probe result for `node`. Returns true when the active node changed.
    bool on_probe(std::size_t node, bool ok, time_point now);

    // The node that receives new connections, or none when every node is down.
    std::optional<std::size_t> active() const noexcept { return active_; }
    bool is_up(std::size_t node) const { return nodes_.at(node).up; }
    const std::vector<transition>& transitions() const noexcept { return transitions_; }

private:
    struct node_state {
        bool up = true;
        unsigned failures = 0;
        unsigned successes = 0;
    };
    std::optional<std::size_t> choose() const;

    vip_policy policy_;
    std::vector<node_state> nodes_;
    std::optional<std::size_t> active_;
    std::vector<transition> transitions_;
};

}  // namespace gatehouse::scenarios
