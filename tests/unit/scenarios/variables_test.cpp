#include "scenarios/variables.hpp"

#include <gtest/gtest.h>

namespace gatehouse::scenarios {
namespace {

TEST(Variables, ExpandsReferencesInText) {
    variables v;
    v.set("cas1_addr", "127.0.0.1");
    v.set("cas1_port", 40001);
    EXPECT_EQ(v.expand("server cas1 ${cas1_addr}:${cas1_port} check", "t"),
              "server cas1 127.0.0.1:40001 check");
    EXPECT_EQ(v.expand("no references", "t"), "no references");
}

TEST(Variables, ScalesDurationsWithTheTimeScale) {
    variables v(0.01);
    EXPECT_EQ(v.expand("timeout server ${ms:30000}ms", "t"), "timeout server 300ms");
    EXPECT_EQ(v.expand("${s:900}", "t"), "9");
    EXPECT_EQ(v.expand("${s:10}", "t"), "1");  // never rounds down to 0 seconds
}

TEST(Variables, UnknownReferenceNamesThePlace) {
    variables v;
    try {
        v.expand("x ${cas9_port}", "haproxy.cfg");
        FAIL();
    } catch (const substitution_error& e) {
        EXPECT_STREQ(e.what(), "haproxy.cfg: ${cas9_port} is not defined");
    }
    EXPECT_THROW(v.expand("${unterminated", "t"), substitution_error);
    EXPECT_THROW(v.expand("${}", "t"), substitution_error);
    EXPECT_THROW(v.expand("${hours:3}", "t"), substitution_error);
}

TEST(Variables, JsonExpansionTurnsWholeIntegerReferencesIntoNumbers) {
    variables v;
    v.set("cas1_port", 40001);
    v.set("cas1_addr", "127.0.0.1");
    auto out = v.expand_json(nlohmann::json::parse(R"({"servers": [{"address": "${cas1_addr}",
        "port": "${cas1_port}", "label": "port ${cas1_port}"}], "n": 3})"),
                        "$.sut.gatehouse.config");
    EXPECT_EQ(out["servers"][0]["port"], 40001);
    EXPECT_EQ(out["servers"][0]["address"], "127.0.0.1");
    EXPECT_EQ(out["servers"][0]["label"], "port 40001");
    EXPECT_EQ(out["n"], 3);
}

TEST(Variables, JsonErrorsCarryThePath) {
    variables v;
    try {
        v.expand_json(nlohmann::json::parse(R"({"farms": {"owa": {"port": "${nope}"}}})"), "$.config");
        FAIL();
    } catch (const substitution_error& e) {
        EXPECT_STREQ(e.what(), "$.config.farms.owa.port: ${nope} is not defined");
    }
}

}  // namespace
}  // namespace gatehouse::scenarios
