// Reading scenario files: every key is known, every error names the file and the JSON path.

#include "scenarios/scenario.hpp"

#include "scenarios/reliability_cases.hpp"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

namespace gatehouse::scenarios {

namespace {

using nlohmann::json;

enum class type { string, number, integer, boolean, object, array, any };

struct field {
    const char* name;
    type kind;
    bool required;
};

struct kind_schema {
    const char* name;
    std::vector<field> fields;
};

// Arguments of each step kind.
const std::vector<kind_schema>& step_schemas() {
    static const std::vector<kind_schema> schemas = {
        {"send",
         {{"method", type::string, false}, {"target", type::string, true},
          {"headers", type::object, false}, {"body", type::string, false},
          {"body_bytes", type::integer, false}, {"host", type::string, false},
          {"auth", type::object, false}, {"new_connection", type::boolean, false},
          {"timeout_s", type::number, false}, {"hold_body", type::boolean, false}}},
        {"expect",
         {{"status", type::any, false}, {"error", type::string, false},
          {"header", type::object, false}, {"header_absent", type::array, false},
          {"body_contains", type::string, false}, {"server", type::string, false},
          {"latency_ms", type::string, false}, {"closed", type::boolean, false}}},
        {"wait", {{"s", type::number, true}}},
        {"send_cases",
         {{"file", type::string, true}, {"profile", type::string, false},
          {"only", type::array, false}, {"timeout_s", type::number, false}}},
        {"barrier", {{"name", type::string, true}, {"count", type::integer, false}}},
        {"close", {}},
    };
    return schemas;
}

const std::vector<kind_schema>& action_schemas() {
    static const std::vector<kind_schema> schemas = {
        {"health",
         {{"server", type::string, true}, {"vdir", type::string, true},
          {"state", type::string, true}, {"requester", type::string, false}}},
        {"server_offline", {{"server", type::string, true}, {"state", type::string, true}}},
        {"fault", {{"server", type::string, true}, {"knobs", type::object, true}}},
        {"stop_server", {{"server", type::string, true}}},
        {"start_server", {{"server", type::string, true}}},
        {"inject", {{"server", type::string, true}, {"event", type::object, true}}},
        {"drain", {{"farm", type::string, true}, {"server", type::string, true}}},
        {"undrain", {{"farm", type::string, true}, {"server", type::string, true}}},
        {"unavailable", {{"farm", type::string, true}, {"server", type::string, true}}},
        {"available", {{"farm", type::string, true}, {"server", type::string, true}}},
        {"mark_healthy", {{"farm", type::string, true}, {"server", type::string, true}}},
        {"mark_unhealthy", {{"farm", type::string, true}, {"server", type::string, true}}},
        {"reload", {{"config", type::object, false}, {"patch", type::object, false}}},
        {"stop_node", {{"node", type::integer, true}}},
        {"start_node", {{"node", type::integer, true}}},
    };
    return schemas;
}

const std::vector<kind_schema>& expectation_schemas() {
    static const std::vector<kind_schema> schemas = {
        {"error_rate", {{"source", type::string, false}}},
        {"requests",
         {{"source", type::string, false}, {"status", type::integer, false},
          {"error", type::string, false}, {"server", type::string, false}}},
        {"latency", {{"percentile", type::number, true}, {"source", type::string, false}}},
        {"throughput", {{"source", type::string, false}}},
        {"server_requests",
         {{"server", type::string, true}, {"vdir", type::string, false},
          {"include_probes", type::boolean, false}}},
        {"failover_time", {{"server", type::string, true}, {"after", type::string, true},
                           {"vdir", type::string, false}}},
        {"recovery_time", {{"server", type::string, true}, {"after", type::string, true},
                           {"vdir", type::string, false}}},
        {"probe_interval", {{"server", type::string, true}, {"vdir", type::string, true}}},
        {"probe_burst", {{"server", type::string, true}, {"vdir", type::string, true},
                         {"per_s", type::number, true}}},
        {"ntlm_identity", {}},
        {"affinity", {{"client", type::string, true}}},
        {"client_failures", {{"client", type::string, true}}},
        {"long_polls", {{"server", type::string, false}, {"outcome", type::string, true}}},
        {"reliability_cases", {{"client", type::string, true}}},
    };
    return schemas;
}

std::vector<std::string> names_of(const std::vector<kind_schema>& schemas) {
    std::vector<std::string> names;
    for (const auto& s : schemas) names.emplace_back(s.name);
    return names;
}

const char* type_name(type t) {
    switch (t) {
        case type::string: return "a string";
        case type::number: return "a number";
        case type::integer: return "an integer";
        case type::boolean: return "true or false";
        case type::object: return "an object";
        case type::array: return "an array";
        case type::any: return "a value";
    }
    return "a value";
}

bool has_type(const json& value, type t) {
    switch (t) {
        case type::string: return value.is_string();
        case type::number: return value.is_number();
        case type::integer: return value.is_number_integer();
        case type::boolean: return value.is_boolean();
        case type::object: return value.is_object();
        case type::array: return value.is_array();
        case type::any: return true;
    }
    return false;
}

// The systems under test a scenario may name.
bool is_sut_name(const std::string& name) {
    return name == "gatehouse" || name == "haproxy" || name == "nginx";
}

class parser {
public:
    explicit parser(const std::filesystem::path& file) : file_(file) {}

    [[noreturn]] void fail(const std::string& path, const std::string& what) const {
        throw scenario_error(file_.string() + ": " + path + ": " + what);
    }

    void only_keys(const json& object, const std::string& path,
                   std::initializer_list<const char*> allowed) const {
        if (!object.is_object()) fail(path, "must be an object");
        for (const auto& [key, value] : object.items()) {
            bool known = std::any_of(allowed.begin(), allowed.end(),
                                     [&](const char* a) { return key == a; });
            if (!known) {
                std::string list;
                for (const char* a : allowed) list += std::string(list.empty() ? "" : ", ") + a;
                fail(path + "." + key, "unknown key (expected one of: " + list + ")");
            }
        }
    }

    template <class T>
    T get(const json& object, const std::string& path, const char* key, T fallback) const {
        auto it = object.find(key);
        if (it == object.end()) return fallback;
        try {
            return it->get<T>();
        } catch (const json::exception&) {
            fail(path + "." + key, std::string("has the wrong type (") + it->type_name() + ")");
        }
    }

    template <class T>
    T require(const json& object, const std::string& path, const char* key) const {
        if (!object.contains(key)) fail(path + "." + key, "is required");
        return get<T>(object, path, key, T{});
    }

    double seconds(const json& object, const std::string& path, const char* key,
                   double fallback) const {
        double v = get<double>(object, path, key, fallback);
        if (v < 0) fail(path + "." + key, "must not be negative");
        return v;
    }

    // Finds the one key of `object` that names a kind from `schemas`, checks its arguments and
    // returns (kind, arguments). Other keys must be in `extra`.
    std::pair<std::string, json> kind_of(const json& object, const std::string& path,
                                         const std::vector<kind_schema>& schemas,
                                         std::initializer_list<const char*> extra,
                                         const char* what) const {
        if (!object.is_object()) fail(path, "must be an object");
        const kind_schema* found = nullptr;
        std::string found_key;
        for (const auto& [key, value] : object.items()) {
            bool is_extra = std::any_of(extra.begin(), extra.end(),
                                        [&](const char* e) { return key == e; });
            if (is_extra) continue;
            auto schema = std::find_if(schemas.begin(), schemas.end(),
                                       [&](const kind_schema& s) { return key == s.name; });
            if (schema == schemas.end()) {
                std::string list;
                for (const auto& s : schemas) list += std::string(list.empty() ? "" : ", ") + s.name;
                fail(path + "." + key, std::string("unknown ") + what + " (expected one of: " +
                                           list + ")");
            }
            if (found) fail(path, std::string("has two ") + what + "s: " + found_key + " and " + key);
            found = &*schema;
            found_key = key;
        }
        if (!found) fail(path, std::string("names no ") + what);
        const json& args = object.at(found_key);
        std::string args_path = path + "." + found_key;
        if (found->fields.empty() && !(args.is_object() || args.is_boolean() || args.is_null()))
            fail(args_path, "takes no arguments: use {} or true");
        if (args.is_object()) check_fields(args, args_path, *found);
        else if (!found->fields.empty()) fail(args_path, "must be an object");
        return {found_key, args.is_object() ? args : json::object()};
    }

    void check_fields(const json& args, const std::string& path, const kind_schema& schema) const {
        for (const auto& [key, value] : args.items()) {
            auto f = std::find_if(schema.fields.begin(), schema.fields.end(),
                                  [&](const field& x) { return key == x.name; });
            if (f == schema.fields.end()) {
                std::string list;
                for (const auto& x : schema.fields)
                    list += std::string(list.empty() ? "" : ", ") + x.name;
                fail(path + "." + key, "unknown argument of " + std::string(schema.name) +
                                           (list.empty() ? " (it takes none)" : " (expected one of: " + list + ")"));
            }
            if (!has_type(value, f->kind))
                fail(path + "." + key, std::string("must be ") + type_name(f->kind));
        }
        for (const auto& f : schema.fields)
            if (f.required && !args.contains(f.name)) fail(path + "." + f.name, "is required");
    }

    window span(const json& object, const std::string& path) const {
        window w;
        auto it = object.find("window_s");
        if (it == object.end()) return w;
        if (!it->is_array() || it->size() != 2)
            fail(path + ".window_s", "must be [from, to] in scenario seconds (null for open)");
        for (int i = 0; i < 2; ++i) {
            const auto& v = (*it)[i];
            if (v.is_null()) continue;
            if (!v.is_number() || v.get<double>() < 0)
                fail(path + ".window_s[" + std::to_string(i) + "]", "must be a number ≥ 0 or null");
            (i == 0 ? w.from_s : w.to_s) = v.get<double>();
        }
        if (w.from_s && w.to_s && *w.to_s <= *w.from_s)
            fail(path + ".window_s", "the end must come after the start");
        return w;
    }

private:
    const std::filesystem::path& file_;
};

// A send_cases step: its case file exists and parses (the path becomes absolute), its profile is
// one the file knows, the scenario has the recording back end the cases are judged on.
void check_case_step(const parser& p, const scenario& s, const client_script& script, step& st) {
    auto path = st.path + ".send_cases";
    if (!s.recording_backend)
        p.fail(path, "needs \"recording_backend\": true (the cases are judged on its bytes)");
    if (script.tls) p.fail(path, "sends raw bytes over plain TCP: the client cannot be tls");
    auto file = s.file.parent_path() / st.args["file"].get<std::string>();
    std::vector<reliability_case> cases;
    try {
        cases = load_reliability_cases(file);
    } catch (const case_table_error& e) {
        p.fail(path + ".file", e.what());
    }
    st.args["file"] = std::filesystem::absolute(file).lexically_normal().string();
    auto profile = st.args.value("profile", std::string());
    if (profile != "" && profile != "exchange")
        p.fail(path + ".profile", "must be \"\" (a plain proxy) or \"exchange\"");
    for (const auto& id : st.args.value("only", nlohmann::json::array())) {
        bool known = id.is_string() && std::any_of(cases.begin(), cases.end(), [&](const auto& c) {
                         return c.id == id.get<std::string>();
                     });
        if (!known) p.fail(path + ".only", "the case file has no case " + id.dump());
    }
    if (st.args.value("timeout_s", 1.0) <= 0) p.fail(path + ".timeout_s", "must be > 0");
}

std::string describe(const expectation& e) {
    std::ostringstream out;
    out << e.kind;
    for (const auto& [key, value] : e.args.items())
        out << ' ' << key << '=' << (value.is_string() ? value.get<std::string>() : value.dump());
    return out.str();
}

}  // namespace

std::string window::text() const {
    std::ostringstream out;
    out << '[';
    if (from_s) out << *from_s << 's';
    else out << "start";
    out << ", ";
    if (to_s) out << *to_s << 's';
    else out << "end";
    out << ')';
    return out.str();
}

const std::vector<std::string>& step_kinds() {
    static const auto names = names_of(step_schemas());
    return names;
}
const std::vector<std::string>& action_kinds() {
    static const auto names = names_of(action_schemas());
    return names;
}
const std::vector<std::string>& expectation_kinds() {
    static const auto names = names_of(expectation_schemas());
    return names;
}

scenario parse_scenario(const json& doc, const std::filesystem::path& file) {
    parser p(file);
    p.only_keys(doc, "$",
                {"title", "description", "tags", "time_scale", "duration_s", "timeout_s", "vars", "fleet",
                 "recording_backend", "sut", "clients", "load", "timeline", "expect"});
    scenario s;
    s.file = file;
    s.id = file.stem().string();
    s.title = p.require<std::string>(doc, "$", "title");
    s.description = p.get<std::string>(doc, "$", "description", "");
    s.tags = p.get<std::vector<std::string>>(doc, "$", "tags", {});
    if (doc.contains("time_scale")) {
        double scale = p.get<double>(doc, "$", "time_scale", 1);
        if (!(scale > 0 && scale <= 1)) p.fail("$.time_scale", "must be in (0, 1]");
        s.time_scale = scale;
    }
    s.duration_s = p.seconds(doc, "$", "duration_s", 0);
    s.timeout_s = p.seconds(doc, "$", "timeout_s", 120);
    if (s.timeout_s <= 0) p.fail("$.timeout_s", "must be > 0");

    if (doc.contains("vars")) {
        const auto& vars = doc.at("vars");
        if (!vars.is_object()) p.fail("$.vars", "must be an object of names to strings or numbers");
        for (const auto& [name, value] : vars.items()) {
            if (value.is_string()) s.vars[name] = value.get<std::string>();
            else if (value.is_number_integer()) s.vars[name] = std::to_string(value.get<long long>());
            else if (value.is_number()) s.vars[name] = value.dump();
            else p.fail("$.vars." + name, "must be a string or a number");
        }
    }
    if (!doc.contains("fleet")) p.fail("$.fleet", "is required");
    s.fleet = doc.at("fleet");
    if (!s.fleet.is_object()) p.fail("$.fleet", "must be an object (the fake-CAS fleet config)");
    s.recording_backend = p.get<bool>(doc, "$", "recording_backend", false);

    if (!doc.contains("sut")) p.fail("$.sut", "is required");
    const auto& sut = doc.at("sut");
    if (!sut.is_object() || sut.empty()) p.fail("$.sut", "must name at least one system under test");
    for (const auto& [name, value] : sut.items()) {
        std::string path = "$.sut." + name;
        if (!is_sut_name(name))
            p.fail(path, "unknown system under test (expected gatehouse, haproxy or nginx)");
        p.only_keys(value, path, {"config", "template", "nodes", "unsupported"});
        sut_variant v;
        v.name = name;
        v.path = path;
        v.unsupported = p.get<std::string>(value, path, "unsupported", "");
        v.nodes = p.get<unsigned>(value, path, "nodes", 1);
        if (v.nodes < 1 || v.nodes > 2) p.fail(path + ".nodes", "must be 1 or 2 (an HA pair)");
        if (name == "gatehouse") {
            if (value.contains("template")) p.fail(path + ".template", "gatehouse takes a config");
            if (v.unsupported.empty()) {
                if (!value.contains("config")) p.fail(path + ".config", "is required");
                v.config = value.at("config");
                if (!v.config.is_object()) p.fail(path + ".config", "must be an object");
            }
        } else {
            if (value.contains("config")) p.fail(path + ".config", name + " takes a template");
            if (v.unsupported.empty()) {
                auto relative = p.require<std::string>(value, path, "template");
                v.config_template = file.parent_path() / relative;
                if (!std::filesystem::exists(v.config_template))
                    p.fail(path + ".template", "no such file: " + v.config_template.string());
            }
        }
        s.sut.emplace(name, std::move(v));
    }

    std::set<std::string> client_names;
    const auto clients = doc.value("clients", json::array());
    if (!clients.is_array()) p.fail("$.clients", "must be an array");
    for (std::size_t i = 0; i < clients.size(); ++i) {
        std::string path = "$.clients[" + std::to_string(i) + "]";
        const auto& c = clients[i];
        p.only_keys(c, path, {"name", "start_s", "repeat", "tls", "listener", "steps"});
        client_script script;
        script.path = path;
        script.name = p.require<std::string>(c, path, "name");
        if (!client_names.insert(script.name).second)
            p.fail(path + ".name", "duplicate client name '" + script.name + "'");
        script.start_s = p.seconds(c, path, "start_s", 0);
        script.repeat = p.get<unsigned>(c, path, "repeat", 1);
        if (script.repeat == 0) p.fail(path + ".repeat", "must be ≥ 1");
        script.tls = p.get<bool>(c, path, "tls", false);
        script.listener = p.get<std::string>(c, path, "listener", "");
        const auto steps = c.value("steps", json::array());
        if (!steps.is_array() || steps.empty()) p.fail(path + ".steps", "must be a non-empty array");
        for (std::size_t k = 0; k < steps.size(); ++k) {
            std::string step_path = path + ".steps[" + std::to_string(k) + "]";
            auto [kind, args] = p.kind_of(steps[k], step_path, step_schemas(), {"label"}, "step");
            step st;
            st.kind = kind;
            st.args = std::move(args);
            st.label = p.get<std::string>(steps[k], step_path, "label", "");
            st.path = step_path;
            if (st.kind == "expect") {
                if (st.args.contains("status")) {
                    const auto& status = st.args["status"];
                    bool valid = status.is_number_integer() || (status.is_array() && !status.empty());
                    for (const auto& v : status.is_array() ? status : json::array())
                        valid = valid && v.is_number_integer();
                    if (!valid)
                        p.fail(step_path + ".expect.status",
                               "must be a status code or a non-empty array of them");
                }
                if (st.args.contains("latency_ms") &&
                    !parse_condition(st.args["latency_ms"].get<std::string>()))
                    p.fail(step_path + ".expect.latency_ms", "must be a condition such as \"< 50\"");
            }
            if (st.kind == "wait" && st.args["s"].get<double>() < 0)
                p.fail(step_path + ".wait.s", "must not be negative");
            if (st.kind == "send_cases") check_case_step(p, s, script, st);
            script.steps.push_back(std::move(st));
        }
        s.clients.push_back(std::move(script));
    }

    std::set<std::string> phase_names;
    const auto load = doc.value("load", json::array());
    if (!load.is_array()) p.fail("$.load", "must be an array");
    for (std::size_t i = 0; i < load.size(); ++i) {
        std::string path = "$.load[" + std::to_string(i) + "]";
        p.only_keys(load[i], path, {"name", "start_s", "duration_s", "plan"});
        load_phase phase;
        phase.path = path;
        phase.name = p.require<std::string>(load[i], path, "name");
        if (!phase_names.insert(phase.name).second)
            p.fail(path + ".name", "duplicate load phase name '" + phase.name + "'");
        phase.start_s = p.seconds(load[i], path, "start_s", 0);
        phase.duration_s = p.seconds(load[i], path, "duration_s", 0);
        if (phase.duration_s <= 0) p.fail(path + ".duration_s", "must be > 0");
        if (!load[i].contains("plan") || !load[i]["plan"].is_object())
            p.fail(path + ".plan", "must be an object (a gatehouse-load plan)");
        phase.plan = load[i]["plan"];
        s.load.push_back(std::move(phase));
    }

    std::set<std::string> action_labels;
    const auto timeline = doc.value("timeline", json::array());
    if (!timeline.is_array()) p.fail("$.timeline", "must be an array");
    for (std::size_t i = 0; i < timeline.size(); ++i) {
        std::string path = "$.timeline[" + std::to_string(i) + "]";
        auto [kind, args] = p.kind_of(timeline[i], path, action_schemas(), {"at_s", "label"}, "action");
        action a;
        a.kind = kind;
        a.args = std::move(args);
        a.at_s = p.seconds(timeline[i], path, "at_s", -1);
        if (!timeline[i].contains("at_s")) p.fail(path + ".at_s", "is required");
        a.label = p.get<std::string>(timeline[i], path, "label", "");
        if (!a.label.empty() && !action_labels.insert(a.label).second)
            p.fail(path + ".label", "duplicate action label '" + a.label + "'");
        a.path = path;
        if (a.kind == "health" || a.kind == "server_offline") {
            auto state = a.args["state"].get<std::string>();
            if (state != "active" && state != "inactive")
                p.fail(path + "." + a.kind + ".state", "must be active or inactive");
        }
        if (a.kind == "reload" && a.args.contains("config") == a.args.contains("patch"))
            p.fail(path + ".reload", "needs exactly one of config and patch");
        s.timeline.push_back(std::move(a));
    }
    std::stable_sort(s.timeline.begin(), s.timeline.end(),
                     [](const action& a, const action& b) { return a.at_s < b.at_s; });

    const auto expect = doc.value("expect", json::array());
    if (!expect.is_array()) p.fail("$.expect", "must be an array");
    for (std::size_t i = 0; i < expect.size(); ++i) {
        std::string path = "$.expect[" + std::to_string(i) + "]";
        auto [kind, args] = p.kind_of(expect[i], path, expectation_schemas(),
                                      {"expect", "window_s", "name", "sut"}, "expectation");
        expectation e;
        e.kind = kind;
        e.args = std::move(args);
        e.path = path;
        auto text = p.require<std::string>(expect[i], path, "expect");
        auto c = parse_condition(text);
        if (!c) p.fail(path + ".expect", "must be a condition such as \"< 0.01\" or \"== 0\"");
        e.check = *c;
        e.span = p.span(expect[i], path);
        e.name = p.get<std::string>(expect[i], path, "name", "");
        if (expect[i].contains("sut")) {
            const auto& only = expect[i]["sut"];
            if (only.is_string()) e.only_sut.push_back(only.get<std::string>());
            else e.only_sut = p.get<std::vector<std::string>>(expect[i], path, "sut", {});
            for (const auto& name : e.only_sut)
                if (!is_sut_name(name))
                    p.fail(path + ".sut", "unknown system under test '" + name +
                                              "' (expected gatehouse, haproxy or nginx)");
        }
        if (e.name.empty()) e.name = describe(e);
        for (const char* ref : {"after"}) {
            if (!e.args.contains(ref)) continue;
            auto label = e.args[ref].get<std::string>();
            if (!action_labels.count(label))
                p.fail(path + "." + kind + "." + ref, "no timeline action is labelled '" + label + "'");
        }
        if (e.args.contains("client") && !client_names.count(e.args["client"].get<std::string>()))
            p.fail(path + "." + kind + ".client", "no client is named '" +
                                                      e.args["client"].get<std::string>() + "'");
        if (kind == "latency") {
            double pct = e.args["percentile"].get<double>();
            if (!(pct > 0 && pct <= 100)) p.fail(path + ".latency.percentile", "must be in (0, 100]");
        }
        if (kind == "long_polls") {
            auto outcome = e.args["outcome"].get<std::string>();
            if (outcome != "completed" && outcome != "failed")
                p.fail(path + ".long_polls.outcome", "must be completed or failed");
        }
        s.expectations.push_back(std::move(e));
    }
    if (s.clients.empty() && s.load.empty())
        p.fail("$", "has no clients and no load: nothing would send traffic");
    return s;
}

scenario load_scenario(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in) throw scenario_error(file.string() + ": cannot be read");
    json doc;
    try {
        doc = json::parse(in, nullptr, true, true);
    } catch (const json::parse_error& e) {
        throw scenario_error(file.string() + ": not valid JSON: " + e.what());
    }
    return parse_scenario(doc, file);
}

double planned_duration(const scenario& s) {
    if (s.duration_s > 0) return s.duration_s;
    double end = 0;
    for (const auto& c : s.clients) end = std::max(end, c.start_s);
    for (const auto& l : s.load) end = std::max(end, l.start_s + l.duration_s);
    for (const auto& a : s.timeline) end = std::max(end, a.at_s);
    return end;
}

}  // namespace gatehouse::scenarios
