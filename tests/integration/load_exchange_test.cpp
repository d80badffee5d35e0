// The Exchange client profiles end to end through gatehouse::load's runner, against a loopback
// Exchange front end (tests/unit/load/mini_exchange): each profile's requests in order, its
// authentication, and its long-lived requests (the RPC channel pair, the ActiveSync Ping).
#include "load/runner.hpp"
#include "tests/unit/load/mini_exchange.hpp"

#include <gtest/gtest.h>

namespace gatehouse::load {
namespace {

plan profile_plan(const test::mini_exchange& server, std::string profile) {
    plan p;
    p.target.host = "127.0.0.1";
    p.target.port = std::to_string(server.endpoint().port());
    p.target.host_header = "mail.contoso.com";
    p.workload.profile = std::move(profile);
    p.workload.time_scale = 0.01;
    p.count = 1;
    return p;
}

std::vector<std::string> paths(const std::vector<std::string>& requests) {
    std::vector<std::string> out;
    for (const auto& r : requests) out.push_back(r.substr(0, r.find('?')));
    return out;
}

TEST(LoadExchange, OwaUserLogsOnWithFormsAndSendsTheCanary) {
    test::mini_exchange server;
    auto p = profile_plan(server, "owa");
    p.workload.tasks = 2;
    auto r = load_runner(p).run();
    EXPECT_EQ(r.totals.errors, 0u);
    EXPECT_EQ(r.iterations.completed, 1u);
    auto log = server.requests();
    ASSERT_EQ(log.size(), 9u);
    EXPECT_EQ(log[0], "GET /owa");
    EXPECT_EQ(log[1],
              "GET /owa/auth/logon.aspx?url=http%3a%2f%2fmail.contoso.com%2fowa%2f"
              "&reason=0");
    EXPECT_TRUE(log[2].starts_with("GET /owa/auth/logon.aspx?replaceCurrent=1&url="));
    EXPECT_EQ(log[3], "POST /owa/auth.owa");
    EXPECT_EQ(log[4], "GET /owa/");
    EXPECT_EQ(log[5], "POST /owa/service.svc?action=GetOwaUserConfiguration&app=Mail");
    EXPECT_EQ(log[6], "POST /owa/service.svc?action=FindItem&app=Mail");
    EXPECT_EQ(log[7], "POST /owa/service.svc?action=GetItem&app=Mail");
    EXPECT_EQ(log[8], "GET /owa/logoff.owa");
    // The service calls were accepted: the canary cookie was echoed in the header.
    EXPECT_EQ(r.urls.at("owa.service.FindItem").by_status.at(200), 1u);
}

TEST(LoadExchange, OwaWrongPasswordIsALogonFailure) {
    test::mini_exchange server;
    auto p = profile_plan(server, "owa");
    p.account.password = "wrong";
    auto r = load_runner(p).run();
    EXPECT_EQ(r.iterations.failed, 1u);
    EXPECT_EQ(r.urls.at("owa.auth").errors, 1u);  // 302 without cadata
}

TEST(LoadExchange, EwsClientAuthenticatesItsConnectionOnceWithNtlm) {
    test::mini_exchange server;
    auto p = profile_plan(server, "ews");
    p.workload.tasks = 3;
    auto r = load_runner(p).run();
    EXPECT_EQ(r.totals.errors, 0u);
    EXPECT_EQ(server.ntlm_authenticated(), 1u);  // one connection, one handshake
    EXPECT_EQ(server.ntlm_failed(), 0u);
    EXPECT_EQ(server.continues_sent(), 3u);  // Expect: 100-continue on each SOAP call
    auto log = paths(server.requests());
    std::vector<std::string> expected{"POST /autodiscover/autodiscover.xml",  // NEGOTIATE leg
                                      "POST /autodiscover/autodiscover.xml",  // AUTHENTICATE
                                      "POST /EWS/Exchange.asmx", "POST /EWS/Exchange.asmx",
                                      "POST /EWS/Exchange.asmx"};
    EXPECT_EQ(log, expected);
    EXPECT_EQ(r.counters.at("ntlm_handshakes"), 1u);
    EXPECT_EQ(r.urls.at("ews.GetItem").requests, 1u);
}

TEST(LoadExchange, NtlmWithAWrongPasswordFailsAsTheServerSaysSo) {
    test::mini_exchange server;
    auto p = profile_plan(server, "ews");
    p.account.password = "wrong";
    auto r = load_runner(p).run();
    EXPECT_EQ(server.ntlm_failed(), 1u);
    EXPECT_EQ(r.totals.by_status.at(401), 1u);
    EXPECT_EQ(r.counters.at("auth_failures"), 1u);
    EXPECT_EQ(r.iterations.failed, 1u);
}

// HeartbeatInterval 100 s, scaled by 0.01 on both sides: the server holds the Ping 1 s.
TEST(LoadExchange, ActiveSyncPingIsHeldForItsHeartbeat) {
    test::mini_exchange server({.time_scale = 0.01});
    auto p = profile_plan(server, "activesync");
    p.workload.heartbeat = std::chrono::seconds(100);
    auto r = load_runner(p).run();
    EXPECT_EQ(r.totals.errors, 0u);
    auto log = paths(server.requests());
    std::vector<std::string> expected{
        "OPTIONS /Microsoft-Server-ActiveSync", "POST /Microsoft-Server-ActiveSync",
        "POST /Microsoft-Server-ActiveSync", "POST /Microsoft-Server-ActiveSync"};
    EXPECT_EQ(log, expected);
    EXPECT_TRUE(server.requests()[3].find("Cmd=Ping") != std::string::npos);
    const auto& ping = r.urls.at("eas.Ping").latency;
    EXPECT_GE(ping.min(), 1'000'000u);
    EXPECT_LT(ping.max(), 3'000'000u);
    EXPECT_TRUE(r.totals.latency.max() < 1'000'000u);  // the hold stays out of the totals
}

TEST(LoadExchange, MapiClientCarriesItsSessionCookies) {
    test::mini_exchange server({.time_scale = 0.001});
    auto p = profile_plan(server, "mapi");
    p.workload.tasks = 2;
    auto r = load_runner(p).run();
    EXPECT_EQ(r.totals.errors, 0u);  // the server answers X-ResponseCode 13 without cookies
    for (auto step : {"mapi.Connect", "mapi.Execute", "mapi.NotificationWait", "mapi.Disconnect"})
        EXPECT_EQ(r.urls.at(step).errors, 0u) << step;
    EXPECT_EQ(r.urls.at("mapi.Execute").requests, 2u);
    auto log = paths(server.requests());
    EXPECT_EQ(log.back(), "POST /mapi/emsmdb/");
}

// The channel pair is held for 100 s × 0.01 with an RPC every 250 ms through it; the IN channel
// idles longer than its keep-alive (20 s × 0.01) between RPCs, so pings go up it too.
TEST(LoadExchange, OutlookAnywhereHoldsAChannelPairAndEchoesRpcs) {
    test::mini_exchange server;
    auto p = profile_plan(server, "outlook-anywhere");
    p.workload.rpc_hold = std::chrono::seconds(100);
    p.workload.rpc_interval = std::chrono::milliseconds(250);
    p.workload.rpc_keepalive = std::chrono::seconds(20);
    auto r = load_runner(p).run();
    EXPECT_EQ(r.totals.errors, 0u);
    EXPECT_EQ(server.rpc_pairs(), 1u);
    EXPECT_GE(server.rpc_echoes(), 3u);
    EXPECT_EQ(r.urls.at("oa.connect").requests, 1u);
    EXPECT_EQ(r.urls.at("oa.rpc").requests, server.rpc_echoes());
    EXPECT_GE(r.urls.at("oa.ping").requests, 1u);
    EXPECT_EQ(r.urls.at("oa.hold").requests, 1u);
    EXPECT_GE(server.ntlm_authenticated(), 3u);  // autodiscover/echo, OUT and IN channels
    auto log = server.requests();
    auto in = std::find_if(log.begin(), log.end(),
                           [](const std::string& s) { return s.starts_with("RPC_IN_DATA"); });
    ASSERT_NE(in, log.end());
    EXPECT_EQ(*in, "RPC_IN_DATA /rpc/rpcproxy.dll?bbbb@contoso.com:6001");
}

// A light day (33 tasks) of 8 h compressed to 1.4 s: every task planned is achieved.
TEST(LoadExchange, UserDayAchievesItsPlannedTasks) {
    test::mini_exchange server;
    auto p = profile_plan(server, "user-day");
    p.workload.day = "light";
    p.workload.mix = "ews:1";
    p.workload.time_scale = 0.00005;
    auto r = load_runner(p).run();
    EXPECT_EQ(r.iterations.tasks_planned, 33u);
    EXPECT_EQ(r.iterations.tasks_achieved, 33u);
    EXPECT_EQ(r.profiles.at("ews").requests, 33u + 1u);  // the tasks and the autodiscover
}

}  // namespace
}  // namespace gatehouse::load

namespace gatehouse::load {
namespace {

// A front end that never sends "100 Continue": the client waits its expect_wait, then sends
// the body anyway (as .NET does), so every call costs that wait and none fails.
TEST(LoadExchange, MissingContinueCostsTheExpectWaitButNotTheRequest) {
    test::mini_exchange server({.send_continue = false});
    auto p = profile_plan(server, "ews");
    p.workload.tasks = 2;
    p.client.expect_wait = std::chrono::milliseconds(150);
    auto r = load_runner(p).run();
    EXPECT_EQ(r.totals.errors, 0u);
    EXPECT_EQ(server.continues_sent(), 0u);
    EXPECT_GE(r.urls.at("ews.GetFolder").latency.min(), 150'000u);
    EXPECT_GE(r.urls.at("ews.FindItem").latency.min(), 150'000u);
}

plan delayed_open_plan(const test::mini_exchange& server, unsigned vus) {
    plan p;
    p.target.host = "127.0.0.1";
    p.target.port = std::to_string(server.endpoint().port());
    p.workload.urls = {{.method = "GET", .target = "/slow"}};
    p.model.kind = model_kind::open;
    p.model.rate = 50;
    p.model.vus = vus;
    p.duration = std::chrono::milliseconds(1000);
    return p;
}

// Every response takes 30 ms; 50 arrivals a second on one connection (capacity ~33/s) queue
// up, and latency counted from when each request was due shows the queue: the n-th request
// waits about 10 ms × n more than the one before (coordinated omission corrected). A closed-
// model measurement of the same traffic would report 30 ms throughout.
TEST(LoadOpenModel, LatencyCountsFromTheDueTimeWhenTheGeneratorFallsBehind) {
    test::mini_exchange server({.delay = std::chrono::milliseconds(30)});
    auto r = load_runner(delayed_open_plan(server, 1)).run();
    EXPECT_EQ(r.totals.errors, 0u);
    EXPECT_EQ(r.schedule.due, 50u);
    EXPECT_GE(r.schedule.missed, 10u);             // it fell behind its schedule
    EXPECT_GE(r.schedule.lag.max(), 150'000u);     // and says by how much
    EXPECT_GE(r.totals.latency.max(), 200'000u);   // the wait is part of the latency
    // The queue grows: the last requests waited far longer than the first.
    EXPECT_GE(r.totals.latency.max(), 3 * r.totals.latency.min());
}

TEST(LoadOpenModel, EnoughConnectionsKeepLatencyAtTheServiceTime) {
    test::mini_exchange server({.delay = std::chrono::milliseconds(30)});
    auto p = delayed_open_plan(server, 5);
    p.duration.reset();
    p.count = 50;  // bounded by count: a busy machine cannot push the last arrival past the end
    auto r = load_runner(p).run();
    EXPECT_EQ(r.schedule.missed, 0u);
    EXPECT_EQ(r.totals.requests, 50u);
    EXPECT_GE(r.totals.latency.min(), 30'000u);
    EXPECT_LE(r.totals.latency.value_at_quantile(0.5), 60'000u);
}

// A replay that keeps the log's timing sends each entry at its offset (0, 200, 400 ms),
// in order; at speed 2 the same log takes half as long.
TEST(LoadReplay, KeptTimingSendsEntriesAtTheirLoggedOffsets) {
    test::mini_exchange server;
    plan p;
    p.target.host = "127.0.0.1";
    p.target.port = std::to_string(server.endpoint().port());
    p.workload.profile = "w3c";
    p.workload.replay_timing = true;
    p.workload.log = {{.method = "GET", .target = "/a", .offset_ms = 0},
                      {.method = "POST", .target = "/b?x=1", .offset_ms = 200},
                      {.method = "GET", .target = "/c", .offset_ms = 400}};
    p.model.kind = model_kind::open;
    p.model.vus = 2;
    auto started = steady_clock::now();
    auto r = load_runner(p).run();
    auto took = steady_clock::now() - started;
    EXPECT_EQ(r.totals.requests, 3u);
    EXPECT_GE(took, std::chrono::milliseconds(400));
    std::vector<std::string> expected{"GET /a", "POST /b?x=1", "GET /c"};
    EXPECT_EQ(server.requests(), expected);
    EXPECT_EQ(r.urls.at("POST /b").requests, 1u);

    test::mini_exchange faster;
    p.target.port = std::to_string(faster.endpoint().port());
    p.workload.replay_speed = 2;
    started = steady_clock::now();
    load_runner(p).run();
    EXPECT_LT(steady_clock::now() - started, took);
}

}  // namespace
}  // namespace gatehouse::load
