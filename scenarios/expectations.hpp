#pragma once
// Evaluates a scenario's expectations against what was observed: the clients' request records,
// the fake CAS servers' own logs (which server served what, health probes, NTLM identity per
// connection), the times the timeline's actions happened, and the client scripts' outcomes.
// Pure: everything it needs is in the evaluation context; no clocks, no I/O.

#include "fake-cas/observations.hpp"
#include "reports/report.hpp"
#include "scenarios/client_script.hpp"
#include "scenarios/recorder.hpp"
#include "scenarios/scenario.hpp"

#include <chrono>
#include <map>
#include <string>

namespace gatehouse::scenarios {

struct evaluation_context {
    std::string sut{};  // the scenario variant that ran: gatehouse, haproxy or nginx
    double time_scale = 1;
    double end_s = 0;  // wall seconds the scenario ran
    // The scenario's start on the system clock (the fake CAS logs carry system_clock times).
    std::chrono::system_clock::time_point origin{};
    const recorder* requests = nullptr;
    std::map<std::string, fake_cas::observation_snapshot> servers{};  // by fleet server name
    std::map<std::string, double> actions{};                          // label → wall seconds
    std::map<std::string, client_outcome> clients{};                  // by client name
};

reports::expectation_result evaluate(const expectation& e, const evaluation_context& context);

// Every expectation of `s`, plus the failed checks of client scripts that no client_failures
// expectation covers (a client's expect step that fails fails the scenario by default).
std::vector<reports::expectation_result> evaluate_all(const scenario& s,
                                                      const evaluation_context& context);

}  // namespace gatehouse::scenarios
