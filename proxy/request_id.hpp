#pragma once
// Request ids for X-ARR-LOG-ID and the access log: random version-4 GUIDs in the usual text form
// ("3f2504e0-4f89-41d3-9a0c-0305e82c3301"), from a per-thread xoroshiro128+ generator seeded
// once from std::random_device. Not for secrets; unique enough to correlate logs.

#include <array>
#include <cstdint>
#include <string_view>

namespace gatehouse::proxy {

class request_id_generator {
public:
    request_id_generator();
    // The next id. The view stays valid until the next call.
    std::string_view next() noexcept;

private:
    std::uint64_t random() noexcept;
    std::uint64_t s0_ = 0;
    std::uint64_t s1_ = 0;
    std::array<char, 36> text_{};
};

}  // namespace gatehouse::proxy
