#include "proxy/forwarding.hpp"

#include <array>
#include <charconv>

namespace gatehouse::proxy {

namespace {

void append_length(std::string& out, std::uint64_t n) {
    std::array<char, 24> digits;
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), n);
    out.append("Content-Length: ");
    out.append(digits.data(), end);
    out.append("\r\n");
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// The field names the Connection fields of a head list, gathered once per message.
class connection_options {
public:
    explicit connection_options(const net::http_head& head) {
        for (auto [field, value] : head.fields) {
            if (!net::iequals(field, "Connection")) continue;
            while (!value.empty()) {
                auto comma = value.find(',');
                auto token = trim(value.substr(0, comma));
                if (!token.empty()) {
                    if (count_ < tokens_.size())
                        tokens_[count_++] = token;
                    else
                        overflow_ = &head;  // unusual: fall back to scanning
                }
                if (comma == std::string_view::npos) break;
                value.remove_prefix(comma + 1);
            }
        }
    }

    bool names(std::string_view name) const {
        for (std::size_t i = 0; i < count_; ++i)
            if (net::iequals(tokens_[i], name)) return true;
        if (overflow_)
            for (auto [field, value] : overflow_->fields)
                if (net::iequals(field, "Connection") && net::has_token(value, name)) return true;
        return false;
    }

private:
    std::array<std::string_view, 16> tokens_{};
    std::size_t count_ = 0;
    const net::http_head* overflow_ = nullptr;
};

// Forwarding information only the proxy may state: a client's own claims are dropped (an edge
// has no trusted hop before it), so the back end never logs or trusts a spoofed address.
bool is_client_forwarding_field(std::string_view name) {
    return net::iequals(name, "Forwarded") || net::iequals(name, "X-Real-IP") ||
           net::iequals(name, "X-Forwarded-Host");
}

// Writes the fields kept from a received head: the lines of neighbouring fields as received are
// copied in one piece, other fields one at a time. flush() before writing anything else.
class field_writer {
public:
    field_writer(const net::http_fields& fields, std::string& out) : fields_(fields), out_(out) {}

    void keep(const net::http_fields::iterator& at) {
        const auto line = fields_.received_line(at);
        if (line.empty()) {
            flush();
            auto [name, value] = *at;
            net::append_field(out_, name, value);
        } else if (size_ != 0 && line.data() == run_ + size_) {
            size_ += line.size();
        } else {
            flush();
            run_ = line.data();
            size_ = line.size();
        }
    }
    void flush() {
        if (size_ != 0) out_.append(run_, size_);
        size_ = 0;
    }

private:
    const net::http_fields& fields_;
    std::string& out_;
    const char* run_ = nullptr;
    std::size_t size_ = 0;
};

}  // namespace

bool is_hop_by_hop(std::string_view name) noexcept {
    // Dispatch on the length first: this runs for every field of every message.
    switch (name.size()) {
        case 2:
            return net::iequals(name, "TE");
        case 7:
            return net::iequals(name, "Upgrade") || net::iequals(name, "Trailer");
        case 10:
            return net::iequals(name, "Connection") || net::iequals(name, "Keep-Alive");
        case 16:
            return net::iequals(name, "Proxy-Connection");
        case 17:
            return net::iequals(name, "Transfer-Encoding");
        case 18:
            return net::iequals(name, "Proxy-Authenticate");
        case 19:
            return net::iequals(name, "Proxy-Authorization");
        default:
            return false;
    }
}

void write_upstream_request(const net::http_head& client, const upstream_request& r,
                            std::string& out) {
    out.append(client.method);
    out.push_back(' ');
    out.append(r.target);
    out.append(" HTTP/1.1\r\n");
    net::append_field(out, "Host", r.host);

    const connection_options named(client);
    field_writer kept(client.fields, out);
    for (auto at = client.fields.begin(); at != client.fields.end(); ++at) {
        const auto [name, value] = *at;
        if (is_hop_by_hop(name)) continue;
        if (named.names(name)) continue;
        // Framing, Host and the proxy's own fields are regenerated below.
        if (net::iequals(name, "Content-Length") || net::iequals(name, "Host")) continue;
        if (!r.forwarded_for_header.empty() && net::iequals(name, r.forwarded_for_header)) continue;
        if (is_client_forwarding_field(name)) continue;
        if (r.forwarded_proto && net::iequals(name, "X-Forwarded-Proto")) continue;
        if (!r.request_id_header.empty() && net::iequals(name, r.request_id_header)) continue;
        if (!r.forward_expect && net::iequals(name, "Expect")) continue;
        kept.keep(at);
    }
    kept.flush();

    if (!r.forwarded_for_header.empty())
        net::append_field(out, r.forwarded_for_header, r.forwarded_for);
    if (r.forwarded_proto) net::append_field(out, "X-Forwarded-Proto", r.https ? "https" : "http");
    if (!r.request_id_header.empty()) net::append_field(out, r.request_id_header, r.request_id);
    switch (r.framing) {
        case body_framing::none:
            break;
        case body_framing::length:
            append_length(out, r.content_length);
            break;
        case body_framing::chunked:
            out.append("Transfer-Encoding: chunked\r\n");
            break;
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

namespace {

// "HTTP/1.1 <status> <reason>": the back end's reason phrase kept, the standard one if it sent
// none.
void append_status_line(const net::http_head& upstream, std::string& out) {
    out.append("HTTP/1.1 ");
    std::array<char, 12> digits;
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), upstream.status);
    out.append(digits.data(), end);
    out.push_back(' ');
    out.append(upstream.reason.empty() ? net::reason_phrase(upstream.status)
                                       : std::string_view(upstream.reason));
    out.append("\r\n");
}

}  // namespace

void write_downstream_response(const net::http_head& upstream, const downstream_response& r,
                               std::string& out) {
    append_status_line(upstream, out);

    const connection_options named(upstream);
    field_writer kept(upstream.fields, out);
    for (auto at = upstream.fields.begin(); at != upstream.fields.end(); ++at) {
        const auto [name, value] = *at;
        if (is_hop_by_hop(name)) continue;
        if (named.names(name)) continue;
        if (net::iequals(name, "Content-Length")) continue;
        if (r.reverse_rewrite &&
            (net::iequals(name, "Location") || net::iequals(name, "Content-Location"))) {
            kept.flush();
            out.append(name);
            out.append(": ");
            if (!reverse_rewrite_url(value, r.upstream_authority, r.client_host, r.client_https,
                                     out))
                out.append(value);
            out.append("\r\n");
            continue;
        }
        kept.keep(at);
    }
    kept.flush();
    switch (r.framing) {
        case body_framing::none:
            break;
        case body_framing::length:
            append_length(out, r.content_length);
            break;
        case body_framing::chunked:
            out.append("Transfer-Encoding: chunked\r\n");
            break;
    }
    if (r.close)
        out.append("Connection: close\r\n");
    else if (r.keep_alive_header)
        out.append("Connection: keep-alive\r\n");
    out.append("\r\n");
}

void write_interim_response(const net::http_head& upstream, std::string& out) {
    append_status_line(upstream, out);
    const connection_options named(upstream);
    field_writer kept(upstream.fields, out);
    for (auto at = upstream.fields.begin(); at != upstream.fields.end(); ++at) {
        const auto [name, value] = *at;
        if (is_hop_by_hop(name)) continue;
        if (named.names(name)) continue;
        kept.keep(at);
    }
    kept.flush();
    out.append("\r\n");
}

}  // namespace gatehouse::proxy
