#include "fake-cas/fba_cookie.hpp"

#include "fake-cas/encoding.hpp"

#include <cstring>
#include <memory>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace gatehouse::fake_cas {

namespace {

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

std::optional<bytes> crypt(const EVP_CIPHER* cipher, std::span<const std::uint8_t> key,
                           std::span<const std::uint8_t> iv, std::span<const std::uint8_t> in,
                           bool encrypt) {
    cipher_ctx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    if (!ctx) return std::nullopt;
    if (EVP_CipherInit_ex(ctx.get(), cipher, nullptr, key.data(), iv.data(), encrypt ? 1 : 0) != 1)
        return std::nullopt;
    bytes out(in.size() + 32);
    int n = 0, tail = 0;
    if (EVP_CipherUpdate(ctx.get(), out.data(), &n, in.data(), static_cast<int>(in.size())) != 1)
        return std::nullopt;
    if (EVP_CipherFinal_ex(ctx.get(), out.data() + n, &tail) != 1) return std::nullopt;
    out.resize(static_cast<std::size_t>(n + tail));
    return out;
}

std::span<const std::uint8_t> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::array<std::uint8_t, 32> mac_of(const fba_key& key, const fba_cookies& c) {
    std::string input = "Fba Rocks!";
    for (const auto* part : {&c.key, &c.iv, &c.ttl, &c.cadata}) {
        input += '|';
        input += *part;
    }
    std::array<std::uint8_t, 32> out{};
    unsigned len = 0;
    HMAC(EVP_sha256(), key.mac.data(), static_cast<int>(key.mac.size()),
         reinterpret_cast<const std::uint8_t*>(input.data()), input.size(), out.data(), &len);
    return out;
}

// The fixed IV under which the server key wraps the per-login key and IV (each wrapped value
// is random, so a fixed IV leaks nothing here).
constexpr std::array<std::uint8_t, 16> wrap_iv = {};

}  // namespace

std::array<std::uint8_t, 32> hmac_sha256(std::string_view key, std::string_view data) {
    std::array<std::uint8_t, 32> out{};
    unsigned len = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const std::uint8_t*>(data.data()), data.size(), out.data(), &len);
    return out;
}

fba_key fba_key::derive(std::string_view farm_secret, std::string_view key_id) {
    fba_key k;
    k.encryption = hmac_sha256(farm_secret, "fba-encryption|" + std::string(key_id));
    k.mac = hmac_sha256(farm_secret, "fba-mac|" + std::string(key_id));
    return k;
}

fba_cookies seal_fba(const fba_key& key, std::string_view user, std::string_view password,
                     std::chrono::system_clock::time_point expires) {
    std::array<std::uint8_t, 16> content_key{}, iv{};
    random_bytes(content_key);
    random_bytes(iv);
    auto wrapped_key = crypt(EVP_aes_256_cbc(), key.encryption, wrap_iv, content_key, true);
    auto wrapped_iv = crypt(EVP_aes_256_cbc(), key.encryption, wrap_iv, iv, true);
    auto seconds = std::chrono::duration_cast<std::chrono::seconds>(expires.time_since_epoch());
    auto ttl =
        crypt(EVP_aes_128_cbc(), content_key, iv, as_bytes(std::to_string(seconds.count())), true);
    std::string basic = "Basic " + base64_encode(std::string(user) + ":" + std::string(password));
    auto data = crypt(EVP_aes_128_cbc(), content_key, iv, as_bytes(basic), true);
    fba_cookies c;
    c.key = base64_encode(*wrapped_key);
    c.iv = base64_encode(*wrapped_iv);
    c.ttl = base64_encode(*ttl);
    c.cadata = base64_encode(*data);
    c.sig = base64_encode(mac_of(key, c));
    return c;
}

fba_session open_fba(const fba_key& key, const fba_cookies& c,
                     std::chrono::system_clock::time_point now) {
    fba_session s;
    if (c.cadata.empty() || c.key.empty() || c.iv.empty() || c.ttl.empty() || c.sig.empty())
        return s;
    s.status = fba_status::invalid;
    auto sig = base64_decode(c.sig);
    auto expected = mac_of(key, c);
    if (!sig || sig->size() != expected.size() ||
        CRYPTO_memcmp(sig->data(), expected.data(), expected.size()) != 0)
        return s;
    auto wrapped_key = base64_decode(c.key);
    auto wrapped_iv = base64_decode(c.iv);
    auto ttl = base64_decode(c.ttl);
    auto data = base64_decode(c.cadata);
    if (!wrapped_key || !wrapped_iv || !ttl || !data) return s;
    auto content_key = crypt(EVP_aes_256_cbc(), key.encryption, wrap_iv, *wrapped_key, false);
    auto iv = crypt(EVP_aes_256_cbc(), key.encryption, wrap_iv, *wrapped_iv, false);
    if (!content_key || !iv || content_key->size() != 16 || iv->size() != 16) return s;
    auto plain_ttl = crypt(EVP_aes_128_cbc(), *content_key, *iv, *ttl, false);
    auto plain = crypt(EVP_aes_128_cbc(), *content_key, *iv, *data, false);
    if (!plain_ttl || !plain) return s;
    std::string basic(plain->begin(), plain->end());
    if (basic.rfind("Basic ", 0) != 0) return s;
    auto credentials = base64_decode(std::string_view(basic).substr(6));
    if (!credentials) return s;
    std::string pair(credentials->begin(), credentials->end());
    auto colon = pair.find(':');
    if (colon == std::string::npos) return s;
    s.user = pair.substr(0, colon);
    s.password = pair.substr(colon + 1);
    long long seconds = 0;
    try {
        seconds = std::stoll(std::string(plain_ttl->begin(), plain_ttl->end()));
    } catch (const std::exception&) {
        return s;
    }
    s.expires = std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
    s.status = now < s.expires ? fba_status::ok : fba_status::expired;
    return s;
}

std::string make_canary(std::string_view secret, std::string_view user) {
    std::array<std::uint8_t, 16> nonce{};
    random_bytes(nonce);
    auto nonce_text = base64url_encode(nonce);
    auto mac = hmac_sha256(secret, "canary|" + to_lower(user) + "|" + nonce_text);
    return nonce_text + "." + base64url_encode(std::span<const std::uint8_t>(mac.data(), 16));
}

bool check_canary(std::string_view secret, std::string_view user, std::string_view canary) {
    auto dot = canary.find('.');
    if (dot == std::string_view::npos) return false;
    auto nonce_text = canary.substr(0, dot);
    auto mac = hmac_sha256(secret, "canary|" + to_lower(user) + "|" + std::string(nonce_text));
    auto expected = base64url_encode(std::span<const std::uint8_t>(mac.data(), 16));
    auto given = canary.substr(dot + 1);
    return given.size() == expected.size() &&
           CRYPTO_memcmp(given.data(), expected.data(), expected.size()) == 0;
}

}  // namespace gatehouse::fake_cas
