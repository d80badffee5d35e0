#pragma once
// An in-process stand-in for the virtual IP in front of an HA pair of proxy nodes (Windows NLB
// in single-host mode, keepalived): it listens on one loopback address, forwards each new TCP
// connection to the active node, probes the nodes, and moves new connections to the next node
// when the active one stops answering. Established connections stay where they are, as they
// would behind a real VIP. Runs on the io_context it is given (one thread).

#include "net/awaitable.hpp"
#include "scenarios/vip_state.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gatehouse::scenarios {

struct vip_config {
    std::vector<tcp::endpoint> nodes{};          // priority order: nodes[0] is active at start
    std::string address = "127.0.0.1";          // where the VIP listens
    unsigned short port = 0;                     // 0: an ephemeral port
    std::chrono::milliseconds probe_interval{200};
    std::chrono::milliseconds probe_timeout{200};
    // Empty: a node is up when it accepts a TCP connection. Otherwise: when it answers
    // `GET <probe_path>` with any HTTP status line.
    std::string probe_path{};
    vip_policy policy{};
};

class vip {
public:
    // Binds the listening socket at once (throws boost::system::system_error on failure).
    vip(asio::io_context& ioc, vip_config config);
    ~vip();
    vip(const vip&) = delete;
    vip& operator=(const vip&) = delete;

    tcp::endpoint endpoint() const { return endpoint_; }
    // Starts accepting and probing.
    void start();
    // Stops accepting and probing and closes every forwarded connection.
    void stop();

    // Thread-safe snapshots.
    std::optional<std::size_t> active() const;
    std::vector<vip_state::transition> transitions() const;
    std::size_t connections() const;  // forwarded so far

private:
    struct pair_entry;

    awaitable<void> accept_loop();
    awaitable<void> probe_loop();
    awaitable<bool> probe(tcp::endpoint node);
    awaitable<void> forward(tcp::socket client);

    vip_config config_;
    asio::strand<asio::io_context::executor_type> strand_;
    tcp::acceptor acceptor_;
    tcp::endpoint endpoint_;
    asio::steady_timer probe_timer_;
    bool stopped_ = false;

    mutable std::mutex mutex_;  // guards state_ and connections_ for readers on other threads
    vip_state state_;
    std::size_t connections_ = 0;
    std::list<pair_entry*> live_;
};

}  // namespace gatehouse::scenarios
