#include "net/http_parser.hpp"

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>

namespace gatehouse::net {

namespace {

class http_category_impl final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "gatehouse.http"; }
    std::string message(int ev) const override {
        switch (static_cast<http_errc>(ev)) {
            case http_errc::request_line_too_long: return "request line too long";
            case http_errc::field_too_large: return "header field too large";
            case http_errc::too_many_fields: return "too many header fields";
            case http_errc::trailer_too_large: return "trailer section too large";
            case http_errc::obs_fold: return "obsolete line folding in a header field";
            case http_errc::bad_chunk_extension: return "invalid bytes in a chunk extension";
            case http_errc::chunk_line_too_long: return "chunk line too long";
        }
        return "unknown http error";
    }
};

// The first byte at or after `at`, before `end`, that ends a line's text: a control byte (HTAB
// aside when `tab` is true: field values may hold it) or DEL; `end` if there is none. Eight
// bytes at a time: a head is mostly such text.
std::size_t line_stop(const char* p, std::size_t at, std::size_t end, bool tab) noexcept {
    if constexpr (std::endian::native == std::endian::little) {
        constexpr std::uint64_t ones = 0x0101010101010101, highs = 0x8080808080808080;
        while (at + 8 <= end) {
            std::uint64_t x;
            std::memcpy(&x, p + at, 8);
            const std::uint64_t del = x ^ (ones * 0x7f);
            // High bit of each byte below 0x20, and of each DEL; exact for the lowest byte.
            const std::uint64_t stops =
                ((x - ones * 0x20) & ~x & highs) | ((del - ones) & ~del & highs);
            if (stops == 0) {
                at += 8;
                continue;
            }
            at += static_cast<std::size_t>(std::countr_zero(stops)) / 8;
            if (!tab || p[at] != '\t') return at;
            ++at;
        }
    }
    while (at < end) {
        const auto c = static_cast<unsigned char>(p[at]);
        if ((c < 0x20 && !(tab && c == '\t')) || c == 0x7f) break;
        ++at;
    }
    return at;
}

// The fields Beast's parser acts on (basic_parser::do_field): it must see them to frame the
// message and decide keep-alive.
bool beast_acts_on(std::string_view name) noexcept {
    switch (name.size()) {
        case 7: return iequals(name, "Upgrade");
        case 10: return iequals(name, "Connection");
        case 14: return iequals(name, "Content-Length");
        case 16: return iequals(name, "Proxy-Connection");
        case 17: return iequals(name, "Transfer-Encoding");
        default: return false;
    }
}

}  // namespace

const boost::system::error_category& http_category() noexcept {
    static const http_category_impl category;
    return category;
}

error_code make_error_code(http_errc e) noexcept { return {static_cast<int>(e), http_category()}; }

unsigned status_for_parse_error(const error_code& ec) noexcept {
    if (ec == http_errc::request_line_too_long) return 414;
    if (ec == http_errc::field_too_large || ec == http_errc::too_many_fields) return 431;
    if (ec == http::error::header_limit) return 431;
    if (ec == http::error::body_limit) return 413;
    return 400;
}

bool contains_obs_fold(std::string_view head) noexcept {
    for (auto at = head.find('\n'); at != std::string_view::npos && at + 1 < head.size();
         at = head.find('\n', at + 1))
        if (head[at + 1] == ' ' || head[at + 1] == '\t') return true;
    return false;
}

template <bool IsRequest>
head_parser<IsRequest>::head_parser(http_head& head, const parser_limits& limits)
    : head_(head), limits_(limits) {
    head_.clear();
    this->header_limit(limits_.head_bytes);
    this->body_limit(limits_.body_bytes ? boost::optional<std::uint64_t>(*limits_.body_bytes)
                                        : boost::none);
}

template <bool IsRequest>
std::optional<std::size_t> head_parser<IsRequest>::put_head(std::string_view bytes,
                                                            error_code& ec) {
    if (!fast_head_ || this->got_some()) return std::nullopt;
    BOOST_ASSERT(head_.fields.empty());
    const char* const p = bytes.data();
    const std::size_t size = bytes.size();

    // The start line goes to Beast as it is, so it must be one line with no control byte.
    std::size_t at = line_stop(p, 0, size, false);
    if (at + 1 >= size || p[at] != '\r' || p[at + 1] != '\n') return std::nullopt;
    // And it must carry the version where Beast reads it, with all its bytes: given less, Beast
    // waits for more (which a head already complete would never give).
    const std::string_view start_line(p, at);
    if constexpr (IsRequest) {
        if (!start_line.ends_with(" HTTP/1.1") && !start_line.ends_with(" HTTP/1.0"))
            return std::nullopt;
    } else {
        if (!start_line.starts_with("HTTP/1.1 ") && !start_line.starts_with("HTTP/1.0 "))
            return std::nullopt;
    }
    // In HTTP/1.1 "Connection: keep-alive" changes nothing Beast reports (keep-alive is the
    // default there): Beast is spared parsing it.
    const bool http11 = IsRequest ? start_line.ends_with("1.1") : start_line[7] == '1';
    // One scratch string per thread: the framing head is consumed before this function returns.
    thread_local std::string framing;
    framing.assign(p, at + 2);

    const auto decline = [this] {
        head_.fields.clear();
        return std::nullopt;
    };
    // Field lines up to the empty line; a scan that reaches the end of `bytes` declines (the
    // head is not all here). Fields are recorded by their places among the lines, which are
    // then kept in one copy.
    at += 2;
    const std::size_t first = at;
    std::uint32_t count = 0;
    for (;;) {
        if (at + 1 >= size) return decline();
        if (p[at] == '\r') {
            if (p[at + 1] != '\n') return decline();
            break;
        }
        // name ":" OWS value OWS CRLF
        const std::size_t line = at;
        while (at < size && is_token_char(p[at])) ++at;
        if (at == line || at == size || p[at] != ':') return decline();
        const std::size_t name_size = at - line;
        ++at;
        while (at < size && (p[at] == ' ' || p[at] == '\t')) ++at;
        const std::size_t value = at;
        at = line_stop(p, at, size, true);
        if (at + 1 >= size || p[at] != '\r' || p[at + 1] != '\n') return decline();
        std::size_t value_end = at;
        while (value_end > value && (p[value_end - 1] == ' ' || p[value_end - 1] == '\t'))
            --value_end;
        if (name_size + (value_end - value) + 4 > limits_.field_bytes) return decline();
        if (++count > limits_.fields) return decline();
        if (beast_acts_on({p + line, name_size}) &&
            !(http11 && iequals({p + value, value_end - value}, "keep-alive") &&
              iequals({p + line, name_size}, "Connection")))
            framing.append(p + line, at + 2 - line);
        head_.fields.add_held(line - first, name_size, value - first, value_end - value);
        at += 2;
    }
    const std::size_t head_size = at + 2;
    // Beast's header limit counts the whole head; staying clear of it leaves its error to put().
    if (head_size >= limits_.head_bytes) return decline();
    head_.fields.hold({p + first, at - first});
    framing.append("\r\n");

    framing_only_ = true;
    const auto used = this->put(asio::buffer(framing), ec);
    framing_only_ = false;
    BOOST_ASSERT(ec ? ec != http::error::need_more
                    : this->is_header_done() && used == framing.size());
    (void)used;
    if (ec == http::error::need_more) ec = http::error::bad_version;  // see the checks above
    return head_size;
}

template <bool IsRequest>
std::optional<error_code> head_parser<IsRequest>::take_head(std::string_view bytes,
                                                            std::size_t& used) {
    BOOST_ASSERT(!bytes.empty());  // Beast would do arithmetic on a null pointer
    error_code ec;
    if (auto head = put_head(bytes, ec)) {
        // A refused head ends the connection: what it leaves unconsumed does not matter.
        used = this->is_header_done() ? *head : 0;
        return this->is_header_done() ? error_code{} : ec;
    }
    used = this->put(asio::buffer(bytes.data(), bytes.size()), ec);
    if (this->is_header_done()) {
        // Beast takes a head in one piece once it is complete: `used` bytes are all of it.
        return contains_obs_fold(bytes.substr(0, used)) ? error_code(http_errc::obs_fold)
                                                        : error_code{};
    }
    if (ec && ec != http::error::need_more) return ec;
    return std::nullopt;
}

template <bool IsRequest>
void head_parser<IsRequest>::on_request_impl(http::verb, boost::beast::string_view method,
                                             boost::beast::string_view target, int version,
                                             error_code& ec) {
    // method SP target SP HTTP/x.y: the two spaces and eight version bytes count too
    if (method.size() + target.size() + 10 > limits_.request_line_bytes) {
        ec = http_errc::request_line_too_long;
        return;
    }
    head_.method.assign(method.data(), method.size());
    head_.target.assign(target.data(), target.size());
    head_.version = static_cast<unsigned>(version);
}

template <bool IsRequest>
void head_parser<IsRequest>::on_response_impl(int code, boost::beast::string_view reason,
                                              int version, error_code&) {
    head_.status = static_cast<unsigned>(code);
    head_.reason.assign(reason.data(), reason.size());
    head_.version = static_cast<unsigned>(version);
}

template <bool IsRequest>
void head_parser<IsRequest>::on_field_impl(http::field, boost::beast::string_view name,
                                           boost::beast::string_view value, error_code& ec) {
    if (this->is_header_done()) {
        // A trailer field of a chunked body: counted and dropped, never forwarded.
        trailer_bytes_ += name.size() + value.size() + 4;
        ++trailer_fields_;
        if (trailer_bytes_ > limits_.trailer_bytes) ec = http_errc::trailer_too_large;
        return;
    }
    if (framing_only_) return;  // put_head() stored every field, these included
    if (name.size() + value.size() + 4 > limits_.field_bytes) {
        ec = http_errc::field_too_large;
        return;
    }
    if (head_.fields.size() >= limits_.fields) {
        ec = http_errc::too_many_fields;
        return;
    }
    head_.fields.add({name.data(), name.size()}, {value.data(), value.size()});
}

template <bool IsRequest>
void head_parser<IsRequest>::on_header_impl(error_code&) {}

template <bool IsRequest>
void head_parser<IsRequest>::on_body_init_impl(const boost::optional<std::uint64_t>&,
                                               error_code&) {}

template <bool IsRequest>
std::size_t head_parser<IsRequest>::copy_body(boost::beast::string_view body,
                                              error_code& ec) noexcept {
    auto room = body_.size() - body_used_;
    auto n = std::min(room, body.size());
    if (n > 0) {
        auto* dest = static_cast<char*>(body_.data()) + body_used_;
        if (dest != body.data()) std::memmove(dest, body.data(), n);
        body_used_ += n;
        body_total_ += n;
    }
    if (n < body.size()) ec = http::error::need_buffer;
    return n;
}

template <bool IsRequest>
std::size_t head_parser<IsRequest>::on_body_impl(boost::beast::string_view body, error_code& ec) {
    return copy_body(body, ec);
}

template <bool IsRequest>
void head_parser<IsRequest>::on_chunk_header_impl(std::uint64_t,
                                                  boost::beast::string_view extensions,
                                                  error_code& ec) {
    if (extensions.empty()) return;
    saw_chunk_extension_ = true;
    if (extensions.size() > limits_.chunk_extension_bytes) {
        ec = http_errc::chunk_line_too_long;
        return;
    }
    // Beast 1.81 does not look inside quoted extension values: NUL, CR, a bare LF would pass.
    for (unsigned char c : extensions)
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            ec = http_errc::bad_chunk_extension;
            return;
        }
}

template <bool IsRequest>
std::size_t head_parser<IsRequest>::on_chunk_body_impl(std::uint64_t,
                                                       boost::beast::string_view body,
                                                       error_code& ec) {
    return copy_body(body, ec);
}

template <bool IsRequest>
void head_parser<IsRequest>::on_finish_impl(error_code&) {}

template class head_parser<true>;
template class head_parser<false>;

}  // namespace gatehouse::net
