#pragma once
// The proxy's own strictness checks over a request head Beast has already tokenized: the RFC
// 9112 framing, target and Host rules that a lenient back end could read differently from us
// (request smuggling), checked before anything is forwarded. Pure: no I/O, no allocation.
//
// Policy (docs/proxy-config.md, "Request validation"): Content-Length together with
// Transfer-Encoding → 400; a Transfer-Encoding other than exactly `chunked` → 400 when chunked
// is missing, repeated or not last, 501 for an unknown coding; Transfer-Encoding on HTTP/1.0 →
// 400; Content-Length values that are not digits or differ → 400 (identical ones collapse);
// request-target bytes outside visible ASCII, fragments, `*` other than with OPTIONS → 400;
// absolute-form other than http/https with an authority → 400; HTTP/1.1 without exactly one
// Host, or a Host that is not `host[:port]` → 400; NUL/CR/LF in any value → 400; field names
// with `_` → 400 (configurable: X_Forwarded_For and X-Forwarded-For are one variable to IIS);
// Connection naming a field the proxy relies on end to end (Host, Authorization, Cookie,
// Content-Length, Transfer-Encoding) → 400.

#include "net/http_message.hpp"
#include "proxy/error_triple.hpp"

#include <optional>
#include <string_view>

namespace gatehouse::proxy {

struct validation_options {
    bool reject_underscore_names = true;
};

struct rejection {
    error_triple triple{};
    std::string_view reason{};  // a constant phrase, for the log
};

// The first rule `head` breaks, or nothing when it may be forwarded.
std::optional<rejection> validate_request(const net::http_head& head,
                                          const validation_options& options = {}) noexcept;

// RFC 9110 §7.2 `uri-host [ ":" port ]`: a reg-name (unreserved, sub-delims, pct-encoded), an
// IPv4 address or a bracketed IPv6 literal, and a port of at most 65535.
bool valid_host_header(std::string_view host) noexcept;

// RFC 9112 §6.3: a Content-Length value (or list of values) that is valid; `length` receives it.
bool parse_content_length(std::string_view value, std::uint64_t& length) noexcept;

}  // namespace gatehouse::proxy
