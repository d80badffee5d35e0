#pragma once
// The per-client-address connection cap of one listener (limits.max_connections_per_client):
// how many connections each source address has open, across every worker thread. A connection
// beyond the cap is closed as soon as it is accepted; other addresses are not affected.
//
// Thread-safe. The counts are sharded by address so that workers accepting from different
// clients rarely meet on a lock; with the cap off (0) nothing is counted at all.

#include "net/awaitable.hpp"

#include <array>
#include <cstdint>
#include <mutex>
#include <unordered_map>

namespace gatehouse::proxy {

class client_address_limiter {
public:
    // One connection's hold on its address's count; releases it when destroyed. Move-only.
    class slot {
    public:
        slot() = default;
        slot(slot&& other) noexcept;
        slot& operator=(slot&& other) noexcept;
        slot(const slot&) = delete;
        slot& operator=(const slot&) = delete;
        ~slot();
        bool held() const noexcept { return owner_ != nullptr; }

    private:
        friend class client_address_limiter;
        slot(client_address_limiter* owner, const asio::ip::address& a) : owner_(owner), a_(a) {}
        client_address_limiter* owner_ = nullptr;
        asio::ip::address a_{};
    };

    // A slot for a new connection from `a`, or an empty slot (not held) when `a` already has
    // `cap` connections open. A cap of 0 means no cap: the slot is not held and nothing counted.
    slot try_acquire(const asio::ip::address& a, std::uint32_t cap);

    // Connections open from `a` that hold a slot.
    std::uint32_t open_from(const asio::ip::address& a) const;

private:
    using key = std::array<unsigned char, 16>;  // IPv6, or IPv4 mapped into IPv6
    struct key_hash {
        std::size_t operator()(const key& k) const noexcept;
    };
    struct shard {
        mutable std::mutex mutex;
        std::unordered_map<key, std::uint32_t, key_hash> open;
    };

    static key key_of(const asio::ip::address& a) noexcept;
    shard& shard_of(const key& k) const noexcept;
    void release(const asio::ip::address& a) noexcept;

    static constexpr std::size_t shard_count = 16;
    mutable std::array<shard, shard_count> shards_;
};

}  // namespace gatehouse::proxy
