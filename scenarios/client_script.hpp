#pragma once
// Runs one client script of a scenario, in the spirit of HAProxy's reg-tests: send a request,
// expect things of the response, wait, meet the other clients at a barrier, close. Requests go
// through gatehouse::load's HTTP client (keep-alive, cookies, NTLM/Basic, TLS), every request is
// recorded, and every step lands in the client's trace for the report. A send_cases step sends
// the reliability case table (scenarios/reliability_cases.hpp) as raw bytes and judges each
// case on what the client got and what the recording back end received.

#include "load/stream_registry.hpp"
#include "net/awaitable.hpp"
#include "reports/report.hpp"
#include "scenarios/recorder.hpp"
#include "scenarios/scenario.hpp"

#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace gatehouse::scenarios {

class topology;

// Named meeting points of the clients of one scenario (single-threaded: the runner's context).
class barriers {
public:
    // `parties`: how many arrivals release a barrier that names no count of its own.
    explicit barriers(std::size_t parties) : parties_(parties) {}
    // Waits until `count` (0: the default) clients have arrived at `name`.
    awaitable<void> arrive(const std::string& name, std::size_t count);
    // Releases every waiter (the scenario is ending).
    void release_all();

private:
    struct barrier {
        std::size_t arrived = 0;
        std::size_t needed = 0;
        std::vector<asio::steady_timer*> waiting{};
    };
    std::size_t parties_;
    std::map<std::string, barrier> barriers_;
};

// One case of the reliability table as a send_cases step judged it.
struct case_outcome {
    std::string id{};
    std::string title{};
    bool passed = false;
    std::string expected{};
    std::string observed{};
    std::string problems{};  // "; "-separated, empty when passed
};

struct client_outcome {
    reports::client_trace trace{};
    std::vector<case_outcome> cases{};      // send_cases steps, in order
    std::size_t cases_not_applicable = 0;   // cases of another profile than the step's
    std::vector<reports::expectation_result> failed_expects{};  // one per failed check
    std::size_t checks = 0;
    std::size_t requests = 0;
    bool finished = false;  // ran every step of every repetition
};

// What a client needs of the running scenario.
struct client_context {
    const topology* world = nullptr;
    bool gatehouse = true;  // the system under test is gatehouse (it sends X-Gatehouse-Error)
    recorder* requests = nullptr;
    barriers* meeting = nullptr;
    steady_clock::time_point origin{};  // the scenario's start (wall clock zero)
    double time_scale = 1;
    std::chrono::milliseconds default_timeout{60'000};  // wall-clock, per request
};

// How the runner ends a client early: stop() closes its connection and wakes its waits.
struct client_control {
    bool stopped = false;
    load::stream_registry registry{};
    void stop() {
        stopped = true;
        registry.close_all();
    }
};

// Runs `script` on the calling coroutine's executor (single-threaded: the runner's context).
awaitable<client_outcome> run_client(const client_script& script, client_context context,
                                     std::shared_ptr<client_control> control);

}  // namespace gatehouse::scenarios
