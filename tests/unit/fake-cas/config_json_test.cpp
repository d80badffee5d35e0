#include "fake-cas/config_json.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace gatehouse::fake_cas {
namespace {

std::string error_of(const std::string& text) {
    try {
        parse_fleet_config(text, "fleet.json");
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

TEST(ConfigJson, CountOfServersGivesExchangeDefaults) {
    auto f = parse_fleet_config(R"({"servers": 2})", "fleet.json");
    ASSERT_EQ(f.servers.size(), 2u);
    EXPECT_EQ(f.servers[0].name, "cas1");
    EXPECT_EQ(f.servers[1].netbios, "EX02");
    EXPECT_EQ(f.servers[1].fqdn, "ex02.contoso.local");
    EXPECT_EQ(f.servers[0].at(vdir::activesync).auth, std::vector<auth_scheme>{auth_scheme::basic});
    EXPECT_EQ(f.servers[0].at(vdir::activesync).max_request_bytes, 10u * 1024 * 1024);
    EXPECT_FALSE(f.users.empty());
}

TEST(ConfigJson, CommentsAreAllowed) {
    auto f = parse_fleet_config(
        "{ // two servers\n \"servers\": 2, /* fast */ \"time_scale\": 0.01}", "fleet.json");
    EXPECT_DOUBLE_EQ(f.time_scale, 0.01);
}

TEST(ConfigJson, ServerDefaultsApplyBeforeEachServer) {
    auto f = parse_fleet_config(R"({
        "server_defaults": {"faults": {"latency_ms": 5}, "owa": {"fba_key_id": "shared"}},
        "servers": [{"name": "a"}, {"name": "b", "netbios": "EX09", "owa": {"fba_key_id": "b"}}]
    })",
                                "fleet.json");
    EXPECT_EQ(f.servers[0].faults.latency_ms, 5u);
    EXPECT_EQ(f.servers[0].owa.fba_key_id, "shared");
    EXPECT_EQ(f.servers[1].owa.fba_key_id, "b");
    EXPECT_EQ(f.servers[1].netbios, "EX09");
}

TEST(ConfigJson, UnknownKeyIsNamedWithItsPath) {
    EXPECT_EQ(error_of(R"({"servers": [{"vdirs": {"owa": {"faults": {"latency": 5}}}}]})"),
              "fleet.json: servers[0].vdirs.owa.faults.latency: unknown key");
    EXPECT_EQ(error_of(R"({"servers": 1, "colour": "blue"})"), "fleet.json: colour: unknown key");
}

TEST(ConfigJson, OutOfRangeValueIsNamedWithItsPath) {
    EXPECT_EQ(error_of(R"({"servers": [{"vdirs": {"ews": {"faults": {"error_rate": 2}}}}]})"),
              "fleet.json: servers[0].vdirs.ews.faults.error_rate: must be within [0, 1]");
    EXPECT_EQ(error_of(R"({"servers": [{"rpc": {"pair_scope": "galaxy"}}]})"),
              "fleet.json: servers[0].rpc.pair_scope: must be one of \"farm\", \"instance\"");
    EXPECT_EQ(error_of(R"({"servers": [{"vdirs": {"nope": {}}}]})"),
              "fleet.json: servers[0].vdirs.nope: unknown vdir");
}

TEST(ConfigJson, CrossFieldRulesAreChecked) {
    EXPECT_EQ(error_of(R"({"servers": [{"activesync": {"hb_min_s": 100, "hb_max_s": 50}}]})"),
              "fleet.json: servers[0].activesync.hb_min_s: must not exceed hb_max_s");
    EXPECT_EQ(error_of(R"({"servers": [{"name": "x"}, {"name": "x"}]})"),
              "fleet.json: servers[1].name: \"x\" is used twice");
}

TEST(ConfigJson, InvalidJsonNamesTheSource) {
    EXPECT_NE(error_of("{\"servers\": ").find("fleet.json: invalid JSON"), std::string::npos);
}

TEST(ConfigJson, InactiveResponseAcceptsStatusOrAction) {
    auto f = parse_fleet_config(R"({"servers": [{"health": {"inactive_response": "hang"},
        "vdirs": {"ews": {"health": {"inactive_response": 404}}}}]})",
                                "fleet.json");
    EXPECT_EQ(f.servers[0].at(vdir::owa).health.inactive, inactive_action::hang);
    EXPECT_EQ(f.servers[0].at(vdir::ews).health.inactive, inactive_action::status);
    EXPECT_EQ(f.servers[0].at(vdir::ews).health.inactive_status, 404u);
}

TEST(ConfigJson, PatchChangesOnlyWhatItNames) {
    auto s = default_server(1, "contoso.local");
    apply_server_patch(s,
                       nlohmann::json::parse(R"({"vdirs": {"mapi": {"faults": {"latency_ms": 250}}},
                                                    "mapi": {"nw_max_s": 10}})"),
                       "patch");
    EXPECT_EQ(s.at(vdir::mapi).faults.latency_ms, 250u);
    EXPECT_EQ(s.mapi.nw_max_s, 10u);
    EXPECT_EQ(s.mapi.pending_period_ms, 30000u);
    EXPECT_EQ(s.netbios, "EX01");
}

TEST(ConfigJson, PatchBuiltInCodeWithSignedIntegersIsAccepted) {
    auto s = default_server(1, "contoso.local");
    apply_server_patch(s, {{"faults", {{"latency_ms", 10}}}}, "patch");
    EXPECT_EQ(s.faults.latency_ms, 10u);
}

TEST(ConfigJson, FailedPatchLeavesTheServerUnchanged) {
    auto s = default_server(1, "contoso.local");
    try {
        apply_server_patch(s, nlohmann::json::parse(R"({"faults": {"latency_ms": 7, "bogus": 1}})"),
                           "patch");
        FAIL() << "expected a config_error";
    } catch (const config_error& e) {
        EXPECT_STREQ(e.what(), "patch: faults.bogus: unknown key");
    }
    EXPECT_EQ(s.faults.latency_ms, 0u);
}

TEST(ConfigJson, PatchRefusesIdentityKeys) {
    auto s = default_server(1, "contoso.local");
    EXPECT_THROW(apply_server_patch(s, {{"port", 8080}}, "patch"), config_error);
}

TEST(ConfigJson, SerialisedKnobsParseBackToTheSameConfig) {
    auto s = default_server(2, "contoso.local");
    s.faults.stall_after_bytes = 100;
    s.rpc.pair_scope = scope::instance;
    s.at(vdir::owa).health.inactive = inactive_action::reset;
    auto j = to_json(s);
    for (auto key : {"name", "address", "port", "tls", "inactive_components"}) j.erase(key);
    auto t = default_server(2, "contoso.local");
    apply_server_patch(t, j, "patch");
    EXPECT_EQ(to_json(t), to_json(s));
}

TEST(ConfigJson, ScaledDurationsMultiplyByTheTimeScale) {
    EXPECT_EQ(scaled_s(0.001, 3600), std::chrono::milliseconds(3600));
    EXPECT_EQ(scaled_ms(2.0, 50), std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace gatehouse::fake_cas
