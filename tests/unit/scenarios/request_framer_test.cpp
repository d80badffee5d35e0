// Where the recording back end sees requests end: Content-Length and chunked bodies, pipelined
// requests, bytes arriving one at a time, and framing it cannot follow.

#include "scenarios/request_framer.hpp"

#include <gtest/gtest.h>

namespace gatehouse::scenarios {
namespace {

TEST(RequestFramer, CountsPipelinedRequestsWithAndWithoutBodies) {
    request_framer f;
    EXPECT_EQ(f.feed("GET / HTTP/1.1\r\nHost: a\r\n\r\n"
                     "POST /x HTTP/1.1\r\ncontent-length: 5\r\n\r\nhello"
                     "GET /y HTTP/1.1\r\n\r\n"),
              3u);
    EXPECT_TRUE(f.idle());
}

TEST(RequestFramer, ChunkedBodyEndsAfterTheTrailerSection) {
    request_framer f;
    std::string bytes = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n";
    unsigned total = 0;
    for (std::size_t i = 0; i + 1 < bytes.size(); ++i) total += f.feed(bytes.substr(i, 1));
    EXPECT_EQ(total, 0u);  // byte by byte: nothing ends before the trailer's empty line
    EXPECT_FALSE(f.idle());
    EXPECT_EQ(f.feed(bytes.substr(bytes.size() - 1)), 1u);
    EXPECT_TRUE(f.idle());
}

TEST(RequestFramer, UnfinishedBodyIsNotIdle) {
    request_framer f;
    EXPECT_EQ(f.feed("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nhello"), 0u);
    EXPECT_FALSE(f.idle());
    EXPECT_EQ(f.feed("world"), 1u);
    EXPECT_TRUE(f.idle());
}

TEST(RequestFramer, UnframeableBytesBreakTheConnection) {
    request_framer bad_length;
    bad_length.feed("POST / HTTP/1.1\r\nContent-Length: 5a\r\n\r\nhello");
    EXPECT_TRUE(bad_length.broken());
    request_framer bad_chunk;
    bad_chunk.feed("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nZ\r\n");
    EXPECT_TRUE(bad_chunk.broken());
    EXPECT_EQ(bad_chunk.feed("GET / HTTP/1.1\r\n\r\n"), 0u);
}

}  // namespace
}  // namespace gatehouse::scenarios
