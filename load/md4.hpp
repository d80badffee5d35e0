#pragma once
// MD4 (RFC 1320), needed only for the NT hash of NTLM. OpenSSL 3 keeps MD4 in its legacy
// provider, which a deployment may not ship; this small implementation removes the dependency.
// MD4 is broken as a general-purpose hash: use it for nothing else.

#include <array>
#include <cstdint>
#include <span>

namespace gatehouse::load {

std::array<std::uint8_t, 16> md4(std::span<const std::uint8_t> data);

}  // namespace gatehouse::load
