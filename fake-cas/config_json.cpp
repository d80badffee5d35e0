#include "fake-cas/config_json.hpp"

#include "net/http_message.hpp"

#include <cmath>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <set>
#include <sstream>
#include <utility>

#include <nlohmann/json.hpp>

namespace gatehouse::fake_cas {

using json = nlohmann::json;

namespace {

// A non-negative integer, whether nlohmann stored it signed (built in code) or unsigned (parsed).
bool as_unsigned(const json& v, std::uint64_t& out) {
    if (v.is_number_unsigned()) {
        out = v.get<std::uint64_t>();
        return true;
    }
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0) {
        out = static_cast<std::uint64_t>(v.get<std::int64_t>());
        return true;
    }
    return false;
}

[[noreturn]] void fail(const std::string& source, const std::string& path, const std::string& msg) {
    throw config_error(source + ": " + (path.empty() ? std::string("(top level)") : path) + ": " +
                       msg);
}

std::string join(const std::string& path, std::string_view key) {
    return path.empty() ? std::string(key) : path + "." + std::string(key);
}

template <class E>
using enum_names = std::initializer_list<std::pair<const char*, E>>;

// Reads the fields of one JSON object. Every field a visitor names is "known"; finish() rejects
// the rest. A missing key leaves the target unchanged, so the same code parses whole files
// (onto defaults) and patches (onto the running config).
class reader {
public:
    reader(const json& j, std::string path, const std::string& source)
        : j_(j), path_(std::move(path)), source_(source) {
        if (!j_.is_object()) fail(source_, path_, "must be an object");
    }
    static constexpr bool writing = false;

    const std::string& path() const { return path_; }
    const std::string& source() const { return source_; }

    const json* child(const char* key) {
        known_.insert(key);
        auto it = j_.find(key);
        return it == j_.end() ? nullptr : &*it;
    }

    void boolean(const char* key, bool& out) {
        if (auto* v = child(key)) {
            if (!v->is_boolean()) fail(source_, join(path_, key), "must be true or false");
            out = v->get<bool>();
        }
    }

    template <class T>
    void integer(const char* key, T& out, std::uint64_t min = 0,
                 std::uint64_t max = std::numeric_limits<T>::max()) {
        if (auto* v = child(key)) {
            std::uint64_t n = 0;
            if (!as_unsigned(*v, n))
                fail(source_, join(path_, key), "must be a non-negative integer");
            if (n < min || n > max)
                fail(source_, join(path_, key),
                     "must be within [" + std::to_string(min) + ", " + std::to_string(max) + "]");
            out = static_cast<T>(n);
        }
    }

    void optional_integer(const char* key, std::optional<std::uint64_t>& out) {
        if (auto* v = child(key)) {
            if (v->is_null()) {
                out.reset();
                return;
            }
            std::uint64_t n = 0;
            if (!as_unsigned(*v, n))
                fail(source_, join(path_, key), "must be a non-negative integer or null");
            out = n;
        }
    }

    void number(const char* key, double& out, double min, double max) {
        if (auto* v = child(key)) {
            if (!v->is_number()) fail(source_, join(path_, key), "must be a number");
            double d = v->get<double>();
            if (!(d >= min && d <= max)) {
                std::ostringstream os;
                os << "must be within [" << min << ", " << max << "]";
                fail(source_, join(path_, key), os.str());
            }
            out = d;
        }
    }

    void text(const char* key, std::string& out, bool allow_empty = true) {
        if (auto* v = child(key)) {
            if (!v->is_string()) fail(source_, join(path_, key), "must be a string");
            auto s = v->get<std::string>();
            if (!allow_empty && s.empty()) fail(source_, join(path_, key), "must not be empty");
            out = std::move(s);
        }
    }

    void status(const char* key, unsigned& out, bool allow_zero) {
        if (auto* v = child(key)) {
            std::uint64_t n = 0;
            if (!as_unsigned(*v, n)) fail(source_, join(path_, key), "must be an HTTP status");
            if ((n == 0 && !allow_zero) || (n != 0 && (n < 100 || n > 599)))
                fail(source_, join(path_, key),
                     allow_zero ? "must be 0 (off) or an HTTP status in [100, 599]"
                                : "must be an HTTP status in [100, 599]");
            out = static_cast<unsigned>(n);
        }
    }

    template <class E>
    void enumeration(const char* key, E& out, enum_names<E> names) {
        if (auto* v = child(key)) {
            std::string allowed;
            for (auto& [name, value] : names) {
                if (v->is_string() && v->get<std::string>() == name) {
                    out = value;
                    return;
                }
                allowed += allowed.empty() ? "" : ", ";
                allowed += std::string("\"") + name + "\"";
            }
            fail(source_, join(path_, key), "must be one of " + allowed);
        }
    }

    void finish() const {
        for (auto it = j_.begin(); it != j_.end(); ++it)
            if (!known_.count(it.key())) fail(source_, join(path_, it.key()), "unknown key");
    }

private:
    const json& j_;
    std::string path_;
    const std::string& source_;
    std::set<std::string, std::less<>> known_;
};

// Writes the same fields into a JSON object.
class writer {
public:
    static constexpr bool writing = true;
    json out = json::object();

    void boolean(const char* key, bool& v) { out[key] = v; }
    template <class T>
    void integer(const char* key, T& v, std::uint64_t = 0, std::uint64_t = 0) {
        out[key] = static_cast<std::uint64_t>(v);
    }
    void optional_integer(const char* key, std::optional<std::uint64_t>& v) {
        out[key] = v ? json(*v) : json(nullptr);
    }
    void number(const char* key, double& v, double, double) { out[key] = v; }
    void text(const char* key, std::string& v, bool = true) { out[key] = v; }
    void status(const char* key, unsigned& v, bool) { out[key] = v; }
    template <class E>
    void enumeration(const char* key, E& v, enum_names<E> names) {
        for (auto& [name, value] : names)
            if (value == v) out[key] = name;
    }
};

constexpr std::uint64_t day_ms = 24ull * 3600 * 1000;
constexpr std::uint64_t day_s = 24ull * 3600;

template <class V>
void visit(V& v, fault_knobs& f) {
    v.integer("latency_ms", f.latency_ms, 0, day_ms);
    v.integer("latency_jitter_ms", f.latency_jitter_ms, 0, day_ms);
    v.enumeration("latency_distribution", f.distribution,
                  {{"uniform", latency_distribution::uniform},
                   {"exponential", latency_distribution::exponential}});
    v.status("error_status", f.error_status, true);
    v.number("error_rate", f.error_rate, 0, 1);
    v.number("reset_rate", f.reset_rate, 0, 1);
    v.number("close_mid_body_rate", f.close_mid_body_rate, 0, 1);
    v.number("malformed_rate", f.malformed_rate, 0, 1);
    v.integer("bandwidth_bytes_per_s", f.bandwidth_bytes_per_s);
    v.optional_integer("stall_after_bytes", f.stall_after_bytes);
    v.integer("close_after_requests", f.close_after_requests);
}

// "inactive_response": 503 | 404 | 500 | "hang" | "reset"
template <class V>
void visit_inactive(V& v, health_knobs& h) {
    if constexpr (V::writing) {
        if (h.inactive == inactive_action::hang)
            v.out["inactive_response"] = "hang";
        else if (h.inactive == inactive_action::reset)
            v.out["inactive_response"] = "reset";
        else
            v.out["inactive_response"] = h.inactive_status;
    } else {
        if (auto* j = v.child("inactive_response")) {
            auto path = join(v.path(), "inactive_response");
            if (j->is_string() && j->template get<std::string>() == "hang") {
                h.inactive = inactive_action::hang;
            } else if (j->is_string() && j->template get<std::string>() == "reset") {
                h.inactive = inactive_action::reset;
            } else if (std::uint64_t n = 0; as_unsigned(*j, n) && n >= 100 && n <= 599) {
                h.inactive = inactive_action::status;
                h.inactive_status = static_cast<unsigned>(n);
            } else {
                fail(v.source(), path, "must be an HTTP status, \"hang\" or \"reset\"");
            }
        }
    }
}

template <class V>
void visit(V& v, health_knobs& h) {
    visit_inactive(v, h);
    v.integer("latency_ms", h.latency_ms, 0, day_ms);
    v.integer("flap_every", h.flap_every);
    v.boolean("requires_auth", h.requires_auth);
    v.boolean("fqdn_upper", h.fqdn_upper);
    v.boolean("inactive_blocks_traffic", h.inactive_blocks_traffic);
}

constexpr enum_names<scope> scope_names = {{"farm", scope::farm}, {"instance", scope::instance}};
constexpr enum_names<expect_mode> expect_names = {
    {"honour", expect_mode::honour}, {"ignore", expect_mode::ignore}, {"417", expect_mode::reject}};

template <class V>
void visit(V& v, owa_knobs& o) {
    v.text("fba_key_id", o.fba_key_id, false);
    v.boolean("fba_key_unusable", o.fba_key_unusable);
    v.integer("cookie_ttl_s", o.cookie_ttl_s, 1, 30 * day_s);
    v.enumeration("canary_scope", o.canary_scope, scope_names);
    v.boolean("enforce_canary", o.enforce_canary);
    v.status("xhr_expired_status", o.xhr_expired_status, false);
    v.integer("reason_on_bad_password", o.reason_on_bad_password, 0, 4);
    v.integer("login_latency_ms", o.login_latency_ms, 0, day_ms);
}

template <class V>
void visit(V& v, ecp_knobs& e) {
    v.enumeration("session_scope", e.session_scope, scope_names);
    v.boolean("canary_param_required", e.canary_param_required);
}

template <class V>
void visit(V& v, ews_knobs& e) {
    v.enumeration("throttle_mode", e.throttle,
                  {{"none", throttle_mode::none},
                   {"soap-busy", throttle_mode::soap_busy},
                   {"503", throttle_mode::unavailable},
                   {"401", throttle_mode::unauthorized}});
    v.integer("throttle_backoff_ms", e.throttle_backoff_ms, 0, day_ms);
    v.boolean("soap_fault_500", e.soap_fault_500);
    v.enumeration("expect_100", e.expect_100, expect_names);
    v.boolean("affinity_cookie", e.affinity_cookie);
    v.integer("stream_keepalive_s", e.stream_keepalive_s, 1, day_s);
    v.enumeration("subscription_scope", e.subscription_scope, scope_names);
    v.boolean("generic_error_redirect", e.generic_error_redirect);
}

template <class V>
void visit(V& v, autodiscover_knobs& a) {
    v.enumeration("include_mapihttp", a.include_mapihttp,
                  {{"auto", mapihttp_mode::automatic},
                   {"always", mapihttp_mode::always},
                   {"never", mapihttp_mode::never}});
    v.enumeration("redirect_mode", a.redirect,
                  {{"none", redirect_mode::none},
                   {"302", redirect_mode::http_302},
                   {"redirectUrl", redirect_mode::redirect_url},
                   {"redirectAddr", redirect_mode::redirect_addr}});
    v.text("redirect_target", a.redirect_target);
    v.boolean("ua_filter", a.ua_filter);
    v.integer("latency_ms", a.latency_ms, 0, day_ms);
    v.boolean("json_enabled", a.json_enabled);
    v.boolean("json_requires_auth", a.json_requires_auth);
    v.boolean("host_header_validation", a.host_header_validation);
}

template <class V>
void visit(V& v, rpc_knobs& r) {
    v.integer("out_content_length", r.out_content_length, 128 * 1024, 2147483648ull);
    v.integer("conn_timeout_ms", r.conn_timeout_ms, 1, day_ms);
    v.integer("ping_interval_s", r.ping_interval_s, 0, day_s);
    v.enumeration("pair_scope", r.pair_scope, scope_names);
    v.integer("pair_wait_s", r.pair_wait_s, 1, day_s);
    v.enumeration("pair_timeout_action", r.pair_timeout,
                  {{"close", pair_timeout_action::close},
                   {"rst", pair_timeout_action::reset},
                   {"503-on-in", pair_timeout_action::rpc_error}});
    v.integer("reply_pdu_bytes", r.reply_pdu_bytes, 0, 65535);
    v.integer("reply_latency_ms", r.reply_latency_ms, 0, day_ms);
    v.integer("receive_window", r.receive_window, 8192, 0x7fffffff);
    v.enumeration("expect_100", r.expect_100, expect_names);
    v.boolean("rpc_error", r.rpc_error);
    v.boolean("validate_targets", r.validate_targets);
}

template <class V>
void visit(V& v, mapi_knobs& m) {
    v.integer("pending_period_ms", m.pending_period_ms, 1, day_ms);
    v.boolean("send_pending", m.send_pending);
    v.integer("processing_ms", m.processing_ms, 0, day_ms);
    v.integer("nw_max_s", m.nw_max_s, 1, day_s);
    v.integer("expiration_ms", m.expiration_ms, 1, day_ms);
    v.enumeration("session_scope", m.session_scope, scope_names);
    v.boolean("enforce_sequence", m.enforce_sequence);
    v.enumeration("chunking", m.chunking,
                  {{"per-tag", mapi_chunking::per_tag},
                   {"single", mapi_chunking::single},
                   {"byte", mapi_chunking::byte}});
    v.boolean("content_length_responses", m.content_length_responses);
    v.integer("force_response_code", m.force_response_code, 0, 100);
    v.status("http_status_override", m.http_status_override, true);
    v.integer("execute_reply_bytes", m.execute_reply_bytes, 0, 16 * 1024 * 1024);
}

template <class V>
void visit(V& v, activesync_knobs& a) {
    v.integer("hb_min_s", a.hb_min_s, 1, day_s);
    v.integer("hb_max_s", a.hb_max_s, 1, day_s);
    v.integer("ping_change_after_s", a.ping_change_after_s, 0, day_s);
    v.status("force_http_status", a.force_http_status, true);
    v.text("x_ms_location", a.x_ms_location);
    v.integer("retry_after_s", a.retry_after_s, 0, day_s);
    v.boolean("require_policy_key", a.require_policy_key);
    v.boolean("announce_x_ms_rp", a.announce_x_ms_rp);
    v.boolean("chunked_responses", a.chunked_responses);
}

template <class V>
void visit(V& v, oab_knobs& o) {
    v.boolean("seq_per_instance", o.seq_per_instance);
    v.boolean("support_range", o.support_range);
    v.boolean("support_head", o.support_head);
    v.integer("file_bytes", o.file_bytes, 1, 256u * 1024 * 1024);
    v.boolean("force_chunked", o.force_chunked);
    v.text("oab_guid", o.oab_guid, false);
}

constexpr enum_names<auth_scheme> scheme_names = {{"Negotiate", auth_scheme::negotiate},
                                                  {"NTLM", auth_scheme::ntlm},
                                                  {"Basic", auth_scheme::basic}};

void read_schemes(reader& r, const char* key, std::vector<auth_scheme>& out) {
    auto* j = r.child(key);
    if (!j) return;
    auto path = join(r.path(), key);
    if (!j->is_array())
        fail(r.source(), path, "must be an array of \"Negotiate\", \"NTLM\", \"Basic\"");
    std::vector<auth_scheme> schemes;
    for (std::size_t i = 0; i < j->size(); ++i) {
        const auto& item = (*j)[i];
        bool found = false;
        for (auto& [name, value] : scheme_names) {
            if (item.is_string() && item.get<std::string>() == name) {
                schemes.push_back(value);
                found = true;
            }
        }
        if (!found)
            fail(r.source(), path + "[" + std::to_string(i) + "]",
                 "must be \"Negotiate\", \"NTLM\" or \"Basic\"");
    }
    out = std::move(schemes);
}

void read(reader& r, vdir_config& d) {
    r.boolean("enabled", d.enabled);
    read_schemes(r, "auth", d.auth);
    r.integer("max_request_bytes", d.max_request_bytes);
    if (auto* j = r.child("faults")) {
        reader fr(*j, join(r.path(), "faults"), r.source());
        visit(fr, d.faults);
        fr.finish();
    }
    if (auto* j = r.child("health")) {
        reader hr(*j, join(r.path(), "health"), r.source());
        visit(hr, d.health);
        hr.finish();
    }
}

json write(const vdir_config& d) {
    auto copy = d;
    json j = json::object();
    j["enabled"] = d.enabled;
    json schemes = json::array();
    for (auto s : d.auth)
        for (auto& [name, value] : scheme_names)
            if (value == s) schemes.push_back(name);
    j["auth"] = schemes;
    j["max_request_bytes"] = d.max_request_bytes;
    writer fw;
    visit(fw, copy.faults);
    j["faults"] = fw.out;
    writer hw;
    visit(hw, copy.health);
    j["health"] = hw.out;
    return j;
}

template <class Knobs>
void read_section(reader& r, const char* key, Knobs& knobs) {
    if (auto* j = r.child(key)) {
        reader sr(*j, join(r.path(), key), r.source());
        visit(sr, knobs);
        sr.finish();
    }
}

// The knobs of a server that may change at run time.
void read_knobs(reader& r, server_config& s) {
    r.text("netbios", s.netbios, false);
    r.text("fqdn", s.fqdn, false);
    r.text("build", s.build, false);
    r.boolean("emit_fe_headers", s.emit_fe_headers);
    r.status("root_status", s.root_status, false);
    r.text("root_location", s.root_location);
    r.text("external_host", s.external_host);
    r.text("basic_realm", s.basic_realm);
    r.enumeration("auth_mode", s.auth,
                  {{"accept-any", auth_mode::accept_any}, {"verify", auth_mode::verify}});
    r.enumeration("ntlm_binding", s.binding,
                  {{"connection", ntlm_binding::connection}, {"request", ntlm_binding::request}});
    r.boolean("via_forces_per_request", s.via_forces_per_request);
    r.integer("challenge_ttl_s", s.challenge_ttl_s, 1, day_s);
    r.integer("idle_close_s", s.idle_close_s, 1, day_s);
    r.integer("max_header_bytes", s.max_header_bytes, 1024, 1024 * 1024);
    r.integer("memory_available_mb", s.memory_available_mb, 0, 1ull << 40);
    read_section(r, "faults", s.faults);
    // Server-wide health knobs apply to every vdir's HealthCheck.htm.
    if (auto* j = r.child("health")) {
        for (auto v : all_vdirs) {
            reader hr(*j, join(r.path(), "health"), r.source());
            visit(hr, s.at(v).health);
            hr.finish();
        }
    }
    if (auto* j = r.child("vdirs")) {
        auto path = join(r.path(), "vdirs");
        if (!j->is_object()) fail(r.source(), path, "must be an object");
        for (auto it = j->begin(); it != j->end(); ++it) {
            auto v = vdir_from_key(it.key());
            if (!v) fail(r.source(), join(path, it.key()), "unknown vdir");
            reader vr(it.value(), join(path, it.key()), r.source());
            read(vr, s.at(*v));
            vr.finish();
        }
    }
    read_section(r, "owa", s.owa);
    read_section(r, "ecp", s.ecp);
    read_section(r, "ews", s.ews);
    read_section(r, "autodiscover", s.autodiscover);
    read_section(r, "rpc", s.rpc);
    read_section(r, "mapi", s.mapi);
    read_section(r, "activesync", s.activesync);
    read_section(r, "oab", s.oab);
}

void read_identity(reader& r, server_config& s) {
    r.text("name", s.name, false);
    r.text("address", s.address, false);
    r.integer("port", s.port);
    if (auto* j = r.child("tls")) {
        auto path = join(r.path(), "tls");
        if (j->is_boolean()) {
            s.tls.enabled = j->get<bool>();
        } else {
            reader tr(*j, path, r.source());
            tr.boolean("enabled", s.tls.enabled);
            tr.text("cert_file", s.tls.cert_file);
            tr.text("key_file", s.tls.key_file);
            tr.finish();
            if (s.tls.cert_file.empty() != s.tls.key_file.empty())
                fail(r.source(), path, "cert_file and key_file go together");
        }
    }
    if (auto* j = r.child("inactive_components")) {
        auto path = join(r.path(), "inactive_components");
        if (!j->is_object()) fail(r.source(), path, "must be an object");
        for (auto it = j->begin(); it != j->end(); ++it) {
            auto item_path = join(path, it.key());
            if (!net::iequals(it.key(), "ServerWideOffline") && !vdir_from_component(it.key()))
                fail(r.source(), item_path, "unknown component");
            if (!it.value().is_array())
                fail(r.source(), item_path, "must be an array of requesters");
            std::vector<std::string> requesters;
            for (auto& q : it.value()) {
                if (!q.is_string()) fail(r.source(), item_path, "requesters must be strings");
                requesters.push_back(q.get<std::string>());
            }
            s.inactive_components[it.key()] = std::move(requesters);
        }
    }
}

void read_server(const json& j, const std::string& path, const std::string& source,
                 server_config& s) {
    reader r(j, path, source);
    read_identity(r, s);
    read_knobs(r, s);
    r.finish();
}

void read_user(const json& j, const std::string& path, const std::string& source, user_account& u) {
    reader r(j, path, source);
    r.text("name", u.name, false);
    r.text("password", u.password);
    r.text("display_name", u.display_name);
    r.text("email", u.email);
    r.text("mailbox_guid", u.mailbox_guid);
    r.text("backend", u.backend);
    r.finish();
    if (u.name.empty()) fail(source, join(path, "name"), "is required");
}

}  // namespace

fleet_config fleet_from_json(const json& j, const std::string& source) {
    fleet_config fleet;
    reader r(j, "", source);
    r.number("time_scale", fleet.time_scale, 1e-6, 1e6);
    r.text("farm_secret", fleet.farm_secret, false);
    r.integer("threads", fleet.threads, 1, 64);
    r.text("ad_domain", fleet.ad_domain, false);
    r.text("dns_domain", fleet.dns_domain, false);
    r.text("email_domain", fleet.email_domain, false);
    r.integer("request_log_capacity", fleet.request_log_capacity, 0, 10'000'000);
    r.integer("closed_connections_kept", fleet.closed_connections_kept, 0, 10'000'000);
    if (auto* c = r.child("control")) {
        if (c->is_boolean()) {
            fleet.control.enabled = c->get<bool>();
        } else {
            reader cr(*c, "control", source);
            cr.boolean("enabled", fleet.control.enabled);
            cr.text("address", fleet.control.address, false);
            cr.integer("port", fleet.control.port);
            cr.finish();
        }
    }
    if (auto* u = r.child("users")) {
        if (!u->is_array()) fail(source, "users", "must be an array");
        fleet.users.clear();
        for (std::size_t i = 0; i < u->size(); ++i) {
            user_account account;
            read_user((*u)[i], "users[" + std::to_string(i) + "]", source, account);
            fleet.users.push_back(std::move(account));
        }
    } else {
        fleet.users = default_users();
    }
    const json* defaults = r.child("server_defaults");
    if (defaults && !defaults->is_object()) fail(source, "server_defaults", "must be an object");
    auto* servers = r.child("servers");
    if (!servers) fail(source, "servers", "is required (an array of servers, or a count)");
    std::size_t count = 0;
    if (std::uint64_t n = 0; as_unsigned(*servers, n)) {
        count = static_cast<std::size_t>(n);
        if (count < 1 || count > 64) fail(source, "servers", "must be within [1, 64]");
    } else if (servers->is_array()) {
        count = servers->size();
        if (count < 1) fail(source, "servers", "must not be empty");
    } else {
        fail(source, "servers", "must be an array of servers or a count");
    }
    for (std::size_t i = 0; i < count; ++i) {
        auto s = default_server(static_cast<unsigned>(i + 1), fleet.dns_domain);
        if (defaults) read_server(*defaults, "server_defaults", source, s);
        if (servers->is_array())
            read_server((*servers)[i], "servers[" + std::to_string(i) + "]", source, s);
        fleet.servers.push_back(std::move(s));
    }
    r.finish();
    try {
        validate(fleet);
    } catch (const config_error& e) {
        throw config_error(source + ": " + e.what());
    }
    return fleet;
}

fleet_config parse_fleet_config(const std::string& text, const std::string& source) {
    json j;
    try {
        j = json::parse(text, nullptr, true, /*ignore_comments=*/true);
    } catch (const json::parse_error& e) {
        throw config_error(source + ": invalid JSON: " + e.what());
    }
    return fleet_from_json(j, source);
}

fleet_config load_fleet_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(path + ": cannot open the file");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_fleet_config(text.str(), path);
}

void apply_server_patch(server_config& server, const json& patch, const std::string& source) {
    if (!patch.is_object()) fail(source, "", "must be an object");
    for (const char* key : {"name", "address", "port", "tls", "inactive_components"})
        if (patch.contains(key)) fail(source, key, "cannot change while the server runs");
    auto copy = server;
    reader r(patch, "", source);
    read_knobs(r, copy);
    r.finish();
    try {
        validate(copy, "");
    } catch (const config_error& e) {
        throw config_error(source + ": " + e.what());
    }
    server = std::move(copy);
}

json to_json(const fault_knobs& faults) {
    auto copy = faults;
    writer w;
    visit(w, copy);
    return w.out;
}

json to_json(const server_config& server) {
    auto s = server;
    json j = json::object();
    j["name"] = s.name;
    j["netbios"] = s.netbios;
    j["fqdn"] = s.fqdn;
    j["address"] = s.address;
    j["port"] = s.port;
    j["tls"] = {
        {"enabled", s.tls.enabled}, {"cert_file", s.tls.cert_file}, {"key_file", s.tls.key_file}};
    j["build"] = s.build;
    j["emit_fe_headers"] = s.emit_fe_headers;
    j["root_status"] = s.root_status;
    j["root_location"] = s.root_location;
    j["external_host"] = s.external_host;
    j["basic_realm"] = s.basic_realm;
    j["auth_mode"] = s.auth == auth_mode::verify ? "verify" : "accept-any";
    j["ntlm_binding"] = s.binding == ntlm_binding::request ? "request" : "connection";
    j["via_forces_per_request"] = s.via_forces_per_request;
    j["challenge_ttl_s"] = s.challenge_ttl_s;
    j["idle_close_s"] = s.idle_close_s;
    j["max_header_bytes"] = s.max_header_bytes;
    j["memory_available_mb"] = s.memory_available_mb;
    j["faults"] = to_json(s.faults);
    json vdirs = json::object();
    for (auto v : all_vdirs) vdirs[std::string(vdir_key(v))] = write(s.at(v));
    j["vdirs"] = vdirs;
    auto section = [&](const char* key, auto& knobs) {
        writer w;
        visit(w, knobs);
        j[key] = w.out;
    };
    section("owa", s.owa);
    section("ecp", s.ecp);
    section("ews", s.ews);
    section("autodiscover", s.autodiscover);
    section("rpc", s.rpc);
    section("mapi", s.mapi);
    section("activesync", s.activesync);
    section("oab", s.oab);
    j["inactive_components"] = s.inactive_components;
    return j;
}

}  // namespace gatehouse::fake_cas
