#include "proxy/request_validator.hpp"

#include <array>

namespace gatehouse::proxy {

namespace {

constexpr error_triple bad = errors::bad_request;

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && net::iequals(s.substr(0, prefix.size()), prefix);
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_alnum(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// RFC 3986 reg-name bytes: unreserved and sub-delims ('%' is checked as pct-encoded).
bool is_reg_name_char(char c) {
    if (is_alnum(c)) return true;
    switch (c) {
        case '-':
        case '.':
        case '_':
        case '~':
        case '!':
        case '$':
        case '&':
        case '\'':
        case '(':
        case ')':
        case '*':
        case '+':
        case ',':
        case ';':
        case '=':
            return true;
        default:
            return false;
    }
}

bool valid_port(std::string_view port) {
    if (port.size() > 5) return false;
    unsigned value = 0;
    for (char c : port) {
        if (!is_digit(c)) return false;
        value = value * 10 + static_cast<unsigned>(c - '0');
    }
    return value <= 65535;
}

// Calls `f(token)` for each comma-separated element of a list value, OWS trimmed (empty
// elements included, so that `,chunked` is seen).
template <class F>
void for_each_element(std::string_view value, F&& f) {
    for (;;) {
        auto comma = value.find(',');
        f(trim(value.substr(0, comma)));
        if (comma == std::string_view::npos) return;
        value.remove_prefix(comma + 1);
    }
}

// Fields the proxy depends on end to end: a client must not get them removed by naming them
// in Connection (hop-by-hop abuse). The forwarding fields need no protection: the proxy
// removes the client's and writes its own after hop-by-hop stripping.
bool is_protected_field(std::string_view name) {
    static constexpr std::array<std::string_view, 5> names{"Host", "Authorization", "Cookie",
                                                           "Content-Length", "Transfer-Encoding"};
    for (auto n : names)
        if (net::iequals(name, n)) return true;
    return false;
}

std::optional<rejection> check_target(const net::http_head& head) {
    std::string_view target = head.target;
    if (target.empty()) return rejection{bad, "empty request-target"};
    for (char ch : target) {
        auto c = static_cast<unsigned char>(ch);
        if (c <= 0x20 || c >= 0x7f) return rejection{bad, "invalid byte in the request-target"};
        if (c == '#') return rejection{bad, "fragment in the request-target"};
    }
    if (target == "*") {
        if (head.method != "OPTIONS") return rejection{bad, "asterisk-form other than OPTIONS"};
        return std::nullopt;
    }
    if (target.front() == '/') return std::nullopt;
    std::string_view rest;
    if (starts_with_ci(target, "http://"))
        rest = target.substr(7);
    else if (starts_with_ci(target, "https://"))
        rest = target.substr(8);
    else
        return rejection{bad, "request-target neither origin-form nor absolute-form"};
    auto authority = rest.substr(0, rest.find_first_of("/?"));
    if (authority.empty() || !valid_host_header(authority))
        return rejection{bad, "invalid authority in an absolute-form target"};
    return std::nullopt;
}

std::optional<rejection> check_framing(const net::http_head& head) {
    bool has_length = false;
    bool length_ok = true;
    std::uint64_t length = 0;
    std::size_t codings = 0;
    std::size_t chunked = 0;
    bool chunked_last = false;
    bool empty_coding = false;
    for (auto [name, value] : head.fields) {
        if (net::iequals(name, "Content-Length")) {
            std::uint64_t n = 0;
            if (!parse_content_length(value, n) || (has_length && n != length)) length_ok = false;
            has_length = true;
            length = n;
        } else if (net::iequals(name, "Transfer-Encoding")) {
            for_each_element(value, [&](std::string_view coding) {
                if (coding.empty()) {
                    empty_coding = true;
                    return;
                }
                ++codings;
                chunked_last = net::iequals(coding, "chunked");
                if (chunked_last) ++chunked;
            });
        }
    }
    if (!length_ok) return rejection{bad, "invalid or conflicting Content-Length"};
    if (codings == 0 && !empty_coding) return std::nullopt;
    if (has_length) return rejection{bad, "Content-Length with Transfer-Encoding"};
    if (head.version < 11) return rejection{bad, "Transfer-Encoding in an HTTP/1.0 request"};
    if (empty_coding) return rejection{bad, "empty element in Transfer-Encoding"};
    if (chunked != 1 || !chunked_last)
        return rejection{bad, "Transfer-Encoding without chunked as the final coding"};
    if (codings != 1) return rejection{errors::not_implemented, "unsupported transfer coding"};
    return std::nullopt;
}

std::optional<rejection> check_fields(const net::http_head& head,
                                      const validation_options& options) {
    std::size_t hosts = 0;
    std::string_view host;
    for (auto [name, value] : head.fields) {
        for (char c : value)
            if (c == '\0' || c == '\r' || c == '\n')
                return rejection{bad, "NUL, CR or LF in a field value"};
        if (options.reject_underscore_names && name.find('_') != std::string_view::npos)
            return rejection{bad, "underscore in a field name"};
        if (net::iequals(name, "Host")) {
            ++hosts;
            host = value;
        } else if (net::iequals(name, "Connection")) {
            bool named_protected = false;
            for_each_element(value, [&](std::string_view option) {
                if (is_protected_field(option)) named_protected = true;
            });
            if (named_protected) return rejection{bad, "Connection names an end-to-end field"};
        }
    }
    if (hosts > 1) return rejection{bad, "more than one Host"};
    if (hosts == 0 && head.version >= 11) return rejection{bad, "no Host in an HTTP/1.1 request"};
    if (hosts == 1 && !host.empty() && !valid_host_header(host))
        return rejection{bad, "invalid Host"};
    return std::nullopt;
}

}  // namespace

bool parse_content_length(std::string_view value, std::uint64_t& length) noexcept {
    bool any = false;
    bool ok = true;
    std::uint64_t first = 0;
    for_each_element(value, [&](std::string_view digits) {
        if (digits.empty() || digits.size() > 19) {
            ok = false;
            return;
        }
        std::uint64_t n = 0;
        for (char c : digits) {
            if (!is_digit(c)) {
                ok = false;
                return;
            }
            n = n * 10 + static_cast<std::uint64_t>(c - '0');
        }
        if (any && n != first) ok = false;
        if (!any) first = n;
        any = true;
    });
    if (!ok || !any) return false;
    length = first;
    return true;
}

bool valid_host_header(std::string_view host) noexcept {
    std::string_view port;
    if (!host.empty() && host.front() == '[') {
        auto close = host.find(']');
        if (close == std::string_view::npos || close == 1) return false;
        for (char c : host.substr(1, close - 1))
            if (!is_hex(c) && c != ':' && c != '.') return false;
        auto after = host.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return false;
            port = after.substr(1);
        }
        return valid_port(port);
    }
    auto colon = host.find(':');
    auto name = host.substr(0, colon);
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        if (name[i] == '%') {
            if (i + 2 >= name.size() || !is_hex(name[i + 1]) || !is_hex(name[i + 2])) return false;
            i += 2;
        } else if (!is_reg_name_char(name[i])) {
            return false;
        }
    }
    if (colon != std::string_view::npos) port = host.substr(colon + 1);
    return valid_port(port);
}

std::optional<rejection> validate_request(const net::http_head& head,
                                          const validation_options& options) noexcept {
    if (head.version != 10 && head.version != 11)
        return rejection{errors::version_not_supported, "HTTP version not supported"};
    if (head.method == "CONNECT")
        return rejection{error_triple{405, 0, 0}, "CONNECT is not supported by a reverse proxy"};
    if (auto r = check_target(head)) return r;
    if (auto r = check_fields(head, options)) return r;
    if (auto r = check_framing(head)) return r;
    return std::nullopt;
}

}  // namespace gatehouse::proxy
