#pragma once
// Reading HTTP/1.x messages from a stream, head first, then the body piece by piece into a
// buffer the caller owns. `buffer` holds bytes read from the stream but not parsed yet; it
// belongs to the connection and persists across the messages of a keep-alive connection.

#include "net/awaitable.hpp"
#include "net/http_parser.hpp"
#include "net/stream.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <tuple>

namespace gatehouse::net {

// How many bytes one read from the socket asks for.
inline constexpr std::size_t read_chunk_bytes = 16 * 1024;

// Reads until the head is complete. Fails with http::error::end_of_stream when the peer closed
// cleanly before sending anything, http::error::partial_message when it closed mid-head,
// asio::error::timed_out when the stream's deadline passed, or the parse error.
awaitable<error_code> read_head(stream& s, beast::flat_buffer& buffer, request_parser& parser);
awaitable<error_code> read_head(stream& s, beast::flat_buffer& buffer, response_parser& parser);

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
