#include "reports/writers.hpp"

#include "tests/unit/reports/sample_report.hpp"

#include <gtest/gtest.h>
#include <pugixml.hpp>
#include <sstream>

namespace gatehouse::reports {
namespace {

pugi::xml_document junit_of(const report& r) {
    std::ostringstream out;
    write_junit(r, out);
    pugi::xml_document doc;
    auto parsed = doc.load_string(out.str().c_str());
    EXPECT_TRUE(parsed) << parsed.description();
    return doc;
}

// The attributes the JUnit XSD (as Jenkins/GitLab read it) requires on each element.
TEST(JunitWriter, HasTheRequiredStructure) {
    auto doc = junit_of(test::sample_report());
    auto suites = doc.child("testsuites");
    ASSERT_TRUE(suites);
    auto suite = suites.child("testsuite");
    ASSERT_TRUE(suite);
    for (const char* attr : {"name", "tests", "failures", "errors", "time"})
        EXPECT_TRUE(suite.attribute(attr)) << attr;
    EXPECT_EQ(suite.attribute("tests").as_int(), 4);
    EXPECT_EQ(suite.attribute("failures").as_int(), 1);
    EXPECT_EQ(suite.attribute("errors").as_int(), 1);
    EXPECT_EQ(suite.attribute("skipped").as_int(), 1);
    int cases = 0;
    for (auto testcase : suite.children("testcase")) {
        ++cases;
        for (const char* attr : {"name", "classname", "time"})
            EXPECT_TRUE(testcase.attribute(attr)) << attr;
    }
    EXPECT_EQ(cases, 4);
}

TEST(JunitWriter, FailureCarriesExpectedAndObserved) {
    auto doc = junit_of(test::sample_report());
    auto failed = doc.select_node("//testcase[failure]").node();
    ASSERT_TRUE(failed);
    EXPECT_NE(std::string(failed.attribute("name").value()).find("p01-eas-ping-timeout"),
              std::string::npos);
    std::string message = failed.child("failure").attribute("message").value();
    EXPECT_EQ(message,
              "Ping answered by the CAS: expected status 200, observed 502.3.12002 after 30.0 s "
              "(client device1 step 2)");
    EXPECT_NE(std::string(failed.child("system-out").text().get()).find("502.3.12002"),
              std::string::npos);
}

TEST(JunitWriter, ErrorsAndUnsupportedAreNotFailures) {
    auto doc = junit_of(test::sample_report());
    EXPECT_EQ(std::string(doc.select_node("//testcase[error]/error").node().attribute("message").value()),
              "proxy config: farms.owa.servers[0].port: must be 1..65535");
    EXPECT_NE(std::string(doc.select_node("//testcase[skipped]/skipped").node().attribute("message").value())
                  .find("nginx"),
              std::string::npos);
}

}  // namespace
}  // namespace gatehouse::reports
