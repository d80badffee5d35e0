#include "proxy/error_triple.hpp"

#include "net/http_date.hpp"
#include "net/http_message.hpp"

#include <array>
#include <charconv>

namespace gatehouse::proxy {

namespace {

void append_number(std::string& out, unsigned value) {
    std::array<char, 12> digits;
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
    out.append(digits.data(), end);
}

void append_html_escaped(std::string& out, std::string_view text) {
    for (char c : text) {
        switch (c) {
            case '<':
                out.append("&lt;");
                break;
            case '>':
                out.append("&gt;");
                break;
            case '&':
                out.append("&amp;");
                break;
            case '"':
                out.append("&quot;");
                break;
            default:
                out.push_back(c);
        }
    }
}

// IIS's short title of a status/substatus pair.
std::string_view title(const error_triple& e) noexcept {
    if (e.status == 502 && e.substatus == 3) return "Bad Gateway: Forwarder Connection Error (ARR)";
    if (e.status == 502 && e.substatus == 4) return "Bad Gateway: No Server (ARR)";
    if (e.status == 404 && e.substatus == 13) return "Not Found: Content Length Too Large";
    return net::reason_phrase(e.status);
}

}  // namespace

std::string to_string(const error_triple& e) {
    std::string out;
    append_number(out, e.status);
    out.push_back('.');
    append_number(out, e.substatus);
    out.push_back('.');
    append_number(out, e.win32);
    return out;
}

std::string_view describe(const error_triple& e) noexcept {
    if (e.status == 502 && e.substatus == 3) {
        switch (e.win32) {
            case 12002:
                return "The operation timed out";
            case 12007:
                return "The server name or address could not be resolved";
            case 12029:
                return "A connection with the server could not be established";
            case 12030:
                return "The connection with the server was terminated abnormally";
            case 12152:
                return "The server returned an invalid or unrecognized response";
            case 12175:
                return "A security error occurred";
        }
        return "The proxy could not complete the request to the back end";
    }
    if (e.status == 502 && e.substatus == 4) return "No server is available to handle this request";
    if (e.status == 404 && e.substatus == 13)
        return "The request filtering module is configured to deny a request that exceeds the "
               "request content length";
    switch (e.status) {
        case 400:
            return "The request could not be understood by the server";
        case 404:
            return "The resource you are looking for has been removed, had its name changed, or "
                   "is temporarily unavailable";
        case 408:
            return "The request was not received in time";
        case 414:
            return "The request URL is too long";
        case 431:
            return "The request header fields are too large";
        case 501:
            return "The request uses a transfer coding the proxy does not implement";
        case 503:
            return "The proxy is shutting down";
        case 505:
            return "The HTTP version is not supported";
    }
    return net::reason_phrase(e.status);
}

void append_error_response(const error_triple& e, bool close, std::string_view request_id,
                           std::string& out, std::string_view reason, std::string_view description,
                           std::string_view extra_headers) {
    // The page, modelled on IIS's detailed error page: the status with its substatus, what
    // happened, and the win32 code with its HRESULT form as WinHTTP reports it.
    std::string body;
    body.reserve(640);
    body.append("<!DOCTYPE html>\r\n<html><head><title>");
    append_number(body, e.status);
    body.append(".");
    append_number(body, e.substatus);
    body.append(" - ");
    append_html_escaped(body, title(e));
    body.append("</title></head>\r\n<body><h1>Server Error</h1>\r\n<h2>HTTP Error ");
    append_number(body, e.status);
    body.append(".");
    append_number(body, e.substatus);
    body.append(" - ");
    append_html_escaped(body, reason.empty() ? title(e) : reason);
    body.append("</h2>\r\n<p>");
    append_html_escaped(body, description.empty() ? describe(e) : description);
    body.append("</p>\r\n");
    if (e.win32 != 0) {
        static constexpr char hex[] = "0123456789abcdef";
        unsigned hresult = 0x80070000u | e.win32;
        body.append("<p>Error code: 0x");
        for (int shift = 28; shift >= 0; shift -= 4) body.push_back(hex[(hresult >> shift) & 15]);
        body.append(" (");
        append_number(body, e.win32);
        body.append(")</p>\r\n");
    }
    if (!request_id.empty()) {
        body.append("<p>Request id: ");
        append_html_escaped(body, request_id);
        body.append("</p>\r\n");
    }
    body.append("<p>Gatehouse proxy</p></body></html>\r\n");

    out.append("HTTP/1.1 ");
    append_number(out, e.status);
    out.push_back(' ');
    out.append(reason.empty() ? net::reason_phrase(e.status) : reason);
    out.append("\r\nContent-Type: text/html; charset=utf-8\r\nDate: ");
    out.append(net::http_date());
    out.append("\r\n");
    net::append_field(out, error_header, to_string(e));
    out.append(extra_headers);
    out.append("Content-Length: ");
    append_number(out, static_cast<unsigned>(body.size()));
    out.append(close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n");
    out.append(body);
}

std::optional<unsigned> win32_for_error_kind(std::string_view kind) noexcept {
    constexpr std::pair<std::string_view, error_triple> kinds[] = {
        {"timeout", errors::timeout},
        {"name_not_resolved", errors::name_not_resolved},
        {"cannot_connect", errors::cannot_connect},
        {"connection_error", errors::connection_error},
        {"invalid_response", errors::invalid_response},
        {"secure_failure", errors::secure_failure},
    };
    for (const auto& [name, triple] : kinds)
        if (name == kind) return triple.win32;
    return std::nullopt;
}

}  // namespace gatehouse::proxy
