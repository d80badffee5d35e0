#include "scenarios/vip.hpp"

#include "tests/support/test_client.hpp"

#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

namespace gatehouse::scenarios {
namespace {

// A node that answers every request with its own name and closes the connection.
awaitable<void> serve_name(tcp::acceptor& acceptor, std::string name) {
    for (;;) {
        auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
        if (ec) co_return;
        std::array<char, 1024> request;
        auto [read_ec, n] = co_await socket.async_read_some(asio::buffer(request), use_nothrow);
        if (read_ec) continue;
        std::string response = "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(name.size()) +
                               "\r\nConnection: close\r\n\r\n" + name;
        co_await asio::async_write(socket, asio::buffer(response), use_nothrow);
    }
}

class VipTest : public ::testing::Test {
protected:
    VipTest() {
        asio::co_spawn(ioc_, serve_name(node1_, "node1"), asio::detached);
        asio::co_spawn(ioc_, serve_name(node2_, "node2"), asio::detached);
        vip_ = std::make_unique<vip>(
            ioc_, vip_config{.nodes = {node1_.local_endpoint(), node2_.local_endpoint()},
                             .probe_interval = std::chrono::milliseconds(20),
                             .probe_timeout = std::chrono::milliseconds(200),
                             .probe_path = "/",
                             .policy = {.fall = 2, .rise = 2, .preempt = true}});
        vip_->start();
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~VipTest() override {
        vip_->stop();
        asio::post(ioc_, [this] {
            error_code ignored;
            node1_.close(ignored);
            node2_.close(ignored);
        });
        work_.reset();
        ioc_.stop();
        thread_.join();
    }

    std::string ask() { return test::get(vip_->endpoint(), "/").body(); }

    // Waits, bounded, until the VIP's active node is `node`.
    bool wait_active(std::optional<std::size_t> node) {
        auto deadline = steady_clock::now() + std::chrono::seconds(5);
        while (steady_clock::now() < deadline) {
            if (vip_->active() == node) return true;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
        return false;
    }

    asio::io_context ioc_;
    std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
        ioc_.get_executor()};
    tcp::acceptor node1_{ioc_, {asio::ip::make_address("127.0.0.1"), 0}};
    tcp::acceptor node2_{ioc_, {asio::ip::make_address("127.0.0.1"), 0}};
    std::unique_ptr<vip> vip_;
    std::thread thread_;
};

TEST_F(VipTest, ForwardsToTheActiveNode) {
    EXPECT_EQ(ask(), "node1");
    EXPECT_EQ(ask(), "node1");
    EXPECT_EQ(vip_->connections(), 2u);
}

TEST_F(VipTest, MovesNewConnectionsToThePassiveNodeWhenTheActiveStopsAnswering) {
    ASSERT_EQ(ask(), "node1");
    asio::post(ioc_, [this] {
        error_code ignored;
        node1_.close(ignored);
    });
    ASSERT_TRUE(wait_active(1u));
    EXPECT_EQ(ask(), "node2");
    ASSERT_EQ(vip_->transitions().size(), 1u);
    EXPECT_EQ(vip_->transitions()[0].from, 0u);
}

}  // namespace
}  // namespace gatehouse::scenarios
