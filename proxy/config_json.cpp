// JSON → config. Every object is read through an object_reader that remembers which keys were
// used, so that a misspelled key is an error naming its path instead of a silently ignored
// setting. Duplicate keys are caught while parsing (nlohmann would keep the last one).

#include "net/awaitable.hpp"
#include "proxy/config.hpp"
#include "proxy/error_triple.hpp"

#include <filesystem>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <boost/asio/ip/address.hpp>
#include <nlohmann/json.hpp>

namespace gatehouse::proxy {

using json = nlohmann::ordered_json;

config_error::config_error(const std::string& source, const std::string& path,
                           const std::string& problem)
    : std::runtime_error(source + ": " + (path.empty() ? std::string() : path + ": ") + problem),
      path_(path),
      problem_(problem) {}

proxy_settings proxy_overrides::apply(proxy_settings base) const {
    if (timeout) base.timeout = *timeout;
    if (connect_timeout) base.connect_timeout = *connect_timeout;
    if (keep_alive) base.keep_alive = *keep_alive;
    if (upstream_idle_timeout) base.upstream_idle_timeout = *upstream_idle_timeout;
    if (max_idle_per_server) base.max_idle_per_server = *max_idle_per_server;
    if (response_buffer_threshold) base.response_buffer_threshold = *response_buffer_threshold;
    if (preserve_host_header) base.preserve_host_header = *preserve_host_header;
    if (x_forwarded_for_header) base.x_forwarded_for_header = *x_forwarded_for_header;
    if (include_port_in_x_forwarded_for)
        base.include_port_in_x_forwarded_for = *include_port_in_x_forwarded_for;
    if (x_forwarded_proto) base.x_forwarded_proto = *x_forwarded_proto;
    if (log_guid_header) base.log_guid_header = *log_guid_header;
    if (reverse_rewrite_host_in_response_headers)
        base.reverse_rewrite_host_in_response_headers = *reverse_rewrite_host_in_response_headers;
    if (synthesize_100_continue) base.synthesize_100_continue = *synthesize_100_continue;
    return base;
}

const char* to_string(availability a) noexcept {
    switch (a) {
        case availability::available:
            return "available";
        case availability::unavailable:
            return "unavailable";
        case availability::drain:
            return "drain";
    }
    return "?";
}

const char* to_string(lb_algorithm a) noexcept {
    switch (a) {
        case lb_algorithm::weighted_round_robin:
            return "weighted_round_robin";
        case lb_algorithm::weighted_total_traffic:
            return "weighted_total_traffic";
        case lb_algorithm::least_requests:
            return "least_requests";
        case lb_algorithm::least_response_time:
            return "least_response_time";
        case lb_algorithm::request_hash:
            return "request_hash";
    }
    return "?";
}

namespace {

std::string join_path(const std::string& base, const std::string& key) {
    return base.empty() ? key : base + "." + key;
}

std::string index_path(const std::string& base, std::size_t i) {
    return base + "[" + std::to_string(i) + "]";
}

// Tracks the path of the value being parsed so that a duplicate key can be reported where it
// is. Frames are pushed on object/array start; an array's index advances when an element ends.
class duplicate_key_guard {
public:
    explicit duplicate_key_guard(std::string source) : source_(std::move(source)) {}

    bool operator()(int, json::parse_event_t event, json& parsed) {
        switch (event) {
            case json::parse_event_t::object_start:
                frames_.push_back({false, 0, {}, {}});
                break;
            case json::parse_event_t::array_start:
                frames_.push_back({true, 0, {}, {}});
                break;
            case json::parse_event_t::object_end:
            case json::parse_event_t::array_end:
                if (!frames_.empty()) frames_.pop_back();
                element_done();
                break;
            case json::parse_event_t::key: {
                auto& top = frames_.back();
                top.key = parsed.get<std::string>();
                if (!top.keys.insert(top.key).second)
                    throw config_error(source_, path(), "duplicate key");
                break;
            }
            case json::parse_event_t::value:
                element_done();
                break;
        }
        return true;
    }

private:
    struct frame {
        bool array;
        std::size_t index;
        std::string key;
        std::set<std::string> keys;
    };

    void element_done() {
        if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
    }

    std::string path() const {
        std::string p;
        for (const auto& f : frames_) p = f.array ? index_path(p, f.index) : join_path(p, f.key);
        return p;
    }

    std::string source_;
    std::vector<frame> frames_;
};

// Shared by every reader of one document.
struct document {
    std::string source;
    std::filesystem::path base_directory;

    [[noreturn]] void fail(const std::string& path, const std::string& problem) const {
        throw config_error(source, path, problem);
    }
};

// Reads the members of one JSON object. Every key read is recorded; finish() rejects the rest.
class object_reader {
public:
    object_reader(const document& doc, const json& value, std::string path)
        : doc_(doc), value_(value), path_(std::move(path)) {
        if (!value_.is_object()) doc_.fail(path_, "must be an object");
    }

    const std::string& path() const { return path_; }
    std::string path_of(const std::string& key) const { return join_path(path_, key); }
    [[noreturn]] void fail(const std::string& key, const std::string& problem) const {
        doc_.fail(path_of(key), problem);
    }

    bool has(const std::string& key) {
        used_.insert(key);
        return value_.contains(key);
    }

    const json* find(const std::string& key) {
        used_.insert(key);
        auto it = value_.find(key);
        return it == value_.end() ? nullptr : &*it;
    }

    const json& required(const std::string& key) {
        const json* v = find(key);
        if (!v) doc_.fail(path_of(key), "is required");
        return *v;
    }

    std::string string(const std::string& key, std::string fallback) {
        const json* v = find(key);
        if (!v) return fallback;
        if (!v->is_string()) fail(key, "must be a string");
        return v->get<std::string>();
    }

    std::string required_string(const std::string& key) {
        const json& v = required(key);
        if (!v.is_string()) fail(key, "must be a string");
        auto s = v.get<std::string>();
        if (s.empty()) fail(key, "must not be empty");
        return s;
    }

    bool boolean(const std::string& key, bool fallback) {
        const json* v = find(key);
        if (!v) return fallback;
        if (!v->is_boolean()) fail(key, "must be true or false");
        return v->get<bool>();
    }

    std::optional<bool> optional_boolean(const std::string& key) {
        if (!has(key)) return std::nullopt;
        return boolean(key, false);
    }

    std::uint64_t unsigned_number(const std::string& key, std::uint64_t fallback,
                                  std::uint64_t min = 0,
                                  std::uint64_t max = std::numeric_limits<std::uint64_t>::max()) {
        const json* v = find(key);
        if (!v) return fallback;
        return check_unsigned(key, *v, min, max);
    }

    std::uint64_t check_unsigned(const std::string& key, const json& v, std::uint64_t min,
                                 std::uint64_t max) const {
        if (v.is_number_integer() && !v.is_number_unsigned() && v.get<std::int64_t>() < 0)
            fail(key, "must be >= " + std::to_string(min));
        if (!v.is_number_unsigned()) fail(key, "must be a whole number");
        auto n = v.get<std::uint64_t>();
        if (n < min) fail(key, min == 1 ? "must be > 0" : "must be >= " + std::to_string(min));
        if (n > max) fail(key, "must be <= " + std::to_string(max));
        return n;
    }

    std::optional<std::uint64_t> optional_unsigned(const std::string& key, std::uint64_t min = 0) {
        const json* v = find(key);
        if (!v) return std::nullopt;
        return check_unsigned(key, *v, min, std::numeric_limits<std::uint64_t>::max());
    }

    // Durations are whole milliseconds, strictly positive, at most 30 days.
    milliseconds duration(const std::string& key, milliseconds fallback) {
        auto d = optional_duration(key);
        return d ? *d : fallback;
    }

    std::optional<milliseconds> optional_duration(const std::string& key) {
        const json* v = find(key);
        if (!v) return std::nullopt;
        constexpr std::uint64_t thirty_days = 30ull * 24 * 3600 * 1000;
        return milliseconds(static_cast<std::int64_t>(check_unsigned(key, *v, 1, thirty_days)));
    }

    std::vector<std::string> string_list(const std::string& key) {
        std::vector<std::string> out;
        const json* v = find(key);
        if (!v) return out;
        if (!v->is_array()) fail(key, "must be an array of strings");
        for (std::size_t i = 0; i < v->size(); ++i) {
            const json& item = (*v)[i];
            if (!item.is_string() || item.get<std::string>().empty())
                doc_.fail(index_path(path_of(key), i), "must be a non-empty string");
            out.push_back(item.get<std::string>());
        }
        return out;
    }

    template <class Enum, std::size_t N>
    Enum choice(const std::string& key, Enum fallback,
                const std::pair<const char*, Enum> (&names)[N]) {
        const json* v = find(key);
        if (!v) return fallback;
        if (v->is_string()) {
            auto s = v->get<std::string>();
            for (const auto& [name, value] : names)
                if (s == name) return value;
        }
        std::string allowed;
        for (const auto& [name, value] : names)
            allowed += (allowed.empty() ? "" : ", ") + std::string(name);
        fail(key, "must be one of: " + allowed);
    }

    // Rejects every key that was never asked for.
    void finish() const {
        for (auto it = value_.begin(); it != value_.end(); ++it)
            if (!used_.count(it.key())) doc_.fail(path_of(it.key()), "unknown key");
    }

private:
    const document& doc_;
    const json& value_;
    std::string path_;
    std::set<std::string> used_;
};

std::string read_file(const document& doc, const std::string& path_in_config,
                      const std::string& file) {
    std::filesystem::path p(file);
    if (p.is_relative()) p = doc.base_directory / p;
    std::ifstream in(p, std::ios::binary);
    if (!in) doc.fail(path_in_config, "cannot read " + p.string());
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// ---- sections --------------------------------------------------------------------------------

listener_limits read_limits(const document& doc, const json& j, const std::string& path) {
    object_reader r(doc, j, path);
    listener_limits l;
    l.request_line_bytes = static_cast<std::uint32_t>(
        r.unsigned_number("request_line_bytes", l.request_line_bytes, 64, 1 << 20));
    l.field_bytes =
        static_cast<std::uint32_t>(r.unsigned_number("field_bytes", l.field_bytes, 64, 1 << 20));
    l.head_bytes =
        static_cast<std::uint32_t>(r.unsigned_number("head_bytes", l.head_bytes, 256, 1 << 22));
    l.fields = static_cast<std::uint32_t>(r.unsigned_number("fields", l.fields, 1, 10'000));
    l.header_timeout = r.duration("header_timeout_ms", l.header_timeout);
    l.keep_alive_timeout = r.duration("keep_alive_timeout_ms", l.keep_alive_timeout);
    l.send_timeout = r.duration("send_timeout_ms", l.send_timeout);
    l.lingering_time = r.duration("lingering_time_ms", l.lingering_time);
    l.max_connections = static_cast<std::uint32_t>(
        r.unsigned_number("max_connections", l.max_connections, 1, 1'000'000));
    l.max_connections_per_client = static_cast<std::uint32_t>(r.unsigned_number(
        "max_connections_per_client", l.max_connections_per_client, 0, 1'000'000));
    l.chunk_extension_bytes = static_cast<std::uint32_t>(
        r.unsigned_number("chunk_extension_bytes", l.chunk_extension_bytes, 0, 1 << 16));
    r.finish();
    return l;
}

certificate_config read_certificate(const document& doc, const json& j, const std::string& path) {
    object_reader r(doc, j, path);
    certificate_config c;
    c.names = r.string_list("names");
    c.certificate_file = r.required_string("certificate_file");
    c.key_file = r.required_string("key_file");
    c.ocsp_response_file = r.string("ocsp_response_file", "");
    r.finish();
    c.pem.chain_pem = read_file(doc, r.path_of("certificate_file"), c.certificate_file);
    c.pem.key_pem = read_file(doc, r.path_of("key_file"), c.key_file);
    if (!c.ocsp_response_file.empty())
        c.ocsp_response = read_file(doc, r.path_of("ocsp_response_file"), c.ocsp_response_file);
    return c;
}

listener_config read_listener(const document& doc, const std::string& name, const json& j,
                              const std::string& path) {
    object_reader r(doc, j, path);
    listener_config l;
    l.name = name;
    l.address = r.string("address", l.address);
    l.port = static_cast<std::uint16_t>(r.unsigned_number("port", 0, 0, 65535));
    if (!r.has("port")) r.fail("port", "is required");
    if (const json* tls = r.find("tls")) {
        object_reader t(doc, *tls, r.path_of("tls"));
        l.tls = true;
        const json& certs = t.required("certificates");
        if (!certs.is_array() || certs.empty()) t.fail("certificates", "must be a non-empty array");
        for (std::size_t i = 0; i < certs.size(); ++i)
            l.certificates.push_back(
                read_certificate(doc, certs[i], index_path(t.path_of("certificates"), i)));
        t.finish();
    }
    if (const json* limits = r.find("limits"))
        l.limits = read_limits(doc, *limits, r.path_of("limits"));
    r.finish();
    return l;
}

// The proxy settings keys, shared by the global "proxy" object and each farm's "proxy".
proxy_overrides read_proxy_overrides(object_reader& r) {
    proxy_overrides o;
    o.timeout = r.optional_duration("timeout_ms");
    o.connect_timeout = r.optional_duration("connect_timeout_ms");
    o.keep_alive = r.optional_boolean("keep_alive");
    o.upstream_idle_timeout = r.optional_duration("upstream_idle_timeout_ms");
    if (auto n = r.optional_unsigned("max_idle_per_server"))
        o.max_idle_per_server = static_cast<std::uint32_t>(std::min<std::uint64_t>(*n, 100'000));
    o.response_buffer_threshold = r.optional_unsigned("response_buffer_threshold_bytes");
    o.preserve_host_header = r.optional_boolean("preserve_host_header");
    if (r.has("x_forwarded_for_header"))
        o.x_forwarded_for_header = r.string("x_forwarded_for_header", "");
    o.include_port_in_x_forwarded_for = r.optional_boolean("include_port_in_x_forwarded_for");
    o.x_forwarded_proto = r.optional_boolean("x_forwarded_proto");
    if (r.has("log_guid_header")) o.log_guid_header = r.string("log_guid_header", "");
    o.reverse_rewrite_host_in_response_headers =
        r.optional_boolean("reverse_rewrite_host_in_response_headers");
    o.synthesize_100_continue = r.optional_boolean("synthesize_100_continue");
    return o;
}

std::vector<status_range> parse_status_ranges(const object_reader& r, const std::string& key,
                                              const std::string& text) {
    // "200-399, 401": codes and inclusive ranges, 100..999, as ARR writes them.
    std::vector<status_range> out;
    std::stringstream in(text);
    std::string item;
    auto number = [&](std::string s) -> unsigned {
        auto b = s.find_first_not_of(' ');
        auto e = s.find_last_not_of(' ');
        s = b == std::string::npos ? "" : s.substr(b, e - b + 1);
        if (s.size() != 3 || s.find_first_not_of("0123456789") != std::string::npos || s[0] == '0')
            r.fail(key, "\"" + text + "\": status codes are 100..999, ranges written a-b");
        return static_cast<unsigned>(std::stoul(s));
    };
    while (std::getline(in, item, ',')) {
        auto dash = item.find('-');
        status_range range;
        range.first = number(item.substr(0, dash));
        range.last = dash == std::string::npos ? range.first : number(item.substr(dash + 1));
        if (range.last < range.first) r.fail(key, "\"" + item + "\": range is reversed");
        out.push_back(range);
    }
    if (out.empty()) r.fail(key, "must list at least one status code");
    return out;
}

health_config read_health(const document& doc, const json& j, const std::string& path) {
    object_reader r(doc, j, path);
    health_config h;
    h.url = r.string("url", "");
    if (!h.url.empty() && !h.url.starts_with("http://") && !h.url.starts_with("https://") &&
        !h.url.starts_with("/"))
        r.fail("url", "must be an absolute URL (http://farm/owa/HealthCheck.htm) or a path");
    h.interval = r.duration("interval_ms", h.interval);
    h.timeout = r.duration("timeout_ms", h.timeout);
    if (r.has("acceptable_statuses")) {
        auto text = r.string("acceptable_statuses", "");
        h.acceptable_statuses = parse_status_ranges(r, "acceptable_statuses", text);
    }
    h.match = r.string("match", "");
    h.min_servers = static_cast<std::uint32_t>(r.unsigned_number("min_servers", 0, 0, 10'000));
    h.rise = static_cast<std::uint32_t>(r.unsigned_number("rise", h.rise, 1, 1000));
    h.fall = static_cast<std::uint32_t>(r.unsigned_number("fall", h.fall, 1, 1000));
    h.down_interval = r.optional_duration("down_interval_ms");
    r.finish();
    return h;
}

server_config read_server(const document& doc, const json& j, const std::string& path) {
    object_reader r(doc, j, path);
    server_config s;
    s.address = r.required_string("address");
    s.port = static_cast<std::uint16_t>(r.unsigned_number("port", 0, 1, 65535));
    s.weight = static_cast<std::uint32_t>(r.unsigned_number("weight", s.weight, 1, 100'000));
    s.state = r.choice("state", s.state,
                       {std::pair{"available", availability::available},
                        std::pair{"unavailable", availability::unavailable},
                        std::pair{"drain", availability::drain}});
    s.host_name = r.string("host_name", "");
    r.finish();
    return s;
}

farm_config read_farm(const document& doc, const std::string& name, const json& j,
                      const std::string& path) {
    object_reader r(doc, j, path);
    farm_config f;
    f.name = name;
    f.protocol = r.choice(
        "protocol", f.protocol,
        {std::pair{"http", upstream_protocol::http}, std::pair{"https", upstream_protocol::https}});
    const json& servers = r.required("servers");
    if (!servers.is_array() || servers.empty()) r.fail("servers", "must be a non-empty array");
    for (std::size_t i = 0; i < servers.size(); ++i)
        f.servers.push_back(read_server(doc, servers[i], index_path(r.path_of("servers"), i)));

    if (const json* lb = r.find("load_balancing")) {
        object_reader l(doc, *lb, r.path_of("load_balancing"));
        auto& c = f.load_balancing;
        c.algorithm =
            l.choice("algorithm", c.algorithm,
                     {std::pair{"weighted_round_robin", lb_algorithm::weighted_round_robin},
                      std::pair{"weighted_total_traffic", lb_algorithm::weighted_total_traffic},
                      std::pair{"least_requests", lb_algorithm::least_requests},
                      std::pair{"least_response_time", lb_algorithm::least_response_time},
                      std::pair{"request_hash", lb_algorithm::request_hash}});
        c.hash_server_variable = l.string("hash_server_variable", "");
        c.query_string_names = l.string_list("query_string_names");
        c.consistent_hash = l.boolean("consistent_hash", false);
        if (c.algorithm != lb_algorithm::request_hash &&
            (!c.hash_server_variable.empty() || !c.query_string_names.empty()))
            l.fail(c.hash_server_variable.empty() ? "query_string_names" : "hash_server_variable",
                   "applies only to the request_hash algorithm");
        if (!c.query_string_names.empty() && !c.hash_server_variable.empty() &&
            c.hash_server_variable != "QUERY_STRING")
            l.fail("query_string_names", "requires hash_server_variable QUERY_STRING (or none)");
        l.finish();
    }
    if (const json* h = r.find("health")) f.health = read_health(doc, *h, r.path_of("health"));
    if (const json* a = r.find("affinity")) {
        object_reader ar(doc, *a, r.path_of("affinity"));
        f.affinity.enabled = ar.boolean("enabled", f.affinity.enabled);
        f.affinity.cookie_name = ar.string("cookie_name", f.affinity.cookie_name);
        if (f.affinity.cookie_name.empty()) ar.fail("cookie_name", "must not be empty");
        f.affinity.key = ar.string("key", "");
        ar.finish();
    }
    if (const json* ha = r.find("host_affinity")) {
        object_reader hr(doc, *ha, r.path_of("host_affinity"));
        auto& c = f.host_affinity;
        c.enabled = hr.boolean("enabled", true);
        c.provider = hr.choice("provider", c.provider,
                               {std::pair{"round_robin", host_affinity_provider::round_robin},
                                std::pair{"memory", host_affinity_provider::memory}});
        c.ignore_subdomains = hr.boolean("ignore_subdomains", c.ignore_subdomains);
        c.timeout = hr.duration("timeout_ms", c.timeout);
        c.servers_per_host = static_cast<std::uint32_t>(
            hr.unsigned_number("servers_per_host", c.servers_per_host, 1, 10'000));
        c.memory_header = hr.string("memory_header", c.memory_header);
        if (c.memory_header.empty()) hr.fail("memory_header", "must not be empty");
        hr.finish();
    }
    if (const json* lt = r.find("live_traffic")) {
        object_reader lr(doc, *lt, r.path_of("live_traffic"));
        auto& c = f.live_traffic;
        if (lr.has("failure_statuses")) {
            auto text = lr.string("failure_statuses", "");
            c.failure_statuses = parse_status_ranges(lr, "failure_statuses", text);
        }
        for (const auto& name : lr.string_list("failure_errors")) {
            auto code = win32_for_error_kind(name);
            if (!code) lr.fail("failure_errors", "\"" + name + "\": unknown error kind");
            c.failure_errors.push_back(*code);
        }
        c.max_failures =
            static_cast<std::uint32_t>(lr.unsigned_number("max_failures", 0, 0, 1'000'000));
        c.failover_period = lr.duration("failover_period_ms", c.failover_period);
        lr.finish();
    }
    if (const json* o = r.find("outlier")) {
        object_reader orr(doc, *o, r.path_of("outlier"));
        auto& c = f.outlier;
        c.enabled = orr.boolean("enabled", true);
        c.consecutive_failures = static_cast<std::uint32_t>(
            orr.unsigned_number("consecutive_failures", c.consecutive_failures, 1, 1'000'000));
        c.base_ejection_time = orr.duration("base_ejection_time_ms", c.base_ejection_time);
        c.max_ejection_percent = static_cast<std::uint32_t>(
            orr.unsigned_number("max_ejection_percent", c.max_ejection_percent, 0, 100));
        orr.finish();
    }
    f.slow_start = r.optional_duration("slow_start_ms");
    if (const json* p = r.find("proxy")) {
        object_reader pr(doc, *p, r.path_of("proxy"));
        f.proxy = read_proxy_overrides(pr);
        pr.finish();
    }
    if (const json* t = r.find("tls")) {
        object_reader tr(doc, *t, r.path_of("tls"));
        f.tls.verify = tr.boolean("verify", f.tls.verify);
        f.tls.trusted_ca_file = tr.string("trusted_ca_file", "");
        f.tls.system_trust = tr.boolean("system_trust", f.tls.system_trust);
        f.tls.session_resumption = tr.boolean("session_resumption", f.tls.session_resumption);
        tr.finish();
        if (!f.tls.trusted_ca_file.empty())
            f.tls.trusted_ca_pem =
                read_file(doc, tr.path_of("trusted_ca_file"), f.tls.trusted_ca_file);
    }
    r.finish();
    return f;
}

condition_config read_condition(const document& doc, const json& j, const std::string& path) {
    object_reader r(doc, j, path);
    condition_config c;
    c.input = r.required_string("input");
    c.pattern = r.string("pattern", "");
    c.negate = r.boolean("negate", false);
    c.ignore_case = r.boolean("ignore_case", true);
    r.finish();
    return c;
}

action_config read_action(const document& doc, const json& j, const std::string& path) {
    object_reader r(doc, j, path);
    action_config a;
    a.type = r.choice(
        "type", a.type,
        {std::pair{"route", action_type::route}, std::pair{"redirect", action_type::redirect},
         std::pair{"custom_response", action_type::custom_response},
         std::pair{"abort", action_type::abort}, std::pair{"none", action_type::none}});
    if (!r.has("type")) r.fail("type", "is required");
    switch (a.type) {
        case action_type::route:
            a.farm = r.required_string("farm");
            a.url = r.string("url", "");
            a.append_query_string = r.boolean("append_query_string", true);
            break;
        case action_type::redirect:
            a.url = r.required_string("url");
            a.append_query_string = r.boolean("append_query_string", true);
            a.redirect_type =
                static_cast<unsigned>(r.unsigned_number("redirect_type", a.redirect_type));
            if (a.redirect_type != 301 && a.redirect_type != 302 && a.redirect_type != 303 &&
                a.redirect_type != 307)
                r.fail("redirect_type", "must be 301, 302, 303 or 307");
            break;
        case action_type::custom_response:
            a.status = static_cast<unsigned>(r.unsigned_number("status", 0, 100, 999));
            if (!r.has("status")) r.fail("status", "is required");
            a.substatus = static_cast<unsigned>(r.unsigned_number("substatus", 0, 0, 999));
            a.reason = r.string("reason", "");
            a.description = r.string("description", "");
            if (a.reason.find_first_of("\r\n") != std::string::npos)
                r.fail("reason", "must not contain line breaks");
            break;
        case action_type::abort:
        case action_type::none:
            break;
    }
    r.finish();
    return a;
}

rule_config read_rule(const document& doc, const json& j, std::size_t index,
                      const std::string& base) {
    object_reader first(doc, j, index_path(base, index));
    std::string name = first.required_string("name");
    object_reader r(doc, j, join_path(base, name));
    rule_config rule;
    rule.name = r.required_string("name");
    rule.enabled = r.boolean("enabled", true);
    rule.syntax = r.choice("pattern_syntax", rule.syntax,
                           {std::pair{"ecmascript", pattern_syntax::ecmascript},
                            std::pair{"wildcard", pattern_syntax::wildcard},
                            std::pair{"exact_match", pattern_syntax::exact_match}});
    if (!r.has("pattern")) r.fail("pattern", "is required");
    rule.pattern = r.string("pattern", "");
    rule.negate = r.boolean("negate", false);
    rule.ignore_case = r.boolean("ignore_case", true);
    if (const json* conditions = r.find("conditions")) {
        if (!conditions->is_array()) r.fail("conditions", "must be an array");
        for (std::size_t i = 0; i < conditions->size(); ++i)
            rule.conditions.push_back(
                read_condition(doc, (*conditions)[i], index_path(r.path_of("conditions"), i)));
    }
    auto grouping = r.string("logical_grouping", "match_all");
    if (grouping != "match_all" && grouping != "match_any")
        r.fail("logical_grouping", "must be one of: match_all, match_any");
    rule.match_any = grouping == "match_any";
    rule.track_all_captures = r.boolean("track_all_captures", false);
    rule.action = read_action(doc, r.required("action"), r.path_of("action"));
    rule.stop_processing = r.boolean("stop_processing", false);
    rule.timeout = r.optional_duration("timeout_ms");
    rule.max_allowed_content_length = r.optional_unsigned("max_allowed_content_length");
    rule.response_buffer_threshold = r.optional_unsigned("response_buffer_threshold_bytes");
    r.finish();
    return rule;
}

config read_config(const document& doc, const json& root) {
    object_reader r(doc, root, "");
    config c;
    const json& listeners = r.required("listeners");
    if (!listeners.is_object() || listeners.empty())
        r.fail("listeners", "must be an object with at least one listener");
    for (auto it = listeners.begin(); it != listeners.end(); ++it)
        c.listeners.push_back(
            read_listener(doc, it.key(), it.value(), join_path("listeners", it.key())));

    if (const json* p = r.find("proxy")) {
        object_reader pr(doc, *p, "proxy");
        c.proxy = read_proxy_overrides(pr).apply(c.proxy);
        pr.finish();
    }
    if (const json* f = r.find("request_filtering")) {
        object_reader fr(doc, *f, "request_filtering");
        c.request_filtering.max_allowed_content_length = fr.unsigned_number(
            "max_allowed_content_length", c.request_filtering.max_allowed_content_length);
        c.request_filtering.reject_underscore_headers = fr.boolean(
            "reject_underscore_headers", c.request_filtering.reject_underscore_headers);
        fr.finish();
    }
    if (const json* e = r.find("exchange_protection")) {
        object_reader er(doc, *e, "exchange_protection");
        c.exchange_protection.enabled = er.boolean("enabled", c.exchange_protection.enabled);
        c.exchange_protection.allow_ecp = er.boolean("allow_ecp", c.exchange_protection.allow_ecp);
        er.finish();
    }
    if (const json* farms = r.find("farms")) {
        if (!farms->is_object()) r.fail("farms", "must be an object keyed by farm name");
        for (auto it = farms->begin(); it != farms->end(); ++it)
            c.farms.push_back(read_farm(doc, it.key(), it.value(), join_path("farms", it.key())));
    }
    if (const json* rules = r.find("rules")) {
        if (!rules->is_array()) r.fail("rules", "must be an array (rules run in order)");
        for (std::size_t i = 0; i < rules->size(); ++i)
            c.rules.push_back(read_rule(doc, (*rules)[i], i, "rules"));
    }
    if (const json* log = r.find("access_log")) {
        object_reader lr(doc, *log, "access_log");
        c.access_log.path = lr.string("path", "");
        lr.finish();
    }
    c.stop_timeout = r.duration("stop_timeout_ms", c.stop_timeout);
    if (const json* a = r.find("admin")) {
        object_reader ar(doc, *a, "admin");
        c.admin.enabled = ar.boolean("enabled", true);
        c.admin.address = ar.string("address", c.admin.address);
        c.admin.port = static_cast<std::uint16_t>(ar.unsigned_number("port", 0, 0, 65535));
        ar.finish();
    }
    if (const json* w = r.find("config_watch")) {
        object_reader wr(doc, *w, "config_watch");
        c.config_watch.enabled = wr.boolean("enabled", c.config_watch.enabled);
        c.config_watch.interval = wr.duration("interval_ms", c.config_watch.interval);
        wr.finish();
    }
    c.health_max_in_flight = static_cast<std::uint32_t>(
        r.unsigned_number("health_max_in_flight", c.health_max_in_flight, 1, 10'000));
    r.finish();
    return c;
}

bool valid_host_name(const std::string& s) {
    if (s.empty() || s.size() > 253) return false;
    for (char ch : s) {
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '.' || ch == ':' || ch == '*' ||
                  ch == '_';
        if (!ok) return false;
    }
    return true;
}

bool valid_field_name(const std::string& s) {
    if (s.empty()) return false;
    for (char ch : s) {
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

void validate(const config& c, const std::string& source) {
    auto fail = [&](const std::string& path, const std::string& problem) {
        throw config_error(source, path, problem);
    };
    if (c.listeners.empty()) fail("listeners", "at least one listener is required");
    std::set<std::string> listener_names;
    std::set<std::pair<std::string, std::uint16_t>> bound;
    for (const auto& l : c.listeners) {
        auto path = join_path("listeners", l.name);
        if (l.name.empty()) fail("listeners", "a listener needs a name");
        if (!listener_names.insert(l.name).second) fail(path, "duplicate listener name");
        error_code ec;
        asio::ip::make_address(l.address, ec);
        if (ec) fail(join_path(path, "address"), "\"" + l.address + "\" is not an IP address");
        if (l.port != 0 && !bound.insert({l.address, l.port}).second)
            fail(join_path(path, "port"), "another listener already uses this address and port");
        if (l.tls && l.certificates.empty())
            fail(join_path(path, "tls.certificates"), "an HTTPS listener needs a certificate");
        for (std::size_t i = 0; i < l.certificates.size(); ++i) {
            const auto& cert = l.certificates[i];
            auto cpath = index_path(join_path(path, "tls.certificates"), i);
            if (cert.pem.chain_pem.empty() || cert.pem.key_pem.empty())
                fail(cpath, "certificate and key are required");
            for (const auto& n : cert.names)
                if (!valid_host_name(n)) fail(join_path(cpath, "names"), "bad host name " + n);
        }
        if (l.limits.request_line_bytes > l.limits.head_bytes)
            fail(join_path(path, "limits.request_line_bytes"), "must not exceed head_bytes");
    }
    if (c.admin.enabled) {
        error_code ec;
        asio::ip::make_address(c.admin.address, ec);
        if (ec) fail("admin.address", "\"" + c.admin.address + "\" is not an IP address");
    }

    for (const auto* header : {&c.proxy.x_forwarded_for_header, &c.proxy.log_guid_header})
        if (!header->empty() && !valid_field_name(*header))
            fail(header == &c.proxy.log_guid_header ? "proxy.log_guid_header"
                                                    : "proxy.x_forwarded_for_header",
                 "\"" + *header + "\" is not a header name");

    std::set<std::string> farm_names;
    for (const auto& f : c.farms) {
        auto path = join_path("farms", f.name);
        if (f.name.empty() || !valid_host_name(f.name))
            fail(path, "a farm name is a host-name-like word (letters, digits, '-', '.')");
        if (!farm_names.insert(f.name).second) fail(path, "duplicate farm name");
        if (f.servers.empty()) fail(join_path(path, "servers"), "a farm needs at least one server");
        std::set<std::pair<std::string, std::uint16_t>> members;
        for (std::size_t i = 0; i < f.servers.size(); ++i) {
            const auto& s = f.servers[i];
            auto spath = index_path(join_path(path, "servers"), i);
            if (!valid_host_name(s.address)) fail(join_path(spath, "address"), "bad address");
            std::uint16_t port =
                s.port ? s.port : (f.protocol == upstream_protocol::https ? 443 : 80);
            if (!members.insert({s.address, port}).second)
                fail(spath, "duplicate server " + s.address + ":" + std::to_string(port));
            if (s.weight == 0) fail(join_path(spath, "weight"), "must be > 0");
        }
        auto effective = f.proxy.apply(c.proxy);
        for (const auto* header : {&effective.x_forwarded_for_header, &effective.log_guid_header})
            if (!header->empty() && !valid_field_name(*header))
                fail(join_path(path, "proxy"), "\"" + *header + "\" is not a header name");
        if (f.health.min_servers > f.servers.size())
            fail(join_path(path, "health.min_servers"), "exceeds the number of servers");
        if (f.protocol == upstream_protocol::http &&
            (!f.tls.trusted_ca_pem.empty() || !f.tls.verify))
            fail(join_path(path, "tls"), "applies only to a farm with protocol https");
    }

    std::set<std::string> rule_names;
    for (const auto& r : c.rules) {
        auto path = join_path("rules", r.name);
        if (r.name.empty()) fail("rules", "a rule needs a name");
        if (!rule_names.insert(r.name).second) fail(path, "duplicate rule name");
        if (r.action.type == action_type::route && !farm_names.count(r.action.farm))
            fail(join_path(path, "action.farm"), "no farm named \"" + r.action.farm + "\"");
        if (r.action.type == action_type::custom_response &&
            (r.action.status < 100 || r.action.status > 999))
            fail(join_path(path, "action.status"), "must be between 100 and 999");
    }
}

config parse_config(const std::string& text, const std::string& source,
                    const std::string& base_directory) {
    document doc{source, base_directory};
    json root;
    try {
        root = json::parse(text, duplicate_key_guard(source), true, true);
    } catch (const json::exception& e) {
        // nlohmann's message carries the line and column: "[json.exception.parse_error.101]
        // parse error at line 3, column 5: ..."; keep what follows the bracketed id. Numbers
        // too large for a double ("1e999") fail here too, as out_of_range.
        std::string what = e.what();
        auto close = what.find("] ");
        throw config_error(source, "", close == std::string::npos ? what : what.substr(close + 2));
    }
    config c = read_config(doc, root);
    validate(c, source);
    return c;
}

config load_config(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw config_error(path, "", "cannot read the file");
    std::ostringstream text;
    text << in.rdbuf();
    auto dir = std::filesystem::path(path).parent_path();
    return parse_config(text.str(), path, dir.empty() ? "." : dir.string());
}

}  // namespace gatehouse::proxy
