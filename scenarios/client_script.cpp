#include "scenarios/client_script.hpp"

#include "load/connector.hpp"
#include "load/cookie_jar.hpp"
#include "load/http_client.hpp"
#include "load/results.hpp"
#include "net/http_message.hpp"
#include "scenarios/raw_exchange.hpp"
#include "scenarios/recording_backend.hpp"
#include "scenarios/reliability_cases.hpp"
#include "scenarios/topology.hpp"

#include <iomanip>
#include <sstream>

namespace gatehouse::scenarios {

namespace {

std::string fixed(double v, int precision) {
    std::ostringstream out;
    out << std::fixed << std::setprecision(precision) << v;
    return out.str();
}

bool icontains(std::string_view text, std::string_view needle) {
    if (needle.size() > text.size()) return false;
    for (std::size_t i = 0; i + needle.size() <= text.size(); ++i)
        if (net::iequals(text.substr(i, needle.size()), needle)) return true;
    return false;
}

// What the client kept of the last response (the client's own head is reused by the next call).
struct last_response {
    bool present = false;
    unsigned status = 0;
    std::string reason{};
    std::vector<std::pair<std::string, std::string>> headers{};
    std::string body{};
    std::string failure{};   // no response: why
    std::string server{};    // fleet server name from X-FEServer
    std::string netbios{};   // X-FEServer as sent
    std::string error{};     // X-Gatehouse-Error
    double latency_ms = 0;

    std::optional<std::string> header(std::string_view name) const {
        for (const auto& [n, v] : headers)
            if (net::iequals(n, name)) return v;
        return std::nullopt;
    }
};

std::string describe(const last_response& r) {
    if (!r.present) return "no request sent yet";
    if (r.status == 0) return "no response (" + r.failure + ")";
    std::string text = std::to_string(r.status) + " " + r.reason;
    if (!r.netbios.empty())
        text += " · X-FEServer " + r.netbios + (r.server.empty() ? "" : " (" + r.server + ")");
    if (!r.error.empty()) text += " · X-Gatehouse-Error " + r.error;
    if (auto location = r.header("Location")) text += " · Location " + *location;
    text += " · " + fixed(r.latency_ms, 1) + " ms";
    return text;
}

bool is_long_poll(std::string_view method, std::string_view target,
                  const std::vector<std::pair<std::string, std::string>>& headers,
                  std::string_view body) {
    if (method == "RPC_IN_DATA" || method == "RPC_OUT_DATA") return true;
    if (icontains(target, "Cmd=Ping")) return true;
    for (const auto& [name, value] : headers)
        if (net::iequals(name, "X-RequestType") && net::iequals(value, "NotificationWait"))
            return true;
    return icontains(body, "GetStreamingEvents");
}

class client_run {
public:
    client_run(const client_script& script, client_context context,
               std::shared_ptr<client_control> control)
        : script_(script),
          context_(context),
          control_(std::move(control)),
          endpoint_(context.world->entry(script.tls)),
          target_(make_target()),
          connector_(target_, {endpoint_}),
          client_(connector_, make_options(), jar_, &control_->registry, nullptr) {
        outcome_.trace.client = script.name;
    }

    awaitable<client_outcome> run() {
        for (unsigned repetition = 0; repetition < script_.repeat; ++repetition) {
            for (std::size_t i = 0; i < script_.steps.size(); ++i) {
                if (control_->stopped) co_return outcome_;
                const auto& st = script_.steps[i];
                if (st.kind == "send") {
                    co_await send(st);
                } else if (st.kind == "expect") {
                    expect(st, repetition);
                } else if (st.kind == "wait") {
                    co_await wait(st);
                } else if (st.kind == "barrier") {
                    trace("barrier", "waiting at " + st.args["name"].get<std::string>());
                    co_await context_.meeting->arrive(st.args["name"].get<std::string>(),
                                                      st.args.value("count", std::size_t{0}));
                } else if (st.kind == "send_cases") {
                    co_await send_cases(st);
                } else if (st.kind == "close") {
                    client_.drop_connection();
                    trace("close", "connection closed");
                }
            }
        }
        outcome_.finished = !control_->stopped;
        co_return outcome_;
    }

private:
    load::target_options make_target() const {
        load::target_options t;
        t.host = endpoint_.address().to_string();
        t.port = std::to_string(endpoint_.port());
        t.tls = script_.tls;
        t.host_header = "mail.contoso.com";
        t.server_name = "mail.contoso.com";
        t.tls_options.verify = true;
        t.tls_options.trusted_pem = context_.world->lab_authority_pem();
        t.tls_options.system_trust = false;
        return t;
    }

    load::client_options make_options() const {
        load::client_options o;
        o.request_timeout = context_.default_timeout;
        o.user_agent = "gatehouse-scenario/0.1";
        return o;
    }

    double now_ms() const {
        return std::chrono::duration<double, std::milli>(steady_clock::now() - context_.origin)
            .count();
    }

    void trace(std::string kind, std::string detail, bool failed = false) {
        outcome_.trace.steps.push_back({now_ms(), std::move(kind), std::move(detail), failed});
    }

    std::chrono::milliseconds scaled(double scenario_seconds) const {
        return std::chrono::milliseconds(
            static_cast<long long>(scenario_seconds * 1000 * context_.time_scale));
    }

    void apply_auth(const nlohmann::json& auth) {
        for (auto [scheme, kind] : {std::pair{"ntlm", load::auth_scheme::ntlm},
                                    {"negotiate", load::auth_scheme::negotiate},
                                    {"basic", load::auth_scheme::basic}}) {
            if (!auth.contains(scheme)) continue;
            const auto& account = auth[scheme];
            client_.set_identity({account.value("domain", std::string("CONTOSO")),
                                  account.value("user", std::string("jdoe")),
                                  account.value("password", std::string("P@ssw0rd")),
                                  "GATEHOUSE-LAB"});
            client_.set_auth(kind);
            return;
        }
        if (auth.contains("none")) client_.set_auth(load::auth_scheme::none);
    }

    awaitable<void> send(const step& st) {
        const auto& args = st.args;
        std::string method = args.value("method", std::string("GET"));
        std::string target = args["target"].get<std::string>();
        std::string host = args.value("host", std::string("mail.contoso.com"));
        std::string body = args.value("body", std::string());
        std::vector<std::pair<std::string, std::string>> fields;
        bool expect_continue = false;
        const auto headers = args.value("headers", nlohmann::json::object());
        for (const auto& [name, value] : headers.items()) {
            auto text = value.is_string() ? value.get<std::string>() : value.dump();
            if (net::iequals(name, "Expect") && icontains(text, "100-continue")) {
                expect_continue = true;  // the client sends it and waits for 100 Continue
                continue;
            }
            fields.emplace_back(name, text);
        }
        if (args.contains("auth")) apply_auth(args["auth"]);
        if (args.value("new_connection", false)) client_.drop_connection();

        load::http_request req;
        req.method = method;
        req.target = target;
        req.host = host;
        for (const auto& [name, value] : fields) req.headers.push_back({name, value});
        req.body = body;
        req.generated_body = args.value("body_bytes", std::uint64_t{0});
        req.expect_continue = expect_continue;
        req.capture = 64 * 1024;
        if (args.contains("timeout_s")) req.timeout = scaled(args["timeout_s"].get<double>());

        trace("send", method + " " + target + " (Host " + host + ")" +
                          (args.value("new_connection", false) ? " on a new connection" : ""));
        double start = now_ms();
        load::http_response response;
        co_await client_.exchange(req, response);
        double end = now_ms();
        ++outcome_.requests;

        last_ = {};
        last_.present = true;
        last_.status = response.status;
        last_.latency_ms = end - start;
        if (response.head) {
            last_.reason = response.head->reason;
            for (auto [name, value] : response.head->fields)
                last_.headers.emplace_back(std::string(name), std::string(value));
        }
        last_.body = response.body;
        if (response.failed) last_.failure = std::string(load::failure_name(*response.failed));
        if (response.status == 0 && last_.failure.empty()) last_.failure = response.ec.message();
        last_.netbios = last_.header("X-FEServer").value_or("");
        last_.server = context_.world->server_name_of(last_.netbios);
        last_.error = last_.header("X-Gatehouse-Error").value_or("");

        if (response.auth_legs > 0)
            trace("auth", std::to_string(response.auth_legs) + " authentication leg(s) on the " +
                              "same connection before the final response");
        trace("response", describe(last_), response.status == 0);

        request_record record;
        record.source = script_.name;
        record.start_s = start / 1000;
        record.end_s = end / 1000;
        record.status = last_.status;
        record.error = last_.error;
        record.failure = last_.failure;
        record.server = last_.server;
        record.latency_ms = last_.latency_ms;
        record.long_poll = is_long_poll(method, target, fields, body);
        context_.requests->add(std::move(record));
    }

    void check(const step& st, unsigned repetition, const std::string& what, bool ok,
               const std::string& expected, const std::string& observed) {
        ++outcome_.checks;
        std::string where = st.path;
        if (script_.repeat > 1) where += " (repetition " + std::to_string(repetition + 1) + ")";
        trace("expect", what + " " + expected + (ok ? " ✓" : " ✗ observed " + observed), !ok);
        if (!ok)
            outcome_.failed_expects.push_back(
                {script_.name + ": " + what + (st.label.empty() ? "" : " (" + st.label + ")"),
                 false, expected, observed, where});
    }

    void expect(const step& st, unsigned repetition) {
        const auto& args = st.args;
        std::string observed_status =
            last_.status ? std::to_string(last_.status) : "no response (" + last_.failure + ")";
        if (args.contains("status")) {
            // One status, or any of several (peers answer the same failure differently).
            const auto& want = args["status"];
            bool ok = false;
            std::string text;
            for (const auto& v : want.is_array() ? want : nlohmann::json::array({want})) {
                ok = ok || last_.status == v.get<unsigned>();
                text += (text.empty() ? "" : " or ") + std::to_string(v.get<unsigned>());
            }
            check(st, repetition, "status", ok, text, observed_status);
        }
        // X-Gatehouse-Error is gatehouse's own: other proxies are judged by status alone.
        if (args.contains("error") && context_.gatehouse) {
            auto want = args["error"].get<std::string>();
            // "502.3" matches "502.3.12002": a prefix on the triple's dotted parts.
            bool ok = last_.error == want || last_.error.starts_with(want + ".");
            check(st, repetition, "error", ok, want,
                  last_.error.empty() ? observed_status + " without X-Gatehouse-Error"
                                      : last_.error);
        }
        const auto wanted_headers = args.value("header", nlohmann::json::object());
        for (const auto& [name, want] : wanted_headers.items()) {
            auto value = last_.header(name);
            if (want.is_object() && want.contains("contains")) {
                auto needle = want["contains"].get<std::string>();
                check(st, repetition, "header " + name, value && icontains(*value, needle),
                      "containing \"" + needle + "\"", value ? "\"" + *value + "\"" : "absent");
            } else {
                auto text = want.is_string() ? want.get<std::string>() : want.dump();
                check(st, repetition, "header " + name, value && *value == text, "\"" + text + "\"",
                      value ? "\"" + *value + "\"" : "absent");
            }
        }
        for (const auto& name : args.value("header_absent", nlohmann::json::array())) {
            auto value = last_.header(name.get<std::string>());
            check(st, repetition, "header " + name.get<std::string>(), !value, "absent",
                  value ? "\"" + *value + "\"" : "absent");
        }
        if (args.contains("body_contains")) {
            auto needle = args["body_contains"].get<std::string>();
            check(st, repetition, "body", last_.body.find(needle) != std::string::npos,
                  "containing \"" + needle + "\"",
                  last_.body.empty() ? "an empty body" : "\"" + last_.body.substr(0, 120) + "\"");
        }
        if (args.contains("server")) {
            auto want = args["server"].get<std::string>();
            bool ok = want == last_.server || net::iequals(want, last_.netbios);
            check(st, repetition, "server", ok, want,
                  last_.netbios.empty() ? "no X-FEServer" : last_.netbios + " (" + last_.server + ")");
        }
        if (args.contains("latency_ms")) {
            auto c = *parse_condition(args["latency_ms"].get<std::string>());
            // Conditions are written in scenario time; the latency is measured in wall time.
            double scenario_ms = last_.latency_ms / context_.time_scale;
            check(st, repetition, "latency", c.holds(scenario_ms), c.text() + " ms",
                  fixed(scenario_ms, 1) + " ms");
        }
        if (args.contains("closed")) {
            bool want = args["closed"].get<bool>();
            auto connection = last_.header("Connection");
            bool closed = last_.status == 0 || (connection && icontains(*connection, "close"));
            check(st, repetition, "connection closed", closed == want, want ? "closed" : "kept open",
                  closed ? "closed" : "kept open");
        }
    }

    // Sends every case of the step's profile on a fresh connection and judges it. The back end's
    // bytes of a case are those that arrived from its start until the back end holds no
    // unfinished request (bounded), so late bytes of a forwarded request still count.
    awaitable<void> send_cases(const step& st) {
        const auto& args = st.args;
        auto* backend = context_.world->recording();
        std::vector<reliability_case> cases;
        try {
            if (!backend) throw case_table_error("the scenario has no recording back end");
            cases = load_reliability_cases(args["file"].get<std::string>());
        } catch (const case_table_error& e) {
            check(st, 0, "case table", false, "readable", e.what());
            co_return;
        }
        auto profile = args.value("profile", std::string());
        auto only = args.value("only", std::vector<std::string>());
        auto bound = scaled(args.value("timeout_s", 5.0));
        trace("cases", "sending " + args["file"].get<std::string>() +
                           (profile.empty() ? "" : " (profile " + profile + ")"));
        asio::steady_timer pause(co_await asio::this_coro::executor);
        for (const auto& c : cases) {
            if (control_->stopped) co_return;
            if (!only.empty() && std::find(only.begin(), only.end(), c.id) == only.end()) continue;
            if (c.profile != profile) {
                ++outcome_.cases_not_applicable;
                continue;
            }
            auto mark = backend->now();
            double start = now_ms();
            auto exchange = co_await exchange_raw(endpoint_, c.request, bound, &control_->registry);
            double end = now_ms();
            auto settle_until = steady_clock::now() + std::chrono::milliseconds(250);
            while (!backend->idle() && steady_clock::now() < settle_until) {
                pause.expires_after(std::chrono::milliseconds(2));
                co_await pause.async_wait(use_nothrow);
            }
            auto got = backend->since(mark);
            auto verdict = judge(c, {.received = exchange.received,
                                     .closed = exchange.closed,
                                     .backend_bytes = std::move(got.bytes),
                                     .backend_requests = got.requests});
            if (!exchange.failure.empty()) {
                verdict.passed = false;
                verdict.problems.insert(verdict.problems.begin(), exchange.failure);
            }
            case_outcome outcome{.id = c.id,
                                 .title = c.title,
                                 .passed = verdict.passed,
                                 .expected = describe_expectation(c.expect),
                                 .observed = verdict.observed};
            for (const auto& p : verdict.problems)
                outcome.problems += (outcome.problems.empty() ? "" : "; ") + p;
            trace("case", c.id + " " + c.title + ": " + verdict.observed +
                              (verdict.passed ? " ✓" : " ✗ " + outcome.problems),
                  !verdict.passed);
            outcome_.cases.push_back(std::move(outcome));

            auto responses = parse_responses(exchange.received);
            request_record record;
            record.source = script_.name;
            record.start_s = start / 1000;
            record.end_s = end / 1000;
            record.status = responses.empty() ? 0 : responses.front().status;
            record.failure = !exchange.failure.empty() ? "connect"
                             : responses.empty() && !exchange.closed ? "timeout"
                                                                     : "";
            record.latency_ms = end - start;
            context_.requests->add(std::move(record));
            ++outcome_.requests;
        }
    }

    awaitable<void> wait(const step& st) {
        auto duration = scaled(st.args["s"].get<double>());
        trace("wait", fixed(st.args["s"].get<double>(), 1) + " s");
        asio::steady_timer timer(co_await asio::this_coro::executor, duration);
        control_->registry.add(&timer);
        co_await timer.async_wait(use_nothrow);
        control_->registry.remove(&timer);
    }

    const client_script& script_;
    client_context context_;
    std::shared_ptr<client_control> control_;
    tcp::endpoint endpoint_;
    load::target_options target_;
    load::connector connector_;
    load::cookie_jar jar_;
    load::http_client client_;
    last_response last_;
    client_outcome outcome_;
};

}  // namespace

awaitable<void> barriers::arrive(const std::string& name, std::size_t count) {
    auto& b = barriers_[name];
    b.needed = count ? count : parties_;
    if (++b.arrived >= b.needed) {
        for (auto* t : b.waiting) t->cancel();
        b.waiting.clear();
        co_return;
    }
    asio::steady_timer timer(co_await asio::this_coro::executor, steady_clock::time_point::max());
    b.waiting.push_back(&timer);
    co_await timer.async_wait(use_nothrow);
}

void barriers::release_all() {
    for (auto& [name, b] : barriers_) {
        for (auto* t : b.waiting) t->cancel();
        b.waiting.clear();
    }
}

awaitable<client_outcome> run_client(const client_script& script, client_context context,
                                     std::shared_ptr<client_control> control) {
    client_run run(script, context, std::move(control));
    co_return co_await run.run();
}

}  // namespace gatehouse::scenarios
