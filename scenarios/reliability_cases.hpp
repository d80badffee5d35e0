#pragma once
// The reliability test-case table (reliability-anchors §8) as data, and the rules that judge a
// proxy's behaviour on one case. Shared by the scenario runner (which grades any proxy with it)
// and the integration test (which proves every case against gatehouse-proxy). Pure: no sockets,
// no clocks; whoever sends the bytes fills in a case_observation.
//
// File format: {"format": "gatehouse reliability cases 1", "cases": [ case, ... ]}, each case
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

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::scenarios {

// A case file that cannot be read or does not follow the format. The message names the file
// and the JSON path.
class case_table_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct case_expectation {
    std::vector<unsigned> statuses{};
    std::optional<unsigned> status_class{};  // 4 for "4xx"
    bool or_close = false;
    std::optional<std::size_t> responses{};
    std::optional<std::uint64_t> backend_requests{};
    std::vector<std::string> backend_must_not_see{};
    std::vector<std::string> backend_must_see{};
};

struct reliability_case {
    std::string id{};
    std::string title{};
    std::string profile{};  // "" or "exchange"
    std::string request{};  // the raw bytes
    case_expectation expect{};
};

// Reads and checks a case file. Throws case_table_error.
std::vector<reliability_case> load_reliability_cases(const std::filesystem::path& file);
std::vector<reliability_case> parse_reliability_cases(std::string_view json,
                                                      const std::string& source);

// What happened when the case's bytes were sent.
struct case_observation {
    std::string received{};          // every byte the client got
    bool closed = false;             // the proxy closed (rather than the wait running out)
    std::string backend_bytes{};     // every byte the back end got during the case
    std::uint64_t backend_requests = 0;  // complete requests the back end got
};

struct case_verdict {
    bool passed = false;
    std::vector<std::string> problems{};  // one line each, empty when passed
    std::string observed{};               // "400, closed; back end: 0 requests"
};

// One response as the client saw it, found by splitting the received bytes (Content-Length or
// chunked bodies, as proxies write error pages).
struct parsed_response {
    unsigned status = 0;
    bool close = false;  // Connection: close
};
std::vector<parsed_response> parse_responses(std::string_view bytes);

// Judges `observed` by the case's rules (the file format above).
case_verdict judge(const reliability_case& c, const case_observation& observed);

// The case's expectation in words: "400 (or close) + close; back end: 0 requests".
std::string describe_expectation(const case_expectation& e);

}  // namespace gatehouse::scenarios
