#pragma once
// The proxy's configuration as plain data. Every member has its default here; config_json.cpp
// fills these structs from a JSON file (unknown keys are errors) and validate() checks what one
// field cannot check alone. Durations are milliseconds and sizes are bytes everywhere. The names
// follow IIS ARR and URL Rewrite (docs/proxy-config.md maps each one to its ARR setting).

#include "net/certificate.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gatehouse::proxy {

using milliseconds = std::chrono::milliseconds;

// A configuration that cannot be used. what() reads "<source>: <json path>: <problem>", e.g.
// "gatehouse.json: farms.owa.health.interval_ms: must be > 0".
class config_error : public std::runtime_error {
public:
    config_error(const std::string& source, const std::string& path, const std::string& problem);
    const std::string& path() const noexcept { return path_; }
    const std::string& problem() const noexcept { return problem_; }

private:
    std::string path_;
    std::string problem_;
};

// ---- listeners -------------------------------------------------------------------------------

// One certificate of an HTTPS listener and the host names (SNI) it serves. The first
// certificate of a listener is the default one (no SNI, or an unknown name).
struct certificate_config {
    std::vector<std::string> names{};
    std::string certificate_file{};  // PEM chain, leaf first
    std::string key_file{};          // PEM private key
    net::certificate pem{};          // the loaded contents (filled by load_config, or directly)
    // Optional: a DER OCSP response for this certificate (`openssl ocsp -respout`), stapled for
    // clients that ask. Read at start and at every reload; never fetched from a responder.
    std::string ocsp_response_file{};
    std::string ocsp_response{};  // its contents (filled by load_config, or directly)
};

// Limits and timeouts on the client side (reliability defaults: request line 8 KiB → 414,
// field 16 KiB / 100 fields / head 32 KiB → 431).
struct listener_limits {
    std::uint32_t request_line_bytes = 8 * 1024;
    std::uint32_t field_bytes = 16 * 1024;
    std::uint32_t head_bytes = 32 * 1024;
    std::uint32_t fields = 100;
    milliseconds header_timeout{10'000};      // TLS handshake + whole request head → 408
    milliseconds keep_alive_timeout{60'000};  // idle between requests → silent close
    milliseconds send_timeout{60'000};        // a client that does not read → close
    milliseconds lingering_time{5'000};       // unread request body at close: drain this long
    std::uint32_t max_connections = 10'000;   // per listener and thread; accept pauses beyond
    std::uint32_t max_connections_per_client = 0;  // per source address, all threads; 0: off
    std::uint32_t chunk_extension_bytes = 4 * 1024;  // one chunk line's extensions → 400
};

struct listener_config {
    std::string name{};
    std::string address{"0.0.0.0"};
    std::uint16_t port = 0;  // 0: any free port (tests)
    bool tls = false;
    std::vector<certificate_config> certificates{};
    listener_limits limits{};
};

// ---- proxy settings (system.webServer/proxy) -------------------------------------------------

struct proxy_settings {
    milliseconds timeout{30'000};  // ARR `timeout`: to the response head, between body reads
    milliseconds connect_timeout{5'000};
    bool keep_alive = true;                       // reuse back-end connections
    milliseconds upstream_idle_timeout{60'000};   // below IIS's 120 s
    std::uint32_t max_idle_per_server = 64;       // pooled connections per server and thread
    std::uint64_t response_buffer_threshold = 0;  // ARR minResponseBuffer, in bytes
    bool preserve_host_header = true;
    std::string x_forwarded_for_header{"X-Forwarded-For"};  // empty: not sent
    bool include_port_in_x_forwarded_for = true;
    bool x_forwarded_proto = true;
    std::string log_guid_header{"X-ARR-LOG-ID"};  // empty: not sent
    bool reverse_rewrite_host_in_response_headers = false;
    bool synthesize_100_continue = false;
};

// A farm's own values for any of the proxy settings; unset members inherit.
struct proxy_overrides {
    std::optional<milliseconds> timeout{};
    std::optional<milliseconds> connect_timeout{};
    std::optional<bool> keep_alive{};
    std::optional<milliseconds> upstream_idle_timeout{};
    std::optional<std::uint32_t> max_idle_per_server{};
    std::optional<std::uint64_t> response_buffer_threshold{};
    std::optional<bool> preserve_host_header{};
    std::optional<std::string> x_forwarded_for_header{};
    std::optional<bool> include_port_in_x_forwarded_for{};
    std::optional<bool> x_forwarded_proto{};
    std::optional<std::string> log_guid_header{};
    std::optional<bool> reverse_rewrite_host_in_response_headers{};
    std::optional<bool> synthesize_100_continue{};

    // `base` with these overrides applied.
    proxy_settings apply(proxy_settings base) const;
};

// IIS request filtering on the proxy site.
struct request_filtering_config {
    std::uint64_t max_allowed_content_length = 30'000'000;  // bytes; larger bodies → 404.13
    bool reject_underscore_headers = true;  // X_Forwarded_For → 400 (IIS maps _ and - alike)
};

// The opt-in Exchange protection preset (rules R1–R12, proxy/exchange_protection.hpp).
struct exchange_protection_config {
    bool enabled = false;
    bool allow_ecp = false;  // R8 off and /ecp published (admin surface from the internet)
};

// ---- farms -----------------------------------------------------------------------------------

enum class availability { available, unavailable, drain };
enum class upstream_protocol { http, https };
enum class lb_algorithm {
    weighted_round_robin,
    weighted_total_traffic,
    least_requests,
    least_response_time,
    request_hash,
};

struct server_config {
    std::string address{};   // IP literal or host name
    std::uint16_t port = 0;  // 0: 80 or 443 by the farm's protocol
    std::uint32_t weight = 100;
    availability state = availability::available;
    std::string host_name{};  // TLS name to send and verify; default: address
};

struct load_balancing_config {
    lb_algorithm algorithm = lb_algorithm::weighted_round_robin;
    // request_hash only: a server variable (e.g. REMOTE_ADDR, HTTP_HOST), or QUERY_STRING with
    // query_string_names; neither set: the URL.
    std::string hash_server_variable{};
    std::vector<std::string> query_string_names{};
    bool consistent_hash = false;  // rendezvous hashing: a membership change moves few keys
};

struct status_range {
    unsigned first = 200;
    unsigned last = 399;
};

// ARR's URL health test (health_checker.cpp). ARR flips a server on a single result; `rise`,
// `fall` and `down_interval` are opt-in extensions (HAProxy's rise / fall / fastinter).
struct health_config {
    std::string url{};  // empty: no test; a path, or a URL whose host is the farm's name
    milliseconds interval{30'000};
    milliseconds timeout{30'000};
    std::vector<status_range> acceptable_statuses{status_range{}};
    std::string match{};  // the body must contain it
    // Health tests never mark a server unhealthy while only this many healthy ones remain.
    std::uint32_t min_servers = 0;
    std::uint32_t rise = 1;  // consecutive passes that bring an unhealthy server back
    std::uint32_t fall = 1;  // consecutive failures that take a healthy server out
    std::optional<milliseconds>
        down_interval{};  // probe period while unhealthy (default: interval)
};

// ARR's live traffic test: `max_failures` failures within `failover_period` mark a server
// unhealthy; only a health test or an admin action brings it back. Off while max_failures is 0.
struct live_traffic_config {
    std::vector<status_range> failure_statuses{};  // back-end statuses that count as failures
    std::vector<std::uint32_t> failure_errors{};   // win32 codes of 502.3 that count (all: empty)
    std::uint32_t max_failures = 0;
    milliseconds failover_period{60'000};
};

// Envoy-style outlier ejection (opt-in): `consecutive_failures` gateway failures (502.3, or a
// 5xx status from the server) eject a server for base_ejection_time × its number of ejections;
// at most max_ejection_percent of the farm is ejected at once (at least one server).
struct outlier_config {
    bool enabled = false;
    std::uint32_t consecutive_failures = 5;
    milliseconds base_ejection_time{30'000};
    std::uint32_t max_ejection_percent = 10;
};

// ARR client affinity: a cookie naming the server by a keyed hash of its address:port, so every
// proxy node with the same configuration reads it alike (affinity.hpp).
struct affinity_config {
    bool enabled = false;
    std::string cookie_name{"ARRAffinity"};
    std::string key{};  // mixed into the hash; the same on every node (may be empty)
};

// ARR host-name affinity (host_affinity.hpp): each host name is allocated servers_per_host
// servers, by round robin or by the free memory they report on the health test.
enum class host_affinity_provider { round_robin, memory };

struct host_affinity_config {
    bool enabled = false;
    host_affinity_provider provider = host_affinity_provider::round_robin;
    bool ignore_subdomains = false;
    milliseconds timeout{20 * 60'000};  // an idle mapping is forgotten after this long
    std::uint32_t servers_per_host = 1;
    std::string memory_header{"X-Memory-Available-MB"};  // on health probe answers
};

// TLS towards the farm's servers (SSL bridging).
struct upstream_tls_config {
    bool verify = true;  // chain and host name; false only for lab certificates
    std::string trusted_ca_file{};
    std::string trusted_ca_pem{};  // loaded contents of trusted_ca_file (or set directly)
    bool system_trust = true;
    bool session_resumption = true;
};

struct farm_config {
    std::string name{};
    upstream_protocol protocol = upstream_protocol::http;
    std::vector<server_config> servers{};
    load_balancing_config load_balancing{};
    health_config health{};
    affinity_config affinity{};
    host_affinity_config host_affinity{};
    live_traffic_config live_traffic{};
    outlier_config outlier{};
    // After a server comes back, its weight ramps linearly from 10 % to 100 % over this long.
    std::optional<milliseconds> slow_start{};
    proxy_overrides proxy{};
    upstream_tls_config tls{};
};

// ---- rules (URL Rewrite inbound rules) -------------------------------------------------------

enum class pattern_syntax { ecmascript, wildcard, exact_match };
enum class action_type { route, redirect, custom_response, abort, none };

struct condition_config {
    std::string input{};  // e.g. "{HTTP_HOST}"; may mix text, variables and back-references
    std::string pattern{};
    bool negate = false;
    bool ignore_case = true;
};

struct action_config {
    action_type type = action_type::none;
    std::string farm{};  // route
    // route: the path to send ("" keeps the client's request-target byte-exact); redirect: the
    // Location. Both may use {R:n}, {C:n} and {SERVER_VARIABLE}.
    std::string url{};
    bool append_query_string = true;
    unsigned redirect_type = 301;  // 301, 302, 303, 307
    unsigned status = 0;           // custom_response
    unsigned substatus = 0;
    std::string reason{};
    std::string description{};
};

struct rule_config {
    std::string name{};
    bool enabled = true;
    pattern_syntax syntax = pattern_syntax::ecmascript;
    std::string pattern{};  // matched against the URL path without its leading '/'
    bool negate = false;
    bool ignore_case = true;
    std::vector<condition_config> conditions{};
    bool match_any = false;  // logicalGrouping MatchAny (default MatchAll)
    bool track_all_captures = false;
    action_config action{};
    bool stop_processing = false;
    // Per-rule overrides for the requests this rule routes (long polls, RPC channels).
    std::optional<milliseconds> timeout{};
    std::optional<std::uint64_t> max_allowed_content_length{};
    std::optional<std::uint64_t> response_buffer_threshold{};
};

// ---- the whole -------------------------------------------------------------------------------

struct access_log_config {
    std::string path{};  // empty: off; "-": standard output
};

// The admin API (admin_api.cpp): JSON and Prometheus text over HTTP, on its own listener.
struct admin_config {
    bool enabled = false;
    std::string address{"127.0.0.1"};
    std::uint16_t port = 0;  // 0: any free port (tests)
};

// Shared configuration: the proxy process re-reads its file when it changes (config_watcher).
struct config_watch_config {
    bool enabled = true;
    milliseconds interval{2'000};
};

struct config {
    std::vector<listener_config> listeners{};
    proxy_settings proxy{};
    request_filtering_config request_filtering{};
    exchange_protection_config exchange_protection{};
    std::vector<farm_config> farms{};
    std::vector<rule_config> rules{};
    access_log_config access_log{};
    milliseconds stop_timeout{60'000};  // graceful stop: in-flight requests get this long
    admin_config admin{};
    config_watch_config config_watch{};
    std::uint32_t health_max_in_flight = 16;  // health probes in flight per proxy, all farms
};

// Parses JSON text (comments allowed). `source` names it in errors (usually the file name);
// relative certificate paths are resolved against `base_directory` and files are loaded.
// Throws config_error.
config parse_config(const std::string& text, const std::string& source,
                    const std::string& base_directory = ".");
// Reads and parses a file. Throws config_error (a missing file included).
config load_config(const std::string& path);

// Checks what single fields cannot: names unique, rules routing to existing farms, listener
// addresses, TLS listeners with certificates, ranges. Throws config_error naming `source`.
void validate(const config& c, const std::string& source = "config");

// `c` with every duration multiplied by `factor` (> 0); a positive duration stays ≥ 1 ms. The
// scenario runner and `gatehouse-proxy --time-scale` use it to run Exchange time faster. Every
// duration added to the config must be added here too (config_scaling.cpp).
config scale_durations(config c, double factor);

const char* to_string(availability a) noexcept;
const char* to_string(lb_algorithm a) noexcept;

}  // namespace gatehouse::proxy
