#pragma once
// Human-readable views of results: the end-of-run summary (stdout) and the one-line progress
// shown on a terminal while a run goes on.

#include "load/results.hpp"

#include <ostream>
#include <string>

namespace gatehouse::load {

void write_summary(std::ostream& out, const run_results& r);

// "  12s  12345 req  1023/s  err 3  p50 1.20ms  p99 5.30ms  lag 0.1ms  vus 50"
std::string progress_line(const second_sample& s, std::int64_t elapsed_s,
                          std::uint64_t total_requests, std::uint64_t total_errors);

// 1234 µs as "1.23ms", 1.5e6 as "1.50s".
std::string format_us(double us);

}  // namespace gatehouse::load
