#pragma once
// A scenario as read from its file (docs/scenarios.md): the fake-CAS fleet, the system under test
// in each flavour it can run against, client scripts, load phases, a timeline of actions and the
// expectations. Times are in scenario seconds ("Exchange time"); the runner multiplies them by
// the time scale. Parts that belong to other components (the fleet config, the gatehouse proxy
// config, load plans) stay JSON here and are validated by those components' own parsers.

#include "scenarios/condition.hpp"

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gatehouse::scenarios {

// An invalid scenario file. The message names the file and the JSON path.
class scenario_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// [from, to) in scenario seconds; an open end means the start or end of the scenario.
struct window {
    std::optional<double> from_s{};
    std::optional<double> to_s{};
    std::string text() const;
};

// One way to run the system under test.
struct sut_variant {
    std::string name{};                  // "gatehouse", "haproxy", "nginx"
    nlohmann::json config{};             // gatehouse: the proxy config (with ${…} references)
    std::filesystem::path config_template{};  // haproxy/nginx: template file (absolute)
    unsigned nodes = 1;                  // 2: an HA pair of proxy nodes behind the VIP stand-in
    std::string unsupported{};           // why this flavour cannot run the scenario
    std::string path{};                  // JSON path, for messages
};

struct step {
    std::string kind{};      // send, expect, wait, barrier, close, send_cases
    nlohmann::json args{};
    std::string label{};     // optional name, referred to by expectations
    std::string path{};      // "clients[0].steps[3]"
};

struct client_script {
    std::string name{};
    double start_s = 0;
    unsigned repeat = 1;
    bool tls = false;            // talk HTTPS to the proxy's TLS listener
    std::string listener{};      // which proxy listener (default: the first of its scheme)
    std::vector<step> steps{};
    std::string path{};
};

struct load_phase {
    std::string name{};
    double start_s = 0;
    double duration_s = 0;
    nlohmann::json plan{};       // handed to gatehouse::load
    std::string path{};
};

struct action {
    double at_s = 0;
    std::string kind{};          // health, server_offline, fault, stop_server, start_server, …
    nlohmann::json args{};
    std::string label{};
    std::string path{};
};

struct expectation {
    std::string kind{};          // error_rate, requests, latency, throughput, server_requests, …
    nlohmann::json args{};
    condition check{};
    window span{};
    std::string name{};          // human description (generated when absent)
    std::vector<std::string> only_sut{};  // judged only against these systems (empty: all)
    std::string path{};
};

struct scenario {
    std::string id{};            // file stem
    std::filesystem::path file{};
    std::string title{};
    std::string description{};
    std::vector<std::string> tags{};
    std::optional<double> time_scale{};  // overrides the run's default when set
    double duration_s = 0;       // scenario time to run; 0: derived from clients, load, timeline
    double timeout_s = 120;      // wall-clock bound for the whole scenario
    std::map<std::string, std::string> vars{};  // the scenario's own ${…} values (templates)
    nlohmann::json fleet{};
    // A back end that answers 200 to every complete request and records every byte it gets
    // (scenarios/recording_backend.hpp), for send_cases steps: ${recording_backend_host} …
    bool recording_backend = false;
    std::map<std::string, sut_variant> sut{};
    std::vector<client_script> clients{};
    std::vector<load_phase> load{};
    std::vector<action> timeline{};
    std::vector<expectation> expectations{};
};

// Parses a scenario file. Throws scenario_error naming the file and the JSON path of the first
// problem (unknown keys, unknown step/action/expectation kinds, missing or mistyped fields).
scenario load_scenario(const std::filesystem::path& file);
scenario parse_scenario(const nlohmann::json& document, const std::filesystem::path& file);

// The scenario time the scenario runs for: its `duration_s`, or the end of the last client
// start, load phase or action plus a grace period.
double planned_duration(const scenario& s);

// The step, action and expectation kinds this build understands.
const std::vector<std::string>& step_kinds();
const std::vector<std::string>& action_kinds();
const std::vector<std::string>& expectation_kinds();

}  // namespace gatehouse::scenarios
