#include "net/stream.hpp"

#include "tests/support/run_bounded.hpp"

#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

namespace gatehouse::net {
namespace {

// A stream operation awaited by a coroutine of its own, for run_bounded.
template <class Operation>
awaitable<stream::io_result> awaited(Operation op) {
    co_return co_await std::move(op);
}

class StreamTest : public ::testing::Test {
protected:
    StreamTest() {
        tcp::acceptor acceptor(ioc_, {asio::ip::make_address("127.0.0.1"), 0});
        peer_.connect(acceptor.local_endpoint());
        server_ = std::make_unique<stream>(acceptor.accept());
    }

    awaitable<std::tuple<error_code, std::size_t>> read_one() {
        co_return co_await server_->read_some(asio::buffer(scratch_));
    }

    asio::io_context ioc_;
    tcp::socket peer_{ioc_};
    std::unique_ptr<stream> server_;
    std::array<char, 64> scratch_{};
};

TEST_F(StreamTest, ReadFailsWithTimedOutWhenTheDeadlinePasses) {
    // Taken before the deadline is set: the deadline counts from a moment at or after this one.
    auto started = steady_clock::now();
    server_->expires_after(50ms);
    auto [ec, n] = test::run_bounded(ioc_, read_one());
    EXPECT_EQ(ec, asio::error::timed_out);
    EXPECT_TRUE(server_->expired());
    EXPECT_GE(steady_clock::now() - started, 50ms);
}

TEST_F(StreamTest, OperationStartedAfterExpiryFailsAtOnce) {
    server_->expires_after(10ms);
    (void)test::run_bounded(ioc_, read_one());
    ASSERT_TRUE(server_->expired());
    auto [ec, n] = test::run_bounded(ioc_, read_one(), 1s);
    EXPECT_EQ(ec, asio::error::timed_out);
}

TEST_F(StreamTest, RefreshedDeadlineDoesNotFireEarly) {
    server_->expires_after(30ms);
    server_->expires_after(10s);  // moved later: the pending wake-up re-checks and waits again
    asio::write(peer_, asio::buffer("x", 1));
    auto [ec, n] = test::run_bounded(ioc_, read_one());
    EXPECT_FALSE(ec);
    EXPECT_EQ(n, 1u);
}

TEST_F(StreamTest, EarlierDeadlineReplacesALaterOne) {
    server_->expires_after(10s);
    server_->expires_after(20ms);
    auto [ec, n] = test::run_bounded(ioc_, read_one(), 2s);
    EXPECT_EQ(ec, asio::error::timed_out);
}

TEST_F(StreamTest, ResetSendsRstToThePeer) {
    server_->reset();
    std::array<char, 8> buf;
    error_code ec;
    peer_.read_some(asio::buffer(buf), ec);
    EXPECT_EQ(ec, asio::error::connection_reset);
}

TEST_F(StreamTest, DestroyingTheStreamWithAnArmedDeadlineIsSafe) {
    server_->expires_after(5ms);
    server_.reset();
    ioc_.run_for(50ms);  // the queued wake-up finds the stream gone
    SUCCEED();
}

// Plain streams on both kinds of context. Reads on a context run by one thread
// (BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO, as the proxy's workers) wait for epoll's edge after a
// short read instead of trying first (net/edge_read.hpp); on a locking context they are Asio's
// own. Either way no byte and no end of stream is missed. Writes send what the socket takes at
// once and wait only for the rest.
class StreamIoTest : public ::testing::TestWithParam<int> {
protected:
    StreamIoTest() {
        tcp::acceptor acceptor(ioc_, {asio::ip::make_address("127.0.0.1"), 0});
        peer_.connect(acceptor.local_endpoint());
        server_ = std::make_unique<stream>(acceptor.accept());
        server_->expires_after(5s);  // a missed wake-up shows as timed_out, not as a hang
    }

    awaitable<std::tuple<error_code, std::size_t>> read_one() {
        co_return co_await server_->read_some(asio::buffer(scratch_));
    }
    std::string read_text() {
        auto [ec, n] = test::run_bounded(ioc_, read_one());
        EXPECT_FALSE(ec) << ec.message();
        return std::string(scratch_.data(), n);
    }
    error_code read_error() {
        auto [ec, n] = test::run_bounded(ioc_, read_one());
        EXPECT_EQ(n, 0u);
        return ec;
    }
    void send(std::string_view text) { asio::write(peer_, asio::buffer(text)); }
    // Lets the reactor take the socket's pending readiness while no read waits for it.
    void poll_reactor() {
        auto guard = asio::make_work_guard(ioc_);
        ioc_.restart();
        ioc_.poll();
    }

    asio::io_context ioc_{GetParam()};
    tcp::socket peer_{ioc_};
    std::unique_ptr<stream> server_;
    std::array<char, 64> scratch_{};
};

TEST_P(StreamIoTest, BytesSentAfterAShortReadWakeTheNextRead) {
    send("abc");
    EXPECT_EQ(read_text(), "abc");
    send("def");
    EXPECT_EQ(read_text(), "def");
    poll_reactor();
    send("ghi");
    poll_reactor();  // the edge is taken before the read starts
    EXPECT_EQ(read_text(), "ghi");
}

TEST_P(StreamIoTest, EndOfStreamThatCameWithTheLastBytesIsReported) {
    send("abc");
    peer_.shutdown(tcp::socket::shutdown_send);  // the FIN is queued behind the bytes
    EXPECT_EQ(read_text(), "abc");
    EXPECT_EQ(read_error(), asio::error::eof);
}

TEST_P(StreamIoTest, EndOfStreamAlreadyReportedByEpollIsReported) {
    send("a");
    EXPECT_EQ(read_text(), "a");  // the socket is registered for EPOLLRDHUP from here on
    send("bc");
    peer_.shutdown(tcp::socket::shutdown_send);
    poll_reactor();                // epoll reports the bytes and the FIN while no read waits
    EXPECT_EQ(read_text(), "bc");  // short, and consumes the FIN: no further edge will come
    EXPECT_EQ(read_error(), asio::error::eof);
}

TEST_P(StreamIoTest, ResetAfterTheLastBytesIsReported) {
    send("a");
    EXPECT_EQ(read_text(), "a");
    send("bc");
    poll_reactor();
    EXPECT_EQ(read_text(), "bc");
    peer_.set_option(asio::socket_base::linger(true, 0));
    peer_.close();  // RST
    EXPECT_EQ(read_error(), asio::error::connection_reset);
}

TEST_P(StreamIoTest, AFullBufferLeavesTheRestToTheNextRead) {
    std::string big(scratch_.size() + 10, 'x');
    send(big);
    peer_.shutdown(tcp::socket::shutdown_send);
    poll_reactor();
    EXPECT_EQ(read_text().size(), scratch_.size());
    EXPECT_EQ(read_text().size(), 10u);
    EXPECT_EQ(read_error(), asio::error::eof);
}

// A plain write sends what the socket takes at once and waits only for the rest: pieces larger
// than the socket's buffers arrive whole and in order, a piece cut anywhere.
TEST_P(StreamIoTest, WriteLargerThanTheSocketBuffersArrivesWholeAndInOrder) {
    std::vector<std::string> pieces;
    for (char c : {'a', 'b', 'c'}) pieces.emplace_back(3 * 1024 * 1024 + 7, c);
    const std::string expected = pieces[0] + pieces[1] + pieces[2] + pieces[0];
    std::string received;
    std::thread reader([&] {
        std::array<char, 64 * 1024> chunk;
        error_code ec;
        while (received.size() < expected.size()) {
            auto n = peer_.read_some(asio::buffer(chunk), ec);
            if (ec) break;
            received.append(chunk.data(), n);
        }
    });
    std::array<asio::const_buffer, 3> buffers{asio::buffer(pieces[0]), asio::buffer(pieces[1]),
                                              asio::buffer(pieces[2])};
    auto [ec, n] =
        test::run_bounded(
            ioc_, awaited(server_->write(std::span<const asio::const_buffer>(buffers))));
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(n, 3 * pieces[0].size());
    auto [ec1, n1] = test::run_bounded(ioc_, awaited(server_->write(asio::buffer(pieces[0]))));
    EXPECT_FALSE(ec1) << ec1.message();
    EXPECT_EQ(n1, pieces[0].size());
    reader.join();
    EXPECT_TRUE(received == expected) << received.size() << " bytes of " << expected.size();
}

// Each write below completes at once (the socket takes it): the coroutine is resumed from
// inside the write. Without a bound on that nesting, the stack would grow with every write.
awaitable<std::tuple<error_code, std::size_t>> write_bytes_one_by_one(stream& s,
                                                                      std::size_t count) {
    const char byte = 'w';
    std::size_t total = 0;
    for (std::size_t i = 0; i < count; ++i) {
        auto [ec, n] = co_await s.write(asio::const_buffer(&byte, 1));
        if (ec) co_return std::tuple{ec, total};
        total += n;
    }
    co_return std::tuple{error_code{}, total};
}

TEST_P(StreamIoTest, ManyWritesCompletingAtOnceDoNotDeepenTheStack) {
    constexpr std::size_t count = 200'000;
    std::size_t received = 0;
    std::thread reader([&] {
        std::array<char, 64 * 1024> chunk;
        error_code ec;
        while (received < count) {
            auto n = peer_.read_some(asio::buffer(chunk), ec);
            if (ec) break;
            received += n;
        }
    });
    auto [ec, n] = test::run_bounded(ioc_, write_bytes_one_by_one(*server_, count));
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(n, count);
    reader.join();
    EXPECT_EQ(received, count);
}

TEST_P(StreamIoTest, WriteToAClosedPeerFails) {
    peer_.set_option(asio::socket_base::linger(true, 0));
    peer_.close();  // RST
    std::string bytes(1024, 'x');
    error_code ec;
    for (int i = 0; i < 4 && !ec; ++i)  // the first send may still be accepted by the kernel
        std::tie(ec, std::ignore) =
            test::run_bounded(ioc_, awaited(server_->write(asio::buffer(bytes))));
    EXPECT_TRUE(ec == asio::error::connection_reset || ec == asio::error::broken_pipe)
        << ec.message();
}

INSTANTIATE_TEST_SUITE_P(Contexts, StreamIoTest,
                         ::testing::Values(BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO,
                                           BOOST_ASIO_CONCURRENCY_HINT_DEFAULT),
                         [](const auto& info) {
                             return info.param == BOOST_ASIO_CONCURRENCY_HINT_DEFAULT
                                        ? std::string("locking")
                                        : std::string("one_thread");
                         });

}  // namespace
}  // namespace gatehouse::net
