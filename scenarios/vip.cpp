#include "scenarios/vip.hpp"

#include <array>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/write.hpp>

namespace gatehouse::scenarios {

using namespace asio::experimental::awaitable_operators;

// The two sockets of one forwarded connection, registered so that stop() can close them.
struct vip::pair_entry {
    tcp::socket* client;
    tcp::socket* node;
};

namespace {

// Copies bytes from `from` to `to` until `from` ends, then half-closes `to`.
awaitable<void> pump(tcp::socket& from, tcp::socket& to) {
    std::array<char, 16 * 1024> buffer;
    for (;;) {
        auto [read_ec, n] = co_await from.async_read_some(asio::buffer(buffer), use_nothrow);
        if (read_ec) break;
        auto [write_ec, written] = co_await asio::async_write(to, asio::buffer(buffer.data(), n),
                                                              use_nothrow);
        if (write_ec) break;
    }
    error_code ignored;
    to.shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace

vip::vip(asio::io_context& ioc, vip_config config)
    : config_(std::move(config)),
      strand_(asio::make_strand(ioc)),
      acceptor_(strand_, {asio::ip::make_address(config_.address), config_.port}),
      endpoint_(acceptor_.local_endpoint()),
      probe_timer_(strand_),
      state_(config_.nodes.size(), config_.policy) {}

vip::~vip() = default;

void vip::start() {
    asio::co_spawn(strand_, accept_loop(), asio::detached);
    asio::co_spawn(strand_, probe_loop(), asio::detached);
}

void vip::stop() {
    asio::dispatch(strand_, [this] {
        stopped_ = true;
        error_code ignored;
        acceptor_.close(ignored);
        probe_timer_.cancel();
        std::lock_guard lock(mutex_);
        for (auto* entry : live_) {
            entry->client->close(ignored);
            entry->node->close(ignored);
        }
    });
}

std::optional<std::size_t> vip::active() const {
    std::lock_guard lock(mutex_);
    return state_.active();
}

std::vector<vip_state::transition> vip::transitions() const {
    std::lock_guard lock(mutex_);
    return state_.transitions();
}

std::size_t vip::connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
}

awaitable<void> vip::accept_loop() {
    while (!stopped_) {
        auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
        if (ec) {
            if (stopped_ || ec == asio::error::operation_aborted) co_return;
            continue;  // a transient accept failure (EMFILE …) must not end the VIP
        }
        asio::co_spawn(strand_, forward(std::move(socket)), asio::detached);
    }
}

awaitable<void> vip::forward(tcp::socket client) {
    std::optional<std::size_t> target;
    {
        std::lock_guard lock(mutex_);
        target = state_.active();
        if (target) ++connections_;
    }
    tcp::socket node(strand_);
    if (!target) {
        // Every node is down: the address answers nothing, as a VIP with no owner.
        error_code ignored;
        client.set_option(asio::socket_base::linger(true, 0), ignored);
        client.close(ignored);
        co_return;
    }
    auto [ec] = co_await node.async_connect(config_.nodes[*target], use_nothrow);
    if (ec) {
        error_code ignored;
        client.set_option(asio::socket_base::linger(true, 0), ignored);
        client.close(ignored);
        co_return;
    }
    pair_entry entry{&client, &node};
    std::list<pair_entry*>::iterator position;
    {
        std::lock_guard lock(mutex_);
        position = live_.insert(live_.end(), &entry);
    }
    co_await (pump(client, node) && pump(node, client));
    {
        std::lock_guard lock(mutex_);
        live_.erase(position);
    }
}

awaitable<bool> vip::probe(tcp::endpoint node) {
    tcp::socket socket(strand_);
    asio::steady_timer deadline(strand_, config_.probe_timeout);
    deadline.async_wait([&socket](error_code ec) {
        if (!ec) {
            error_code ignored;
            socket.close(ignored);
        }
    });
    auto [ec] = co_await socket.async_connect(node, use_nothrow);
    if (ec) co_return false;
    if (config_.probe_path.empty()) co_return true;
    std::string request = "GET " + config_.probe_path +
                          " HTTP/1.1\r\nHost: vip-probe\r\nConnection: close\r\n\r\n";
    auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(request), use_nothrow);
    if (write_ec) co_return false;
    std::array<char, 16> status{};
    auto [read_ec, n] = co_await socket.async_read_some(asio::buffer(status), use_nothrow);
    deadline.cancel();
    co_return !read_ec && n >= 12 && std::string_view(status.data(), 5) == "HTTP/";
}

awaitable<void> vip::probe_loop() {
    while (!stopped_) {
        for (std::size_t i = 0; i < config_.nodes.size() && !stopped_; ++i) {
            bool ok = co_await probe(config_.nodes[i]);
            std::lock_guard lock(mutex_);
            state_.on_probe(i, ok, steady_clock::now());
        }
        probe_timer_.expires_after(config_.probe_interval);
        auto [ec] = co_await probe_timer_.async_wait(use_nothrow);
        if (ec) co_return;
    }
}

}  // namespace gatehouse::scenarios
