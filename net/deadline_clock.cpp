#include "net/deadline_clock.hpp"

#include <time.h>

namespace gatehouse::net {

namespace {

using std::chrono::steady_clock;

steady_clock::duration to_duration(const timespec& t) {
    return std::chrono::duration_cast<steady_clock::duration>(std::chrono::seconds(t.tv_sec) +
                                                              std::chrono::nanoseconds(t.tv_nsec));
}

// Two steps of the coarse clock: a reading lags the precise clock by up to one step, and by a
// little more when the tick that advances it runs late.
steady_clock::duration compute_slack() {
    timespec step{};
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &step) != 0) step.tv_nsec = 10'000'000;
    return 2 * to_duration(step);
}

}  // namespace

// libstdc++'s steady_clock is CLOCK_MONOTONIC, whose coarse reading this is.
static_assert(std::chrono::steady_clock::is_steady);

steady_clock::duration deadline_slack() noexcept {
    static const steady_clock::duration slack = compute_slack();
    return slack;
}

steady_clock::time_point deadline_now() noexcept {
    timespec now{};
    // Cannot fail: the clock exists since Linux 2.6.32.
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    return steady_clock::time_point(to_duration(now)) + deadline_slack();
}

}  // namespace gatehouse::net
