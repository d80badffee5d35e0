#pragma once
// A small but complete report used by the writer tests: one passed, one failed (with a trace and
// actions), one error and one unsupported scenario, with text that needs escaping; the passed
// one also carries what a load run adds (facts, a breakdown table, schedule lag).

#include "reports/report.hpp"

namespace gatehouse::reports::test {

inline report sample_report() {
    report r;
    r.run = {.tool = "gatehouse run",
             .version = "0.1.0",
             .sut = "gatehouse (embedded)",
             .sut_config = "{ \"farms\": { \"owa\": {} } } <&>",
             .catalog = "scenarios/catalog",
             .started_at = "2026-11-23T10:00:00Z",
             .host = "lab1",
             .time_scale = 0};

    scenario_result pass;
    pass.id = "failover-health";
    pass.title = "Failover when one CAS's HealthCheck.htm fails";
    pass.description = "Users on cas2 get errors until the load balancer notices.";
    pass.tags = {"health", "failover"};
    pass.outcome = verdict::passed;
    pass.duration_s = 4.2;
    pass.time_scale = 0.05;
    pass.summary = {.requests = 4000, .errors = 2, .throughput_rps = 952.4,
                    .p50_ms = 1.2, .p90_ms = 2.0, .p99_ms = 4.5, .max_ms = 30};
    pass.servers = {"cas1", "cas2"};
    for (int t = 0; t < 4; ++t)
        pass.timeline.push_back({.t_s = double(t), .requests = 1000,
                                 .errors = t == 1 ? std::map<std::string, std::uint64_t>{{"502.3.12029", 2}}
                                                  : std::map<std::string, std::uint64_t>{},
                                 .p50_ms = 1.2, .p99_ms = 4.5,
                                 .per_server = t < 1 ? std::map<std::string, std::uint64_t>{{"cas1", 500}, {"cas2", 500}}
                                                     : std::map<std::string, std::uint64_t>{{"cas1", 1000}}});
    pass.timeline[2].lag_p50_ms = 0.25;
    pass.timeline[2].lag_p99_ms = 7.5;
    pass.facts = {{.name = "schedule", .value = "4000 due, 4000 started, 0 missed"}};
    pass.breakdowns = {{.title = "Per step or URL",
                        .rows = {{.name = "GET /owa/ <&>",
                                  .summary = {.requests = 4000, .errors = 2,
                                              .throughput_rps = 952.4, .p50_ms = 1.2,
                                              .p90_ms = 2.0, .p99_ms = 4.5, .max_ms = 30},
                                  .errors = {{"502.3.12029", 2}}}}}};
    pass.actions = {{.at_s = 1.0, .kind = "health", .label = "cas2 /owa/HealthCheck.htm → 503"}};
    pass.expectations = {{.name = "no requests to cas2 after detection", .passed = true,
                          .expected = "0", .observed = "0", .where = "[1.5s, 4s]"}};

    scenario_result fail = pass;
    fail.id = "p01-eas-ping-timeout";
    fail.title = "502.3/12002 when the proxy timeout is shorter than an ActiveSync Ping";
    fail.outcome = verdict::failed;
    fail.facts.clear();
    fail.breakdowns.clear();
    fail.timeline[2].lag_p50_ms = fail.timeline[2].lag_p99_ms = 0;
    fail.reason = "1 of 2 expectations failed";
    fail.expectations = {
        {.name = "Ping answered by the CAS", .passed = false, .expected = "status 200",
         .observed = "502.3.12002 after 30.0 s", .where = "client device1 step 2"},
        {.name = "a <b>bold</b> & \"quoted\" name", .passed = true, .expected = "x", .observed = "x",
         .where = ""}};
    fail.traces = {{.client = "device1",
                    .steps = {{.at_ms = 0, .kind = "send", .detail = "POST /Microsoft-Server-ActiveSync?Cmd=Ping", .failed = false},
                              {.at_ms = 30000, .kind = "response", .detail = "502 (X-Gatehouse-Error 502.3.12002)", .failed = true}}}};

    scenario_result error;
    error.id = "broken-topology";
    error.title = "A scenario whose proxy did not start";
    error.outcome = verdict::error;
    error.reason = "proxy config: farms.owa.servers[0].port: must be 1..65535";

    scenario_result unsupported;
    unsupported.id = "drain-long-poll";
    unsupported.title = "Drain with long polls in flight";
    unsupported.outcome = verdict::unsupported;
    unsupported.reason = "nginx open source cannot drain a server at run time";

    r.scenarios = {pass, fail, error, unsupported};
    return r;
}

}  // namespace gatehouse::reports::test
