#include "net/stream.hpp"

#include "tests/support/run_bounded.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

namespace gatehouse::net {
namespace {

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
    server_->expires_after(50ms);
    auto started = steady_clock::now();
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

}  // namespace
}  // namespace gatehouse::net
