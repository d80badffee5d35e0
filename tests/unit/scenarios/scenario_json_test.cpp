#include "scenarios/scenario.hpp"

#include <gtest/gtest.h>

namespace gatehouse::scenarios {
namespace {

nlohmann::json minimal() {
    return nlohmann::json::parse(R"({
      "title": "Failover when one CAS's HealthCheck.htm fails",
      "description": "cas2 /owa component goes inactive",
      "tags": ["health"],
      "time_scale": 0.01,
      "fleet": {"servers": [{"name": "cas1"}, {"name": "cas2"}]},
      "sut": {"gatehouse": {"config": {"farms": {}}},
              "nginx": {"unsupported": "no active health checks"}},
      "clients": [{"name": "c1", "steps": [
          {"send": {"target": "/owa/HealthCheck.htm"}, "label": "probe"},
          {"expect": {"status": 200, "latency_ms": "< 500"}}]}],
      "timeline": [{"at_s": 30, "health": {"server": "cas2", "vdir": "owa", "state": "inactive"},
                    "label": "flip"}],
      "expect": [{"failover_time": {"server": "cas2", "after": "flip"}, "expect": "<= 60"},
                 {"error_rate": {}, "expect": "< 0.01", "window_s": [70, null]}]
    })");
}

std::string error_of(const nlohmann::json& doc) {
    try {
        parse_scenario(doc, "catalog/failover.json");
    } catch (const scenario_error& e) {
        return e.what();
    }
    return "accepted";
}

TEST(ScenarioJson, ParsesAWholeScenario) {
    auto s = parse_scenario(minimal(), "catalog/failover.json");
    EXPECT_EQ(s.id, "failover");
    EXPECT_EQ(s.time_scale, 0.01);
    ASSERT_EQ(s.clients.size(), 1u);
    EXPECT_EQ(s.clients[0].steps[0].kind, "send");
    EXPECT_EQ(s.clients[0].steps[0].label, "probe");
    EXPECT_EQ(s.clients[0].steps[1].path, "$.clients[0].steps[1]");
    ASSERT_EQ(s.timeline.size(), 1u);
    EXPECT_EQ(s.timeline[0].kind, "health");
    ASSERT_EQ(s.expectations.size(), 2u);
    EXPECT_EQ(s.expectations[1].span.from_s, 70.0);
    EXPECT_FALSE(s.expectations[1].span.to_s);
    EXPECT_EQ(s.sut.at("nginx").unsupported, "no active health checks");
    EXPECT_DOUBLE_EQ(planned_duration(s), 30);
}

TEST(ScenarioJson, UnknownKeysAreNamedByPath) {
    auto doc = minimal();
    doc["clients"][0]["steps"][0]["send"]["tragte"] = "/x";
    EXPECT_EQ(error_of(doc),
              "catalog/failover.json: $.clients[0].steps[0].send.tragte: unknown argument of "
              "send (expected one of: method, target, headers, body, body_bytes, host, auth, "
              "new_connection, timeout_s, hold_body)");
    doc = minimal();
    doc["colour"] = "blue";
    EXPECT_NE(error_of(doc).find("$.colour: unknown key"), std::string::npos);
}

TEST(ScenarioJson, UnknownKindsAreRefused) {
    auto doc = minimal();
    doc["timeline"][0] = {{"at_s", 1}, {"explode", {{"server", "cas1"}}}};
    EXPECT_NE(error_of(doc).find("$.timeline[0].explode: unknown action"), std::string::npos);
    doc = minimal();
    doc["expect"][0] = {{"vibes", {}}, {"expect", "> 0"}};
    EXPECT_NE(error_of(doc).find("$.expect[0].vibes: unknown expectation"), std::string::npos);
}

TEST(ScenarioJson, MissingRequiredArgumentsAndBadTypes) {
    auto doc = minimal();
    doc["timeline"][0]["health"].erase("state");
    EXPECT_NE(error_of(doc).find("$.timeline[0].health.state: is required"), std::string::npos);
    doc = minimal();
    doc["clients"][0]["steps"][1]["expect"]["status"] = "200";
    EXPECT_NE(error_of(doc).find("$.clients[0].steps[1].expect.status: must be a status code or a non-empty array"),
              std::string::npos);
}

TEST(ScenarioJson, CrossReferencesAreChecked) {
    auto doc = minimal();
    doc["expect"][0]["failover_time"]["after"] = "nope";
    EXPECT_NE(error_of(doc).find("no timeline action is labelled 'nope'"), std::string::npos);
    doc = minimal();
    doc["expect"].push_back({{"affinity", {{"client", "c9"}}}, {"expect", "== 1"}});
    EXPECT_NE(error_of(doc).find("no client is named 'c9'"), std::string::npos);
}

TEST(ScenarioJson, ConditionsAndWindowsAreValidated) {
    auto doc = minimal();
    doc["expect"][1]["expect"] = "about 1%";
    EXPECT_NE(error_of(doc).find("$.expect[1].expect: must be a condition"), std::string::npos);
    doc = minimal();
    doc["expect"][1]["window_s"] = {80, 70};
    EXPECT_NE(error_of(doc).find("the end must come after the start"), std::string::npos);
}

TEST(ScenarioJson, SystemsUnderTestAreValidated) {
    auto doc = minimal();
    doc["sut"]["envoy"] = {{"template", "x"}};
    EXPECT_NE(error_of(doc).find("$.sut.envoy: unknown system under test"), std::string::npos);
    doc = minimal();
    doc["sut"]["haproxy"] = {{"template", "templates/missing.cfg"}};
    EXPECT_NE(error_of(doc).find("$.sut.haproxy.template: no such file"), std::string::npos);
}

TEST(ScenarioJson, NoTrafficIsAnError) {
    auto doc = minimal();
    doc.erase("clients");
    EXPECT_NE(error_of(doc).find("nothing would send traffic"), std::string::npos);
}

TEST(ScenarioJson, CaseTableStepsNeedTheRecordingBackEndAndAReadableTable) {
    // The scenario file sits in scenarios/catalog/, the table in tests/data/.
    std::string file = GATEHOUSE_SOURCE_DIR "/scenarios/catalog/cases.json";
    auto doc = minimal();
    doc["clients"][0]["steps"] = nlohmann::json::parse(
        R"([{"send_cases": {"file": "../../tests/data/reliability_cases.json"}}])");
    auto without = [&] {
        try {
            parse_scenario(doc, file);
        } catch (const scenario_error& e) {
            return std::string(e.what());
        }
        return std::string("accepted");
    };
    EXPECT_NE(without().find("$.clients[0].steps[0].send_cases: needs \"recording_backend\""),
              std::string::npos)
        << without();
    doc["recording_backend"] = true;
    auto s = parse_scenario(doc, file);
    // The table's path is resolved against the scenario file once, at parse time.
    EXPECT_EQ(s.clients[0].steps[0].args["file"],
              std::filesystem::path(GATEHOUSE_SOURCE_DIR "/tests/data/reliability_cases.json")
                  .lexically_normal()
                  .string());
    doc["clients"][0]["steps"][0]["send_cases"]["only"] = {"1", "no-such-case"};
    EXPECT_NE(without().find("send_cases.only: the case file has no case \"no-such-case\""),
              std::string::npos)
        << without();
    doc["clients"][0]["steps"][0]["send_cases"].erase("only");
    doc["clients"][0]["steps"][0]["send_cases"]["file"] = "missing.json";
    EXPECT_NE(without().find("send_cases.file: "), std::string::npos) << without();
}

}  // namespace
}  // namespace gatehouse::scenarios
