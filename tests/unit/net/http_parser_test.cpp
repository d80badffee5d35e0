// head_parser::put_head, the one-pass path for whole heads, against Beast's own parse of the
// same bytes (put_head off): whatever put_head accepts must come out exactly as put() gives it,
// and whatever is unusual must be left to put().

#include "net/http_parser.hpp"

#include "net/http_io.hpp"

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace gatehouse::net {
namespace {

// Everything a caller can observe after parse_head().
struct outcome {
    bool complete = false;
    error_code ec{};
    std::size_t left = 0;  // bytes still buffered
    std::string method{}, target{}, reason{};
    unsigned status = 0, version = 0;
    std::vector<std::pair<std::string, std::string>> fields{};
    bool keep_alive = false, chunked = false, upgrade = false, need_eof = false, done = false;
    std::optional<std::uint64_t> length{};

    bool operator==(const outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const outcome& o) {
    os << "complete=" << o.complete << " ec=" << o.ec.message() << " left=" << o.left << " "
       << o.method << " " << o.target << " " << o.status << " " << o.reason << " v" << o.version
       << " keep_alive=" << o.keep_alive << " chunked=" << o.chunked
       << " length=" << (o.length ? std::to_string(*o.length) : "-") << " fields:";
    for (const auto& [n, v] : o.fields) os << " [" << n << "=" << v << "]";
    return os;
}

template <bool IsRequest>
outcome parse(std::string_view bytes, bool fast, const parser_limits& limits = {}) {
    http_head head;
    head_parser<IsRequest> parser(head, limits);
    parser.fast_head(fast);
    beast::flat_buffer buffer;
    auto room = buffer.prepare(bytes.size());
    std::memcpy(room.data(), bytes.data(), bytes.size());
    buffer.commit(bytes.size());
    outcome o;
    auto result = parse_head(buffer, parser);
    o.complete = result.has_value();
    if (result) o.ec = *result;
    // How much of a refused head was consumed does not matter: the connection ends.
    if (!o.complete || o.ec) return o;
    o.left = buffer.size();
    o.method = head.method;
    o.target = head.target;
    o.status = head.status;
    o.reason = head.reason;
    o.version = head.version;
    for (auto [name, value] : head.fields) o.fields.emplace_back(name, value);
    o.keep_alive = parser.keep_alive();
    o.chunked = parser.chunked();
    o.upgrade = parser.upgrade();
    o.need_eof = parser.need_eof();
    o.done = parser.is_done();
    if (auto length = parser.content_length()) o.length = *length;
    return o;
}

template <bool IsRequest>
bool taken(std::string_view bytes, const parser_limits& limits = {}) {
    http_head head;
    head_parser<IsRequest> parser(head, limits);
    error_code ec;
    return parser.put_head(bytes, ec).has_value();
}

const std::string outlook_request =
    "POST /mapi/emsmdb/?MailboxId=a@contoso.com HTTP/1.1\r\n"
    "Host: mail.contoso.com\r\n"
    "User-Agent: Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)\r\n"
    "Content-Type: application/mapi-http\r\n"
    "X-RequestType: Connect\r\n"
    "X-ClientInfo: {2EF33C39-49C8-421C-B876-CDF7F2AC3AA0}:1\r\n"
    "Authorization: Negotiate TlRMTVNTUAABAAAAB4IIogAAAAAAAAAAAAAAAAAAAAAKAGFKAAAADw==\r\n"
    "Content-Length: 149\r\n"
    "Connection: Keep-Alive\r\n"
    "\r\n";

const std::string nginx_response =
    "HTTP/1.1 200 OK\r\n"
    "Server: nginx/1.22.1\r\n"
    "Date: Sun, 06 Dec 2026 20:02:58 GMT\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Length: 15\r\n"
    "Last-Modified: Sun, 06 Dec 2026 19:53:36 GMT\r\n"
    "Connection: keep-alive\r\n"
    "ETag: \"6b15bd40-f\"\r\n"
    "Accept-Ranges: bytes\r\n"
    "\r\n"
    "200 OK<br/>CAS1";

TEST(HttpParserFastHead, TakesTypicalHeadsAndGivesWhatBeastGives) {
    ASSERT_TRUE(taken<true>(outlook_request));
    ASSERT_TRUE(taken<false>(nginx_response));
    auto request = parse<true>(outlook_request, true);
    EXPECT_EQ(request, parse<true>(outlook_request, false));
    EXPECT_EQ(request.fields.size(), 8u);
    EXPECT_EQ(request.length, 149u);
    EXPECT_TRUE(request.keep_alive);
    auto response = parse<false>(nginx_response, true);
    EXPECT_EQ(response, parse<false>(nginx_response, false));
    EXPECT_EQ(response.left, 15u);  // the body stays buffered
    EXPECT_EQ(response.fields[5],
              (std::pair<std::string, std::string>("Connection", "keep-alive")));
}

TEST(HttpParserFastHead, LeavesUnusualHeadsToBeast) {
    const std::string ok = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    EXPECT_TRUE(taken<true>(ok));
    EXPECT_FALSE(taken<true>("GET / HTTP/1.1\r\nHost: a\r\n"));                     // incomplete
    EXPECT_FALSE(taken<true>("GET / HTTP/1.1\r\nX: a\r\n b\r\nHost: a\r\n\r\n"));   // obs-fold
    EXPECT_FALSE(taken<true>("GET / HTTP/1.1\r\nX: a\nHost: a\r\n\r\n"));           // bare LF
    EXPECT_FALSE(taken<true>("GET / HTTP/1.1\r\nX : a\r\nHost: a\r\n\r\n"));        // space
    EXPECT_FALSE(taken<true>(std::string("GET / HTTP/1.1\r\nX: \0\r\n\r\n", 23)));  // NUL
    EXPECT_FALSE(taken<true>("GET /\t HTTP/1.1\r\nHost: a\r\n\r\n"));  // control in start line
    parser_limits few;
    few.fields = 1;
    EXPECT_FALSE(taken<true>("GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n\r\n", few));
    parser_limits small;
    small.head_bytes = static_cast<std::uint32_t>(ok.size());
    EXPECT_FALSE(taken<true>(ok, small));
}

TEST(HttpParserFastHead, FramingErrorsAreBeastsOwn) {
    for (const char* head : {
             "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
             "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n",
             "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: "
             "3\r\n\r\n",
             "POST / HTTP/1.1\r\nHost: a\r\nConnection: close,,\"\r\n\r\n",
             "GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n",
             "GET / HTTP/1.0\r\nHost: a\r\n\r\n",
             "GET / HTTP/1.0\r\nHost: a\r\nProxy-Connection: keep-alive\r\n\r\n",
             "G@T / HTTP/1.1\r\nHost: a\r\n\r\n",
             "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
             "GET / HTTP/1.0\r\nHost: a\r\nConnection: Keep-Alive\r\n\r\n",
         }) {
        SCOPED_TRACE(head);
        EXPECT_EQ(parse<true>(head, true), parse<true>(head, false));
    }
    EXPECT_FALSE(parse<true>("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n"
                             "Connection: close\r\n\r\n",
                             true)
                     .keep_alive);
    EXPECT_TRUE(parse<true>("GET / HTTP/1.0\r\nHost: a\r\nConnection: Keep-Alive\r\n\r\n", true)
                    .keep_alive);
    const std::string chunked = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
    EXPECT_TRUE(parse<false>(chunked, true).chunked);
    EXPECT_EQ(parse<false>(chunked, true), parse<false>(chunked, false));
    const std::string until_close = "HTTP/1.0 200 OK\r\nServer: x\r\n\r\nbody";
    EXPECT_TRUE(parse<false>(until_close, true).need_eof);
    EXPECT_EQ(parse<false>(until_close, true), parse<false>(until_close, false));
}

// Random edits of real heads: bytes that matter to the grammar put in, taken out, swapped.
template <bool IsRequest>
void compare_mutations(const std::vector<std::string>& seeds, unsigned rounds) {
    std::mt19937 random(20261206);
    const std::string alphabet =
        std::string(" \t\r\n:,;\"=\x7f\x80\xff\x01", 14) + std::string(1, '\0') + "aZ09-/.Hh";
    const std::vector<std::string> names = {"Content-Length",   "Transfer-Encoding",
                                            "Connection",       "Upgrade",
                                            "Proxy-Connection", "content-length"};
    unsigned fast_taken = 0;
    for (unsigned round = 0; round < rounds; ++round) {
        std::string bytes = seeds[random() % seeds.size()];
        const unsigned edits = 1 + random() % 3;
        for (unsigned e = 0; e < edits; ++e) {
            const std::size_t at = random() % bytes.size();
            switch (random() % 5) {
                case 0:
                    bytes[at] = alphabet[random() % alphabet.size()];
                    break;
                case 1:
                    bytes.insert(at, 1, alphabet[random() % alphabet.size()]);
                    break;
                case 2:
                    bytes.erase(at, 1 + random() % 3);
                    break;
                case 3:
                    bytes.insert(at, names[random() % names.size()] + ": ");
                    break;
                default:
                    bytes.insert(at, "\r\n");
                    break;
            }
            if (bytes.empty()) bytes = "\r\n";
        }
        parser_limits limits;
        if (round % 7 == 0) limits.fields = 3;
        if (round % 11 == 0) limits.field_bytes = 24;
        if (round % 13 == 0) limits.head_bytes = 96;
        if (round % 17 == 0) limits.body_bytes = 10;
        if (taken<IsRequest>(bytes, limits)) ++fast_taken;
        auto fast = parse<IsRequest>(bytes, true, limits);
        auto slow = parse<IsRequest>(bytes, false, limits);
        ASSERT_EQ(fast, slow) << "round " << round << ": " << testing::PrintToString(bytes);
    }
    // The comparison means something only if the one-pass path ran often.
    EXPECT_GT(fast_taken, rounds / 5);
}

TEST(HttpParserFastHead, RequestsAgreeWithBeastUnderRandomEdits) {
    compare_mutations<true>(
        {outlook_request, "GET /owa/HealthCheck.htm HTTP/1.1\r\nHost: a\r\n\r\n",
         "POST /Microsoft-Server-ActiveSync?Cmd=Ping HTTP/1.1\r\nHost: m\r\n"
         "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n5\r\nhello"},
        100000);
}

TEST(HttpParserFastHead, ResponsesAgreeWithBeastUnderRandomEdits) {
    compare_mutations<false>({nginx_response, "HTTP/1.1 204 No Content\r\nX: y\r\n\r\n",
                              "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: NTLM\r\n"
                              "WWW-Authenticate: Negotiate\r\nContent-Length: 0\r\n\r\n",
                              "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
                             100000);
}

}  // namespace
}  // namespace gatehouse::net
