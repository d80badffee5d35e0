#pragma once
// One raw HTTP/1.1 exchange for the reliability case table: bytes no client library would send,
// sent as they are on a fresh connection, the sending side shut down, then everything read
// until the proxy closes or the bound passes.

#include "load/stream_registry.hpp"
#include "net/awaitable.hpp"

#include <chrono>
#include <string>

namespace gatehouse::scenarios {

struct raw_exchange_result {
    std::string received{};  // every byte the proxy sent back
    bool closed = false;     // the proxy closed (or reset); false: the bound passed first
    std::string failure{};   // the connection could not be made: why
};

// `registry` (optional) lets the runner close the connection when the scenario ends early.
awaitable<raw_exchange_result> exchange_raw(tcp::endpoint to, std::string bytes,
                                            std::chrono::milliseconds bound,
                                            load::stream_registry* registry);

}  // namespace gatehouse::scenarios
