#include "proxy/client_address_limiter.hpp"

#include <string_view>

#include <boost/assert.hpp>

namespace gatehouse::proxy {

client_address_limiter::slot::slot(slot&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), a_(other.a_) {}

client_address_limiter::slot& client_address_limiter::slot::operator=(slot&& other) noexcept {
    if (this != &other) {
        if (owner_) owner_->release(a_);
        owner_ = std::exchange(other.owner_, nullptr);
        a_ = other.a_;
    }
    return *this;
}

client_address_limiter::slot::~slot() {
    if (owner_) owner_->release(a_);
}

std::size_t client_address_limiter::key_hash::operator()(const key& k) const noexcept {
    return std::hash<std::string_view>{}(
        std::string_view(reinterpret_cast<const char*>(k.data()), k.size()));
}

client_address_limiter::key client_address_limiter::key_of(const asio::ip::address& a) noexcept {
    if (a.is_v6()) return a.to_v6().to_bytes();
    return asio::ip::make_address_v6(asio::ip::v4_mapped, a.to_v4()).to_bytes();
}

client_address_limiter::shard& client_address_limiter::shard_of(const key& k) const noexcept {
    return shards_[key_hash{}(k) % shard_count];
}

client_address_limiter::slot client_address_limiter::try_acquire(const asio::ip::address& a,
                                                                 std::uint32_t cap) {
    if (cap == 0) return {};
    auto k = key_of(a);
    auto& s = shard_of(k);
    std::lock_guard lock(s.mutex);
    auto it = s.open.try_emplace(k, 0).first;
    if (it->second >= cap) return {};
    ++it->second;
    return slot(this, a);
}

void client_address_limiter::release(const asio::ip::address& a) noexcept {
    auto k = key_of(a);
    auto& s = shard_of(k);
    std::lock_guard lock(s.mutex);
    auto it = s.open.find(k);
    BOOST_ASSERT(it != s.open.end() && it->second > 0);
    if (it == s.open.end()) return;
    if (--it->second == 0) s.open.erase(it);
}

std::uint32_t client_address_limiter::open_from(const asio::ip::address& a) const {
    auto k = key_of(a);
    auto& s = shard_of(k);
    std::lock_guard lock(s.mutex);
    auto it = s.open.find(k);
    return it == s.open.end() ? 0 : it->second;
}

}  // namespace gatehouse::proxy
