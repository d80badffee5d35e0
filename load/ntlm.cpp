#include "load/ntlm.hpp"

#include "load/md4.hpp"

#include <chrono>

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace gatehouse::load::ntlm {

namespace {

constexpr std::string_view signature{"NTLMSSP\0", 8};
// Version field: Windows 10.0 build 19041, NTLM revision 15.
constexpr std::string_view version{"\x0a\x00\x61\x4a\x00\x00\x00\x0f", 8};

enum av_id : std::uint16_t {
    av_eol = 0,
    av_nb_computer_name = 1,
    av_timestamp = 7,
};

void put16(std::string& out, std::uint16_t v) {
    out += char(v & 0xff);
    out += char(v >> 8);
}
void put32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out += char((v >> (8 * i)) & 0xff);
}
void put64(std::string& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i) out += char((v >> (8 * i)) & 0xff);
}
std::uint16_t get16(std::string_view s, std::size_t at) {
    return std::uint16_t(std::uint8_t(s[at]) | std::uint8_t(s[at + 1]) << 8);
}
std::uint32_t get32(std::string_view s, std::size_t at) {
    return std::uint32_t(get16(s, at)) | std::uint32_t(get16(s, at + 2)) << 16;
}
std::uint64_t get64(std::string_view s, std::size_t at) {
    return std::uint64_t(get32(s, at)) | std::uint64_t(get32(s, at + 4)) << 32;
}

// A security buffer field: length, maximum length, offset of the payload.
void put_field(std::string& out, std::size_t length, std::size_t offset) {
    put16(out, static_cast<std::uint16_t>(length));
    put16(out, static_cast<std::uint16_t>(length));
    put32(out, static_cast<std::uint32_t>(offset));
}

std::optional<std::string_view> get_field(std::string_view message, std::size_t at) {
    if (at + 8 > message.size()) return std::nullopt;
    std::size_t length = get16(message, at);
    std::size_t offset = get32(message, at + 4);
    if (length == 0) return std::string_view{};
    if (offset > message.size() || length > message.size() - offset) return std::nullopt;
    return message.substr(offset, length);
}

std::string as_string(const auto& bytes) {
    return std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

std::string upper_ascii(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'a' && c <= 'z') c = char(c - 'a' + 'A');
    return out;
}

}  // namespace

std::string utf16le(std::string_view utf8) {
    std::string out;
    out.reserve(utf8.size() * 2);
    for (std::size_t i = 0; i < utf8.size();) {
        auto c = std::uint8_t(utf8[i]);
        std::uint32_t cp = 0xFFFD;
        std::size_t len = 1;
        if (c < 0x80) {
            cp = c;
        } else if ((c >> 5) == 6 && i + 1 < utf8.size()) {
            cp = (c & 0x1Fu) << 6 | (std::uint8_t(utf8[i + 1]) & 0x3Fu);
            len = 2;
        } else if ((c >> 4) == 14 && i + 2 < utf8.size()) {
            cp = (c & 0x0Fu) << 12 | (std::uint8_t(utf8[i + 1]) & 0x3Fu) << 6 |
                 (std::uint8_t(utf8[i + 2]) & 0x3Fu);
            len = 3;
        } else if ((c >> 3) == 30 && i + 3 < utf8.size()) {
            cp = (c & 0x07u) << 18 | (std::uint8_t(utf8[i + 1]) & 0x3Fu) << 12 |
                 (std::uint8_t(utf8[i + 2]) & 0x3Fu) << 6 | (std::uint8_t(utf8[i + 3]) & 0x3Fu);
            len = 4;
        }
        i += len;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            put16(out, static_cast<std::uint16_t>(0xD800 + (cp >> 10)));
            put16(out, static_cast<std::uint16_t>(0xDC00 + (cp & 0x3FF)));
        } else {
            put16(out, static_cast<std::uint16_t>(cp));
        }
    }
    return out;
}

bytes16 hmac_md5(std::string_view key, std::string_view data) {
    bytes16 out{};
    unsigned int length = 0;
    HMAC(EVP_md5(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &length);
    return out;
}

bytes16 nt_hash(std::string_view password) {
    auto unicode = utf16le(password);
    return md4({reinterpret_cast<const std::uint8_t*>(unicode.data()), unicode.size()});
}

bytes16 ntowf_v2(std::string_view password, std::string_view user, std::string_view domain) {
    auto key = nt_hash(password);
    return hmac_md5(as_string(key), utf16le(upper_ascii(user) + std::string(domain)));
}

std::string negotiate_message() {
    std::string out;
    out.reserve(40);
    out += signature;
    put32(out, 1);
    put32(out, client_flags);
    put_field(out, 0, 40);  // domain: none supplied
    put_field(out, 0, 40);  // workstation: none supplied
    out += version;
    return out;
}

std::optional<challenge> parse_challenge(std::string_view message) {
    if (message.size() < 32 || message.substr(0, 8) != signature || get32(message, 8) != 2)
        return std::nullopt;
    challenge c;
    auto name = get_field(message, 12);
    if (!name) return std::nullopt;
    c.target_name = std::string(*name);
    c.flags = get32(message, 20);
    for (int i = 0; i < 8; ++i) c.server_challenge[i] = std::uint8_t(message[24 + i]);
    if (message.size() >= 48) {
        auto info = get_field(message, 40);
        if (!info) return std::nullopt;
        c.target_info = std::string(*info);
    }
    // Walk the AV pairs for the values a client uses.
    std::string_view info = c.target_info;
    for (std::size_t at = 0; at + 4 <= info.size();) {
        auto id = get16(info, at);
        std::size_t length = get16(info, at + 2);
        if (at + 4 + length > info.size()) return std::nullopt;
        auto value = info.substr(at + 4, length);
        if (id == av_eol) break;
        if (id == av_timestamp && length == 8) c.timestamp = get64(value, 0);
        if (id == av_nb_computer_name)
            for (std::size_t i = 0; i + 1 < value.size(); i += 2) c.netbios_computer += value[i];
        at += 4 + length;
    }
    return c;
}

v2_responses compute_v2(const identity& id, const challenge& c, const bytes8& client_challenge,
                        std::uint64_t timestamp) {
    auto key = as_string(ntowf_v2(id.password, id.user, id.domain));
    auto server = as_string(c.server_challenge);
    auto client = as_string(client_challenge);

    // The NTLMv2 client challenge ("temp" in [MS-NLMP] 3.3.2).
    std::string blob;
    blob += '\x01';  // RespType
    blob += '\x01';  // HiRespType
    blob.append(6, '\0');
    put64(blob, c.timestamp.value_or(timestamp));
    blob += client;
    blob.append(4, '\0');
    blob += c.target_info;
    blob.append(4, '\0');

    v2_responses r;
    auto proof = hmac_md5(key, server + blob);
    r.nt = as_string(proof) + blob;
    r.lm = as_string(hmac_md5(key, server + client)) + client;
    r.session_base_key = hmac_md5(key, as_string(proof));
    return r;
}

std::string authenticate_message(const identity& id, const challenge& c,
                                 const bytes8& client_challenge, std::uint64_t timestamp) {
    auto responses = compute_v2(id, c, client_challenge, timestamp);
    bool unicode = (c.flags & negotiate_unicode) != 0;
    auto text = [&](std::string_view s) { return unicode ? utf16le(s) : std::string(s); };
    std::string domain = text(id.domain);
    std::string user = text(id.user);
    std::string workstation = text(id.workstation);

    // Flags: what both sides support; the client never asks for key exchange or sealing.
    std::uint32_t flags = c.flags & client_flags;
    if (unicode) flags &= ~std::uint32_t(negotiate_oem);

    // Fixed part (72 bytes with the version, no MIC), then the payload in the order
    // [MS-NLMP] §4.2.4.3 shows: domain, user, workstation, LM, NT, session key.
    constexpr std::size_t fixed = 72;
    std::size_t at = fixed;
    std::string out;
    out.reserve(fixed + domain.size() + user.size() + workstation.size() + responses.lm.size() +
                responses.nt.size());
    out += signature;
    put32(out, 3);
    std::size_t domain_at = at;
    at += domain.size();
    std::size_t user_at = at;
    at += user.size();
    std::size_t workstation_at = at;
    at += workstation.size();
    std::size_t lm_at = at;
    at += responses.lm.size();
    std::size_t nt_at = at;
    at += responses.nt.size();
    put_field(out, responses.lm.size(), lm_at);
    put_field(out, responses.nt.size(), nt_at);
    put_field(out, domain.size(), domain_at);
    put_field(out, user.size(), user_at);
    put_field(out, workstation.size(), workstation_at);
    put_field(out, 0, at);  // no encrypted random session key without key exchange
    put32(out, flags);
    out += version;
    out += domain;
    out += user;
    out += workstation;
    out += responses.lm;
    out += responses.nt;
    return out;
}

std::uint64_t filetime_now() {
    // 11644473600 seconds between 1601-01-01 and 1970-01-01.
    auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    auto ticks = std::chrono::duration_cast<std::chrono::nanoseconds>(since_epoch).count() / 100;
    return static_cast<std::uint64_t>(ticks) + 116444736000000000ull;
}

}  // namespace gatehouse::load::ntlm
