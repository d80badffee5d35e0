#include "net/http_io.hpp"

#include <algorithm>
#include <array>
#include <boost/asio/ssl/error.hpp>

namespace gatehouse::net {

namespace {

// The peer closed: a TCP FIN, or a TLS peer that skipped close_notify.
bool is_eof(const error_code& ec) {
    return ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
}

template <bool IsRequest>
std::optional<error_code> parse_head_impl(beast::flat_buffer& buffer,
                                          head_parser<IsRequest>& parser) {
    parser.eager(false);
    const auto* bytes = static_cast<const char*>(buffer.data().data());
    if constexpr (IsRequest) {
        // RFC 9112 §2.2: empty lines before a request line are ignored (a client's stray CRLF
        // after a body), a few of them; a lone CR waits for its LF.
        while (!parser.got_some() && parser.empty_lines() < 4 && buffer.size() >= 2 &&
               bytes[0] == '\r' && bytes[1] == '\n') {
            buffer.consume(2);
            bytes = static_cast<const char*>(buffer.data().data());
            ++parser.empty_lines();
        }
    }
    const bool lone_cr = IsRequest && !parser.got_some() && buffer.size() == 1 && bytes[0] == '\r';
    if (buffer.size() == 0 || lone_cr) return std::nullopt;
    std::size_t used = 0;
    auto outcome = parser.take_head({bytes, buffer.size()}, used);
    buffer.consume(used);
    return outcome;
}

template <bool IsRequest>
error_code head_read_error_impl(const error_code& ec, const beast::flat_buffer& buffer,
                                const head_parser<IsRequest>& parser) noexcept {
    if (!is_eof(ec)) return ec;
    bool started = buffer.size() > 0 || parser.got_some();
    return started ? error_code(http::error::partial_message)
                   : error_code(http::error::end_of_stream);
}

template <bool IsRequest>
awaitable<error_code> read_head_impl(stream& s, beast::flat_buffer& buffer,
                                     head_parser<IsRequest>& parser) {
    for (;;) {
        if (auto done = parse_head_impl(buffer, parser)) co_return *done;
        auto [ec, n] = co_await s.read_some(buffer.prepare(read_chunk_bytes));
        if (ec) co_return head_read_error_impl(ec, buffer, parser);
        buffer.commit(n);
    }
}

// What the body bytes at hand give (parser.set_body_buffer() done): nothing when a read is
// needed.
template <bool IsRequest>
std::optional<std::tuple<error_code, std::size_t>> parse_body_impl(beast::flat_buffer& buffer,
                                                                   head_parser<IsRequest>& parser) {
    if (parser.is_done()) return std::tuple{error_code{}, parser.body_used()};
    if (buffer.size() == 0) return std::nullopt;
    error_code ec;
    auto used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == http::error::need_buffer) return std::tuple{error_code{}, parser.body_used()};
    if (ec && ec != http::error::need_more) return std::tuple{ec, parser.body_used()};
    if (parser.body_used() > 0 || parser.is_done())
        return std::tuple{error_code{}, parser.body_used()};
    if (parser.chunked() && buffer.size() > parser.max_pending_bytes())
        return std::tuple{error_code(http_errc::chunk_line_too_long), parser.body_used()};
    return std::nullopt;
}

template <bool IsRequest>
awaitable<std::tuple<error_code, std::size_t>> read_body_impl(stream& s,
                                                              beast::flat_buffer& buffer,
                                                              head_parser<IsRequest>& parser,
                                                              asio::mutable_buffer out) {
    BOOST_ASSERT(out.size() > 0);
    parser.set_body_buffer(out);
    parser.eager(true);
    for (;;) {
        if (auto done = parse_body_impl(buffer, parser)) co_return *done;
        asio::mutable_buffer target = buffer.prepare(read_chunk_bytes);
        bool direct = false;
        if (buffer.size() == 0 && !parser.chunked()) {
            // A length-delimited body with nothing buffered: read straight into `out`, at most
            // the bytes the body still owes, so nothing of the next message lands there.
            if (auto remaining = parser.content_length_remaining(); remaining && *remaining > 0) {
                auto n = static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), *remaining));
                target = asio::mutable_buffer(out.data(), n);
                direct = true;
            }
        }
        auto [ec, n] = co_await s.read_some(target);
        if (is_eof(ec)) {
            if (parser.need_eof()) {
                error_code eof_ec;
                parser.put_eof(eof_ec);
                co_return std::tuple{eof_ec, parser.body_used()};
            }
            co_return std::tuple{error_code(http::error::partial_message), parser.body_used()};
        }
        if (ec) co_return std::tuple{ec, parser.body_used()};
        if (direct) {
            // The bytes are already in place; the parser accounts for them without copying.
            error_code put_ec;
            auto used = parser.put(asio::const_buffer(out.data(), n), put_ec);
            BOOST_ASSERT(used == n);
            (void)used;
            if (put_ec && put_ec != http::error::need_more && put_ec != http::error::need_buffer)
                co_return std::tuple{put_ec, parser.body_used()};
            co_return std::tuple{error_code{}, parser.body_used()};
        }
        buffer.commit(n);
    }
}

template <bool IsRequest>
awaitable<std::tuple<error_code, std::uint64_t>> skip_body_impl(stream& s,
                                                                beast::flat_buffer& buffer,
                                                                head_parser<IsRequest>& parser) {
    // Discarded bytes need no owner: one scratch area per thread serves every connection.
    thread_local std::array<char, read_chunk_bytes> scratch;
    std::uint64_t total = 0;
    while (!parser.is_done()) {
        auto [ec, n] = co_await read_body_impl(s, buffer, parser,
                                               asio::buffer(scratch.data(), scratch.size()));
        total += n;
        if (ec) co_return std::tuple{ec, total};
    }
    co_return std::tuple{error_code{}, total};
}

}  // namespace

std::optional<error_code> parse_head(beast::flat_buffer& buffer, request_parser& parser) {
    return parse_head_impl(buffer, parser);
}

std::optional<error_code> parse_head(beast::flat_buffer& buffer, response_parser& parser) {
    return parse_head_impl(buffer, parser);
}

error_code head_read_error(const error_code& ec, const beast::flat_buffer& buffer,
                           const request_parser& parser) noexcept {
    return head_read_error_impl(ec, buffer, parser);
}

error_code head_read_error(const error_code& ec, const beast::flat_buffer& buffer,
                           const response_parser& parser) noexcept {
    return head_read_error_impl(ec, buffer, parser);
}

std::optional<std::tuple<error_code, std::size_t>> parse_body(beast::flat_buffer& buffer,
                                                              response_parser& parser,
                                                              asio::mutable_buffer out) {
    BOOST_ASSERT(out.size() > 0);
    parser.set_body_buffer(out);
    parser.eager(true);
    return parse_body_impl(buffer, parser);
}

awaitable<error_code> read_head(stream& s, beast::flat_buffer& buffer, request_parser& parser) {
    return read_head_impl(s, buffer, parser);
}

awaitable<error_code> read_head(stream& s, beast::flat_buffer& buffer, response_parser& parser) {
    return read_head_impl(s, buffer, parser);
}

awaitable<std::tuple<error_code, std::size_t>> read_body(stream& s, beast::flat_buffer& buffer,
                                                         request_parser& parser,
                                                         asio::mutable_buffer out) {
    return read_body_impl(s, buffer, parser, out);
}

awaitable<std::tuple<error_code, std::size_t>> read_body(stream& s, beast::flat_buffer& buffer,
                                                         response_parser& parser,
                                                         asio::mutable_buffer out) {
    return read_body_impl(s, buffer, parser, out);
}

awaitable<std::tuple<error_code, std::uint64_t>> skip_body(stream& s, beast::flat_buffer& buffer,
                                                           request_parser& parser) {
    return skip_body_impl(s, buffer, parser);
}

awaitable<std::tuple<error_code, std::uint64_t>> skip_body(stream& s, beast::flat_buffer& buffer,
                                                           response_parser& parser) {
    return skip_body_impl(s, buffer, parser);
}

}  // namespace gatehouse::net
