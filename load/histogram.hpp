#pragma once
// A latency histogram with bounded relative error, in the HdrHistogram spirit: values below
// 2^sub_bucket_bits are counted exactly; above that, every power-of-two range is split into
// 2^(sub_bucket_bits-1) equal buckets, so a bucket is never wider than 1/128 of its lowest value
// and a reported percentile is within 1/256 (0.4 %) of a value actually recorded. The bucket
// layout is fixed, so histograms from different threads, processes or machines merge exactly by
// adding counts. Pure: no clock, no I/O. Not thread-safe.

#include <cstdint>
#include <utility>
#include <vector>

namespace gatehouse::load {

class histogram {
public:
    static constexpr unsigned sub_bucket_bits = 8;
    static constexpr std::uint64_t sub_bucket_count = 1u << sub_bucket_bits;  // exact below this
    static constexpr std::uint64_t half_count = sub_bucket_count / 2;
    // Larger values are clamped to this (2^40 - 1: 12.7 days in microseconds).
    static constexpr std::uint64_t highest_trackable = (std::uint64_t{1} << 40) - 1;

    // A bucket and how many values fell into it, as serialised.
    using bucket = std::pair<std::uint32_t, std::uint64_t>;

    void record(std::uint64_t value, std::uint64_t count = 1);
    // Adds every count of `other` (exact: the layouts are identical).
    void merge(const histogram& other);
    void reset() noexcept;

    std::uint64_t count() const noexcept { return total_; }
    bool empty() const noexcept { return total_ == 0; }
    // Exact extremes and sum of the values recorded (clamped ones count as highest_trackable).
    std::uint64_t min() const noexcept { return total_ ? min_ : 0; }
    std::uint64_t max() const noexcept { return max_; }
    std::uint64_t sum() const noexcept { return sum_; }
    double mean() const noexcept { return total_ ? double(sum_) / double(total_) : 0.0; }

    // The value below which a fraction `q` (0..1) of the recorded values lie: the middle of the
    // bucket holding rank ceil(q * count), clamped to [min, max]. 0 when empty.
    std::uint64_t value_at_quantile(double q) const noexcept;

    // The bucket layout.
    static std::uint32_t index_of(std::uint64_t value) noexcept;
    static std::uint64_t lowest_in(std::uint32_t index) noexcept;
    static std::uint64_t highest_in(std::uint32_t index) noexcept;
    static std::uint32_t bucket_limit() noexcept;  // one past the highest index

    // Non-zero buckets in increasing order (the serialised form).
    std::vector<bucket> buckets() const;
    // Rebuilds a histogram from its serialised form; false when an index is out of range or
    // the extremes contradict the buckets.
    static bool from_buckets(const std::vector<bucket>& buckets, std::uint64_t min,
                             std::uint64_t max, std::uint64_t sum, histogram& out);

    friend bool operator==(const histogram& a, const histogram& b) noexcept;

private:
    std::vector<std::uint64_t> counts_;  // grown to the highest index used
    std::uint64_t total_ = 0;
    std::uint64_t sum_ = 0;
    std::uint64_t min_ = 0;
    std::uint64_t max_ = 0;
};

}  // namespace gatehouse::load
