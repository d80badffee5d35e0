// The case table's file format and judging rules (shared by the scenario runner and the proxy's
// integration test), driven with hand-made observations.

#include "scenarios/reliability_cases.hpp"

#include <gtest/gtest.h>

namespace gatehouse::scenarios {
namespace {

reliability_case one(const std::string& expect_json, const std::string& extra = {}) {
    auto cases = parse_reliability_cases(
        R"({"format": "gatehouse reliability cases 1", "cases": [
            {"id": "t", "title": "test", "request": "GET / HTTP/1.1\r\n\r\n", )" +
            extra + R"( "expect": )" + expect_json + "}]}",
        "test.json");
    return cases.at(0);
}

const std::string rejected = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n"
                             "Content-Length: 3\r\n\r\nbad";
const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

TEST(ReliabilityCases, ShippedTableParsesWithUniqueIdsAndBothProfiles) {
    auto cases = load_reliability_cases(GATEHOUSE_SOURCE_DIR "/tests/data/reliability_cases.json");
    EXPECT_GT(cases.size(), 100u);
    auto exchange = std::count_if(cases.begin(), cases.end(),
                                  [](const auto& c) { return c.profile == "exchange"; });
    EXPECT_GT(exchange, 10);
    EXPECT_LT(static_cast<std::size_t>(exchange), cases.size());
    // base64 requests decode to raw bytes above 0x7f
    auto ff = std::find_if(cases.begin(), cases.end(),
                           [](const auto& c) { return c.id == "6-spaceFF"; });
    ASSERT_NE(ff, cases.end());
    EXPECT_NE(ff->request.find("Transfer-Encoding:\xff" "chunked"), std::string::npos);
}

TEST(ReliabilityCases, FileErrorsNameTheJsonPath) {
    try {
        one(R"({"status": [400], "backend_request": 0})");
        FAIL() << "an unknown key was accepted";
    } catch (const case_table_error& e) {
        EXPECT_NE(std::string(e.what()).find("$.cases[0].expect.backend_request"),
                  std::string::npos)
            << e.what();
    }
    EXPECT_THROW(one(R"({"or_close": true})"), case_table_error);  // no status
    EXPECT_THROW(one(R"({"status": [400]})", R"("profile": "iis",)"), case_table_error);
    EXPECT_THROW(parse_reliability_cases(R"({"format": "other", "cases": []})", "x"),
                 case_table_error);
}

TEST(ReliabilityCases, RejectWithCloseAndNothingForwardedPasses) {
    auto c = one(R"({"status": [400], "backend_requests": 0})");
    auto v = judge(c, {.received = rejected, .closed = true});
    EXPECT_TRUE(v.passed) << v.observed;
    EXPECT_EQ(v.observed, "400 (close), closed; back end: 0 request(s), 0 bytes");
}

TEST(ReliabilityCases, ForwardingWhatShouldBeRejectedFailsWithEveryReason) {
    auto c = one(R"({"status": [400], "backend_requests": 0,
                     "backend_must_not_see": ["/smuggled"]})");
    auto v = judge(c, {.received = ok, .closed = true,
                       .backend_bytes = "POST / HTTP/1.1\r\n\r\nGET /SMUGGLED HTTP/1.1\r\n\r\n",
                       .backend_requests = 1});
    EXPECT_FALSE(v.passed);
    ASSERT_EQ(v.problems.size(), 3u);
    EXPECT_EQ(v.problems[0], "status 200");
    EXPECT_EQ(v.problems[1], "the back end got 1 complete request(s), expected 0");
    EXPECT_EQ(v.problems[2], "the back end received \"/smuggled\"");
}

TEST(ReliabilityCases, ErrorResponsesMustCloseTheConnection) {
    auto c = one(R"({"status": [400]})");
    auto keep_alive = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n";
    auto v = judge(c, {.received = keep_alive, .closed = false});
    EXPECT_FALSE(v.passed);
    EXPECT_EQ(v.problems.size(), 2u);  // no Connection: close, and left open
}

TEST(ReliabilityCases, ClosingWithoutResponseNeedsOrClose) {
    EXPECT_FALSE(judge(one(R"({"status": [400]})"), {.closed = true}).passed);
    EXPECT_TRUE(judge(one(R"({"status": [400], "or_close": true})"), {.closed = true}).passed);
    // Still hanging when the wait ran out is never a close.
    EXPECT_FALSE(judge(one(R"({"status": [400], "or_close": true})"), {.closed = false}).passed);
}

TEST(ReliabilityCases, MustSeeIsJudgedOnlyWhenTheProxyForwarded) {
    auto c = one(R"({"status": [200, 400], "backend_must_see": ["X-Forwarded-For: 127.0.0.1"]})");
    EXPECT_TRUE(judge(c, {.received = rejected, .closed = true}).passed);
    EXPECT_FALSE(judge(c, {.received = ok, .closed = true, .backend_bytes = "GET / HTTP/1.1\r\n"})
                     .passed);
    EXPECT_TRUE(judge(c, {.received = ok, .closed = true,
                          .backend_bytes = "GET / HTTP/1.1\r\nx-forwarded-for: 127.0.0.1\r\n"})
                    .passed);
}

TEST(ReliabilityCases, ResponseCountDefaultsToAtMostOne) {
    auto c = one(R"({"status_class": "2xx"})");
    EXPECT_TRUE(judge(c, {.received = ok, .closed = true}).passed);
    EXPECT_FALSE(judge(c, {.received = ok + ok, .closed = true}).passed);
    auto two = one(R"({"status": [200], "responses": 2})");
    EXPECT_TRUE(judge(two, {.received = ok + ok, .closed = true}).passed);
    EXPECT_FALSE(judge(two, {.received = ok, .closed = true}).passed);
}

TEST(ReliabilityCases, ResponsesSplitOnContentLengthAndChunkedBodies) {
    auto chunked = "HTTP/1.1 502 Bad Gateway\r\nTransfer-Encoding: chunked\r\n"
                   "Connection: close\r\n\r\n3\r\nbad\r\n0\r\n\r\n";
    auto r = parse_responses(ok + chunked);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0].status, 200u);
    EXPECT_FALSE(r[0].close);
    EXPECT_EQ(r[1].status, 502u);
    EXPECT_TRUE(r[1].close);
    EXPECT_TRUE(parse_responses("garbage").empty());
}

}  // namespace
}  // namespace gatehouse::scenarios
