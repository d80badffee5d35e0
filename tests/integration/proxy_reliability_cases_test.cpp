// The reliability test-case table (reliability-anchors §8) as data, proven against
// gatehouse-proxy: tests/data/reliability_cases.json, the same file the scenario catalog uses to
// grade any proxy (HAProxy, nginx).
//
// Format: {"format": "gatehouse reliability cases 1", "cases": [ case, ... ]}, each case
//   "id"               the §8 row number, with a letter or suffix for variants ("6-quoted")
//   "title"            one line
//   "profile"          absent: a plain reverse proxy with one catch-all route to one back end;
//                      "exchange": the same with the Exchange protection preset (R1–R12) on
//   "request"          the raw bytes the client sends, as a JSON string (\r\n, \u0000 …), or
//   "request_base64"   the raw bytes in base64 (for bytes above 0x7f)
//   "expect": {
//     "status"               the statuses the first response may have
//     "status_class"         or a class: "2xx", "4xx" …
//     "or_close"             true: closing without any response is acceptable too
//     "responses"            how many responses the client must get (default: 1 at most)
//     "backend_requests"     how many complete requests (head and whole body) the back end
//                            must receive (0: rejected; a streamed body may have been cut)
//     "backend_must_not_see" substrings (case-insensitive) the back end must never receive
//     "backend_must_see"     substrings (case-insensitive) the back end must receive, checked
//                            only when the response is 2xx (a proxy may reject instead)
//   }
// The client sends the bytes on a fresh connection to the proxy (Host mail.contoso.com, the
// route's body limit 1 MiB), shuts down its sending side, and reads until the proxy closes.
// The back end answers every complete request with 200 "ok" and records every byte it got.
// Error responses (4xx, 5xx) must carry Connection: close and the connection must close.

#include "tests/integration/proxy_fixture.hpp"
#include "tests/integration/raw_exchange.hpp"

#include <fstream>

#include <boost/beast/core/detail/base64.hpp>
#include <nlohmann/json.hpp>

namespace gatehouse::test {
namespace {

struct reliability_case {
    std::string id{};
    std::string title{};
    std::string profile{};
    std::string request{};
    nlohmann::json expect{};
};

// GoogleTest names a failing parameter with this instead of a byte dump.
void PrintTo(const reliability_case& c, std::ostream* os) {
    *os << c.id << " (" << c.title << ")";
}

std::string base64_decode(const std::string& in) {
    namespace b64 = boost::beast::detail::base64;
    std::string out(b64::decoded_size(in.size()), '\0');
    auto [written, read] = b64::decode(out.data(), in.data(), in.size());
    out.resize(written);
    return out;
}

std::vector<reliability_case> load_cases() {
    std::ifstream in(GATEHOUSE_SOURCE_DIR "/tests/data/reliability_cases.json");
    if (!in) throw std::runtime_error("cannot read tests/data/reliability_cases.json");
    auto doc = nlohmann::json::parse(in);
    std::vector<reliability_case> out;
    for (const auto& c : doc.at("cases")) {
        reliability_case rc;
        rc.id = c.at("id").get<std::string>();
        rc.title = c.at("title").get<std::string>();
        rc.profile = c.value("profile", "");
        rc.request = c.contains("request") ? c.at("request").get<std::string>()
                                           : base64_decode(c.at("request_base64"));
        rc.expect = c.at("expect");
        out.push_back(std::move(rc));
    }
    return out;
}

bool status_allowed(const nlohmann::json& expect, unsigned status) {
    if (expect.contains("status"))
        for (const auto& s : expect.at("status"))
            if (s.get<unsigned>() == status) return true;
    if (expect.contains("status_class"))
        return expect.at("status_class").get<std::string>()[0] ==
               static_cast<char>('0' + status / 100);
    return false;
}

class ReliabilityCase : public ProxyTest, public ::testing::WithParamInterface<reliability_case> {};

TEST_P(ReliabilityCase, ProxyBehavesAsTheTableRequires) {
    const auto& c = GetParam();
    const auto& expect = c.expect;
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

    bool closed = false;
    auto received = exchange_raw(http(), c.request, closed);
    auto responses = parse_responses(received);
    SCOPED_TRACE("case " + c.id + ": " + c.title + "\nclient received:\n" +
                 received.substr(0, 600));

    if (responses.empty()) {
        EXPECT_TRUE(expect.value("or_close", false) && closed)
            << "no response, and closing is " << (expect.value("or_close", false) ? "" : "not ")
            << "acceptable";
    } else {
        EXPECT_TRUE(status_allowed(expect, responses[0].status))
            << "status " << responses[0].status << ", expected " << expect.dump();
        if (responses[0].status >= 400) {
            EXPECT_TRUE(responses[0].close) << "an error response must close the connection";
            EXPECT_TRUE(closed);
        }
    }
    EXPECT_EQ(responses.size(), expect.value("responses", responses.empty() ? 0u : 1u));

    if (expect.contains("backend_requests")) {
        EXPECT_EQ(cas.value("complete"), expect.at("backend_requests").get<std::uint64_t>());
    }
    std::string seen;
    for (std::size_t i = 0; i < cas.connections(); ++i) seen += cas.received(i);
    seen = lower(seen);
    for (const auto& s : expect.value("backend_must_not_see", nlohmann::json::array()))
        EXPECT_EQ(seen.find(lower(s.get<std::string>())), std::string::npos)
            << "the back end received \"" << s.get<std::string>() << "\":\n"
            << seen;
    if (!responses.empty() && responses[0].status / 100 == 2) {
        for (const auto& s : expect.value("backend_must_see", nlohmann::json::array()))
            EXPECT_NE(seen.find(lower(s.get<std::string>())), std::string::npos)
                << "the back end never received \"" << s.get<std::string>() << "\":\n"
                << seen;
    }
}

std::string case_name(const ::testing::TestParamInfo<reliability_case>& info) {
    std::string name = "case_";
    for (char ch : info.param.id) name += std::isalnum(static_cast<unsigned char>(ch)) ? ch : '_';
    return name;
}

INSTANTIATE_TEST_SUITE_P(Table, ReliabilityCase, ::testing::ValuesIn(load_cases()), case_name);

}  // namespace
}  // namespace gatehouse::test
