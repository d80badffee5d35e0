#pragma once
// Finds where HTTP/1.1 requests end in the bytes a back end receives, the way a lenient origin
// server would: a head up to the empty line, then a chunked body (Transfer-Encoding: chunked)
// or a Content-Length body. The recording back end answers each complete request and counts
// it; what the proxy forwarded is judged on the raw bytes, not on this parse. Pure, no I/O.

#include <cstdint>
#include <string>
#include <string_view>

namespace gatehouse::scenarios {

class request_framer {
public:
    // Appends `bytes` and returns how many requests they completed.
    unsigned feed(std::string_view bytes);

    // No request has begun without ending (nothing buffered).
    bool idle() const noexcept { return buffer_.empty() && state_ == state::head; }
    // The bytes cannot be framed (a chunk size that is not hex, a Content-Length that is not a
    // number, a request line without spaces): the back end gives up on the connection.
    bool broken() const noexcept { return state_ == state::broken; }

private:
    enum class state { head, length_body, chunk_size, chunk_data, trailer, broken };

    // Consumes what it can of buffer_; true when a request ended.
    bool step(bool& progressed);

    std::string buffer_;
    state state_ = state::head;
    std::uint64_t remaining_ = 0;  // body or chunk bytes still to come (chunk: with its CRLF)
};

}  // namespace gatehouse::scenarios
