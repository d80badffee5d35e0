#include "net/http_parser.hpp"

#include <algorithm>
#include <cstring>

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
