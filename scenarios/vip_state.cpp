#include "scenarios/vip_state.hpp"

#include <boost/assert.hpp>

namespace gatehouse::scenarios {

vip_state::vip_state(std::size_t nodes, vip_policy policy)
    : policy_(policy), nodes_(nodes) {
    BOOST_ASSERT(nodes > 0);
    BOOST_ASSERT(policy_.fall > 0 && policy_.rise > 0);
    active_ = 0;
}

std::optional<std::size_t> vip_state::choose() const {
    // Without preemption the current owner keeps the address while it is up.
    if (!policy_.preempt && active_ && nodes_[*active_].up) return active_;
    for (std::size_t i = 0; i < nodes_.size(); ++i)
        if (nodes_[i].up) return i;
    return std::nullopt;
}

bool vip_state::on_probe(std::size_t node, bool ok, time_point now) {
    auto& n = nodes_.at(node);
    if (ok) {
        n.failures = 0;
        if (!n.up && ++n.successes >= policy_.rise) {
            n.up = true;
            n.successes = 0;
        }
    } else {
        n.successes = 0;
        if (n.up && ++n.failures >= policy_.fall) {
            n.up = false;
            n.failures = 0;
        }
    }
    auto next = choose();
    if (next == active_) return false;
    transitions_.push_back({now, active_, next});
    active_ = next;
    return true;
}

}  // namespace gatehouse::scenarios
