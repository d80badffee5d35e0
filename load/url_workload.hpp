#pragma once
// Workloads made of recorded requests: a URL list ("urls") and an IIS W3C log replay ("w3c").
// Each iteration sends one request. A replay keeps the log's timing when asked (an open model
// whose arrivals are the logged times divided by the replay speed); otherwise the entries are
// cycled under the plan's model. Latency and counts are kept per METHOD and path.

#include "load/workload.hpp"

#include <memory>

namespace gatehouse::load {

std::unique_ptr<workload> make_url_workload(const workload_options& options);
std::unique_ptr<workload> make_w3c_workload(const workload_options& options);

}  // namespace gatehouse::load
