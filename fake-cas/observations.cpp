#include "fake-cas/observations.hpp"

#include "fake-cas/encoding.hpp"

#include <algorithm>

namespace gatehouse::fake_cas {

namespace {
std::atomic<std::uint64_t> next_connection_id{1};
}

std::string_view slot_name(std::size_t slot) noexcept {
    if (slot < vdir_count) return vdir_key(static_cast<vdir>(slot));
    return slot == root_slot ? "root" : "other";
}

std::string_view long_poll_name(long_poll kind) noexcept {
    switch (kind) {
        case long_poll::eas_ping:
            return "eas_ping";
        case long_poll::mapi_notification_wait:
            return "mapi_notification_wait";
        case long_poll::rpc_in:
            return "rpc_in";
        case long_poll::rpc_out:
            return "rpc_out";
        case long_poll::ews_streaming:
            return "ews_streaming";
    }
    return "unknown";
}

std::size_t observation_snapshot::requests_between(std::chrono::system_clock::time_point from,
                                                   std::chrono::system_clock::time_point to) const {
    return static_cast<std::size_t>(std::count_if(
        log.begin(), log.end(), [&](const auto& r) { return r.time >= from && r.time < to; }));
}

const connection_record* observation_snapshot::connection(std::uint64_t id) const {
    for (const auto& c : connections)
        if (c.id == id) return &c;
    return nullptr;
}

observations::observations(std::size_t log_capacity, std::size_t closed_kept)
    : closed_kept_(closed_kept), ring_(log_capacity) {}

std::uint64_t observations::open_connection(std::string remote_address, unsigned short remote_port,
                                            bool tls) {
    auto id = next_connection_id.fetch_add(1, std::memory_order_relaxed);
    connection_record r;
    r.id = id;
    r.remote_address = std::move(remote_address);
    r.remote_port = remote_port;
    r.tls = tls;
    r.opened = std::chrono::system_clock::now();
    std::lock_guard lock(mutex_);
    ++accepted_;
    open_.emplace(id, std::move(r));
    return id;
}

void observations::close_connection(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    auto it = open_.find(id);
    if (it == open_.end()) return;
    it->second.open = false;
    it->second.closed = std::chrono::system_clock::now();
    closed_.push_back(std::move(it->second));
    open_.erase(it);
    trim_closed();
}

void observations::trim_closed() {
    while (closed_.size() > closed_kept_) closed_.pop_front();
}

void observations::authenticated(std::uint64_t id, std::string_view user, std::string_view scheme) {
    std::lock_guard lock(mutex_);
    auto it = open_.find(id);
    if (it == open_.end()) return;
    it->second.user.assign(user);
    it->second.auth_scheme.assign(scheme);
}

void observations::ntlm_handshake(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    ++handshakes_;
    if (auto it = open_.find(id); it != open_.end()) ++it->second.ntlm_handshakes;
}

bool observations::identity_seen(std::uint64_t id, std::string_view identity) {
    if (identity.empty()) return false;
    auto normalized = normalize_user(identity);
    std::lock_guard lock(mutex_);
    auto it = open_.find(id);
    if (it == open_.end()) return false;
    auto& c = it->second;
    bool mismatch = false;
    if (!c.user.empty() && normalize_user(c.user) != normalized) mismatch = true;
    if (std::find(c.identities.begin(), c.identities.end(), normalized) == c.identities.end()) {
        if (!c.identities.empty()) mismatch = true;
        c.identities.push_back(normalized);
    }
    if (mismatch && !c.identity_mismatch) ++mismatches_;
    if (mismatch) c.identity_mismatch = true;
    return mismatch;
}

void observations::record(const request_event& e) {
    std::lock_guard lock(mutex_);
    auto& route = routes_[e.slot];
    ++route.requests;
    if (e.health_probe) ++route.health_probes;
    route.bytes_in += e.bytes_in;
    route.bytes_out += e.bytes_out;
    ++route.statuses[e.status];
    if (e.status < statuses_.size()) ++statuses_[e.status];
    ++requests_;
    bytes_in_ += e.bytes_in;
    bytes_out_ += e.bytes_out;
    if (auto it = open_.find(e.connection_id); it != open_.end()) {
        ++it->second.requests;
        it->second.bytes_in += e.bytes_in;
        it->second.bytes_out += e.bytes_out;
    }
    if (ring_.empty()) return;
    auto& r = ring_[ring_next_];
    ring_next_ = (ring_next_ + 1) % ring_.size();
    ring_size_ = std::min(ring_size_ + 1, ring_.size());
    r.time = e.time;
    r.connection_id = e.connection_id;
    r.method.assign(e.method);
    r.target.assign(e.target);
    r.route.assign(slot_name(e.slot));
    r.status = e.status;
    r.user.assign(e.user);
    r.duration_us = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(e.duration).count());
    r.bytes_in = e.bytes_in;
    r.bytes_out = e.bytes_out;
    r.x_forwarded_for.assign(e.x_forwarded_for);
    r.x_arr_log_id.assign(e.x_arr_log_id);
    r.host.assign(e.host);
    r.health_probe = e.health_probe;
    r.identity_mismatch = e.identity_mismatch;
}

void observations::long_poll_started(long_poll kind) {
    std::lock_guard lock(mutex_);
    ++long_polls_[static_cast<std::size_t>(kind)];
}

void observations::long_poll_ended(long_poll kind) {
    std::lock_guard lock(mutex_);
    auto& n = long_polls_[static_cast<std::size_t>(kind)];
    if (n > 0) --n;
}

observation_snapshot observations::snapshot(bool with_log) const {
    std::lock_guard lock(mutex_);
    observation_snapshot s;
    s.routes = routes_;
    for (std::size_t i = 0; i < statuses_.size(); ++i)
        if (statuses_[i] != 0) s.statuses[static_cast<unsigned>(i)] = statuses_[i];
    s.requests = requests_;
    s.connections_accepted = accepted_;
    s.connections_open = open_.size();
    s.bytes_in = bytes_in_;
    s.bytes_out = bytes_out_;
    s.identity_mismatches = mismatches_;
    s.ntlm_handshakes = handshakes_;
    s.open_long_polls = long_polls_;
    std::vector<connection_record> open;
    for (const auto& [id, c] : open_) open.push_back(c);
    std::sort(open.begin(), open.end(), [](auto& a, auto& b) { return a.id < b.id; });
    s.connections = std::move(open);
    s.connections.insert(s.connections.end(), closed_.begin(), closed_.end());
    if (with_log && !ring_.empty()) {
        s.log.reserve(ring_size_);
        std::size_t start = (ring_next_ + ring_.size() - ring_size_) % ring_.size();
        for (std::size_t i = 0; i < ring_size_; ++i)
            s.log.push_back(ring_[(start + i) % ring_.size()]);
    }
    return s;
}

void observations::reset() {
    std::lock_guard lock(mutex_);
    routes_ = {};
    statuses_ = {};
    requests_ = 0;
    accepted_ = 0;
    bytes_in_ = bytes_out_ = 0;
    mismatches_ = 0;
    handshakes_ = 0;
    closed_.clear();
    for (auto& [id, c] : open_) {
        c.requests = 0;
        c.bytes_in = c.bytes_out = 0;
        c.ntlm_handshakes = 0;
        c.identity_mismatch = false;
        c.identities.clear();
        if (!c.user.empty()) c.identities.push_back(normalize_user(c.user));
    }
    ring_next_ = ring_size_ = 0;
}

}  // namespace gatehouse::fake_cas
