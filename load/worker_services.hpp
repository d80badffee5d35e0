#pragma once
// What one worker (one thread's share of the virtual users) lends its virtual users.

#include "load/connector.hpp"
#include "load/recorder.hpp"
#include "load/stream_registry.hpp"
#include "load/target.hpp"
#include "load/workload.hpp"

namespace gatehouse::load {

struct worker_services {
    connector& conn;
    const client_options& client;
    const credentials& creds;
    const workload_options& options;
    recorder& rec;
    stream_registry& registry;
    asio::any_io_executor executor;
    bool soft_stopped = false;  // no new requests; those in flight may finish
};

}  // namespace gatehouse::load
