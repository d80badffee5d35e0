#pragma once
// Small codecs the vdirs share: base64 (standard and URL-safe), hex, UTF-16LE, form/query
// decoding, XML/HTML escaping, GUID formatting, identity normalisation.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::fake_cas {

using bytes = std::vector<std::uint8_t>;

std::string base64_encode(std::span<const std::uint8_t> data);
inline std::string base64_encode(std::string_view data) {
    return base64_encode({reinterpret_cast<const std::uint8_t*>(data.data()), data.size()});
}
// Standard alphabet, padding optional, no whitespace; nullopt when malformed.
std::optional<bytes> base64_decode(std::string_view text);
// URL-safe alphabet ('-', '_'), no padding: used in cookies.
std::string base64url_encode(std::span<const std::uint8_t> data);
std::optional<bytes> base64url_decode(std::string_view text);

std::string hex_encode(std::span<const std::uint8_t> data);

// UTF-8 ⇄ UTF-16LE (surrogate pairs handled; invalid input replaced by U+FFFD).
bytes utf16le(std::string_view utf8);
std::string from_utf16le(std::span<const std::uint8_t> data);

// Percent-decoding of a query or form value ('+' is a space when `plus_is_space`).
std::string url_decode(std::string_view text, bool plus_is_space = true);
// Percent-encoding of everything but unreserved characters (RFC 3986).
std::string url_encode(std::string_view text);
// The first value of `name` (case-insensitive) in a query or form body, decoded.
std::optional<std::string> form_value(std::string_view form, std::string_view name);

std::string xml_escape(std::string_view text);

// A GUID string ("xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", lower case) from 16 bytes.
std::string format_guid(std::span<const std::uint8_t, 16> data);
// A random GUID from OpenSSL's generator.
std::string random_guid();
void random_bytes(std::span<std::uint8_t> out);

// The account name an identity refers to, lower case: "CONTOSO\JDoe" → "jdoe",
// "jdoe@contoso.com" → "jdoe".
std::string normalize_user(std::string_view identity);

// The value of cookie `name` in a Cookie header (first match), or nullopt.
std::optional<std::string_view> cookie_value(std::string_view cookie_header, std::string_view name);

std::string to_lower(std::string_view s);
std::string to_upper(std::string_view s);

}  // namespace gatehouse::fake_cas
