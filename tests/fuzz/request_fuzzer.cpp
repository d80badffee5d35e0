// The request path: bytes → Gatehouse's request parser (fed in two pieces, split where the first
// input byte says) → the proxy's validation → the head the back end would receive → parsed
// again. Oracles beyond "no crash": whatever the proxy accepts and forwards re-parses cleanly,
// passes validation again, has the same method, target and body, carries exactly one framing
// mechanism, and keeps every end-to-end field in order (hop-by-hop ones and those named in
// Connection gone). And the one-pass head parser (put_head) agrees with Beast's own parse of the
// same bytes, as a request and as a response.

#include "net/http_parser.hpp"
#include "proxy/forwarding.hpp"
#include "proxy/request_validator.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace gatehouse;

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "oracle failed: %s\n", what);
    std::abort();
}

struct parsed {
    bool ok = false;
    std::string body{};
    bool chunked = false;
    std::optional<std::uint64_t> length{};
};

// Feeds `pieces` to a fresh parser as a connection would (unconsumed bytes stay buffered).
parsed parse(net::http_head& head, const std::vector<std::string_view>& pieces,
             const net::parser_limits& limits = {}) {
    parsed out;
    net::request_parser parser(head, limits);
    std::string buffer;
    std::size_t next = 0;
    error_code ec;
    parser.eager(false);
    while (!parser.is_header_done()) {
        if (next == pieces.size()) return out;
        buffer.append(pieces[next++]);
        // As net::read_head: never an empty put (Beast would do arithmetic on a null pointer).
        if (buffer.empty()) continue;
        auto used = parser.put(asio::buffer(buffer), ec);
        if (parser.is_header_done() && net::contains_obs_fold({buffer.data(), used})) return out;
        buffer.erase(0, used);
        if (ec && ec != http::error::need_more) return out;
        ec = {};
    }
    out.chunked = parser.chunked();
    if (auto n = parser.content_length()) out.length = *n;
    parser.eager(true);
    char chunk[512];
    for (;;) {
        if (parser.is_done()) break;
        if (buffer.empty()) {
            if (next == pieces.size()) return out;  // the body never ended
            buffer.append(pieces[next++]);
            continue;
        }
        parser.set_body_buffer(asio::buffer(chunk));
        auto used = parser.put(asio::buffer(buffer), ec);
        buffer.erase(0, used);
        out.body.append(chunk, parser.body_used());
        if (ec == http::error::need_buffer) {
            ec = {};
            continue;
        }
        if (ec == http::error::need_more) {
            ec = {};
            if (next == pieces.size()) return out;  // the body never ended
            buffer.append(pieces[next++]);
            continue;
        }
        if (ec) return out;
        if (used == 0 && parser.body_used() == 0 && !parser.is_done()) {
            if (next == pieces.size()) return out;
            buffer.append(pieces[next++]);
        }
    }
    out.ok = true;
    return out;
}

// What a head parser makes of `bytes` read at once (as net::parse_head() drives it, in a file
// this build cannot instrument): with the one-pass put_head() first, or Beast's put() alone.
template <bool IsRequest>
std::string head_outcome(std::string_view bytes, bool fast) {
    net::http_head head;
    net::head_parser<IsRequest> parser(head);
    parser.fast_head(fast);
    parser.eager(false);
    std::size_t used = 0;
    auto outcome = parser.take_head(bytes, used);
    if (!outcome) return "incomplete";
    if (*outcome) return "error " + outcome->message();
    std::string out = head.method + " " + head.target + " " + std::to_string(head.status) + " " +
                      head.reason + " " + std::to_string(head.version) + " " +
                      std::to_string(bytes.size() - used);
    for (auto [name, value] : head.fields) out.append("|").append(name).append("=").append(value);
    out += parser.keep_alive() ? " keep-alive" : " close";
    out += parser.chunked() ? " chunked" : "";
    out += parser.need_eof() ? " to-eof" : "";
    out += parser.upgrade() ? " upgrade" : "";
    if (auto n = parser.content_length()) out += " length " + std::to_string(*n);
    return out;
}

bool forwarded(const net::http_head& h, std::string_view name) {
    if (proxy::is_hop_by_hop(name)) return false;
    for (auto [n, v] : h.fields)
        if (net::iequals(n, "Connection") && net::has_token(v, name)) return false;
    for (auto regenerated : {"Content-Length", "Host", "X-Forwarded-For", "X-Forwarded-Proto",
                             "X-ARR-LOG-ID", "Forwarded", "X-Real-IP", "X-Forwarded-Host"})
        if (net::iequals(name, regenerated)) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
    // The one-pass head parser gives what Beast's own parse gives, for requests and responses.
    if (head_outcome<true>(input, true) != head_outcome<true>(input, false))
        fail("the one-pass request head parse differs");
    if (head_outcome<false>(input, true) != head_outcome<false>(input, false))
        fail("the one-pass response head parse differs");
    auto split = std::min<std::size_t>(data[0], input.size());
    net::http_head head;
    auto first = parse(head, {input.substr(0, split), input.substr(split)});
    if (!first.ok) return 0;
    if (proxy::validate_request(head)) return 0;

    proxy::upstream_request ur;
    ur.target = head.target;
    ur.host = head.fields.find("Host").value_or("backend:80");
    ur.forwarded_for_header = "X-Forwarded-For";
    ur.forwarded_for = "192.0.2.1:50000";
    ur.request_id_header = "X-ARR-LOG-ID";
    ur.request_id = "00000000-0000-0000-0000-000000000000";
    if (first.chunked) {
        ur.framing = proxy::body_framing::chunked;
    } else if (first.length) {
        ur.framing = proxy::body_framing::length;
        ur.content_length = *first.length;
    }
    std::string wire;
    proxy::write_upstream_request(head, ur, wire);
    if (first.chunked) {
        if (!first.body.empty()) {
            wire += net::chunk_header(first.body.size());
            wire += first.body;
            wire += net::chunk_end;
        }
        wire += net::last_chunk;
    } else {
        wire += first.body;
    }

    // The back end's parser has the proxy's limits plus room for what the proxy adds (Host on
    // HTTP/1.0, X-Forwarded-For, X-Forwarded-Proto, the request id): a request at the inbound
    // limits is forwarded, as every proxy does.
    net::parser_limits room;
    room.fields += 8;
    room.head_bytes += 1024;
    net::http_head again;
    auto second = parse(again, {wire}, room);
    if (!second.ok) fail("the forwarded request does not parse");
    if (proxy::validate_request(again)) fail("the forwarded request fails validation");
    if (again.method != head.method) fail("method changed");
    if (again.target != head.target) fail("target changed");
    if (second.body != first.body) fail("body changed");
    if (again.fields.contains("Content-Length") && again.fields.contains("Transfer-Encoding"))
        fail("two framing mechanisms forwarded");
    if (again.fields.count("Host") != 1) fail("not exactly one Host forwarded");

    // End-to-end fields survive in order, with their values; nothing else of the client's.
    std::vector<net::http_fields::field> expected;
    for (auto f : head.fields)
        if (forwarded(head, f.name)) expected.push_back(f);
    std::size_t at = 0;
    for (auto f : again.fields) {
        if (!forwarded(head, f.name) && !forwarded(again, f.name)) continue;
        if (net::iequals(f.name, "Transfer-Encoding") || net::iequals(f.name, "Host")) continue;
        if (at == expected.size() || !net::iequals(expected[at].name, f.name) ||
            expected[at].value != f.value)
            fail("end-to-end fields changed");
        ++at;
    }
    if (at != expected.size()) fail("an end-to-end field was lost");
    return 0;
}
