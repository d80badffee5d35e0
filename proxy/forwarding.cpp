#include "proxy/forwarding.hpp"

#include <array>
#include <charconv>

namespace gatehouse::proxy {

namespace {

void append_field(std::string& out, std::string_view name, std::string_view value) {
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append("\r\n");
}

void append_length(std::string& out, std::uint64_t n) {
    std::array<char, 24> digits;
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), n);
    out.append("Content-Length: ");
    out.append(digits.data(), end);
    out.append("\r\n");
}

// True when a Connection field of `head` names `name`.
bool named_by_connection(const net::http_head& head, std::string_view name) {
    for (auto [field, value] : head.fields)
        if (net::iequals(field, "Connection") && net::has_token(value, name)) return true;
    return false;
}

bool has_connection_field(const net::http_head& head) {
    for (auto [field, value] : head.fields)
        if (net::iequals(field, "Connection")) return true;
    return false;
}

}  // namespace

bool is_hop_by_hop(std::string_view name) noexcept {
    static constexpr std::string_view names[] = {
        "Connection", "Keep-Alive", "Proxy-Connection", "TE",   "Transfer-Encoding",
        "Upgrade",    "Trailer",    "Proxy-Authorization", "Proxy-Authenticate",
    };
    for (auto n : names)
        if (net::iequals(name, n)) return true;
    return false;
}

void write_upstream_request(const net::http_head& client, const upstream_request& r,
                            std::string& out) {
    out.append(client.method);
    out.push_back(' ');
    out.append(r.target);
    out.append(" HTTP/1.1\r\n");
    append_field(out, "Host", r.host);

    const bool connection_options = has_connection_field(client);
    for (auto [name, value] : client.fields) {
        if (is_hop_by_hop(name)) continue;
        if (connection_options && named_by_connection(client, name)) continue;
        // Framing, Host and the proxy's own fields are regenerated below.
        if (net::iequals(name, "Content-Length") || net::iequals(name, "Host")) continue;
        if (!r.forwarded_for_header.empty() && net::iequals(name, r.forwarded_for_header))
            continue;
        if (r.forwarded_proto && net::iequals(name, "X-Forwarded-Proto")) continue;
        if (!r.request_id_header.empty() && net::iequals(name, r.request_id_header)) continue;
        if (!r.forward_expect && net::iequals(name, "Expect")) continue;
        append_field(out, name, value);
    }

    if (!r.forwarded_for_header.empty()) append_field(out, r.forwarded_for_header, r.forwarded_for);
    if (r.forwarded_proto) append_field(out, "X-Forwarded-Proto", r.https ? "https" : "http");
    if (!r.request_id_header.empty()) append_field(out, r.request_id_header, r.request_id);
    switch (r.framing) {
        case body_framing::none: break;
        case body_framing::length: append_length(out, r.content_length); break;
        case body_framing::chunked: out.append("Transfer-Encoding: chunked\r\n"); break;
    }
    if (!r.keep_alive) out.append("Connection: close\r\n");
    out.append("\r\n");
}

bool reverse_rewrite_url(std::string_view url, std::string_view from, std::string_view to_host,
                         bool to_https, std::string& out) {
    std::string_view rest;
    if (url.size() > 7 && net::iequals(url.substr(0, 7), "http://"))
        rest = url.substr(7);
    else if (url.size() > 8 && net::iequals(url.substr(0, 8), "https://"))
        rest = url.substr(8);
    else
        return false;
    auto end = rest.find_first_of("/?#");
    auto authority = rest.substr(0, end);
    if (!net::iequals(authority, from)) return false;
    out.append(to_https ? "https://" : "http://");
    out.append(to_host);
    if (end != std::string_view::npos) out.append(rest.substr(end));
    return true;
}

void write_downstream_response(const net::http_head& upstream, const downstream_response& r,
                               std::string& out) {
    out.append("HTTP/1.1 ");
    std::array<char, 12> digits;
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), upstream.status);
    out.append(digits.data(), end);
    out.push_back(' ');
    out.append(upstream.reason.empty() ? net::reason_phrase(upstream.status)
                                       : std::string_view(upstream.reason));
    out.append("\r\n");

    const bool connection_options = has_connection_field(upstream);
    for (auto [name, value] : upstream.fields) {
        if (is_hop_by_hop(name)) continue;
        if (connection_options && named_by_connection(upstream, name)) continue;
        if (net::iequals(name, "Content-Length")) continue;
        if (r.reverse_rewrite &&
            (net::iequals(name, "Location") || net::iequals(name, "Content-Location"))) {
            out.append(name);
            out.append(": ");
            if (!reverse_rewrite_url(value, r.upstream_authority, r.client_host, r.client_https,
                                     out))
                out.append(value);
            out.append("\r\n");
            continue;
        }
        append_field(out, name, value);
    }
    switch (r.framing) {
        case body_framing::none: break;
        case body_framing::length: append_length(out, r.content_length); break;
        case body_framing::chunked: out.append("Transfer-Encoding: chunked\r\n"); break;
    }
    if (r.close)
        out.append("Connection: close\r\n");
    else if (r.keep_alive_header)
        out.append("Connection: keep-alive\r\n");
    out.append("\r\n");
}

void write_interim_response(const net::http_head& upstream, std::string& out) {
    out.append("HTTP/1.1 ");
    std::array<char, 12> digits;
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), upstream.status);
    out.append(digits.data(), end);
    out.push_back(' ');
    out.append(upstream.reason.empty() ? net::reason_phrase(upstream.status)
                                       : std::string_view(upstream.reason));
    out.append("\r\n");
    const bool connection_options = has_connection_field(upstream);
    for (auto [name, value] : upstream.fields) {
        if (is_hop_by_hop(name)) continue;
        if (connection_options && named_by_connection(upstream, name)) continue;
        append_field(out, name, value);
    }
    out.append("\r\n");
}

}  // namespace gatehouse::proxy
