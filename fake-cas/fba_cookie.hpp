#pragma once
// Forms-based authentication cookies (§9.2). Exchange seals the user's Basic credentials into
// five cookies (cadata, cadataTTL, cadataKey, cadataIV, cadataSig) with its TLS certificate's
// key, so a front end holding another key cannot open them and sends the browser back to the
// logon page: the "login loop" of §12.2. Here the server key is derived from the farm secret and
// the server's fba_key_id; a per-login content key and IV are wrapped with AES-256 under it,
// the credentials and expiry are encrypted with AES-128-CBC under the content key, and an
// HMAC-SHA256 over everything is the signature. Canaries (anti-CSRF tokens) are MACs too.
// Pure functions over OpenSSL; thread-safe.

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::fake_cas {

struct fba_key {
    std::array<std::uint8_t, 32> encryption{};
    std::array<std::uint8_t, 32> mac{};

    // The key of a server with `key_id` in a farm with `farm_secret`.
    static fba_key derive(std::string_view farm_secret, std::string_view key_id);
    bool operator==(const fba_key&) const = default;
};

struct fba_cookies {
    std::string cadata{};
    std::string ttl{};
    std::string key{};
    std::string iv{};
    std::string sig{};
};

// Seals `user`/`password` valid until `expires`.
fba_cookies seal_fba(const fba_key& key, std::string_view user, std::string_view password,
                     std::chrono::system_clock::time_point expires);

enum class fba_status { ok, missing, invalid, expired };
struct fba_session {
    fba_status status = fba_status::missing;
    std::string user{};
    std::string password{};
    std::chrono::system_clock::time_point expires{};
};
// Opens cookies sealed by seal_fba. `invalid` when they were sealed under another key or
// tampered with; `expired` when their time has passed (the user is still reported).
fba_session open_fba(const fba_key& key, const fba_cookies& cookies,
                     std::chrono::system_clock::time_point now);

// An anti-CSRF canary for `user` under `secret`, and its check.
std::string make_canary(std::string_view secret, std::string_view user);
bool check_canary(std::string_view secret, std::string_view user, std::string_view canary);

// HMAC-SHA256 (also used for MAPI context cookies and derived secrets).
std::array<std::uint8_t, 32> hmac_sha256(std::string_view key, std::string_view data);

}  // namespace gatehouse::fake_cas
