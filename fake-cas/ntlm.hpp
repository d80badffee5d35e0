#pragma once
// NTLM over HTTP ([MS-NLMP], [MS-NTHT]): a codec for the three messages, the server side of the
// handshake bound to one TCP connection, NTLMv2 verification, and the SPNEGO wrapping used when
// NTLMSSP travels inside `Negotiate`. Pure: no I/O, the caller supplies time and randomness.

#include "fake-cas/encoding.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace gatehouse::fake_cas {

namespace ntlm_flags {
inline constexpr std::uint32_t unicode = 0x00000001;
inline constexpr std::uint32_t request_target = 0x00000004;
inline constexpr std::uint32_t sign = 0x00000010;
inline constexpr std::uint32_t seal = 0x00000020;
inline constexpr std::uint32_t ntlm = 0x00000200;
inline constexpr std::uint32_t always_sign = 0x00008000;
inline constexpr std::uint32_t target_type_domain = 0x00010000;
inline constexpr std::uint32_t extended_session_security = 0x00080000;
inline constexpr std::uint32_t target_info = 0x00800000;
inline constexpr std::uint32_t version = 0x02000000;
inline constexpr std::uint32_t negotiate_128 = 0x20000000;
inline constexpr std::uint32_t key_exchange = 0x40000000;
inline constexpr std::uint32_t negotiate_56 = 0x80000000;
}  // namespace ntlm_flags

// The message type (1, 2 or 3) of an NTLMSSP message, 0 when it is not one.
int ntlm_message_type(std::span<const std::uint8_t> message) noexcept;

struct ntlm_negotiate {
    std::uint32_t flags = 0;
};
std::optional<ntlm_negotiate> parse_ntlm_negotiate(std::span<const std::uint8_t> message);

struct ntlm_authenticate {
    std::uint32_t flags = 0;
    std::string user{};
    std::string domain{};
    std::string workstation{};
    bytes lm_response{};
    bytes nt_response{};
};
std::optional<ntlm_authenticate> parse_ntlm_authenticate(std::span<const std::uint8_t> message);

struct ntlm_challenge_params {
    std::array<std::uint8_t, 8> server_challenge{};
    std::uint32_t client_flags = 0;
    std::string nb_domain{};     // "CONTOSO"
    std::string nb_computer{};   // "EX01": the server's own name, so tests see who challenged
    std::string dns_domain{};    // "contoso.local"
    std::string dns_computer{};  // "ex01.contoso.local"
    std::uint64_t filetime = 0;  // 100 ns since 1601-01-01 UTC
};
// A CHALLENGE_MESSAGE with the target-info AV pairs of §3.2.
bytes build_ntlm_challenge(const ntlm_challenge_params& params);
// Parses a CHALLENGE_MESSAGE back (tests, and clients in the load generator's tests).
struct ntlm_challenge_view {
    std::uint32_t flags = 0;
    std::array<std::uint8_t, 8> server_challenge{};
    std::string target_name{};
    std::string nb_computer{};
    std::string dns_computer{};
    bytes target_info{};
};
std::optional<ntlm_challenge_view> parse_ntlm_challenge(std::span<const std::uint8_t> message);

// FILETIME of a system clock time point.
std::uint64_t to_filetime(std::chrono::system_clock::time_point t);

// MD4 (RFC 1320) — the NT hash is MD4 over the UTF-16LE password, and OpenSSL 3 only ships MD4
// in its legacy provider.
std::array<std::uint8_t, 16> md4(std::span<const std::uint8_t> data);
std::array<std::uint8_t, 16> hmac_md5(std::span<const std::uint8_t> key,
                                      std::span<const std::uint8_t> data);
// NTOWFv2(password, user, domain) of [MS-NLMP] 3.3.2.
std::array<std::uint8_t, 16> ntowf_v2(std::string_view password, std::string_view user,
                                      std::string_view domain);
// True when the NTLMv2 response in `auth` was computed from `password` and `server_challenge`.
bool verify_ntlm_v2(const ntlm_authenticate& auth, std::string_view password,
                    const std::array<std::uint8_t, 8>& server_challenge);
// The NTLMv2 NtChallengeResponse a client with `password` computes (tests use it as a client).
bytes compute_ntlm_v2_response(std::string_view password, std::string_view user,
                               std::string_view domain,
                               const std::array<std::uint8_t, 8>& server_challenge,
                               std::span<const std::uint8_t> blob);
// Builds NEGOTIATE and AUTHENTICATE messages as a client would (tests and load clients).
bytes build_ntlm_negotiate(std::uint32_t flags = 0xe2088297);
bytes build_ntlm_authenticate(std::string_view user, std::string_view domain,
                              std::string_view workstation,
                              std::span<const std::uint8_t> nt_response,
                              std::uint32_t flags = 0xe2888215);

// SPNEGO: the NTLMSSP token inside a NegTokenInit/NegTokenResp (nullopt when there is none),
// and a NegTokenResp carrying `token` (accept-incomplete) or completing the exchange.
std::optional<bytes> unwrap_spnego_ntlm(std::span<const std::uint8_t> token);
bytes spnego_response(std::span<const std::uint8_t> ntlm_token);
bytes spnego_accept_completed();

// The server side of one connection's NTLM handshake: NONE → CHALLENGED → (caller verifies) →
// NONE again. A Type 3 is accepted only on the connection that issued the Type 2 and within
// `ttl`; anything else is rejected like IIS does (another 401).
class ntlm_handshake {
public:
    using time_point = std::chrono::steady_clock::time_point;

    enum class outcome { challenge, authenticate, reject };
    struct result {
        outcome kind = outcome::reject;
        bytes token{};                                   // the Type 2 (challenge)
        ntlm_authenticate auth{};                        // the parsed Type 3 (authenticate)
        std::array<std::uint8_t, 8> server_challenge{};  // the challenge it answers
    };

    // Processes one client token. `params` supplies the names and a fresh random challenge,
    // used only when `message` is a Type 1.
    result on_token(std::span<const std::uint8_t> message, const ntlm_challenge_params& params,
                    time_point now, std::chrono::steady_clock::duration ttl);
    bool challenged() const noexcept { return challenged_; }
    void reset() noexcept { challenged_ = false; }

private:
    bool challenged_ = false;
    std::array<std::uint8_t, 8> challenge_{};
    time_point issued_{};
};

}  // namespace gatehouse::fake_cas
