#include "fake-cas/faults.hpp"

#include <deque>

#include <gtest/gtest.h>

namespace gatehouse::fake_cas {
namespace {

// Returns the given numbers in order (then 0.5 for ever).
class scripted_random final : public random_source {
public:
    scripted_random(std::initializer_list<double> values) : values_(values) {}
    double uniform() override {
        if (values_.empty()) return 0.5;
        auto v = values_.front();
        values_.pop_front();
        return v;
    }
    std::size_t left() const { return values_.size(); }

private:
    std::deque<double> values_;
};

TEST(Faults, NoKnobsNoFaults) {
    scripted_random r{};
    auto p = decide_faults({}, 1, r);
    EXPECT_EQ(p.latency.count(), 0);
    EXPECT_FALSE(p.reset || p.malformed || p.close_mid_body || p.close_after);
    EXPECT_EQ(p.error_status, 0u);
    EXPECT_FALSE(p.any_write_fault());
}

TEST(Faults, ErrorStatusAppliesAtItsRate) {
    fault_knobs k{.error_status = 503, .error_rate = 0.25};
    scripted_random below{0.1}, above{0.3};
    EXPECT_EQ(decide_faults(k, 1, below).error_status, 503u);
    EXPECT_EQ(decide_faults(k, 1, above).error_status, 0u);
}

TEST(Faults, CertainRatesUseNoRandomness) {
    fault_knobs k{.error_status = 500};  // error_rate defaults to 1
    scripted_random r{0.99};
    EXPECT_EQ(decide_faults(k, 1, r).error_status, 500u);
    EXPECT_EQ(r.left(), 1u);
}

TEST(Faults, ResetTakesPrecedenceOverEverythingElse) {
    fault_knobs k{.error_status = 500, .reset_rate = 1, .malformed_rate = 1};
    scripted_random r{};
    auto p = decide_faults(k, 1, r);
    EXPECT_TRUE(p.reset);
    EXPECT_FALSE(p.malformed);
    EXPECT_EQ(p.error_status, 0u);
}

TEST(Faults, MalformedBeatsErrorStatus) {
    fault_knobs k{.error_status = 500, .malformed_rate = 1};
    scripted_random r{};
    auto p = decide_faults(k, 1, r);
    EXPECT_TRUE(p.malformed);
    EXPECT_EQ(p.error_status, 0u);
}

TEST(Faults, UniformJitterScalesTheDraw) {
    scripted_random r{0.5};
    EXPECT_EQ(draw_latency(100, 40, latency_distribution::uniform, r).count(), 120);
}

TEST(Faults, ExponentialJitterIsCappedAtTenMeans) {
    scripted_random r{0.999999999};
    EXPECT_EQ(draw_latency(0, 10, latency_distribution::exponential, r).count(), 100);
    scripted_random median{0.5};
    // ln 2 × 100 ≈ 69
    EXPECT_EQ(draw_latency(0, 100, latency_distribution::exponential, median).count(), 69);
}

TEST(Faults, KeepAliveCloseAfterTheNthRequest) {
    fault_knobs k{.close_after_requests = 3};
    scripted_random r{};
    EXPECT_FALSE(decide_faults(k, 2, r).close_after);
    EXPECT_TRUE(decide_faults(k, 3, r).close_after);
}

TEST(Faults, WritePathFaultsAreCarriedIntoThePlan) {
    fault_knobs k{.close_mid_body_rate = 1, .bandwidth_bytes_per_s = 1000, .stall_after_bytes = 10};
    scripted_random r{};
    auto p = decide_faults(k, 1, r);
    EXPECT_TRUE(p.close_mid_body);
    EXPECT_EQ(p.bandwidth_bytes_per_s, 1000u);
    EXPECT_EQ(p.stall_after_bytes, 10u);
    EXPECT_TRUE(p.any_write_fault());
}

TEST(Faults, VdirKnobsCombineWithTheServers) {
    fault_knobs server{.latency_ms = 10, .error_status = 500, .error_rate = 0.5, .reset_rate = 0.1};
    fault_knobs vdir{.latency_ms = 5, .error_status = 503, .reset_rate = 0.3};
    auto k = combine(server, vdir);
    EXPECT_EQ(k.latency_ms, 15u);
    EXPECT_EQ(k.error_status, 503u);
    EXPECT_DOUBLE_EQ(k.error_rate, 1.0);
    EXPECT_DOUBLE_EQ(k.reset_rate, 0.3);
    auto unchanged = combine(server, {});
    EXPECT_EQ(unchanged.error_status, 500u);
    EXPECT_DOUBLE_EQ(unchanged.error_rate, 0.5);
}

}  // namespace
}  // namespace gatehouse::fake_cas
