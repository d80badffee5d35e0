#pragma once
// An HTTP/1.x parser: Beast's basic_parser tokenizes and enforces the grammar; this class stores
// the head in an http_head, applies Gatehouse's size limits, and copies body bytes into a buffer
// the caller supplies (so bodies stream through a fixed amount of memory). One parser reads one
// message; make a new one for the next message of a keep-alive connection.

#include "net/awaitable.hpp"
#include "net/http_message.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <cstdint>
#include <optional>
#include <string_view>

namespace gatehouse::net {

// Parse failures of ours; Beast's own (http::error) cover the grammar.
enum class http_errc {
    request_line_too_long = 1,  // answered with 414
    field_too_large,            // one field line over the limit: 431
    too_many_fields,            // 431
    trailer_too_large,          // trailer section over the limit: 400
    obs_fold,                   // a field line continued on the next line (RFC 9112 §5.2): 400
    bad_chunk_extension,        // control bytes in a chunk extension (Beast 1.81 lets them by)
    chunk_line_too_long,        // a chunk-size line or trailer line over the limit: 400
};
const boost::system::error_category& http_category() noexcept;
error_code make_error_code(http_errc e) noexcept;

// The status a server answers a request that failed to parse with `ec` (400 by default; 414,
// 431, 413 for the size limits).
unsigned status_for_parse_error(const error_code& ec) noexcept;

// True when a raw message head (start line to the empty line) continues a field on the next
// line (obs-fold). Beast 1.81 unfolds such lines silently; a proxy must not (RFC 9112 §5.2).
bool contains_obs_fold(std::string_view head) noexcept;

struct parser_limits {
    std::uint32_t head_bytes = 32 * 1024;          // start line and fields together
    std::uint32_t request_line_bytes = 8 * 1024;   // method, target and version
    std::uint32_t field_bytes = 16 * 1024;         // one name plus value
    std::uint32_t fields = 100;                    // fields in the head
    std::uint32_t trailer_bytes = 8 * 1024;        // fields after a chunked body (never kept)
    std::optional<std::uint64_t> body_bytes{};     // none: unlimited (the body is streamed)
    std::uint32_t chunk_extension_bytes = 4 * 1024;  // extensions of one chunk-size line
};

template <bool IsRequest>
class head_parser final : public http::basic_parser<IsRequest> {
public:
    // `head` is cleared and filled; it must outlive the parser.
    explicit head_parser(http_head& head, const parser_limits& limits = {});

    http_head& head() noexcept { return head_; }

    // Body bytes parsed from now on are copied into `buffer` until it is full.
    void set_body_buffer(asio::mutable_buffer buffer) noexcept {
        body_ = buffer;
        body_used_ = 0;
    }
    // Bytes copied into the body buffer since set_body_buffer.
    std::size_t body_used() const noexcept { return body_used_; }
    // Body bytes parsed so far in total.
    std::uint64_t body_total() const noexcept { return body_total_; }
    // Chunk extensions seen in a chunked body, and trailer fields (counted, discarded).
    bool saw_chunk_extension() const noexcept { return saw_chunk_extension_; }
    std::size_t trailer_fields() const noexcept { return trailer_fields_; }
    // The most unparsed bytes a chunked body may leave pending (an incomplete chunk-size line
    // or trailer section); read_body fails with chunk_line_too_long beyond it, so a peer cannot
    // grow the connection's buffer with an endless chunk line.
    std::size_t max_pending_bytes() const noexcept {
        return std::size_t{limits_.chunk_extension_bytes} + limits_.trailer_bytes + 64;
    }
    // Empty lines skipped before the start line so far (see net/http_io.cpp).
    int& empty_lines() noexcept { return empty_lines_; }

    // A whole head in one pass, for the common case: `bytes` starts a message (nothing was put
    // before) and holds its head complete, with plain field lines. Those are checked and stored
    // here; Beast then parses only the start line and the fields it acts on (Connection,
    // Proxy-Connection, Content-Length, Transfer-Encoding, Upgrade), so framing, keep-alive and
    // their errors are Beast's exactly as with put(). Returns the head's size in `bytes` (`ec`
    // holds Beast's verdict), or nothing, having changed nothing, when the head is incomplete or
    // anything in it is unusual (obs-fold, a bare LF, a control byte, a limit reached): the
    // caller then puts the bytes as usual, which reports what is wrong.
    std::optional<std::size_t> put_head(std::string_view bytes, error_code& ec);
    // The head in `bytes` (not empty: every unparsed byte at hand), by put_head() when it takes
    // it, else by Beast's put() with obs-fold refused: the outcome once the head is complete or
    // wrong, nothing while more bytes are needed. `used` is how many bytes were taken.
    std::optional<error_code> take_head(std::string_view bytes, std::size_t& used);
    // put_head() declines every head when off (to compare it with put() in tests).
    void fast_head(bool on) noexcept { fast_head_ = on; }

private:
    // http::basic_parser
    void on_request_impl(http::verb, boost::beast::string_view method,
                         boost::beast::string_view target, int version,
                         error_code& ec) override;
    void on_response_impl(int code, boost::beast::string_view reason, int version,
                          error_code& ec) override;
    void on_field_impl(http::field, boost::beast::string_view name,
                       boost::beast::string_view value, error_code& ec) override;
    void on_header_impl(error_code& ec) override;
    void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                           error_code& ec) override;
    std::size_t on_body_impl(boost::beast::string_view body, error_code& ec) override;
    void on_chunk_header_impl(std::uint64_t size, boost::beast::string_view extensions,
                              error_code& ec) override;
    std::size_t on_chunk_body_impl(std::uint64_t remain, boost::beast::string_view body,
                                   error_code& ec) override;
    void on_finish_impl(error_code& ec) override;

    std::size_t copy_body(boost::beast::string_view body, error_code& ec) noexcept;

    http_head& head_;
    parser_limits limits_;
    asio::mutable_buffer body_;
    std::size_t body_used_ = 0;
    std::uint64_t body_total_ = 0;
    bool saw_chunk_extension_ = false;
    std::size_t trailer_fields_ = 0;
    std::size_t trailer_bytes_ = 0;
    int empty_lines_ = 0;
    bool fast_head_ = true;
    bool framing_only_ = false;  // put_head() is feeding Beast fields already stored
};

extern template class head_parser<true>;
extern template class head_parser<false>;

using request_parser = head_parser<true>;
using response_parser = head_parser<false>;

}  // namespace gatehouse::net

template <>
struct boost::system::is_error_code_enum<gatehouse::net::http_errc> : std::true_type {};
