#include "proxy/config.hpp"
#include "proxy/rules.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

// The smallest valid configuration; tests splice one mistake into it.
std::string with(const std::string& farms, const std::string& rules = "[]",
                 const std::string& extra = "") {
    return R"({
      "listeners": { "http": { "address": "127.0.0.1", "port": 8080 } },
      "farms": )" +
           farms + R"(,
      "rules": )" +
           rules + extra + "}";
}

const std::string one_farm =
    R"({ "owa": { "servers": [ { "address": "10.0.0.1", "port": 443 } ] } })";

// Parses `text` and returns the path of the config_error it raises ("<none>" if it parses).
std::string error_path(const std::string& text, std::string* message = nullptr) {
    try {
        auto c = parse_config(text, "test.json");
        rule_set rules(c, "test.json");  // regexes and templates are checked when compiled
    } catch (const config_error& e) {
        if (message) *message = e.what();
        return e.path();
    }
    return "<none>";
}

TEST(ConfigJson, ParsesCommentsAndFillsArrDefaults) {
    auto c = parse_config(R"({
      // Exchange front end
      "listeners": { "http": { "port": 80 } },   /* plain HTTP */
      "farms": { "owa": { "servers": [ { "address": "ex01.contoso.local" } ] } },
      "rules": [ { "name": "all", "pattern": ".*", "action": { "type": "route", "farm": "owa" } } ]
    })",
                          "test.json");
    ASSERT_EQ(c.listeners.size(), 1u);
    EXPECT_EQ(c.listeners[0].address, "0.0.0.0");
    EXPECT_EQ(c.listeners[0].limits.request_line_bytes, 8192u);
    EXPECT_EQ(c.proxy.timeout, milliseconds(30'000));
    EXPECT_EQ(c.proxy.log_guid_header, "X-ARR-LOG-ID");
    EXPECT_EQ(c.proxy.x_forwarded_for_header, "X-Forwarded-For");
    EXPECT_EQ(c.request_filtering.max_allowed_content_length, 30'000'000u);
    ASSERT_EQ(c.farms.size(), 1u);
    EXPECT_EQ(c.farms[0].servers[0].weight, 100u);
    EXPECT_EQ(c.farms[0].servers[0].state, availability::available);
    EXPECT_EQ(c.farms[0].load_balancing.algorithm, lb_algorithm::weighted_round_robin);
    EXPECT_EQ(c.farms[0].affinity.cookie_name, "ARRAffinity");
    EXPECT_TRUE(c.farms[0].tls.verify);
    ASSERT_EQ(c.rules.size(), 1u);
    EXPECT_TRUE(c.rules[0].ignore_case);
    EXPECT_EQ(c.rules[0].syntax, pattern_syntax::ecmascript);
}

TEST(ConfigJson, ReadsFarmOverridesAndRuleTimeouts) {
    auto c = parse_config(with(R"({ "eas": {
        "protocol": "https",
        "servers": [ { "address": "10.0.0.1", "weight": 200, "state": "drain" } ],
        "load_balancing": { "algorithm": "request_hash", "hash_server_variable": "QUERY_STRING",
                            "query_string_names": ["DeviceId"] },
        "health": { "url": "https://eas/Microsoft-Server-ActiveSync/HealthCheck.htm",
                    "interval_ms": 10000, "timeout_ms": 31000,
                    "acceptable_statuses": "200-299, 401", "match": "200 OK" },
        "proxy": { "timeout_ms": 3600000, "response_buffer_threshold_bytes": 0 },
        "tls": { "verify": false } } })",
                               R"([ { "name": "eas", "pattern": "^Microsoft-Server-ActiveSync",
                                      "action": { "type": "route", "farm": "eas" },
                                      "timeout_ms": 3700000,
                                      "max_allowed_content_length": 2147483648 } ])"),
                          "test.json");
    const auto& f = c.farms.at(0);
    EXPECT_EQ(f.protocol, upstream_protocol::https);
    EXPECT_EQ(f.servers[0].state, availability::drain);
    EXPECT_EQ(f.servers[0].weight, 200u);
    EXPECT_EQ(f.load_balancing.query_string_names, std::vector<std::string>{"DeviceId"});
    ASSERT_EQ(f.health.acceptable_statuses.size(), 2u);
    EXPECT_EQ(f.health.acceptable_statuses[0].first, 200u);
    EXPECT_EQ(f.health.acceptable_statuses[0].last, 299u);
    EXPECT_EQ(f.health.acceptable_statuses[1].first, 401u);
    EXPECT_EQ(f.proxy.apply(c.proxy).timeout, milliseconds(3'600'000));
    EXPECT_EQ(f.proxy.apply(c.proxy).connect_timeout, c.proxy.connect_timeout);
    EXPECT_EQ(c.rules[0].timeout, milliseconds(3'700'000));
    EXPECT_EQ(c.rules[0].max_allowed_content_length, 2147483648u);
}

struct bad_config {
    const char* name;
    std::string text;
    std::string path;
};

class ConfigErrors : public ::testing::TestWithParam<bad_config> {};

TEST_P(ConfigErrors, NameTheJsonPathOfTheMistake) {
    std::string message;
    EXPECT_EQ(error_path(GetParam().text, &message), GetParam().path) << message;
    EXPECT_TRUE(message.starts_with("test.json: " + GetParam().path)) << message;
}

INSTANTIATE_TEST_SUITE_P(
    Config, ConfigErrors,
    ::testing::Values(
        bad_config{"UnknownTopLevelKey", with(one_farm, "[]", R"(, "frams": {})"), "frams"},
        bad_config{"UnknownNestedKey",
                   with(R"({ "owa": { "servers": [ { "address": "a" } ], "helth": {} } })"),
                   "farms.owa.helth"},
        bad_config{"ZeroHealthInterval", with(R"({ "owa": { "servers": [ { "address": "a" } ],
                                      "health": { "interval_ms": 0 } } })"),
                   "farms.owa.health.interval_ms"},
        bad_config{"NegativeTimeout", with(one_farm, "[]", R"(, "proxy": { "timeout_ms": -5 })"),
                   "proxy.timeout_ms"},
        bad_config{"RuleToMissingFarm", with(one_farm, R"([ { "name": "r1", "pattern": ".*",
                                        "action": { "type": "route", "farm": "ews" } } ])"),
                   "rules.r1.action.farm"},
        bad_config{
            "DuplicateRuleName",
            with(one_farm, R"([ { "name": "r1", "pattern": "a", "action": { "type": "none" } },
                                      { "name": "r1", "pattern": "b",
                                        "action": { "type": "none" } } ])"),
            "rules.r1"},
        bad_config{
            "DuplicateJsonKey",
            with(R"({ "owa": { "servers": [ { "address": "a", "port": 1, "port": 2 } ] } })"),
            "farms.owa.servers[0].port"},
        bad_config{"BadRegex", with(one_farm, R"([ { "name": "r1", "pattern": "^(owa",
                                        "action": { "type": "route", "farm": "owa" } } ])"),
                   "rules.r1.pattern"},
        bad_config{"RegexBackReferenceOverNineDigits",
                   with(one_farm, R"([ { "name": "r1", "pattern": "^(a)\\12345678901234567890",
                                        "action": { "type": "route", "farm": "owa" } } ])"),
                   "rules.r1.pattern"},
        bad_config{"RegexRepetitionOverAThousand",
                   with(one_farm, R"([ { "name": "r1", "pattern": "^a{2,99999999}",
                                        "action": { "type": "route", "farm": "owa" } } ])"),
                   "rules.r1.pattern"},
        bad_config{"BackReferenceBeyondGroups",
                   with(one_farm, R"([ { "name": "r1", "pattern": "^(owa)/",
                                        "action": { "type": "redirect", "url": "/{R:2}" } } ])"),
                   "rules.r1.action.url"},
        bad_config{"UnknownServerVariable", with(one_farm, R"([ { "name": "r1", "pattern": ".*",
                                        "conditions": [ { "input": "{HTTP-HOST}",
                                          "pattern": "x" } ],
                                        "action": { "type": "none" } } ])"),
                   "rules.r1.conditions[0].input"},
        bad_config{"BadRedirectType", with(one_farm, R"([ { "name": "r1", "pattern": ".*",
                                        "action": { "type": "redirect", "url": "/",
                                          "redirect_type": 308 } } ])"),
                   "rules.r1.action.redirect_type"},
        bad_config{"MissingListeners", R"({ "farms": {} })", "listeners"},
        bad_config{"BadListenerAddress",
                   R"({ "listeners": { "http": { "address": "localhost", "port": 80 } } })",
                   "listeners.http.address"},
        bad_config{"ListenerWithoutPort", R"({ "listeners": { "http": { "address": "::1" } } })",
                   "listeners.http.port"},
        bad_config{"PortOutOfRange",
                   with(R"({ "owa": { "servers": [ { "address": "a", "port": 70000 } ] } })"),
                   "farms.owa.servers[0].port"},
        bad_config{"UnknownAlgorithm", with(R"({ "owa": { "servers": [ { "address": "a" } ],
                                      "load_balancing": { "algorithm": "least_connections" } } })"),
                   "farms.owa.load_balancing.algorithm"},
        bad_config{"HashOptionsWithoutHashAlgorithm",
                   with(R"({ "owa": { "servers": [ { "address": "a" } ],
                                      "load_balancing": { "query_string_names": ["x"] } } })"),
                   "farms.owa.load_balancing.query_string_names"},
        bad_config{"BadAcceptableStatuses", with(R"({ "owa": { "servers": [ { "address": "a" } ],
                                      "health": { "acceptable_statuses": "200-1000" } } })"),
                   "farms.owa.health.acceptable_statuses"},
        bad_config{"DuplicateServer",
                   with(R"({ "owa": { "servers": [ { "address": "a", "port": 80 },
                                                   { "address": "a" } ] } })"),
                   "farms.owa.servers[1]"},
        bad_config{"ZeroWeight",
                   with(R"({ "owa": { "servers": [ { "address": "a", "weight": 0 } ] } })"),
                   "farms.owa.servers[0].weight"},
        bad_config{
            "TlsOptionsOnPlainFarm",
            with(R"({ "owa": { "servers": [ { "address": "a" } ], "tls": { "verify": false } } })"),
            "farms.owa.tls"},
        bad_config{"CertificateFileMissing",
                   R"({ "listeners": { "https": { "port": 443, "tls": { "certificates": [
                        { "certificate_file": "/nonexistent/cert.pem",
                          "key_file": "/nonexistent/k" } ] } } } })",
                   "listeners.https.tls.certificates[0].certificate_file"},
        bad_config{"RouteWithAbsoluteUrl", with(one_farm, R"([ { "name": "r1", "pattern": "^(.*)$",
                                        "action": { "type": "route", "farm": "owa",
                                          "url": "https://owa/{R:1}" } } ])"),
                   "rules.r1.action.url"},
        bad_config{"WrongType", with(one_farm, "[]", R"(, "stop_timeout_ms": "60s")"),
                   "stop_timeout_ms"},
        bad_config{"UnknownFailureErrorKind", with(R"({ "owa": { "servers": [ { "address": "a" } ],
                          "live_traffic": { "failure_errors": [ "timeout", "gone" ] } } })"),
                   "farms.owa.live_traffic.failure_errors"},
        bad_config{"ZeroRise", with(R"({ "owa": { "servers": [ { "address": "a" } ],
                                      "health": { "rise": 0 } } })"),
                   "farms.owa.health.rise"},
        bad_config{"OutlierShareOver100", with(R"({ "owa": { "servers": [ { "address": "a" } ],
                          "outlier": { "max_ejection_percent": 101 } } })"),
                   "farms.owa.outlier.max_ejection_percent"},
        bad_config{"AdminAddressNotAnIp",
                   with(one_farm, "[]", R"(, "admin": { "address": "localhost" })"),
                   "admin.address"},
        bad_config{"ActionWithoutType",
                   with(one_farm, R"([ { "name": "r1", "pattern": ".*", "action": { } } ])"),
                   "rules.r1.action.type"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(ConfigJson, ReadsHealthLiveTrafficOutlierAffinityAdminAndWatch) {
    auto c = parse_config(with(R"({ "owa": { "servers": [ { "address": "a" } ],
        "health": { "url": "/owa/HealthCheck.htm", "rise": 2, "fall": 3,
                    "down_interval_ms": 1000 },
        "live_traffic": { "failure_statuses": "500-503", "failure_errors": [ "timeout" ],
                          "max_failures": 5, "failover_period_ms": 30000 },
        "outlier": { "consecutive_failures": 4, "base_ejection_time_ms": 20000,
                     "max_ejection_percent": 50 },
        "slow_start_ms": 60000,
        "affinity": { "enabled": true, "cookie_name": "GH", "key": "k" } } })",
                               "[]",
                               R"(, "admin": { "port": 9090 },
                                    "config_watch": { "enabled": false, "interval_ms": 500 },
                                    "health_max_in_flight": 4)"),
                          "test.json");
    const auto& f = c.farms[0];
    EXPECT_EQ(f.health.rise, 2u);
    EXPECT_EQ(f.health.fall, 3u);
    EXPECT_EQ(f.health.down_interval, std::chrono::milliseconds(1000));
    ASSERT_EQ(f.live_traffic.failure_statuses.size(), 1u);
    EXPECT_EQ(f.live_traffic.failure_statuses[0].last, 503u);
    EXPECT_EQ(f.live_traffic.failure_errors, std::vector<std::uint32_t>{12002});
    EXPECT_EQ(f.live_traffic.max_failures, 5u);
    EXPECT_EQ(f.live_traffic.failover_period, std::chrono::milliseconds(30000));
    EXPECT_TRUE(f.outlier.enabled);
    EXPECT_EQ(f.outlier.consecutive_failures, 4u);
    EXPECT_EQ(f.outlier.max_ejection_percent, 50u);
    EXPECT_EQ(f.slow_start, std::chrono::milliseconds(60000));
    EXPECT_EQ(f.affinity.cookie_name, "GH");
    EXPECT_EQ(f.affinity.key, "k");
    EXPECT_TRUE(c.admin.enabled);
    EXPECT_EQ(c.admin.address, "127.0.0.1");
    EXPECT_EQ(c.admin.port, 9090);
    EXPECT_FALSE(c.config_watch.enabled);
    EXPECT_EQ(c.health_max_in_flight, 4u);
}

TEST(ConfigJson, SyntaxErrorsGiveTheLine) {
    std::string message;
    EXPECT_EQ(error_path("{\n \"listeners\": {,\n}", &message), "");
    EXPECT_NE(message.find("line 2"), std::string::npos) << message;
}

// Found by the config fuzzer: nlohmann reports an overflowing number as out_of_range, not as a
// parse error; it must still be a config_error naming the file.
TEST(ConfigJson, OverflowingNumberIsAConfigError) {
    std::string message;
    EXPECT_EQ(error_path(R"({ "listeners": 2e99999 })", &message), "");
    EXPECT_NE(message.find("test.json: "), std::string::npos) << message;
}

TEST(ConfigJson, LoadsCertificatesRelativeToTheConfigFile) {
    auto dir =
        std::filesystem::temp_directory_path() / ("gatehouse-config-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    std::ofstream(dir / "mail.pem") << "CERT";
    std::ofstream(dir / "mail.key") << "KEY";
    std::ofstream(dir / "gatehouse.json") << R"({ "listeners": { "https": { "port": 443,
        "tls": { "certificates": [ { "names": ["mail.contoso.com"],
                 "certificate_file": "mail.pem", "key_file": "mail.key" } ] } } } })";
    auto c = load_config((dir / "gatehouse.json").string());
    std::filesystem::remove_all(dir);
    ASSERT_EQ(c.listeners.at(0).certificates.size(), 1u);
    EXPECT_EQ(c.listeners[0].certificates[0].pem.chain_pem, "CERT");
    EXPECT_EQ(c.listeners[0].certificates[0].pem.key_pem, "KEY");
}

TEST(ConfigJson, MissingFileIsAConfigError) {
    EXPECT_THROW(load_config("/nonexistent/gatehouse.json"), config_error);
}

TEST(ConfigJson, ReadsHardeningSettings) {
    auto c = parse_config(with(one_farm, "[]", R"(,
      "request_filtering": { "reject_underscore_headers": false },
      "exchange_protection": { "enabled": true, "allow_ecp": true })"),
                          "test.json");
    EXPECT_FALSE(c.request_filtering.reject_underscore_headers);
    EXPECT_TRUE(c.exchange_protection.enabled);
    EXPECT_TRUE(c.exchange_protection.allow_ecp);
    EXPECT_EQ(c.listeners[0].limits.chunk_extension_bytes, 4096u);
    EXPECT_EQ(error_path(with(one_farm, "[]", R"(, "exchange_protection": { "enable": true })")),
              "exchange_protection.enable");
    EXPECT_EQ(error_path(R"({ "listeners": { "http": { "port": 80,
                "limits": { "chunk_extension_bytes": 100000 } } } })"),
              "listeners.http.limits.chunk_extension_bytes");
}

TEST(ConfigValidate, ChecksConfigurationsBuiltInCode) {
    config c;
    c.listeners.push_back(listener_config{.name = "http", .address = "127.0.0.1", .port = 0});
    c.rules.push_back(
        rule_config{.name = "r",
                    .pattern = ".*",
                    .action = action_config{.type = action_type::route, .farm = "missing"}});
    try {
        validate(c, "embedded");
        FAIL() << "validate accepted a rule routing to a missing farm";
    } catch (const config_error& e) {
        EXPECT_EQ(e.path(), "rules.r.action.farm");
    }
}

}  // namespace
}  // namespace gatehouse::proxy
