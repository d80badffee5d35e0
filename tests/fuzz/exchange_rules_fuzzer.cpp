// The rule engines: the Exchange protection preset (R0–R12) and URL Rewrite rules. Input: the
// request-target on the first line, a Cookie value after it. Oracles beyond "no crash": the
// preset's decision does not change when the target's letters change case or when letters are
// percent-encoded (the normalizer and the matcher agree: an attacker gains nothing by encoding
// or case), and URL Rewrite evaluation of the same request terminates with a valid outcome.

#include "proxy/exchange_protection.hpp"
#include "proxy/rules.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

using namespace gatehouse;
using namespace gatehouse::proxy;

namespace {

[[noreturn]] void fail(const char* what, std::string_view a, std::string_view b) {
    std::fprintf(stderr, "oracle failed: %s\n  %.*s\n  %.*s\n", what, static_cast<int>(a.size()),
                 a.data(), static_cast<int>(b.size()), b.data());
    std::abort();
}

std::string upper(std::string s) {
    for (auto& c : s)
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    return s;
}

// Percent-encodes letters g–z (never hex digits, never right after a '%'), so that one
// decoding gives back exactly the original text.
std::string encode_letters(std::string_view s) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        char c = s[i];
        char l = static_cast<char>(c | 0x20);
        bool after_percent = (i >= 1 && s[i - 1] == '%') || (i >= 2 && s[i - 2] == '%');
        if (l >= 'g' && l <= 'z' && !after_percent) {
            out += '%';
            out += hex[static_cast<unsigned char>(c) >> 4];
            out += hex[static_cast<unsigned char>(c) & 15];
        } else {
            out += c;
        }
    }
    return out;
}

const rule_set& url_rewrite_rules() {
    static const rule_set rules = [] {
        auto c = parse_config(R"json({
          "listeners": { "https": { "port": 0 } },
          "farms": { "cas": { "servers": [ { "address": "127.0.0.1", "port": 1 } ] } },
          "rules": [
            { "name": "block", "pattern": "(autodiscover).*(powershell)",
              "action": { "type": "custom_response", "status": 403 }, "stop_processing": true },
            { "name": "eas", "pattern": "^Microsoft-Server-ActiveSync",
              "conditions": [ { "input": "{QUERY_STRING}", "pattern": "Cmd=(\\w+)" } ],
              "action": { "type": "route", "farm": "cas", "url": "/{R:0}?c={C:1}" } },
            { "name": "wild", "pattern_syntax": "wildcard", "pattern": "owa/*/*",
              "action": { "type": "route", "farm": "cas" } },
            { "name": "cookie", "pattern": ".*",
              "conditions": [ { "input": "{HTTP_COOKIE}", "pattern": "X-BEResource=(.+)~(.+)" } ],
              "action": { "type": "abort" } }
          ]
        })json",
                              "fuzz.json");
        return rule_set(c, "fuzz.json");
    }();
    return rules;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view input(reinterpret_cast<const char*>(data), size);
    auto nl = input.find('\n');
    std::string target(input.substr(0, nl));
    std::string cookie(nl == std::string_view::npos ? std::string_view{} : input.substr(nl + 1));
    if (target.empty() || target.front() != '/') target.insert(0, 1, '/');

    exchange_protection_config config{.enabled = true, .allow_ecp = false};
    exchange_scratch scratch;
    net::http_fields fields;
    if (!cookie.empty()) fields.add("Cookie", cookie);
    auto verdict = std::string(check_exchange_request(config, target, fields, scratch).rule);

    net::http_fields upper_fields;
    if (!cookie.empty()) upper_fields.add("Cookie", upper(cookie));
    auto shouted = upper(target);
    if (std::string(check_exchange_request(config, shouted, upper_fields, scratch).rule) != verdict)
        fail("case changed the decision", target, shouted);
    auto encoded = encode_letters(target);
    if (std::string(check_exchange_request(config, encoded, fields, scratch).rule) != verdict)
        fail("percent-encoding changed the decision", target, encoded);

    request_view view;
    view.method = "GET";
    view.target = target;
    view.host = "mail.contoso.com";
    view.https = true;
    view.server_port = 443;
    view.remote_address = "192.0.2.1";
    view.fields = &fields;
    rule_scratch rs;
    auto result = url_rewrite_rules().evaluate(view, rs);
    if (result.outcome == rule_outcome::route && result.farm != 0)
        fail("a route to a farm that does not exist", target, "");
    return 0;
}
