#include "proxy/config.hpp"

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

using namespace std::chrono_literals;

TEST(ConfigScaling, MultipliesEveryDuration) {
    config c;
    c.listeners.push_back({.name = "http"});
    c.farms.push_back({.name = "eas"});
    c.farms[0].proxy.timeout = 3'600'000ms;
    c.rules.push_back({.name = "ping"});
    c.rules[0].timeout = 3'600'000ms;
    auto s = scale_durations(c, 0.01);
    EXPECT_EQ(s.proxy.timeout, 300ms);
    EXPECT_EQ(s.proxy.connect_timeout, 50ms);
    EXPECT_EQ(s.listeners[0].limits.header_timeout, 100ms);
    EXPECT_EQ(s.listeners[0].limits.keep_alive_timeout, 600ms);
    EXPECT_EQ(s.farms[0].health.interval, 300ms);
    EXPECT_EQ(s.farms[0].proxy.timeout, 36'000ms);
    EXPECT_FALSE(s.farms[0].proxy.connect_timeout);  // unset overrides stay unset
    EXPECT_EQ(s.rules[0].timeout, 36'000ms);
    EXPECT_EQ(s.stop_timeout, 600ms);
}

TEST(ConfigScaling, ScalesHealthFailureDetectionAndWatchDurations) {
    config c;
    c.farms.push_back({.name = "owa"});
    auto& f = c.farms[0];
    f.health.down_interval = 10'000ms;
    f.live_traffic.failover_period = 60'000ms;
    f.outlier.base_ejection_time = 30'000ms;
    f.slow_start = 20'000ms;
    auto s = scale_durations(c, 0.01);
    EXPECT_EQ(s.farms[0].health.timeout, 300ms);
    EXPECT_EQ(s.farms[0].health.down_interval, 100ms);
    EXPECT_EQ(s.farms[0].live_traffic.failover_period, 600ms);
    EXPECT_EQ(s.farms[0].outlier.base_ejection_time, 300ms);
    EXPECT_EQ(s.farms[0].slow_start, 200ms);
    EXPECT_EQ(s.config_watch.interval, 20ms);
}

TEST(ConfigScaling, PositiveDurationsNeverReachZero) {
    config c;
    c.proxy.connect_timeout = 5ms;
    EXPECT_EQ(scale_durations(c, 0.001).proxy.connect_timeout, 1ms);
    EXPECT_THROW(scale_durations(c, 0), std::invalid_argument);
}

}  // namespace
}  // namespace gatehouse::proxy
