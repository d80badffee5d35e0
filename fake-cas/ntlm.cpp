#include "fake-cas/ntlm.hpp"

#include <algorithm>
#include <cstring>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace gatehouse::fake_cas {

namespace {

constexpr std::uint8_t signature[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

std::uint16_t u16(std::span<const std::uint8_t> m, std::size_t at) {
    return static_cast<std::uint16_t>(m[at] | (m[at + 1] << 8));
}
std::uint32_t u32(std::span<const std::uint8_t> m, std::size_t at) {
    return static_cast<std::uint32_t>(m[at]) | (static_cast<std::uint32_t>(m[at + 1]) << 8) |
           (static_cast<std::uint32_t>(m[at + 2]) << 16) |
           (static_cast<std::uint32_t>(m[at + 3]) << 24);
}
void put16(bytes& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(bytes& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
void put64(bytes& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// A (length, max length, offset) field referring into the payload; nullopt when it points
// outside the message.
std::optional<std::span<const std::uint8_t>> field(std::span<const std::uint8_t> m,
                                                   std::size_t at) {
    if (at + 8 > m.size()) return std::nullopt;
    std::size_t len = u16(m, at);
    std::size_t offset = u32(m, at + 4);
    if (len == 0) return std::span<const std::uint8_t>{};
    if (offset > m.size() || len > m.size() - offset) return std::nullopt;
    return m.subspan(offset, len);
}

std::string text_of(std::span<const std::uint8_t> data, bool unicode) {
    if (unicode) return from_utf16le(data);
    return std::string(data.begin(), data.end());
}

void av_pair(bytes& out, std::uint16_t id, std::span<const std::uint8_t> value) {
    put16(out, id);
    put16(out, static_cast<std::uint16_t>(value.size()));
    out.insert(out.end(), value.begin(), value.end());
}

// --- MD4, RFC 1320 -------------------------------------------------------------------------

std::uint32_t rotl(std::uint32_t x, int s) {
    return (x << s) | (x >> (32 - s));
}

void md4_block(std::array<std::uint32_t, 4>& h, const std::uint8_t* block) {
    std::uint32_t x[16];
    for (int i = 0; i < 16; ++i)
        x[i] = static_cast<std::uint32_t>(block[4 * i]) |
               (static_cast<std::uint32_t>(block[4 * i + 1]) << 8) |
               (static_cast<std::uint32_t>(block[4 * i + 2]) << 16) |
               (static_cast<std::uint32_t>(block[4 * i + 3]) << 24);
    auto [a, b, c, d] = h;
    auto f = [](std::uint32_t x, std::uint32_t y, std::uint32_t z) { return (x & y) | (~x & z); };
    auto g = [](std::uint32_t x, std::uint32_t y, std::uint32_t z) {
        return (x & y) | (x & z) | (y & z);
    };
    auto hh = [](std::uint32_t x, std::uint32_t y, std::uint32_t z) { return x ^ y ^ z; };
    static constexpr int r1[4] = {3, 7, 11, 19};
    for (int i = 0; i < 16; ++i) {
        std::uint32_t t = rotl(a + f(b, c, d) + x[i], r1[i % 4]);
        a = d, d = c, c = b, b = t;
    }
    static constexpr int order2[16] = {0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15};
    static constexpr int r2[4] = {3, 5, 9, 13};
    for (int i = 0; i < 16; ++i) {
        std::uint32_t t = rotl(a + g(b, c, d) + x[order2[i]] + 0x5a827999u, r2[i % 4]);
        a = d, d = c, c = b, b = t;
    }
    static constexpr int order3[16] = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};
    static constexpr int r3[4] = {3, 9, 11, 15};
    for (int i = 0; i < 16; ++i) {
        std::uint32_t t = rotl(a + hh(b, c, d) + x[order3[i]] + 0x6ed9eba1u, r3[i % 4]);
        a = d, d = c, c = b, b = t;
    }
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
}

}  // namespace

std::array<std::uint8_t, 16> md4(std::span<const std::uint8_t> data) {
    std::array<std::uint32_t, 4> h = {0x67452301u, 0xefcdab89u, 0x98badcfeu, 0x10325476u};
    std::size_t full = data.size() / 64 * 64;
    for (std::size_t i = 0; i < full; i += 64) md4_block(h, data.data() + i);
    std::uint8_t tail[128] = {};
    std::size_t rest = data.size() - full;
    std::memcpy(tail, data.data() + full, rest);
    tail[rest] = 0x80;
    std::size_t tail_len = rest + 9 <= 64 ? 64 : 128;
    std::uint64_t bits = static_cast<std::uint64_t>(data.size()) * 8;
    for (int i = 0; i < 8; ++i) tail[tail_len - 8 + i] = static_cast<std::uint8_t>(bits >> (8 * i));
    for (std::size_t i = 0; i < tail_len; i += 64) md4_block(h, tail + i);
    std::array<std::uint8_t, 16> out{};
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) out[4 * i + j] = static_cast<std::uint8_t>(h[i] >> (8 * j));
    return out;
}

std::array<std::uint8_t, 16> hmac_md5(std::span<const std::uint8_t> key,
                                      std::span<const std::uint8_t> data) {
    std::array<std::uint8_t, 16> out{};
    unsigned len = 0;
    HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()), data.data(), data.size(), out.data(),
         &len);
    return out;
}

std::array<std::uint8_t, 16> ntowf_v2(std::string_view password, std::string_view user,
                                      std::string_view domain) {
    auto nt_hash = md4(utf16le(password));
    auto identity = utf16le(to_upper(user) + std::string(domain));
    return hmac_md5(nt_hash, identity);
}

bytes compute_ntlm_v2_response(std::string_view password, std::string_view user,
                               std::string_view domain,
                               const std::array<std::uint8_t, 8>& server_challenge,
                               std::span<const std::uint8_t> blob) {
    auto key = ntowf_v2(password, user, domain);
    bytes input(server_challenge.begin(), server_challenge.end());
    input.insert(input.end(), blob.begin(), blob.end());
    auto proof = hmac_md5(key, input);
    bytes response(proof.size() + blob.size());
    std::memcpy(response.data(), proof.data(), proof.size());
    if (!blob.empty()) std::memcpy(response.data() + proof.size(), blob.data(), blob.size());
    return response;
}

bool verify_ntlm_v2(const ntlm_authenticate& auth, std::string_view password,
                    const std::array<std::uint8_t, 8>& server_challenge) {
    if (auth.nt_response.size() <= 24) return false;  // NTLMv1 or anonymous: not accepted
    std::span<const std::uint8_t> blob(auth.nt_response.data() + 16, auth.nt_response.size() - 16);
    auto expected =
        compute_ntlm_v2_response(password, auth.user, auth.domain, server_challenge, blob);
    return std::equal(expected.begin(), expected.begin() + 16, auth.nt_response.begin());
}

int ntlm_message_type(std::span<const std::uint8_t> m) noexcept {
    if (m.size() < 12 || std::memcmp(m.data(), signature, 8) != 0) return 0;
    auto type = u32(m, 8);
    return type >= 1 && type <= 3 ? static_cast<int>(type) : 0;
}

std::optional<ntlm_negotiate> parse_ntlm_negotiate(std::span<const std::uint8_t> m) {
    if (ntlm_message_type(m) != 1 || m.size() < 16) return std::nullopt;
    return ntlm_negotiate{.flags = u32(m, 12)};
}

std::optional<ntlm_authenticate> parse_ntlm_authenticate(std::span<const std::uint8_t> m) {
    if (ntlm_message_type(m) != 3 || m.size() < 64) return std::nullopt;
    auto lm = field(m, 12);
    auto nt = field(m, 20);
    auto domain = field(m, 28);
    auto user = field(m, 36);
    auto workstation = field(m, 44);
    if (!lm || !nt || !domain || !user || !workstation) return std::nullopt;
    ntlm_authenticate a;
    a.flags = u32(m, 60);
    bool unicode = (a.flags & ntlm_flags::unicode) != 0;
    a.lm_response.assign(lm->begin(), lm->end());
    a.nt_response.assign(nt->begin(), nt->end());
    a.domain = text_of(*domain, unicode);
    a.user = text_of(*user, unicode);
    a.workstation = text_of(*workstation, unicode);
    return a;
}

std::uint64_t to_filetime(std::chrono::system_clock::time_point t) {
    auto since_unix = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
    return static_cast<std::uint64_t>(since_unix.count() / 100) + 116444736000000000ull;
}

bytes build_ntlm_challenge(const ntlm_challenge_params& p) {
    using namespace ntlm_flags;
    std::uint32_t flags = unicode | request_target | ntlm | always_sign | target_type_domain |
                          extended_session_security | target_info | version | negotiate_128 |
                          negotiate_56;
    flags |= p.client_flags & (sign | seal | key_exchange);
    auto target = utf16le(p.nb_domain);
    bytes info;
    av_pair(info, 2, utf16le(p.nb_domain));
    av_pair(info, 1, utf16le(p.nb_computer));
    av_pair(info, 4, utf16le(p.dns_domain));
    av_pair(info, 3, utf16le(p.dns_computer));
    av_pair(info, 5, utf16le(p.dns_domain));
    bytes ts;
    put64(ts, p.filetime);
    av_pair(info, 7, ts);
    av_pair(info, 0, {});

    bytes out(signature, signature + 8);
    put32(out, 2);
    put16(out, static_cast<std::uint16_t>(target.size()));
    put16(out, static_cast<std::uint16_t>(target.size()));
    put32(out, 56);
    put32(out, flags);
    out.insert(out.end(), p.server_challenge.begin(), p.server_challenge.end());
    put64(out, 0);  // reserved
    put16(out, static_cast<std::uint16_t>(info.size()));
    put16(out, static_cast<std::uint16_t>(info.size()));
    put32(out, static_cast<std::uint32_t>(56 + target.size()));
    // Version 10.0.20348, NTLM revision 15 (Windows Server 2022)
    const std::uint8_t windows_version[8] = {0x0a, 0x00, 0x7c, 0x4f, 0x00, 0x00, 0x00, 0x0f};
    out.insert(out.end(), windows_version, windows_version + 8);
    out.insert(out.end(), target.begin(), target.end());
    out.insert(out.end(), info.begin(), info.end());
    return out;
}

std::optional<ntlm_challenge_view> parse_ntlm_challenge(std::span<const std::uint8_t> m) {
    if (ntlm_message_type(m) != 2 || m.size() < 48) return std::nullopt;
    ntlm_challenge_view v;
    auto target = field(m, 12);
    auto info = field(m, 40);
    if (!target || !info) return std::nullopt;
    v.flags = u32(m, 20);
    std::copy(m.begin() + 24, m.begin() + 32, v.server_challenge.begin());
    v.target_name = from_utf16le(*target);
    v.target_info.assign(info->begin(), info->end());
    for (std::size_t at = 0; at + 4 <= info->size();) {
        auto id = u16(*info, at);
        std::size_t len = u16(*info, at + 2);
        if (id == 0 || at + 4 + len > info->size()) break;
        auto value = info->subspan(at + 4, len);
        if (id == 1) v.nb_computer = from_utf16le(value);
        if (id == 3) v.dns_computer = from_utf16le(value);
        at += 4 + len;
    }
    return v;
}

bytes build_ntlm_negotiate(std::uint32_t flags) {
    bytes out(signature, signature + 8);
    put32(out, 1);
    put32(out, flags);
    put64(out, 0);  // domain fields
    put64(out, 0);  // workstation fields
    return out;
}

bytes build_ntlm_authenticate(std::string_view user, std::string_view domain,
                              std::string_view workstation,
                              std::span<const std::uint8_t> nt_response, std::uint32_t flags) {
    auto u = utf16le(user);
    auto d = utf16le(domain);
    auto w = utf16le(workstation);
    bytes lm(24, 0);
    constexpr std::size_t header = 64;
    bytes out(signature, signature + 8);
    put32(out, 3);
    std::size_t offset = header;
    auto fields = [&](std::size_t len) {
        put16(out, static_cast<std::uint16_t>(len));
        put16(out, static_cast<std::uint16_t>(len));
        put32(out, static_cast<std::uint32_t>(offset));
        offset += len;
    };
    fields(lm.size());
    fields(nt_response.size());
    fields(d.size());
    fields(u.size());
    fields(w.size());
    fields(0);  // encrypted random session key
    put32(out, flags);
    out.insert(out.end(), lm.begin(), lm.end());
    out.insert(out.end(), nt_response.begin(), nt_response.end());
    out.insert(out.end(), d.begin(), d.end());
    out.insert(out.end(), u.begin(), u.end());
    out.insert(out.end(), w.begin(), w.end());
    return out;
}

// --- SPNEGO ----------------------------------------------------------------------------------

std::optional<bytes> unwrap_spnego_ntlm(std::span<const std::uint8_t> token) {
    // The NTLMSSP message sits inside the mechToken/responseToken OCTET STRING; its fields are
    // addressed by offsets from its own start, so trailing DER (a mechListMIC) does no harm.
    auto it = std::search(token.begin(), token.end(), std::begin(signature), std::end(signature));
    if (it == token.end()) return std::nullopt;
    return bytes(it, token.end());
}

namespace {

void der_length(bytes& out, std::size_t len) {
    if (len < 0x80) {
        out.push_back(static_cast<std::uint8_t>(len));
    } else if (len < 0x100) {
        out.push_back(0x81);
        out.push_back(static_cast<std::uint8_t>(len));
    } else {
        out.push_back(0x82);
        out.push_back(static_cast<std::uint8_t>(len >> 8));
        out.push_back(static_cast<std::uint8_t>(len));
    }
}

bytes der(std::uint8_t tag, const bytes& content) {
    bytes out{tag};
    der_length(out, content.size());
    out.insert(out.end(), content.begin(), content.end());
    return out;
}

bytes concat(std::initializer_list<bytes> parts) {
    bytes out;
    for (auto& p : parts) out.insert(out.end(), p.begin(), p.end());
    return out;
}

}  // namespace

bytes spnego_response(std::span<const std::uint8_t> ntlm_token) {
    // NegTokenResp { negState accept-incomplete, supportedMech NTLMSSP, responseToken }
    const bytes ntlm_oid = {0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x02, 0x02, 0x0a};
    auto state = der(0xa0, {0x0a, 0x01, 0x01});
    auto mech = der(0xa1, ntlm_oid);
    auto response = der(0xa2, der(0x04, bytes(ntlm_token.begin(), ntlm_token.end())));
    return der(0xa1, der(0x30, concat({state, mech, response})));
}

bytes spnego_accept_completed() {
    return der(0xa1, der(0x30, der(0xa0, {0x0a, 0x01, 0x00})));
}

ntlm_handshake::result ntlm_handshake::on_token(std::span<const std::uint8_t> message,
                                                const ntlm_challenge_params& params, time_point now,
                                                std::chrono::steady_clock::duration ttl) {
    result r;
    switch (ntlm_message_type(message)) {
        case 1: {
            auto negotiate = parse_ntlm_negotiate(message);
            if (!negotiate) break;
            auto p = params;
            p.client_flags = negotiate->flags;
            r.kind = outcome::challenge;
            r.token = build_ntlm_challenge(p);
            challenged_ = true;
            challenge_ = params.server_challenge;
            issued_ = now;
            return r;
        }
        case 3: {
            bool valid = challenged_ && now - issued_ <= ttl;
            challenged_ = false;
            if (!valid) break;
            auto auth = parse_ntlm_authenticate(message);
            if (!auth) break;
            r.kind = outcome::authenticate;
            r.auth = std::move(*auth);
            r.server_challenge = challenge_;
            return r;
        }
        default:
            break;
    }
    challenged_ = false;
    r.kind = outcome::reject;
    return r;
}

}  // namespace gatehouse::fake_cas
