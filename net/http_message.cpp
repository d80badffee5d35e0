#include "net/http_message.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <charconv>
#include <cstring>

namespace gatehouse::net {

namespace {

std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

void append_number(std::string& out, unsigned value) {
    std::array<char, 16> digits;
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
    out.append(digits.data(), end);
}

void write_fields(const http_fields& fields, std::string& out) {
    for (auto [name, value] : fields) append_field(out, name, value);
    out.append("\r\n");
}

}  // namespace

void append_field(std::string& out, std::string_view name, std::string_view value) {
    const std::size_t at = out.size();
    out.resize(at + name.size() + value.size() + 4);
    char* p = out.data() + at;
    std::memcpy(p, name.data(), name.size());
    p += name.size();
    *p++ = ':';
    *p++ = ' ';
    std::memcpy(p, value.data(), value.size());
    p += value.size();
    *p++ = '\r';
    *p = '\n';
}

bool has_token(std::string_view list, std::string_view token) noexcept {
    while (!list.empty()) {
        auto comma = list.find(',');
        auto item = trim(list.substr(0, comma));
        if (iequals(item, token)) return true;
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    return false;
}

void http_fields::add(std::string_view name, std::string_view value) {
    entry e{};
    e.name_offset = static_cast<std::uint32_t>(arena_.size());
    e.name_size = static_cast<std::uint32_t>(name.size());
    arena_.append(name);
    e.value_offset = static_cast<std::uint32_t>(arena_.size());
    e.value_size = static_cast<std::uint32_t>(value.size());
    arena_.append(value);
    e.erased = false;
    entries_.push_back(e);
    ++live_;
    text_bytes_ += name.size() + value.size();
}

void http_fields::add_held(std::size_t name_offset, std::size_t name_size, std::size_t value_offset,
                           std::size_t value_size) {
    assert(arena_.empty());
    entries_.push_back(
        {static_cast<std::uint32_t>(name_offset), static_cast<std::uint32_t>(name_size),
         static_cast<std::uint32_t>(value_offset), static_cast<std::uint32_t>(value_size), false});
    ++live_;
    text_bytes_ += name_size + value_size;
}

void http_fields::hold(std::string_view lines) {
    assert(arena_.empty());
    assert(std::all_of(entries_.begin(), entries_.end(), [&](const entry& e) {
        return e.name_offset + e.name_size <= lines.size() &&
               e.value_offset + e.value_size <= lines.size();
    }));
    arena_.assign(lines);
    held_bytes_ = lines.size();
}

std::string_view http_fields::received_line(const iterator& at) const noexcept {
    const std::size_t i = at.index();
    assert(i < entries_.size());
    const std::size_t begin = entries_[i].name_offset;
    if (begin >= held_bytes_) return {};
    // Held lines follow one another in the order of their entries (erased ones included).
    const std::size_t end = i + 1 < entries_.size() && entries_[i + 1].name_offset < held_bytes_
                                ? entries_[i + 1].name_offset
                                : held_bytes_;
    return std::string_view(arena_).substr(begin, end - begin);
}

void http_fields::set(std::string_view name, std::string_view value) {
    // `value` may point into the arena (copying one field onto another): copy it first.
    std::string copy(value);
    erase(name);
    add(name, copy);
}

std::size_t http_fields::erase(std::string_view name) {
    std::size_t removed = 0;
    for (auto& e : entries_) {
        if (e.erased) continue;
        if (iequals(std::string_view(arena_).substr(e.name_offset, e.name_size), name)) {
            e.erased = true;
            ++removed;
            text_bytes_ -= e.name_size + e.value_size;
        }
    }
    live_ -= removed;
    return removed;
}

std::optional<std::string_view> http_fields::find(std::string_view name) const {
    for (const auto& e : entries_) {
        if (e.erased) continue;
        std::string_view arena(arena_);
        if (iequals(arena.substr(e.name_offset, e.name_size), name))
            return arena.substr(e.value_offset, e.value_size);
    }
    return std::nullopt;
}

std::size_t http_fields::count(std::string_view name) const {
    std::size_t n = 0;
    for (auto [field_name, value] : *this)
        if (iequals(field_name, name)) ++n;
    return n;
}

void http_fields::clear() noexcept {
    arena_.clear();
    held_bytes_ = 0;
    entries_.clear();
    live_ = 0;
    text_bytes_ = 0;
}

void http_head::clear() noexcept {
    method.clear();
    target.clear();
    status = 0;
    reason.clear();
    version = 11;
    fields.clear();
}

void http_head::write_request(std::string& out) const {
    out.append(method);
    out.push_back(' ');
    out.append(target);
    out.append(version == 10 ? " HTTP/1.0\r\n" : " HTTP/1.1\r\n");
    write_fields(fields, out);
}

void http_head::write_response(std::string& out) const {
    out.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
    append_number(out, status);
    out.push_back(' ');
    out.append(reason.empty() ? reason_phrase(status) : std::string_view(reason));
    out.append("\r\n");
    write_fields(fields, out);
}

std::string_view reason_phrase(unsigned status) noexcept {
    switch (status) {
        case 100: return "Continue";
        case 101: return "Switching Protocols";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 206: return "Partial Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 303: return "See Other";
        case 304: return "Not Modified";
        case 307: return "Temporary Redirect";
        case 308: return "Permanent Redirect";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 408: return "Request Timeout";
        case 411: return "Length Required";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 416: return "Range Not Satisfiable";
        case 417: return "Expectation Failed";
        case 421: return "Misdirected Request";
        case 431: return "Request Header Fields Too Large";
        case 440: return "Login Timeout";
        case 449: return "Retry With";
        case 451: return "Redirect";
        case 456: return "Account Blocked";
        case 457: return "Password Expired";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        case 505: return "HTTP Version Not Supported";
        case 507: return "Insufficient Storage";
        default: return "Unknown";
    }
}

std::string chunk_header(std::size_t size) {
    std::array<char, 24> digits;
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), size, 16);
    std::string line(digits.data(), end);
    line.append("\r\n");
    return line;
}

}  // namespace gatehouse::net
