#include "load/histogram.hpp"

#include <algorithm>
#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace gatehouse::load {
namespace {

TEST(Histogram, SmallValuesAreExact) {
    histogram h;
    for (std::uint64_t v = 0; v < histogram::sub_bucket_count; ++v) h.record(v);
    EXPECT_EQ(h.count(), histogram::sub_bucket_count);
    EXPECT_EQ(h.value_at_quantile(0.5), 127u);
    EXPECT_EQ(h.min(), 0u);
    EXPECT_EQ(h.max(), 255u);
}

TEST(Histogram, EveryBucketBoundIsConsistentWithItsIndex) {
    for (std::uint32_t i = 0; i < histogram::bucket_limit(); ++i) {
        auto low = histogram::lowest_in(i);
        auto high = histogram::highest_in(i);
        ASSERT_EQ(histogram::index_of(low), i);
        ASSERT_EQ(histogram::index_of(high), i);
        if (i + 1 < histogram::bucket_limit()) {
            ASSERT_EQ(histogram::lowest_in(i + 1), high + 1);
        }
        // Relative width bound: never more than 1/128 of the bucket's lowest value.
        if (low >= histogram::sub_bucket_count) {
            ASSERT_LE((high - low + 1) * 128, low);
        }
    }
}

// The percentiles a user reads must be within 0.4 % of the exact order statistics.
TEST(Histogram, PercentilesStayWithinTheRelativeErrorBound) {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> latency(8.0, 1.5);  // around 3 ms, long tail
    std::vector<std::uint64_t> values;
    histogram h;
    for (int i = 0; i < 200'000; ++i) {
        auto v = static_cast<std::uint64_t>(latency(rng)) + 1;
        values.push_back(v);
        h.record(v);
    }
    std::sort(values.begin(), values.end());
    for (double q : {0.1, 0.5, 0.9, 0.99, 0.999, 0.9999}) {
        auto rank = static_cast<std::size_t>(std::ceil(q * double(values.size())));
        double exact = double(values[rank - 1]);
        double got = double(h.value_at_quantile(q));
        EXPECT_LE(std::abs(got - exact) / exact, 1.0 / 256 + 1e-12) << "q=" << q;
    }
    EXPECT_EQ(h.max(), values.back());
    EXPECT_EQ(h.min(), values.front());
}

TEST(Histogram, MergingEqualsRecordingEverythingInOne) {
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<std::uint64_t> dist(0, 50'000'000);
    histogram a, b, all;
    for (int i = 0; i < 50'000; ++i) {
        auto v = dist(rng);
        (i % 3 == 0 ? a : b).record(v);
        all.record(v);
    }
    histogram merged = a;
    merged.merge(b);
    EXPECT_EQ(merged, all);
    histogram reversed = b;
    reversed.merge(a);
    EXPECT_EQ(reversed, all);
    EXPECT_EQ(merged.sum(), all.sum());
}

TEST(Histogram, ValuesAboveTheRangeAreClamped) {
    histogram h;
    h.record(~std::uint64_t{0});
    EXPECT_EQ(h.max(), histogram::highest_trackable);
    EXPECT_EQ(h.value_at_quantile(1.0), histogram::highest_trackable);
}

TEST(Histogram, SerialisedBucketsRebuildAnEqualHistogram) {
    histogram h;
    for (std::uint64_t v : {1u, 5u, 300u, 70'000u, 70'001u, 9'000'000u}) h.record(v, 3);
    histogram back;
    ASSERT_TRUE(histogram::from_buckets(h.buckets(), h.min(), h.max(), h.sum(), back));
    EXPECT_EQ(back, h);
}

TEST(Histogram, InconsistentSerialisedFormIsRejected) {
    histogram h;
    h.record(1000);
    histogram out;
    EXPECT_FALSE(histogram::from_buckets(h.buckets(), 5, h.max(), h.sum(), out));  // min
    EXPECT_FALSE(histogram::from_buckets({{histogram::bucket_limit(), 1}}, 0, 0, 0, out));
    EXPECT_FALSE(histogram::from_buckets({}, 0, 3, 0, out));
}

}  // namespace
}  // namespace gatehouse::load
