#include "load/errors.hpp"
#include "load/recorder.hpp"
#include "load/result_json.hpp"

#include <gtest/gtest.h>

namespace gatehouse::load {
namespace {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

// A recorder started at an instant that is exactly Unix second 1'700'000'000.5.
struct fixture {
    clock_type::time_point start{};
    recorder rec{start, 1'700'000'000'500'000'000};

    void request(std::string_view key, unsigned status, std::uint64_t latency_us,
                 clock_type::duration at, std::string_view proxy_error = {},
                 std::optional<failure> failed = {}) {
        recorder::request r;
        r.profile = rec.profile_id("urls");
        r.key = rec.key_id(key);
        r.status = status;
        r.failed = failed;
        r.unexpected = status >= 400;
        r.proxy_error = proxy_error;
        r.latency_us = latency_us;
        r.bytes_sent = 100;
        r.bytes_received = 1000;
        r.finished = start + at;
        rec.record(r);
    }
};

TEST(Recorder, SamplesFollowWallClockSeconds) {
    fixture f;
    f.request("GET /a", 200, 1000, 100ms);  // second ...000
    f.request("GET /a", 200, 2000, 600ms);  // second ...001
    f.request("GET /b", 502, 3000, 700ms, "502.3.12002");
    f.request("GET /b", 0, 5000, 1600ms, {}, failure::timeout);  // second ...002
    std::vector<second_sample> taken;
    f.rec.take_completed(f.start + 1500ms, taken);  // second ...002 is still running
    ASSERT_EQ(taken.size(), 2u);
    EXPECT_EQ(taken[0].unix_second, 1'700'000'000);
    EXPECT_EQ(taken[0].counts.requests, 1u);
    EXPECT_EQ(taken[1].unix_second, 1'700'000'001);
    EXPECT_EQ(taken[1].counts.requests, 2u);
    EXPECT_EQ(taken[1].counts.errors, 1u);
    EXPECT_EQ(taken[1].counts.by_proxy_error.at("502.3.12002"), 1u);
    EXPECT_EQ(taken[1].counts.latency.value_at_quantile(1.0), 3000u);

    auto r = f.rec.snapshot();
    EXPECT_EQ(r.totals.requests, 4u);
    EXPECT_EQ(r.totals.errors, 2u);
    EXPECT_EQ(r.totals.by_status.at(200), 2u);
    EXPECT_EQ(r.totals.by_failure[static_cast<int>(failure::timeout)], 1u);
    EXPECT_EQ(r.urls.at("GET /b").requests, 2u);
    EXPECT_EQ(r.timeline.size(), 3u);
    EXPECT_EQ(r.start_unix_ms, 1'700'000'000'500);
}

TEST(Recorder, LongPollLatencyStaysOutOfTheTotals) {
    fixture f;
    recorder::request r;
    r.key = f.rec.key_id("eas.Ping");
    r.profile = f.rec.profile_id("activesync");
    r.status = 200;
    r.long_poll = true;
    r.latency_us = 480'000'000;
    r.finished = f.start + 1s;
    f.rec.record(r);
    auto s = f.rec.snapshot();
    EXPECT_EQ(s.totals.requests, 1u);
    EXPECT_TRUE(s.totals.latency.empty());
    EXPECT_TRUE(s.profiles.at("activesync").latency.empty());
    EXPECT_EQ(s.urls.at("eas.Ping").latency.max(), 480'000'000u);
}

TEST(Recorder, ObserverSeesEveryRequestWithItsServer) {
    fixture f;
    std::vector<std::string> servers;
    recorder::observer watch = [&](const recorder::request& r) {
        servers.emplace_back(r.server);
    };
    f.rec.set_observer(&watch);
    recorder::request r;
    r.status = 200;
    r.server = "EX02";
    r.finished = f.start + 1s;
    f.rec.record(r);
    r.server = {};
    f.rec.record(r);
    EXPECT_EQ(servers, (std::vector<std::string>{"EX02", ""}));
}

TEST(Recorder, KeysBeyondTheLimitShareOther) {
    fixture f;
    for (std::size_t i = 0; i < recorder::max_keys; ++i) f.rec.key_id(std::to_string(i) + "k");
    EXPECT_EQ(f.rec.key_id("one more"), f.rec.key_id("and another"));
    f.request("overflow", 200, 1, 1ms);
    EXPECT_EQ(f.rec.snapshot().urls.at("(other)").requests, 1u);
}

run_results sample_results(std::uint64_t seed) {
    fixture f;
    for (std::uint64_t i = 0; i < 500; ++i)
        f.request(i % 2 ? "GET /owa/" : "POST /EWS/Exchange.asmx", i % 7 == 0 ? 503 : 200,
                  (i * 7919 + seed) % 100'000, std::chrono::milliseconds(i * 7 + seed),
                  i % 7 == 0 ? "503.0.0" : "");
    f.rec.record_start(123, f.start + 5ms);
    f.rec.count("connections_opened", 50);
    auto r = f.rec.snapshot();
    r.workload = "urls";
    r.model = "open";
    r.target = "127.0.0.1:8080";
    r.end_unix_ms = r.start_unix_ms + 5000;
    return r;
}

TEST(ResultJson, RoundTripIsExact) {
    auto r = sample_results(3);
    auto back = results_from_json(nlohmann::json::parse(to_json(r).dump()), "mem");
    EXPECT_EQ(back, r);
}

// Merging two processes' JSON equals one process that saw every request.
TEST(ResultJson, MergedResultsEqualOneRunThatSawEverything) {
    auto a = sample_results(1);
    auto b = sample_results(2);
    run_results merged = results_from_json(to_json(a), "a.json");
    merged.merge(results_from_json(to_json(b), "b.json"));
    EXPECT_EQ(merged.processes, 2u);
    EXPECT_EQ(merged.totals.requests, 1000u);

    histogram all = a.totals.latency;
    all.merge(b.totals.latency);
    EXPECT_EQ(merged.totals.latency, all);
    EXPECT_EQ(merged.urls.at("GET /owa/").requests, 500u);
    EXPECT_EQ(merged.counters.at("connections_opened"), 100u);
    std::uint64_t in_timeline = 0;
    for (const auto& s : merged.timeline) in_timeline += s.counts.requests;
    EXPECT_EQ(in_timeline, 1000u);
    EXPECT_TRUE(
        std::is_sorted(merged.timeline.begin(), merged.timeline.end(),
                       [](const auto& x, const auto& y) { return x.unix_second < y.unix_second; }));
}

TEST(ResultJson, ErrorsNameTheJsonPath) {
    auto j = to_json(sample_results(0));
    j["totals"]["by_status"]["abc"] = 1;
    try {
        results_from_json(j, "w1.json");
        FAIL() << "accepted a bad status key";
    } catch (const load_error& e) {
        EXPECT_EQ(e.code(), exit_code::bad_input);
        EXPECT_STREQ(e.what(), "w1.json: totals.by_status.abc: expected a status code as key");
    }
    auto k = to_json(sample_results(0));
    k["schema"] = "gatehouse-load/9";
    EXPECT_THROW(results_from_json(k, "x"), load_error);
    auto m = to_json(sample_results(0));
    m["timeline"][0]["counts"]["latency_us"]["count"] = 999999;
    try {
        results_from_json(m, "w2.json");
        FAIL();
    } catch (const load_error& e) {
        EXPECT_STREQ(e.what(),
                     "w2.json: timeline[0].counts.latency_us.count: does not match "
                     "the buckets");
    }
}

}  // namespace
}  // namespace gatehouse::load
