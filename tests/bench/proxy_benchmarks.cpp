// Micro-benchmarks of the proxy's per-request work, each beside a peer doing the same job in
// the same run: the head parsers beside Beast's own parser, the request writer beside Beast's
// serializer, the rules engine beside bare std::regex searches of the same patterns. The load
// balancers have no peer; their figure is the cost of one pick.
//
// Every benchmark first checks that its code produced the right result; a wrong result is an
// error and the program exits 1 (ctest runs it briefly to keep that true).

#include "net/http_parser.hpp"
#include "proxy/config.hpp"
#include "proxy/forwarding.hpp"
#include "proxy/load_balancer.hpp"
#include "proxy/rules.hpp"

#include <atomic>
#include <regex>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>

namespace {

namespace beast_http = boost::beast::http;
using boost::system::error_code;
using gatehouse::net::http_head;
using namespace gatehouse::proxy;

std::atomic<bool> failed{false};

bool check(benchmark::State& state, bool ok, const char* what) {
    if (!ok) {
        state.SkipWithError(what);
        failed = true;
    }
    return ok;
}

// An Outlook MAPI over HTTP request as it reaches the proxy (16 fields).
const std::string mapi_request =
    "POST /mapi/emsmdb/?MailboxId=2d5f0a4e-6a1b-4f43-9b8e-3c1f5d9a7e21@contoso.com HTTP/1.1\r\n"
    "Host: mail.contoso.com\r\n"
    "User-Agent: Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)\r\n"
    "Accept: */*\r\n"
    "Accept-Language: en-US\r\n"
    "Content-Type: application/mapi-http\r\n"
    "X-RequestType: Execute\r\n"
    "X-RequestId: {E2EA6C1C-7A8B-4E29-9D0B-5D1C2A3B4C5D}:1234\r\n"
    "X-ClientInfo: {9C1E2F3A-4B5C-6D7E-8F90-A1B2C3D4E5F6}:42\r\n"
    "X-ClientApplication: Outlook/16.0.17328.20184\r\n"
    "Authorization: Negotiate TlRMTVNTUAADAAAAGAAYAHAAAAAYABgAiAAAAAAAAABYAAAAGAAYAFgAAAAAAAAA\r\n"
    "Cookie: MapiContext=A1B2C3D4E5F6; MapiRouting=ZW1zbWRiOjE=; MapiSequence=5-7f2e\r\n"
    "X-User-Identity: user1@contoso.com\r\n"
    "Cache-Control: no-cache\r\n"
    "Pragma: no-cache\r\n"
    "Content-Length: 1024\r\n"
    "Connection: Keep-Alive\r\n"
    "\r\n";

// IIS's answer to it (16 fields).
const std::string mapi_response =
    "HTTP/1.1 200 OK\r\n"
    "Cache-Control: private\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Content-Type: application/mapi-http\r\n"
    "Server: Microsoft-IIS/10.0\r\n"
    "request-id: 6a1e2b3c-4d5e-6f70-8192-a3b4c5d6e7f8\r\n"
    "X-CalculatedBETarget: ex01.contoso.local\r\n"
    "X-ResponseCode: 0\r\n"
    "X-RequestType: Execute\r\n"
    "X-ClientInfo: {9C1E2F3A-4B5C-6D7E-8F90-A1B2C3D4E5F6}:42\r\n"
    "X-RequestId: {E2EA6C1C-7A8B-4E29-9D0B-5D1C2A3B4C5D}:1234\r\n"
    "X-PendingPeriod: 15000\r\n"
    "Set-Cookie: MapiSequence=6-7f2e; path=/mapi/emsmdb/; secure; HttpOnly\r\n"
    "X-DiagInfo: EX01\r\n"
    "X-BEServer: EX01\r\n"
    "X-FEServer: EX01\r\n"
    "Date: Mon, 07 Dec 2026 00:00:00 GMT\r\n"
    "\r\n";

template <bool IsRequest>
void gatehouse_head(benchmark::State& state, const std::string& bytes) {
    http_head head;
    {
        gatehouse::net::head_parser<IsRequest> parser(head);
        std::size_t used = 0;
        auto outcome = parser.take_head(bytes, used);
        if (!check(state, outcome && !*outcome && used == bytes.size() && head.fields.size() == 16,
                   "the head did not parse"))
            return;
    }
    for (auto _ : state) {
        head.clear();
        gatehouse::net::head_parser<IsRequest> parser(head);
        std::size_t used = 0;
        auto outcome = parser.take_head(bytes, used);
        benchmark::DoNotOptimize(outcome);
        benchmark::DoNotOptimize(head.fields.size());
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}

template <bool IsRequest>
void beast_head(benchmark::State& state, const std::string& bytes) {
    auto parse = [&bytes](std::size_t& fields) {
        beast_http::parser<IsRequest, beast_http::empty_body> parser;
        parser.eager(false);
        error_code ec;
        std::size_t used = parser.put(boost::asio::buffer(bytes), ec);
        fields = static_cast<std::size_t>(std::distance(parser.get().begin(), parser.get().end()));
        return !ec && parser.is_header_done() && used == bytes.size();
    };
    std::size_t fields = 0;
    if (!check(state, parse(fields) && fields == 16, "Beast did not parse the head")) return;
    for (auto _ : state) {
        benchmark::DoNotOptimize(parse(fields));
        benchmark::DoNotOptimize(fields);
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes.size()));
}

void request_head_gatehouse(benchmark::State& s) {
    gatehouse_head<true>(s, mapi_request);
}
void request_head_beast(benchmark::State& s) {
    beast_head<true>(s, mapi_request);
}
void response_head_gatehouse(benchmark::State& s) {
    gatehouse_head<false>(s, mapi_response);
}
void response_head_beast(benchmark::State& s) {
    beast_head<false>(s, mapi_response);
}
BENCHMARK(request_head_gatehouse);
BENCHMARK(request_head_beast);
BENCHMARK(response_head_gatehouse);
BENCHMARK(response_head_beast);

// ---- the request sent to the back end ----------------------------------------------------------

// Both writers must drop Connection and add X-Forwarded-For.
bool forwarded_as_expected(const std::string& out) {
    return out.find("X-Forwarded-For: 192.0.2.10\r\n") != std::string::npos &&
           out.find("Connection") == std::string::npos;
}

// Gatehouse: the client's head, hop-by-hop fields dropped, X-Forwarded-For added.
void upstream_request_gatehouse(benchmark::State& state) {
    http_head head;
    gatehouse::net::request_parser parser(head);
    std::size_t used = 0;
    auto outcome = parser.take_head(mapi_request, used);
    if (!check(state, outcome && !*outcome, "the head did not parse")) return;
    upstream_request r;
    r.target = head.target;
    r.host = "ex01.contoso.local";
    r.forwarded_for_header = "X-Forwarded-For";
    r.forwarded_for = "192.0.2.10";
    r.forwarded_proto = false;
    r.framing = body_framing::length;
    r.content_length = 1024;
    std::string out;
    write_upstream_request(head, r, out);
    if (!check(state, forwarded_as_expected(out), "the upstream request is wrong")) return;
    for (auto _ : state) {
        out.clear();
        write_upstream_request(head, r, out);
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(upstream_request_gatehouse);

// Beast: the parsed message edited the same way, then serialized into one string.
void upstream_request_beast(benchmark::State& state) {
    beast_http::request_parser<beast_http::empty_body> parser;
    parser.eager(false);
    error_code ec;
    parser.put(boost::asio::buffer(mapi_request), ec);
    if (!check(state, !ec && parser.is_header_done(), "Beast did not parse the head")) return;
    // Edited in place (every edit is idempotent), as a proxy built on Beast would: no copy.
    auto message = parser.release();
    std::string out;
    auto write = [&message, &out] {
        message.erase(beast_http::field::connection);
        message.set(beast_http::field::host, "ex01.contoso.local");
        message.set("X-Forwarded-For", "192.0.2.10");
        message.keep_alive(true);
        beast_http::request_serializer<beast_http::empty_body> serializer(message);
        serializer.split(true);
        error_code ec;
        while (!ec && !serializer.is_header_done()) {
            serializer.next(ec, [&out, &serializer](error_code&, const auto& buffers) {
                std::size_t n = 0;
                for (auto b : boost::beast::buffers_range_ref(buffers)) {
                    out.append(static_cast<const char*>(b.data()), b.size());
                    n += b.size();
                }
                serializer.consume(n);
            });
        }
    };
    write();
    if (!check(state, forwarded_as_expected(out), "Beast's upstream request is wrong")) return;
    for (auto _ : state) {
        out.clear();
        write();
        benchmark::DoNotOptimize(out.data());
    }
}
BENCHMARK(upstream_request_beast);

// ---- rules
// ---------------------------------------------------------------------------------------

// The single-namespace example of docs/proxy-config.md: a redirect for plain HTTP, then routes
// with host conditions.
const char* const single_namespace = R"json({
  "listeners": { "https": { "address": "127.0.0.1", "port": 8443 } },
  "farms": { "exchange": { "servers": [ { "address": "127.0.0.1", "port": 8001 } ] } },
  "rules": [
    { "name": "http-to-https", "pattern": "^(.*)$",
      "conditions": [ { "input": "{HTTPS}", "pattern": "^off$" } ],
      "action": { "type": "redirect", "url": "https://{HTTP_HOST}/{R:1}" }, "stop_processing": true },
    { "name": "rpc-mapi", "pattern": "^(rpc|mapi)/",
      "conditions": [ { "input": "{HTTP_HOST}", "pattern": "^mail\\.contoso\\.com$" } ],
      "action": { "type": "route", "farm": "exchange" }, "stop_processing": true },
    { "name": "eas", "pattern": "^Microsoft-Server-ActiveSync",
      "action": { "type": "route", "farm": "exchange" }, "stop_processing": true },
    { "name": "exchange", "pattern": "^(owa|ecp|ews|oab|autodiscover)(/|$)",
      "conditions": [ { "input": "{HTTP_HOST}",
                        "pattern": "^(mail|autodiscover)\\.contoso\\.com$" } ],
      "action": { "type": "route", "farm": "exchange" } }
  ]
})json";

constexpr std::string_view owa_target = "/owa/service.svc?action=GetItem&EP=1&UA=0";

void rules_gatehouse(benchmark::State& state) {
    const config c = parse_config(single_namespace, "single-namespace");
    const rule_set rules(c, "single-namespace");
    gatehouse::net::http_fields fields;
    fields.add("Host", "mail.contoso.com");
    const request_view request{.method = "POST",
                               .target = owa_target,
                               .host = "mail.contoso.com",
                               .https = true,
                               .server_port = 443,
                               .remote_address = "192.0.2.10",
                               .fields = &fields};
    rule_scratch scratch;
    auto result = rules.evaluate(request, scratch);
    if (!check(state, result.outcome == rule_outcome::route && result.rule == 3,
               "the OWA request was not routed by rule 'exchange'"))
        return;
    for (auto _ : state) {
        result = rules.evaluate(request, scratch);
        benchmark::DoNotOptimize(result);
    }
}
BENCHMARK(rules_gatehouse);

// The same regexes searched in the same order on the same inputs, with nothing around them
// (no decoding, no captures kept, no server variables).
void rules_bare_regex(benchmark::State& state) {
    constexpr auto flags = std::regex::ECMAScript | std::regex::icase;
    struct rule {
        std::regex pattern;
        std::vector<std::pair<std::string, std::regex>> conditions;
    };
    const std::vector<rule> rules = {
        {std::regex("^(.*)$", flags), {{"on", std::regex("^off$", flags)}}},
        {std::regex("^(rpc|mapi)/", flags),
         {{"mail.contoso.com", std::regex("^mail\\.contoso\\.com$", flags)}}},
        {std::regex("^Microsoft-Server-ActiveSync", flags), {}},
        {std::regex("^(owa|ecp|ews|oab|autodiscover)(/|$)", flags),
         {{"mail.contoso.com", std::regex("^(mail|autodiscover)\\.contoso\\.com$", flags)}}},
    };
    const std::string path = "owa/service.svc";
    auto evaluate = [&rules, &path] {
        std::smatch match;
        for (std::size_t i = 0; i < rules.size(); ++i) {
            if (!std::regex_search(path, match, rules[i].pattern)) continue;
            bool all = true;
            for (const auto& [input, pattern] : rules[i].conditions)
                all = all && std::regex_search(input, pattern);
            if (all) return static_cast<int>(i);
        }
        return -1;
    };
    if (!check(state, evaluate() == 3, "the OWA path did not match rule 3")) return;
    for (auto _ : state) benchmark::DoNotOptimize(evaluate());
}
BENCHMARK(rules_bare_regex);

// ---- load balancing --------------------------------------------------------------------------

void balancer_pick(benchmark::State& state, lb_algorithm algorithm) {
    load_balancing_config config;
    config.algorithm = algorithm;
    load_balancer balancer(config);
    std::vector<server_load> servers(static_cast<std::size_t>(state.range(0)));
    for (std::size_t i = 0; i < servers.size(); ++i) {
        servers[i].weight = 100 + static_cast<std::uint32_t>(i % 3) * 50;
        servers[i].in_flight = (i * 7) % 5;
        servers[i].traffic_bytes = (i * 7919) % 100000;
        servers[i].response_time_us = 1000 + (i * 131) % 700;
        servers[i].id = i;
    }
    if (!check(state, balancer.pick(servers, 12345) >= 0, "no server was picked")) return;
    std::uint64_t hash = 0;
    for (auto _ : state) benchmark::DoNotOptimize(balancer.pick(servers, ++hash));
}
BENCHMARK_CAPTURE(balancer_pick, weighted_round_robin, lb_algorithm::weighted_round_robin)
    ->Arg(2)
    ->Arg(16);
BENCHMARK_CAPTURE(balancer_pick, weighted_total_traffic, lb_algorithm::weighted_total_traffic)
    ->Arg(2)
    ->Arg(16);
BENCHMARK_CAPTURE(balancer_pick, least_requests, lb_algorithm::least_requests)->Arg(2)->Arg(16);
BENCHMARK_CAPTURE(balancer_pick, least_response_time, lb_algorithm::least_response_time)
    ->Arg(2)
    ->Arg(16);
BENCHMARK_CAPTURE(balancer_pick, request_hash, lb_algorithm::request_hash)->Arg(2)->Arg(16);

}  // namespace

int main(int argc, char** argv) {
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return failed ? 1 : 0;
}
