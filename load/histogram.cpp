#include "load/histogram.hpp"

#include <algorithm>
#include <bit>
#include <cmath>

namespace gatehouse::load {

std::uint32_t histogram::index_of(std::uint64_t value) noexcept {
    value = std::min(value, highest_trackable);
    if (value < sub_bucket_count) return static_cast<std::uint32_t>(value);
    // Keep the top sub_bucket_bits - 1 bits below the leading one.
    unsigned top = 63u - static_cast<unsigned>(std::countl_zero(value));
    unsigned shift = top - (sub_bucket_bits - 1);
    std::uint64_t mantissa = value >> shift;  // in [half_count, sub_bucket_count)
    return static_cast<std::uint32_t>(sub_bucket_count + (shift - 1) * half_count +
                                      (mantissa - half_count));
}

std::uint64_t histogram::lowest_in(std::uint32_t index) noexcept {
    if (index < sub_bucket_count) return index;
    std::uint64_t k = index - sub_bucket_count;
    unsigned shift = static_cast<unsigned>(k / half_count) + 1;
    std::uint64_t mantissa = k % half_count + half_count;
    return mantissa << shift;
}

std::uint64_t histogram::highest_in(std::uint32_t index) noexcept {
    if (index < sub_bucket_count) return index;
    std::uint64_t k = index - sub_bucket_count;
    unsigned shift = static_cast<unsigned>(k / half_count) + 1;
    std::uint64_t mantissa = k % half_count + half_count;
    return ((mantissa + 1) << shift) - 1;
}

std::uint32_t histogram::bucket_limit() noexcept {
    return index_of(highest_trackable) + 1;
}

void histogram::record(std::uint64_t value, std::uint64_t count) {
    if (count == 0) return;
    value = std::min(value, highest_trackable);
    auto index = index_of(value);
    if (index >= counts_.size()) counts_.resize(index + 1, 0);
    counts_[index] += count;
    if (total_ == 0 || value < min_) min_ = value;
    if (value > max_) max_ = value;
    total_ += count;
    sum_ += value * count;
}

void histogram::merge(const histogram& other) {
    if (other.total_ == 0) return;
    if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
    for (std::size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
    if (total_ == 0 || other.min_ < min_) min_ = other.min_;
    max_ = std::max(max_, other.max_);
    total_ += other.total_;
    sum_ += other.sum_;
}

void histogram::reset() noexcept {
    std::fill(counts_.begin(), counts_.end(), 0);
    total_ = sum_ = min_ = max_ = 0;
}

std::uint64_t histogram::value_at_quantile(double q) const noexcept {
    if (total_ == 0) return 0;
    q = std::clamp(q, 0.0, 1.0);
    auto rank = static_cast<std::uint64_t>(std::ceil(q * double(total_)));
    rank = std::clamp<std::uint64_t>(rank, 1, total_);
    if (rank == total_) return max_;  // the extremes are known exactly
    if (rank == 1) return min_;
    std::uint64_t seen = 0;
    for (std::size_t i = 0; i < counts_.size(); ++i) {
        seen += counts_[i];
        if (seen >= rank) {
            auto index = static_cast<std::uint32_t>(i);
            auto low = lowest_in(index);
            auto middle = low + (highest_in(index) - low) / 2;
            return std::clamp(middle, min_, max_);
        }
    }
    return max_;
}

std::vector<histogram::bucket> histogram::buckets() const {
    std::vector<bucket> out;
    for (std::size_t i = 0; i < counts_.size(); ++i)
        if (counts_[i] != 0) out.emplace_back(static_cast<std::uint32_t>(i), counts_[i]);
    return out;
}

bool histogram::from_buckets(const std::vector<bucket>& buckets, std::uint64_t min,
                             std::uint64_t max, std::uint64_t sum, histogram& out) {
    histogram h;
    auto limit = bucket_limit();
    for (const auto& [index, count] : buckets) {
        if (index >= limit || count == 0) return false;
        if (index >= h.counts_.size()) h.counts_.resize(index + 1, 0);
        h.counts_[index] += count;
        h.total_ += count;
    }
    if (h.total_ != 0) {
        std::uint32_t first = 0;
        while (h.counts_[first] == 0) ++first;
        auto last = static_cast<std::uint32_t>(h.counts_.size() - 1);
        if (index_of(min) != first || index_of(max) != last || min > max) return false;
        h.min_ = min;
        h.max_ = max;
        h.sum_ = sum;
    } else if (min != 0 || max != 0 || sum != 0) {
        return false;
    }
    out = std::move(h);
    return true;
}

bool operator==(const histogram& a, const histogram& b) noexcept {
    if (a.total_ != b.total_ || a.sum_ != b.sum_ || a.min() != b.min() || a.max_ != b.max_)
        return false;
    auto n = std::max(a.counts_.size(), b.counts_.size());
    for (std::size_t i = 0; i < n; ++i) {
        auto ca = i < a.counts_.size() ? a.counts_[i] : 0;
        auto cb = i < b.counts_.size() ? b.counts_[i] : 0;
        if (ca != cb) return false;
    }
    return true;
}

}  // namespace gatehouse::load
