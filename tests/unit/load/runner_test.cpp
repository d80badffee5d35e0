// The runner's contract: bounds (duration, count), stop() from another thread, exit-code
// errors for bad plans and unreachable targets, samples per second, and run_async on the
// caller's io_context. Driven against the loopback mini Exchange.
#include "load/runner.hpp"

#include "load/errors.hpp"
#include "tests/support/fake_backend.hpp"
#include "tests/support/run_bounded.hpp"
#include "tests/unit/load/mini_exchange.hpp"

#include <thread>

#include <gtest/gtest.h>

namespace gatehouse::load {
namespace {

plan url_plan(const tcp::endpoint& e, std::vector<url_entry> urls) {
    plan p;
    p.target.host = e.address().to_string();
    p.target.port = std::to_string(e.port());
    p.workload.profile = "urls";
    p.workload.urls = std::move(urls);
    return p;
}

std::vector<url_entry> one_get() {
    return {{.method = "GET", .target = "/index.html"}};
}

exit_code code_of(auto f) {
    try {
        f();
    } catch (const load_error& e) {
        return e.code();
    }
    return exit_code::ok;
}

TEST(Runner, CountBoundsTheRunExactly) {
    test::mini_exchange server;
    auto p = url_plan(server.endpoint(), one_get());
    p.model.vus = 4;
    p.count = 37;
    load_runner runner(p);
    auto r = runner.run(2);
    EXPECT_EQ(r.totals.requests, 37u);
    EXPECT_EQ(r.totals.by_status.at(200), 37u);
    EXPECT_EQ(r.iterations.completed, 37u);
    EXPECT_EQ(r.totals.errors, 0u);
    // Keep-alive: at most one connection per user (a user that found the count used up by the
    // others opens none).
    EXPECT_LE(r.counters.at("connections_opened"), 4u);
}

// A server (or a proxy's keep-alive time-out) that closes an idle connection: the next request,
// even a POST that cannot be resent, goes on a new connection instead of into the closed one.
TEST(Runner, IdleConnectionClosedByTheServerIsNotReused) {
    test::fake_backend server([](test::backend_connection& c) {
        if (c.read_request()) c.respond(200, "ok");
        c.close();  // without announcing it: no Connection: close
    });
    auto p = url_plan(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()),
                      {{.method = "POST", .target = "/ews/exchange.asmx", .body_bytes = 10}});
    p.count = 5;
    // Idle long enough for the server's FIN to arrive: the situation under test.
    p.model.think_time = std::chrono::milliseconds(20);
    auto r = load_runner(p).run();
    EXPECT_EQ(r.totals.requests, 5u);
    EXPECT_EQ(r.totals.errors, 0u);
    EXPECT_GE(r.counters.at("closed_idle_connections"), 1u);
}

TEST(Runner, NewConnectionPerRequestOpensOneEach) {
    test::mini_exchange server;
    auto p = url_plan(server.endpoint(), one_get());
    p.client.keep_alive = false;
    p.count = 5;
    auto r = load_runner(p).run();
    EXPECT_EQ(r.totals.requests, 5u);
    EXPECT_EQ(r.counters.at("connections_opened"), 5u);
}

TEST(Runner, GeneratedBodiesAreStreamedWithTheirLength) {
    test::mini_exchange server;
    auto p = url_plan(server.endpoint(),
                      {{.method = "POST", .target = "/upload", .body_bytes = 3 << 20}});
    p.count = 2;
    auto r = load_runner(p).run();
    EXPECT_EQ(r.totals.errors, 0u);
    EXPECT_GE(r.totals.bytes_sent, 2u * (3u << 20));
}

TEST(Runner, DurationEndsTheRunAndSamplesArriveEachSecond) {
    test::mini_exchange server;
    auto p = url_plan(server.endpoint(), one_get());
    p.duration = std::chrono::milliseconds(1200);
    p.model.think_time = std::chrono::milliseconds(5);
    std::vector<second_sample> samples;
    auto started = steady_clock::now();
    auto r = load_runner(p).run(1, [&](const second_sample& s) { samples.push_back(s); });
    EXPECT_LT(steady_clock::now() - started, std::chrono::seconds(4));
    ASSERT_GE(samples.size(), 2u);
    std::uint64_t sampled = 0;
    for (const auto& s : samples) sampled += s.counts.requests;
    EXPECT_EQ(sampled, r.totals.requests);
    EXPECT_GT(r.totals.requests, 20u);
    EXPECT_EQ(r.timeline.size(), samples.size());
}

// An ActiveSync Ping held for 100 s (scaled: the server holds 1000 s × 0.1): stop() from
// another thread ends the run at once, and the Ping counts as interrupted, not as an error.
TEST(Runner, StopEndsLongPollsAndKeepsResults) {
    test::mini_exchange server({.time_scale = 0.1});
    plan p;
    p.target.host = "127.0.0.1";
    p.target.port = std::to_string(server.endpoint().port());
    p.workload.profile = "activesync";
    p.workload.heartbeat = std::chrono::seconds(1000);
    p.workload.time_scale = 0.1;
    p.count = 1;
    load_runner runner(p);
    std::thread stopper([&] {
        for (int i = 0; i < 200 && server.requests().size() < 4; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        runner.stop();
    });
    auto started = steady_clock::now();
    auto r = runner.run();
    stopper.join();
    EXPECT_LT(steady_clock::now() - started, std::chrono::seconds(5));
    EXPECT_EQ(r.totals.errors, 0u);
    EXPECT_EQ(r.interrupted_requests, 1u);
    EXPECT_EQ(r.iterations.interrupted, 1u);
    EXPECT_EQ(r.urls.at("eas.Sync").requests, 1u);
}

TEST(Runner, RunAsyncUsesTheCallersIoContext) {
    test::mini_exchange server;
    auto p = url_plan(server.endpoint(), one_get());
    p.count = 10;
    load_runner runner(p);
    asio::io_context ioc;
    std::vector<second_sample> samples;
    auto r = test::run_bounded(
        ioc, runner.run_async([&](const second_sample& s) { samples.push_back(s); }));
    EXPECT_EQ(r.totals.requests, 10u);
    std::uint64_t sampled = 0;
    for (const auto& s : samples) sampled += s.counts.requests;
    EXPECT_EQ(sampled, 10u);
}

TEST(Runner, OpenModelReportsItsSchedule) {
    test::mini_exchange server;
    auto p = url_plan(server.endpoint(), one_get());
    p.model.kind = model_kind::open;
    p.model.rate = 200;
    p.model.vus = 5;
    p.duration = std::chrono::milliseconds(500);
    auto r = load_runner(p).run();
    EXPECT_EQ(r.schedule.due, 100u);
    EXPECT_EQ(r.schedule.started + r.schedule.missed, r.schedule.due);
    EXPECT_GE(r.schedule.started, 80u);  // a loaded machine may start the last few late
    EXPECT_EQ(r.schedule.lag.count(), r.schedule.started);
    EXPECT_EQ(r.model, "open");
}

TEST(Runner, BadPlansAndTargetsHaveTheirExitCodes) {
    test::mini_exchange server;
    auto p = url_plan(server.endpoint(), one_get());
    EXPECT_EQ(code_of([&] { load_runner r(p); }), exit_code::bad_option);  // no bound
    p.count = 1;
    p.workload.profile = "imap";
    EXPECT_EQ(code_of([&] { load_runner r(p); }), exit_code::unknown_profile);
    p.workload.profile = "urls";
    p.model.kind = model_kind::open;
    EXPECT_EQ(code_of([&] { load_runner r(p); }), exit_code::bad_option);  // no rate
    p.model.kind = model_kind::closed;
    p.workload.urls.clear();
    p.workload.input = "/nonexistent.txt";
    EXPECT_EQ(code_of([&] { load_runner r(p); }), exit_code::bad_input);

    // A port nobody listens on: the preflight connection is refused.
    asio::io_context ioc;
    tcp::acceptor closed(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    auto port = closed.local_endpoint().port();
    closed.close();
    auto q = url_plan({asio::ip::make_address("127.0.0.1"), port}, one_get());
    q.count = 1;
    EXPECT_EQ(code_of([&] { load_runner(q).run(); }), exit_code::unreachable);
    q.target.host = "no-such-host.invalid";
    EXPECT_EQ(code_of([&] { load_runner r(q); }), exit_code::unreachable);
}

}  // namespace
}  // namespace gatehouse::load

namespace gatehouse::load {
namespace {

plan tls_plan(const test::mini_exchange& server) {
    plan p;
    p.target.host = "127.0.0.1";
    p.target.port = std::to_string(server.endpoint().port());
    p.target.tls = true;
    p.target.server_name = "mail.contoso.com";
    p.target.tls_options.trusted_pem = server.authority().chain_pem;
    p.target.tls_options.system_trust = false;
    p.workload.profile = "urls";
    p.workload.urls = {{.method = "GET", .target = "/"}};
    p.client.keep_alive = false;
    p.count = 4;
    return p;
}

TEST(RunnerTls, SessionsAreResumedAcrossNewConnections) {
    test::mini_exchange server({.tls = true});
    auto r = load_runner(tls_plan(server)).run();
    EXPECT_EQ(r.totals.errors, 0u);
    EXPECT_EQ(r.counters.at("tls_full"), 1u);
    EXPECT_EQ(r.counters.at("tls_resumed"), 3u);
    EXPECT_EQ(server.tls_resumed(), 3u);
}

TEST(RunnerTls, ResumptionOffMeansAFullHandshakeEachTime) {
    test::mini_exchange server({.tls = true});
    auto p = tls_plan(server);
    p.target.tls_options.session_resumption = false;
    auto r = load_runner(p).run();
    EXPECT_EQ(r.counters.at("tls_full"), 4u);
    EXPECT_EQ(r.counters.count("tls_resumed"), 0u);
    EXPECT_EQ(server.tls_resumed(), 0u);
}

TEST(RunnerTls, UntrustedCertificateMakesTheTargetUnreachable) {
    test::mini_exchange server({.tls = true});
    auto p = tls_plan(server);
    p.target.tls_options.trusted_pem.clear();
    try {
        load_runner(p).run();
        FAIL() << "an untrusted certificate was accepted";
    } catch (const load_error& e) {
        EXPECT_EQ(e.code(), exit_code::unreachable);
        EXPECT_TRUE(std::string(e.what()).starts_with("TLS handshake with https://127.0.0.1:"));
    }
}

}  // namespace
}  // namespace gatehouse::load
