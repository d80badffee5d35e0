#pragma once
// The client side of NTLM ([MS-NLMP]) as HTTP clients use it ([MS-NTHT]): a NEGOTIATE message
// (type 1), the server's CHALLENGE (type 2) parsed, and an AUTHENTICATE message (type 3) with an
// NTLMv2 response computed from the password. No signing, sealing or key exchange: HTTP needs
// none, and a server that demands them rejects the type 3 like it would any other client's.
// Pure: the caller supplies the client challenge and timestamp (random and "now" in real use),
// so the messages of [MS-NLMP] §4.2.4 can be reproduced exactly.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::load::ntlm {

using bytes16 = std::array<std::uint8_t, 16>;
using bytes8 = std::array<std::uint8_t, 8>;

// Negotiate flags ([MS-NLMP] 2.2.2.5).
enum flag : std::uint32_t {
    negotiate_unicode = 0x00000001,
    negotiate_oem = 0x00000002,
    request_target = 0x00000004,
    negotiate_ntlm = 0x00000200,
    negotiate_always_sign = 0x00008000,
    negotiate_extended_session_security = 0x00080000,
    negotiate_target_info = 0x00800000,
    negotiate_version = 0x02000000,
    negotiate_128 = 0x20000000,
    negotiate_56 = 0x80000000,
};

// What this client offers in its NEGOTIATE message and accepts from the CHALLENGE.
inline constexpr std::uint32_t client_flags =
    negotiate_unicode | negotiate_oem | request_target | negotiate_ntlm | negotiate_always_sign |
    negotiate_extended_session_security | negotiate_target_info | negotiate_version |
    negotiate_128 | negotiate_56;

struct identity {
    std::string domain{};
    std::string user{};
    std::string password{};
    std::string workstation{};
};

struct challenge {
    std::uint32_t flags = 0;
    bytes8 server_challenge{};
    std::string target_name{};                 // raw bytes as sent (UTF-16LE when Unicode)
    std::string target_info{};                 // AV_PAIR list, raw bytes
    std::optional<std::uint64_t> timestamp{};  // MsvAvTimestamp, when the server sent one
    std::string netbios_computer{};            // MsvAvNbComputerName, decoded (ASCII subset)
};

// UTF-8 text as UTF-16LE bytes (characters beyond the BMP become surrogate pairs).
std::string utf16le(std::string_view utf8);

// MD4(UTF-16LE(password)).
bytes16 nt_hash(std::string_view password);
// NTOWFv2 = HMAC-MD5(nt_hash(password), UTF-16LE(UPPERCASE(user) + domain)).
bytes16 ntowf_v2(std::string_view password, std::string_view user, std::string_view domain);
bytes16 hmac_md5(std::string_view key, std::string_view data);

// The NEGOTIATE message: client_flags, no domain or workstation, version 10.0.19041.
std::string negotiate_message();

// Parses a CHALLENGE message; nullopt when it is truncated, not NTLMSSP, or not type 2.
std::optional<challenge> parse_challenge(std::string_view message);

// The NTLMv2 responses for `id` answering `c`.
struct v2_responses {
    std::string lm{};  // LMv2: HMAC-MD5(NTOWFv2, server ‖ client challenge) ‖ client
    std::string nt{};  // NTProofStr ‖ blob
    bytes16 session_base_key{};
};
v2_responses compute_v2(const identity& id, const challenge& c, const bytes8& client_challenge,
                        std::uint64_t timestamp);

// The AUTHENTICATE message answering `c`. `timestamp` (a FILETIME) is used only when the
// challenge carries no MsvAvTimestamp; with one, the server's time is echoed as [MS-NLMP]
// 3.1.5.1.2 requires.
std::string authenticate_message(const identity& id, const challenge& c,
                                 const bytes8& client_challenge, std::uint64_t timestamp);

// The current time as a Windows FILETIME (100 ns ticks since 1601-01-01).
std::uint64_t filetime_now();

}  // namespace gatehouse::load::ntlm
