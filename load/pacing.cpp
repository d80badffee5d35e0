#include "load/pacing.hpp"

#include <algorithm>
#include <cmath>

#include <boost/assert.hpp>

namespace gatehouse::load {

namespace {

double seconds(run_duration d) {
    return std::chrono::duration<double>(d).count();
}

run_duration from_seconds(double s) {
    return run_duration(static_cast<run_duration::rep>(std::llround(s * 1e9)));
}

}  // namespace

arrival_schedule arrival_schedule::constant(double per_second) {
    BOOST_ASSERT(per_second > 0);
    arrival_schedule s;
    s.segments_.push_back({.start_s = 0,
                           .length_s = 0,
                           .from = per_second,
                           .to = per_second,
                           .before = 0,
                           .open = true});
    return s;
}

arrival_schedule arrival_schedule::ramping(double start_rate, std::vector<stage> stages) {
    arrival_schedule s;
    double at = 0;
    double rate = start_rate;
    double before = 0;
    for (const auto& st : stages) {
        segment seg{.start_s = at,
                    .length_s = seconds(st.length),
                    .from = rate,
                    .to = st.target,
                    .before = before,
                    .open = false};
        before += (seg.from + seg.to) / 2 * seg.length_s;
        at += seg.length_s;
        rate = st.target;
        s.segments_.push_back(seg);
    }
    return s;
}

arrival_schedule arrival_schedule::at_times(std::vector<run_duration> times) {
    BOOST_ASSERT(std::is_sorted(times.begin(), times.end()));
    arrival_schedule s;
    s.times_ = std::move(times);
    return s;
}

double arrival_schedule::arrivals_in(const segment& s, double elapsed_s) const {
    if (s.open || s.length_s == 0) return s.from * elapsed_s;
    double slope = (s.to - s.from) / s.length_s;
    return s.from * elapsed_s + slope * elapsed_s * elapsed_s / 2;
}

std::optional<run_duration> arrival_schedule::due(std::uint64_t n) const {
    if (!times_.empty()) {
        if (n >= times_.size()) return std::nullopt;
        return times_[n];
    }
    double x = double(n);
    for (const auto& s : segments_) {
        if (s.open) return from_seconds(s.start_s + (x - s.before) / s.from);
        double in_segment = (s.from + s.to) / 2 * s.length_s;
        // Arrivals exactly at the segment's end belong to the next one (if any).
        if (x - s.before >= in_segment) continue;
        double need = x - s.before;  // arrivals still to come within this segment
        if (need <= 0) return from_seconds(s.start_s);
        double k = (s.to - s.from) / (2 * s.length_s);
        // Solve k t^2 + from t - need = 0 in the form that stays exact when k is 0 or negative.
        double root = std::sqrt(std::max(0.0, s.from * s.from + 4 * k * need));
        double t = 2 * need / (s.from + root);
        return from_seconds(s.start_s + std::min(t, s.length_s));
    }
    return std::nullopt;
}

std::uint64_t arrival_schedule::due_before(run_duration t) const {
    if (!times_.empty())
        return static_cast<std::uint64_t>(std::lower_bound(times_.begin(), times_.end(), t) -
                                          times_.begin());
    double at = seconds(t);
    if (at <= 0) return 0;
    double total = 0;
    for (const auto& s : segments_) {
        if (s.open || at < s.start_s + s.length_s) {
            total = s.before + arrivals_in(s, at - s.start_s);
            break;
        }
        total = s.before + (s.from + s.to) / 2 * s.length_s;
    }
    // Arrival n is due at the instant the integral reaches n: strictly before `t` means the
    // integral at `t` exceeds n, so count ceil(total), trimming floating-point noise first.
    double rounded = std::round(total);
    if (std::abs(total - rounded) < 1e-9) total = rounded;
    auto n = static_cast<std::uint64_t>(std::ceil(total));
    // Never claim more than the arrivals whose due time is actually before `t`.
    while (n > 0) {
        auto d = due(n - 1);
        if (d && *d < t) break;
        --n;
    }
    return n;
}

std::optional<run_duration> arrival_schedule::end() const {
    if (!times_.empty()) return times_.back();
    if (segments_.empty()) return run_duration::zero();
    const auto& last = segments_.back();
    if (last.open) return std::nullopt;
    return from_seconds(last.start_s + last.length_s);
}

double arrival_schedule::rate_at(run_duration t) const {
    if (!times_.empty()) return 0;
    double at = seconds(t);
    for (const auto& s : segments_) {
        if (s.open) return s.from;
        if (at < s.start_s + s.length_s) {
            double f = s.length_s > 0 ? (at - s.start_s) / s.length_s : 1;
            return s.from + (s.to - s.from) * f;
        }
    }
    return 0;
}

arrival_schedule arrival_schedule::scaled(double factor) const {
    BOOST_ASSERT(factor > 0 && factor <= 1);
    BOOST_ASSERT(times_.empty());  // explicit times are shared out by index, not scaled
    arrival_schedule s = *this;
    for (auto& seg : s.segments_) {
        seg.from *= factor;
        seg.to *= factor;
        seg.before *= factor;
    }
    return s;
}

vu_schedule vu_schedule::constant(unsigned vus) {
    vu_schedule s;
    s.start_ = vus;
    return s;
}

vu_schedule vu_schedule::ramping(unsigned start_vus, std::vector<stage> stages) {
    vu_schedule s;
    s.start_ = start_vus;
    s.stages_ = std::move(stages);
    s.ramp_ = true;
    return s;
}

unsigned vu_schedule::target_at(run_duration t) const {
    if (!ramp_) return start_;
    double from = start_;
    run_duration at = run_duration::zero();
    for (const auto& st : stages_) {
        if (t < at + st.length) {
            double f = seconds(t - at) / seconds(st.length);
            return static_cast<unsigned>(std::floor(from + (st.target - from) * f + 1e-9));
        }
        at += st.length;
        from = st.target;
    }
    return 0;
}

unsigned vu_schedule::peak() const {
    double best = start_;
    for (const auto& st : stages_) best = std::max(best, st.target);
    return static_cast<unsigned>(best);
}

std::optional<run_duration> vu_schedule::end() const {
    if (!ramp_) return std::nullopt;
    run_duration total = run_duration::zero();
    for (const auto& st : stages_) total += st.length;
    return total;
}

}  // namespace gatehouse::load
