#pragma once
// Reading HTTP/1.x messages from a stream, head first, then the body piece by piece into a
// buffer the caller owns. `buffer` holds bytes read from the stream but not parsed yet; it
// belongs to the connection and persists across the messages of a keep-alive connection.

#include "net/awaitable.hpp"
#include "net/http_parser.hpp"
#include "net/stream.hpp"

#include <optional>
#include <tuple>

#include <boost/beast/core/flat_buffer.hpp>

namespace gatehouse::net {

// How many bytes one read from the socket asks for.
inline constexpr std::size_t read_chunk_bytes = 16 * 1024;

// Reads until the head is complete. Fails with http::error::end_of_stream when the peer closed
// cleanly before sending anything, http::error::partial_message when it closed mid-head,
// asio::error::timed_out when the stream's deadline passed, or the parse error.
awaitable<error_code> read_head(stream& s, beast::flat_buffer& buffer, request_parser& parser);
awaitable<error_code> read_head(stream& s, beast::flat_buffer& buffer, response_parser& parser);

// read_head() in steps, for a coroutine that runs the loop itself and so spares the coroutine
// frame read_head() costs (the proxy's path for every request and response):
//     for (;;) {
//         if (auto done = parse_head(buffer, parser)) { ec = *done; break; }
//         auto [rec, n] = co_await s.read_some(buffer.prepare(read_chunk_bytes));
//         if (rec) { ec = head_read_error(rec, buffer, parser); break; }
//         buffer.commit(n);
//     }
// parse_head() parses what `buffer` holds: the outcome once the head is complete or wrong,
// nothing while more bytes are needed. head_read_error() is the outcome of a failed read.
std::optional<error_code> parse_head(beast::flat_buffer& buffer, request_parser& parser);
std::optional<error_code> parse_head(beast::flat_buffer& buffer, response_parser& parser);
error_code head_read_error(const error_code& ec, const beast::flat_buffer& buffer,
                           const request_parser& parser) noexcept;
error_code head_read_error(const error_code& ec, const beast::flat_buffer& buffer,
                           const response_parser& parser) noexcept;

// read_body() without waiting: the body bytes `buffer` already holds go to `out`. Nothing when
// a read is needed first (read_body() then does the rest).
std::optional<std::tuple<error_code, std::size_t>> parse_body(beast::flat_buffer& buffer,
                                                              response_parser& parser,
                                                              asio::mutable_buffer out);

// Reads body bytes into `out` and returns how many it copied (at least one unless the body is
// complete: then 0 and parser.is_done()). Fails with http::error::partial_message when the peer
// closes before the end of a delimited body.
awaitable<std::tuple<error_code, std::size_t>> read_body(stream& s, beast::flat_buffer& buffer,
                                                         request_parser& parser,
                                                         asio::mutable_buffer out);
awaitable<std::tuple<error_code, std::size_t>> read_body(stream& s, beast::flat_buffer& buffer,
                                                         response_parser& parser,
                                                         asio::mutable_buffer out);

// Reads and discards the rest of a body. Returns the bytes discarded.
awaitable<std::tuple<error_code, std::uint64_t>> skip_body(stream& s, beast::flat_buffer& buffer,
                                                           request_parser& parser);
awaitable<std::tuple<error_code, std::uint64_t>> skip_body(stream& s, beast::flat_buffer& buffer,
                                                           response_parser& parser);

}  // namespace gatehouse::net
