#include "reports/writers.hpp"

#include "tests/unit/reports/sample_report.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>

namespace gatehouse::reports {
namespace {

std::string json_of(const report& r) {
    std::ostringstream out;
    write_json(r, out);
    return out.str();
}

report read(const std::string& text) {
    std::istringstream in(text);
    return read_json(in, "results.json");
}

TEST(JsonWriter, RoundTripIsExact) {
    auto first = json_of(test::sample_report());
    auto again = json_of(read(first));
    EXPECT_EQ(first, again);
}

TEST(JsonWriter, CarriesSchemaVersionAndTotals) {
    auto doc = nlohmann::json::parse(json_of(test::sample_report()));
    EXPECT_EQ(doc["schema"], "gatehouse-report");
    EXPECT_EQ(doc["schema_version"], schema_version);
    EXPECT_EQ(doc["totals"]["failed"], 1);
    EXPECT_EQ(doc["scenarios"][1]["verdict"], "failed");
    EXPECT_EQ(doc["scenarios"][0]["timeline"][1]["errors"]["502.3.12029"], 2);
}

TEST(JsonWriter, CarriesLoadFiguresAndTheScenarioTimeScale) {
    auto doc = nlohmann::json::parse(json_of(test::sample_report()));
    const auto& pass = doc["scenarios"][0];
    EXPECT_EQ(pass["time_scale"], 0.05);
    EXPECT_EQ(pass["timeline"][2]["lag_p99_ms"], 7.5);
    EXPECT_EQ(pass["facts"][0]["name"], "schedule");
    EXPECT_EQ(pass["breakdowns"][0]["rows"][0]["errors"]["502.3.12029"], 2);
    EXPECT_EQ(pass["breakdowns"][0]["rows"][0]["summary"]["requests"], 4000);
}

TEST(JsonWriter, ReadsVersionOneFilesWrittenBeforeTheLoadFigures) {
    auto doc = nlohmann::json::parse(json_of(test::sample_report()));
    for (auto& s : doc["scenarios"]) {
        s.erase("time_scale");
        s.erase("facts");
        s.erase("breakdowns");
        for (auto& p : s["timeline"]) {
            p.erase("lag_p50_ms");
            p.erase("lag_p99_ms");
        }
    }
    auto r = read(doc.dump());
    EXPECT_EQ(r.scenarios[0].time_scale, 0);
    EXPECT_TRUE(r.scenarios[0].facts.empty());
    EXPECT_TRUE(r.scenarios[0].breakdowns.empty());
    EXPECT_EQ(r.scenarios[0].timeline[2].lag_p99_ms, 0);
    EXPECT_EQ(r.scenarios[0].timeline[1].requests, 1000u);
}

TEST(JsonWriter, MissingFieldIsNamedByItsPath) {
    auto doc = nlohmann::json::parse(json_of(test::sample_report()));
    doc["scenarios"][1]["expectations"][0].erase("observed");
    try {
        read(doc.dump());
        FAIL() << "accepted a report with a missing field";
    } catch (const report_error& e) {
        EXPECT_STREQ(e.what(), "results.json: $.scenarios[1].expectations[0].observed: missing");
    }
    doc = nlohmann::json::parse(json_of(test::sample_report()));
    doc["scenarios"][0]["breakdowns"][0]["rows"][0].erase("summary");
    try {
        read(doc.dump());
        FAIL() << "accepted a breakdown row without its summary";
    } catch (const report_error& e) {
        EXPECT_STREQ(e.what(),
                     "results.json: $.scenarios[0].breakdowns[0].rows[0].summary: missing");
    }
}

TEST(JsonWriter, UnknownVerdictAndWrongTypesAreRejected) {
    auto doc = nlohmann::json::parse(json_of(test::sample_report()));
    doc["scenarios"][0]["verdict"] = "green";
    EXPECT_THROW(read(doc.dump()), report_error);
    doc = nlohmann::json::parse(json_of(test::sample_report()));
    doc["scenarios"][0]["duration_s"] = "long";
    try {
        read(doc.dump());
        FAIL();
    } catch (const report_error& e) {
        EXPECT_NE(std::string(e.what()).find("$.scenarios[0].duration_s: has the wrong type"),
                  std::string::npos);
    }
}

TEST(JsonWriter, OtherSchemaVersionsAndOtherDocumentsAreRefused) {
    auto doc = nlohmann::json::parse(json_of(test::sample_report()));
    doc["schema_version"] = schema_version + 1;
    EXPECT_THROW(read(doc.dump()), report_error);
    EXPECT_THROW(read("{\"hello\": 1}"), report_error);
    EXPECT_THROW(read("not json"), report_error);
}

}  // namespace
}  // namespace gatehouse::reports
