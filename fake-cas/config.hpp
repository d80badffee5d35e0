#pragma once
// The fake CAS fleet's configuration: plain structs with defaults that reproduce an Exchange
// 2019 front end as exchange-protocols.md describes it. Keys carry their unit; durations are
// stored unscaled and multiplied by `time_scale` where they are used (see scaled()).
// config_json.cpp parses JSON into these structs (files, and knob patches at run time).

#include "fake-cas/vdir.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gatehouse::fake_cas {

// A configuration error: the message names the source and the JSON path.
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class latency_distribution { uniform, exponential };

// Faults a server or one vdir injects into requests. A vdir's knobs combine with its server's:
// latencies add, rates take the larger value, a vdir's status or limit wins when set.
struct fault_knobs {
    std::uint32_t latency_ms = 0;         // added before answering
    std::uint32_t latency_jitter_ms = 0;  // random extra: uniform [0, j] or exponential mean j
    latency_distribution distribution = latency_distribution::uniform;
    unsigned error_status = 0;  // 0: off; else answer this status for `error_rate` of requests
    double error_rate = 1.0;
    double reset_rate = 0;                             // TCP RST instead of an answer
    double close_mid_body_rate = 0;                    // close after the head and half of the body
    double malformed_rate = 0;                         // an unparsable status line, then close
    std::uint64_t bandwidth_bytes_per_s = 0;           // 0: unlimited; else paced writes
    std::optional<std::uint64_t> stall_after_bytes{};  // stop writing after N response bytes
    std::uint32_t close_after_requests = 0;  // keep-alive close after N requests (0: never)
};

// What HealthCheck.htm answers while its component is inactive.
enum class inactive_action { status, hang, reset };

struct health_knobs {
    inactive_action inactive = inactive_action::status;
    unsigned inactive_status = 503;
    std::uint32_t latency_ms = 0;
    std::uint32_t flap_every = 0;          // alternate the answer every N probes (0: never)
    bool requires_auth = false;            // a pre-auth prompt in front of the page
    bool fqdn_upper = true;                // body FQDN in upper case, as Exchange writes it
    bool inactive_blocks_traffic = false;  // non-health requests get 503 while inactive
};

enum class auth_scheme { negotiate, ntlm, basic };

struct vdir_config {
    bool enabled = true;                  // false: the vdir does not exist (404)
    std::vector<auth_scheme> auth{};      // challenge order; empty for FBA and anonymous vdirs
    std::uint64_t max_request_bytes = 0;  // 0: unlimited
    fault_knobs faults{};
    health_knobs health{};
};

enum class auth_mode { accept_any, verify };
enum class ntlm_binding { connection, request };
enum class scope { farm, instance };
enum class expect_mode { honour, ignore, reject };  // reject: 417

struct owa_knobs {
    std::string fba_key_id = "farm";  // same id on two servers: they open each other's cookies
    bool fba_key_unusable = false;    // the key cannot be used at all (CNG certificate loop)
    std::uint32_t cookie_ttl_s = 8 * 3600;
    scope canary_scope = scope::farm;
    bool enforce_canary = true;
    unsigned xhr_expired_status = 440;
    unsigned reason_on_bad_password = 2;
    std::uint32_t login_latency_ms = 0;
};

struct ecp_knobs {
    scope session_scope = scope::farm;
    bool canary_param_required = true;
};

enum class throttle_mode { none, soap_busy, unavailable, unauthorized };

struct ews_knobs {
    throttle_mode throttle = throttle_mode::none;
    std::uint32_t throttle_backoff_ms = 5000;  // BackOffMilliseconds / Retry-After
    bool soap_fault_500 = false;
    expect_mode expect_100 = expect_mode::honour;
    bool affinity_cookie = true;
    std::uint32_t stream_keepalive_s = 45;
    scope subscription_scope = scope::farm;
    bool generic_error_redirect = false;
};

enum class mapihttp_mode { automatic, always, never };
enum class redirect_mode { none, http_302, redirect_url, redirect_addr };

struct autodiscover_knobs {
    mapihttp_mode include_mapihttp = mapihttp_mode::automatic;
    redirect_mode redirect = redirect_mode::none;
    std::string redirect_target{};
    bool ua_filter = false;  // reject clients that are not Outlook (TMG-style rule)
    std::uint32_t latency_ms = 0;
    bool json_enabled = true;
    bool json_requires_auth = false;
    bool host_header_validation = false;  // Host must be the FQDN, external host or an IP
};

enum class pair_timeout_action { close, reset, rpc_error };

struct rpc_knobs {
    std::uint64_t out_content_length = 1073741824;
    std::uint32_t conn_timeout_ms = 120000;  // in CONN/A3 and CONN/C2
    std::uint32_t ping_interval_s = 0;       // 0: half the client keep-alive
    scope pair_scope = scope::farm;
    std::uint32_t pair_wait_s = 30;
    pair_timeout_action pair_timeout = pair_timeout_action::close;
    std::uint32_t reply_pdu_bytes = 0;  // 0: echo the request PDU's size
    std::uint32_t reply_latency_ms = 0;
    std::uint32_t receive_window = 65536;
    expect_mode expect_100 = expect_mode::honour;
    bool rpc_error = false;        // answer every channel HTTP/1.0 503 RPC Error: 6ba
    bool validate_targets = true;  // target must end in :6001, :6002 or :6004
};

enum class mapi_chunking { per_tag, single, byte };

struct mapi_knobs {
    std::uint32_t pending_period_ms = 30000;
    bool send_pending = true;
    std::uint32_t processing_ms = 0;
    std::uint32_t nw_max_s = 300;
    std::uint32_t expiration_ms = 900000;
    scope session_scope = scope::farm;
    bool enforce_sequence = true;
    mapi_chunking chunking = mapi_chunking::per_tag;
    bool content_length_responses = false;  // true: no chunking at all
    unsigned force_response_code = 0;
    unsigned http_status_override = 0;
    std::uint32_t execute_reply_bytes = 0;  // 0: echo the ROP buffer
};

struct activesync_knobs {
    std::uint32_t hb_min_s = 60;
    std::uint32_t hb_max_s = 3540;
    std::uint32_t ping_change_after_s = 0;  // 0: never by itself
    unsigned force_http_status = 0;         // 449/451/456/457/503/507
    std::string x_ms_location{};            // with 451
    std::uint32_t retry_after_s = 60;       // with 503
    bool require_policy_key = false;
    bool announce_x_ms_rp = false;
    bool chunked_responses = false;
};

struct oab_knobs {
    bool seq_per_instance = false;
    bool support_range = true;
    bool support_head = true;
    std::uint32_t file_bytes = 65536;
    bool force_chunked = false;
    std::string oab_guid = "d29844a9-724e-468c-8820-0f7b345b767b";
};

struct tls_knobs {
    bool enabled = false;
    std::string cert_file{};  // PEM chain; empty: issued by the fleet authority at start
    std::string key_file{};
};

struct server_config {
    std::string name{};     // "cas1"
    std::string netbios{};  // "EX01"
    std::string fqdn{};     // "ex01.contoso.local"
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;
    tls_knobs tls{};
    std::string build = "15.2.1544.4";
    bool emit_fe_headers = true;
    unsigned root_status = 302;
    std::string root_location = "/owa";
    std::string external_host{};  // host in generated URLs; empty: the request's Host
    std::string basic_realm{};    // empty: the request's Host
    auth_mode auth = auth_mode::accept_any;
    ntlm_binding binding = ntlm_binding::connection;
    bool via_forces_per_request = true;
    std::uint32_t challenge_ttl_s = 120;
    std::uint32_t idle_close_s = 120;
    std::uint32_t max_header_bytes = 16384;
    // Free memory reported on HealthCheck.htm answers (X-Memory-Available-MB), the figure a
    // proxy's memory-based host-name affinity reads; 0: not reported.
    std::uint64_t memory_available_mb = 0;
    fault_knobs faults{};
    std::array<vdir_config, vdir_count> vdirs{};
    owa_knobs owa{};
    ecp_knobs ecp{};
    ews_knobs ews{};
    autodiscover_knobs autodiscover{};
    rpc_knobs rpc{};
    mapi_knobs mapi{};
    activesync_knobs activesync{};
    oab_knobs oab{};
    // Initial component states: component name → requesters holding it inactive.
    std::map<std::string, std::vector<std::string>> inactive_components{};

    vdir_config& at(vdir v) { return vdirs[static_cast<std::size_t>(v)]; }
    const vdir_config& at(vdir v) const { return vdirs[static_cast<std::size_t>(v)]; }
};

struct user_account {
    std::string name{};  // sAMAccountName, "jdoe"
    std::string password = "P@ssw0rd";
    std::string display_name{};
    std::string email{};         // empty: name@email_domain
    std::string mailbox_guid{};  // empty: derived from the name
    std::string backend{};       // mailbox server NetBIOS name; empty: chosen by hash
};

struct control_config {
    bool enabled = true;
    std::string address = "127.0.0.1";
    std::uint16_t port = 0;
};

struct fleet_config {
    double time_scale = 1.0;  // multiplies every duration (0.001: an hour in 3.6 s)
    std::string farm_secret = "gatehouse-farm-secret";
    unsigned threads = 1;
    std::string ad_domain = "CONTOSO";         // NetBIOS domain
    std::string dns_domain = "contoso.local";  // AD DNS domain
    std::string email_domain = "contoso.com";
    std::vector<user_account> users{};
    std::size_t request_log_capacity = 10000;
    std::size_t closed_connections_kept = 4096;
    control_config control{};
    std::vector<server_config> servers{};
};

// Defaults for one server of a fleet: name "casN", EX0N, exN.<dns_domain>, the per-vdir
// authentication schemes and request limits of an Exchange 2019 front end (§1.1, §1.3).
server_config default_server(unsigned index, const std::string& dns_domain);
// A fleet of `n` default servers with the default users.
fleet_config default_fleet(unsigned n);
std::vector<user_account> default_users();

// Checks cross-field rules; throws config_error naming `where` (e.g. "servers[0]").
void validate(const server_config& server, const std::string& where);
void validate(const fleet_config& fleet);

// A duration from the config, multiplied by the fleet's time scale.
std::chrono::steady_clock::duration scaled(double time_scale, std::chrono::nanoseconds d);
inline std::chrono::steady_clock::duration scaled_ms(double time_scale, std::uint64_t ms) {
    return scaled(time_scale, std::chrono::milliseconds(ms));
}
inline std::chrono::steady_clock::duration scaled_s(double time_scale, std::uint64_t s) {
    return scaled(time_scale, std::chrono::seconds(s));
}

}  // namespace gatehouse::fake_cas
