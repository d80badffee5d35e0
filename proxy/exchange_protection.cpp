#include "proxy/exchange_protection.hpp"

#include "proxy/percent_decoding.hpp"

#include <algorithm>
#include <array>
#include <cstdint>

namespace gatehouse::proxy {

namespace {

constexpr error_triple forbidden{403, 0, 0};

char lower(char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

// Percent-decodes `in` once and folds ASCII case; a malformed escape stays as it is.
void decode_lower(std::string_view in, std::string& out) {
    percent_decode(in, out);
    for (auto& c : out) c = lower(c);
}

// After one decoding, an escape that would decode to a delimiter is double encoding.
bool double_encoded(std::string_view decoded) {
    for (std::size_t i = 0; i + 2 < decoded.size(); ++i) {
        if (decoded[i] != '%') continue;
        int hi = hex_value(decoded[i + 1]);
        int lo = hex_value(decoded[i + 2]);
        if (hi < 0 || lo < 0) continue;
        switch (static_cast<char>(hi * 16 + lo)) {
            case '%':
            case '/':
            case '\\':
            case '@':
            case '?':
            case '#':
                return true;
            default:
                break;
        }
    }
    return false;
}

bool contains(std::string_view haystack, std::string_view needle) {
    return haystack.find(needle) != std::string_view::npos;
}

bool contains_ci(std::string_view haystack, std::string_view lower_needle) {
    if (lower_needle.size() > haystack.size()) return false;
    for (std::size_t i = 0; i + lower_needle.size() <= haystack.size(); ++i) {
        std::size_t j = 0;
        while (j < lower_needle.size() && lower(haystack[i + j]) == lower_needle[j]) ++j;
        if (j == lower_needle.size()) return true;
    }
    return false;
}

std::size_t occurrences(std::string_view haystack, std::string_view needle) {
    std::size_t n = 0;
    for (auto at = haystack.find(needle); at != std::string_view::npos;
         at = haystack.find(needle, at + needle.size()))
        ++n;
    return n;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Calls f(segment) for each '/'-separated segment of `path` (the leading '/' skipped).
template <class F>
void for_each_segment(std::string_view path, F&& f) {
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    for (;;) {
        auto slash = path.find('/');
        f(path.substr(0, slash));
        if (slash == std::string_view::npos) return;
        path.remove_prefix(slash + 1);
    }
}

std::string_view first_segment(std::string_view path) {
    if (!path.empty() && path.front() == '/') path.remove_prefix(1);
    return path.substr(0, path.find('/'));
}

bool is_published(std::string_view vdir, bool allow_ecp) {
    static constexpr std::array<std::string_view, 7> published{
        "owa", "ews", "microsoft-server-activesync", "mapi", "rpc", "oab", "autodiscover"};
    if (allow_ecp && vdir == "ecp") return true;
    return std::find(published.begin(), published.end(), vdir) != published.end();
}

// R2's third form: an Email= query parameter whose value names autodiscover.
bool email_names_autodiscover(std::string_view query) {
    for (;;) {
        auto amp = query.find('&');
        auto param = query.substr(0, amp);
        if (param.starts_with("email=") && contains(param.substr(6), "autodiscover")) return true;
        if (amp == std::string_view::npos) return false;
        query.remove_prefix(amp + 1);
    }
}

exchange_verdict block(std::string_view rule, std::string_view reason,
                       error_triple triple = forbidden) {
    return exchange_verdict{rule, triple, reason};
}

}  // namespace

bool abusive_range(std::string_view value) noexcept {
    value = trim(value);
    // Anything but a byte range is left to the back end (IIS ignores unknown units).
    if (value.size() < 6 || !std::equal(value.begin(), value.begin() + 6,
                                        "bytes=", [](char a, char b) { return lower(a) == b; }))
        return false;
    value.remove_prefix(6);
    struct part {
        std::uint64_t first;
        std::uint64_t last;
    };
    std::array<part, 10> parts{};
    std::size_t count = 0;
    bool abusive = false;
    for (;;) {
        auto comma = value.find(',');
        auto spec = trim(value.substr(0, comma));
        if (!spec.empty()) {
            if (count == parts.size()) return true;  // more than ten parts
            auto dash = spec.find('-');
            auto a = spec.substr(0, dash);
            auto b = dash == std::string_view::npos ? std::string_view{} : spec.substr(dash + 1);
            if (a.size() >= 10 || b.size() >= 10) return true;  // MS15-034 shape
            auto number = [](std::string_view digits, std::uint64_t fallback) {
                if (digits.empty()) return fallback;
                std::uint64_t n = 0;
                for (char c : digits) {
                    if (c < '0' || c > '9') return fallback;
                    n = n * 10 + static_cast<std::uint64_t>(c - '0');
                }
                return n;
            };
            if (a.empty()) {
                // A suffix range: the last n bytes; it overlaps anything ending at the end.
                parts[count++] = {UINT64_MAX - number(b, 0), UINT64_MAX};
            } else {
                parts[count++] = {number(a, 0), number(b, UINT64_MAX)};
            }
        }
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    for (std::size_t i = 0; i < count && !abusive; ++i)
        for (std::size_t j = i + 1; j < count; ++j)
            if (parts[i].first <= parts[j].last && parts[j].first <= parts[i].last) {
                abusive = true;
                break;
            }
    return abusive;
}

exchange_verdict check_exchange_request(const exchange_protection_config& config,
                                        std::string_view target, const net::http_fields& fields,
                                        exchange_scratch& scratch) {
    if (!config.enabled) return {};
    auto q = target.find('?');
    decode_lower(target.substr(0, q), scratch.path);
    decode_lower(q == std::string_view::npos ? std::string_view{} : target.substr(q + 1),
                 scratch.query);
    const std::string_view path = scratch.path;
    const std::string_view query = scratch.query;
    const bool has_query = q != std::string_view::npos;

    // R0: one decoding must give the final form, and the path must be canonical.
    if (double_encoded(path) || double_encoded(query))
        return block("R0", "double percent-encoding");
    bool dot_segment = false;
    for_each_segment(path, [&](std::string_view s) { dot_segment |= s == "." || s == ".."; });
    if (dot_segment || contains(path, "\\")) return block("R0", "non-canonical path");

    // R1 (EOMTv2): the whole decoded URI, path and query together.
    const bool autodiscover = contains(path, "autodiscover") || contains(query, "autodiscover");
    if (autodiscover && (contains(path, "powershell") || contains(query, "powershell")))
        return block("R1", "autodiscover and powershell in one URI");
    // R2: path confusion through a second autodiscover.json.
    if (contains(query, "autodiscover.json") || occurrences(path, "autodiscover.json") > 1 ||
        email_names_autodiscover(query))
        return block("R2", "autodiscover.json path confusion");
    // R3: the canonical ProxyShell `autodiscover.json?@`.
    bool json_segment = false;
    for_each_segment(path,
                     [&](std::string_view s) { json_segment |= s.ends_with("autodiscover.json"); });
    if (json_segment && has_query &&
        (query.starts_with('@') || contains(path, "?@") || contains(query, "?@")))
        return block("R3", "autodiscover.json?@");
    // R4: Remote PowerShell is never published.
    const auto vdir = first_segment(path);
    bool powershell_segment = false;
    for_each_segment(path, [&](std::string_view s) { powershell_segment |= s == "powershell"; });
    if (vdir == "powershell" ||
        (powershell_segment && (vdir == "owa" || vdir == "ecp" || vdir == "autodiscover" ||
                                vdir == "mapi" || vdir == "ews")))
        return block("R4", "PowerShell through a front-end virtual directory");
    // R5
    if (contains(path, "x-rps-cat") || contains(query, "x-rps-cat"))
        return block("R5", "X-Rps-CAT in the URI");
    // R6, R7: the cookies that steer the CAS back-end request or skip its authentication.
    for (auto [name, value] : fields) {
        if (!net::iequals(name, "Cookie")) continue;
        if (contains_ci(value, "x-beresource") || contains_ci(value, "x-anonresource-backend"))
            return block("R6", "back-end steering cookie");
        std::string_view rest = value;
        for (;;) {
            auto semi = rest.find(';');
            auto pair = trim(rest.substr(0, semi));
            auto eq = pair.find('=');
            if (eq != std::string_view::npos &&
                net::iequals(trim(pair.substr(0, eq)), "SecurityToken") &&
                !trim(pair.substr(eq + 1)).empty())
                return block("R7", "SecurityToken cookie");
            if (semi == std::string_view::npos) break;
            rest.remove_prefix(semi + 1);
        }
    }
    // R8
    if (vdir == "ecp" && !config.allow_ecp) return block("R8", "ECP is not published");
    // R10
    for (auto [name, value] : fields)
        if (net::iequals(name, "Range") && abusive_range(value))
            return block("R10", "abusive Range", error_triple{416, 0, 0});
    // R12
    if (!is_published(vdir, config.allow_ecp))
        return block("R12", "not a published virtual directory", errors::not_found);
    return {};
}

std::size_t strip_internal_fields(net::http_fields& fields) {
    std::size_t removed = 0;
    for (auto name : {"X-CommonAccessToken", "X-IsFromCafe", "X-SourceCafeServer", "X-BEResource",
                      "X-AnonResource-Backend", "X-BackEndOverrideCookie"})
        removed += fields.erase(name);
    return removed;
}

}  // namespace gatehouse::proxy
