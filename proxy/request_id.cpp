#include "proxy/request_id.hpp"

#include <random>

namespace gatehouse::proxy {

request_id_generator::request_id_generator() {
    std::random_device device;
    s0_ = (std::uint64_t(device()) << 32) | device();
    s1_ = (std::uint64_t(device()) << 32) | device();
    if (s0_ == 0 && s1_ == 0) s1_ = 1;
}

std::uint64_t request_id_generator::random() noexcept {
    std::uint64_t a = s0_;
    std::uint64_t b = s1_;
    std::uint64_t result = a + b;
    b ^= a;
    s0_ = ((a << 24) | (a >> 40)) ^ b ^ (b << 16);
    s1_ = (b << 37) | (b >> 27);
    return result;
}

std::string_view request_id_generator::next() noexcept {
    static constexpr char hex[] = "0123456789abcdef";
    std::uint64_t hi = random();
    std::uint64_t lo = random();
    hi = (hi & ~0xf000ull) | 0x4000ull;                  // version 4
    lo = (lo & ~(0xc000ull << 48)) | (0x8000ull << 48);  // variant 10xx
    std::array<unsigned char, 16> bytes;
    for (int i = 0; i < 8; ++i) {
        bytes[i] = static_cast<unsigned char>(hi >> (56 - 8 * i));
        bytes[8 + i] = static_cast<unsigned char>(lo >> (56 - 8 * i));
    }
    std::size_t out = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) text_[out++] = '-';
        text_[out++] = hex[bytes[i] >> 4];
        text_[out++] = hex[bytes[i] & 15];
    }
    return {text_.data(), text_.size()};
}

}  // namespace gatehouse::proxy
