#include "reports/writers.hpp"

#include "tests/unit/reports/sample_report.hpp"

#include <gtest/gtest.h>
#include <sstream>

namespace gatehouse::reports {
namespace {

std::string terminal_of(const report& r, terminal_options options) {
    std::ostringstream out;
    write_terminal(r, out, options);
    return out.str();
}

TEST(TerminalWriter, ListsEveryScenarioWithVerdictAndFigures) {
    auto text = terminal_of(test::sample_report(), {.colour = false, .details = true});
    EXPECT_NE(text.find("PASS  failover-health"), std::string::npos) << text;
    EXPECT_NE(text.find("FAIL  p01-eas-ping-timeout"), std::string::npos);
    EXPECT_NE(text.find("952"), std::string::npos);
    EXPECT_NE(text.find("4 scenarios: 1 passed, 1 failed, 1 errors, 1 unsupported"),
              std::string::npos);
}

TEST(TerminalWriter, DetailsShowExpectedVersusObserved) {
    auto text = terminal_of(test::sample_report(), {.colour = false, .details = true});
    EXPECT_NE(text.find("expected status 200"), std::string::npos);
    EXPECT_NE(text.find("observed 502.3.12002 after 30.0 s"), std::string::npos);
    EXPECT_NE(text.find("[client device1 step 2]"), std::string::npos);
    EXPECT_EQ(terminal_of(test::sample_report(), {.colour = false, .details = false})
                  .find("expected status 200"),
              std::string::npos);
}

TEST(TerminalWriter, ColourOnlyWhenAsked) {
    EXPECT_EQ(terminal_of(test::sample_report(), {.colour = false, .details = true}).find('\033'),
              std::string::npos);
    EXPECT_NE(terminal_of(test::sample_report(), {.colour = true, .details = true}).find("\033[31m"),
              std::string::npos);
}

}  // namespace
}  // namespace gatehouse::reports
