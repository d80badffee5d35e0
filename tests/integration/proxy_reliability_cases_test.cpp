// The reliability test-case table (reliability-anchors §8) as data, proven against
// gatehouse-proxy: tests/data/reliability_cases.json, the same file the scenario catalog uses to
// grade any proxy (scenarios/catalog/reliability-cases*.json against HAProxy and nginx). The
// file format and the judging rules are in scenarios/reliability_cases.hpp, shared with the
// scenario runner, so the catalog and this test cannot disagree on what a case requires.
//
// Each case runs against a proxy of its own (the "exchange" profile turns the Exchange
// protection preset on) in front of a back end that answers every complete request with 200
// "ok" and records every byte it got.

#include "scenarios/reliability_cases.hpp"
#include "tests/integration/proxy_fixture.hpp"
#include "tests/integration/raw_exchange.hpp"

namespace gatehouse::scenarios {
// GoogleTest names a failing parameter with this instead of a byte dump.
void PrintTo(const reliability_case& c, std::ostream* os) { *os << c.id << " (" << c.title << ")"; }
}  // namespace gatehouse::scenarios

namespace gatehouse::test {
namespace {

using scenarios::reliability_case;

std::vector<reliability_case> load_cases() {
    return scenarios::load_reliability_cases(GATEHOUSE_SOURCE_DIR
                                             "/tests/data/reliability_cases.json");
}

class ReliabilityCase : public ProxyTest, public ::testing::WithParamInterface<reliability_case> {};

TEST_P(ReliabilityCase, ProxyBehavesAsTheTableRequires) {
    const auto& c = GetParam();
    fake_backend cas([](backend_connection& conn) {
        while (auto req = conn.read_request()) {
            conn.backend().add("complete");
            conn.respond(200, "ok");
        }
    });
    start(R"({
      "listeners": { "http": { "address": "127.0.0.1", "port": 0,
                               "limits": { "header_timeout_ms": 2000 } } },
      "request_filtering": { "max_allowed_content_length": 1048576 },
      "exchange_protection": { "enabled": ${EXCHANGE} },
      "farms": { "cas": { "servers": [ { "address": "127.0.0.1", "port": ${PORT} } ] } },
      "rules": [ { "name": "all", "pattern": ".*", "action": { "type": "route", "farm": "cas" } } ]
    })",
          {{"PORT", std::to_string(cas.port())},
           {"EXCHANGE", c.profile == "exchange" ? "true" : "false"}});

    scenarios::case_observation observed;
    observed.received = exchange_raw(http(), c.request, observed.closed);
    observed.backend_requests = cas.value("complete");
    for (std::size_t i = 0; i < cas.connections(); ++i) observed.backend_bytes += cas.received(i);

    auto verdict = scenarios::judge(c, observed);
    std::string problems;
    for (const auto& p : verdict.problems) problems += "\n  " + p;
    EXPECT_TRUE(verdict.passed) << "case " << c.id << ": " << c.title << "\nexpected "
                                << scenarios::describe_expectation(c.expect) << "\nobserved "
                                << verdict.observed << problems << "\nclient received:\n"
                                << observed.received.substr(0, 600) << "\nback end received:\n"
                                << observed.backend_bytes.substr(0, 600);
}

std::string case_name(const ::testing::TestParamInfo<reliability_case>& info) {
    std::string name = "case_";
    for (char ch : info.param.id) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
    return name;
}

INSTANTIATE_TEST_SUITE_P(Table, ReliabilityCase, ::testing::ValuesIn(load_cases()), case_name);

}  // namespace
}  // namespace gatehouse::test
