#pragma once
// The back end of the reliability case table (scenarios/reliability_cases.hpp): it listens on
// 127.0.0.1 (port 0), answers every complete request with 200 "ok" on a keep-alive connection,
// and records every byte it receives, so that a case is judged on what the proxy forwarded, not
// on what a parser made of it. Runs on a thread of its own; the accessors are thread-safe.
// Connections whose bytes cannot be framed are closed after recording them.

#include "net/awaitable.hpp"

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>

namespace gatehouse::scenarios {

class recording_backend {
public:
    // A point in what the back end has received, to measure one case from.
    struct mark {
        std::size_t bytes = 0;
        std::uint64_t requests = 0;
    };
    struct received {
        std::string bytes{};         // every connection's bytes since the mark, in arrival order
        std::uint64_t requests = 0;  // complete requests since the mark
    };

    // Listens at once (so the port can go into configs); serves once started.
    recording_backend();
    ~recording_backend();
    recording_backend(const recording_backend&) = delete;
    recording_backend& operator=(const recording_backend&) = delete;

    void start();
    // Closes the listener and every connection. Idempotent.
    void stop();

    tcp::endpoint endpoint() const;
    mark now() const;
    received since(mark m) const;
    // True when no connection is in the middle of a request (nothing the proxy sent is still
    // on its way to being a complete request or a rejected one).
    bool idle() const;
    std::size_t connections() const;

    struct state;

private:
    std::unique_ptr<asio::io_context> context_;
    std::shared_ptr<state> state_;
    std::thread thread_;
};

}  // namespace gatehouse::scenarios
