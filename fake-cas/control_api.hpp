#pragma once
// The fleet's control API: JSON over HTTP on its own port (docs/fake-cas.md lists the routes).
// Runs on its own io_context so that its synchronous calls into the servers (stop/start
// listening) never wait on themselves.

#include "net/awaitable.hpp"

#include <memory>

#include <boost/asio/io_context.hpp>

namespace gatehouse::fake_cas {

class fleet;

class control_api {
public:
    control_api(fleet& f, asio::io_context& context, const tcp::endpoint& endpoint);
    // Starts accepting (call once, before the context runs or from its thread).
    void start();
    tcp::endpoint endpoint() const { return endpoint_; }

private:
    fleet& fleet_;
    asio::io_context& context_;
    std::shared_ptr<tcp::acceptor> acceptor_;
    tcp::endpoint endpoint_;
};

}  // namespace gatehouse::fake_cas
