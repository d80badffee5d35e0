#pragma once
// Inbound rules with IIS URL Rewrite semantics, compiled once per configuration and evaluated
// per request without I/O. Rules run in order; a rule matches when its pattern matches the URL
// path (without the leading '/', percent-decoded, no query string) and its conditions hold
// (MatchAll or MatchAny). A matching route rule records its farm and lets later rules run on the
// rewritten path unless it stops processing; redirect, custom response and abort end the
// evaluation at once. When no route was recorded the URL is not published: the caller answers
// 404, as ARR does.

#include "proxy/config.hpp"

#include <cstdint>
#include <memory>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::net {
class http_fields;
}

namespace gatehouse::proxy {

// What the rules can see of a request: the server variables URL Rewrite offers.
struct request_view {
    std::string_view method{};
    std::string_view target{};  // the request-target as received (REQUEST_URI)
    std::string_view host{};    // HTTP_HOST
    bool https = false;
    std::uint16_t server_port = 0;
    std::string_view remote_address{};
    std::uint16_t remote_port = 0;
    const net::http_fields* fields = nullptr;  // HTTP_<NAME> variables

    std::string_view path() const;   // target up to '?'
    std::string_view query() const;  // after '?', without it
};

// Looks up a server variable by URL Rewrite name (HTTP_HOST, HTTPS, REQUEST_URI, QUERY_STRING,
// SERVER_PORT, REQUEST_METHOD, REMOTE_ADDR, REMOTE_PORT, URL, HTTP_<HEADER> with '_' for '-').
// Appends its value to `out`; false when the name is not a server variable. Unknown HTTP_*
// headers are empty, not errors.
bool append_server_variable(const request_view& request, std::string_view name, std::string& out);
// True when `name` is a server variable append_server_variable knows.
bool is_server_variable(std::string_view name);

// Per-evaluation working memory. Keep one per connection: its strings and vectors keep their
// capacity, so evaluating rules allocates nothing in steady state.
struct rule_scratch {
    std::string path{};                             // decoded match input
    std::string input{};                            // an expanded condition input
    std::string expanded{};                         // the last template expansion
    std::vector<std::string> rule_captures{};       // {R:n}
    std::vector<std::string> condition_captures{};  // {C:n}
    std::vector<std::string> candidate_captures{};
    std::cmatch match{};
};

enum class rule_outcome { not_published, route, redirect, custom_response, abort };

struct rule_result {
    rule_outcome outcome = rule_outcome::not_published;
    int rule = -1;  // index of the deciding rule (the last route rule for a route)
    int farm = -1;  // index into config::farms for a route
    // route: the request-target to send, empty to keep the client's byte-exact target;
    // redirect: the Location. Points into the scratch; valid until the next evaluation.
    std::string_view url{};
};

class rule_set {
public:
    rule_set();
    // Compiles `c.rules` (regexes, wildcards, templates). Throws config_error with the rule's
    // path when a pattern or a template is invalid.
    rule_set(const config& c, const std::string& source);
    rule_set(rule_set&&) noexcept;
    rule_set& operator=(rule_set&&) noexcept;
    ~rule_set();

    rule_result evaluate(const request_view& request, rule_scratch& scratch) const;
    std::size_t size() const noexcept;
    const rule_config& rule(std::size_t index) const;

private:
    struct compiled;
    std::vector<compiled> rules_;
};

// URL Rewrite wildcard matching: '*' matches any run of characters (shortest first, with
// backtracking); every other character matches itself. Captures: {R:0} is the whole input,
// {R:n} what the n-th '*' matched. Exposed for tests.
bool wildcard_match(std::string_view pattern, std::string_view input, bool ignore_case,
                    std::vector<std::string>* captures);

}  // namespace gatehouse::proxy
