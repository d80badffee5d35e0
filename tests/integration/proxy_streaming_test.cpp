// Long-lived Exchange traffic: an Outlook Anywhere channel pair declaring 1 GiB bodies streams
// through without being buffered, and long polls live exactly as long as their timeout allows.

#include "tests/integration/proxy_fixture.hpp"

#include <fstream>
#include <thread>

#include <unistd.h>

namespace gatehouse::test {
namespace {

constexpr std::size_t mib = 1024 * 1024;
constexpr std::uint64_t one_gib = 1073741824;

// Resident set size of this process (proxy, back end and client together), in bytes.
std::uint64_t resident_bytes() {
    std::ifstream statm("/proc/self/statm");
    std::uint64_t size = 0, resident = 0;
    statm >> size >> resident;
    return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

// An RPC proxy: RPC_IN_DATA is read for ever and never answered; RPC_OUT_DATA is answered with a
// 1 GiB body of which `out_bytes` are sent, then the connection is held.
void rpc_proxy(backend_connection& c, std::size_t out_bytes) {
    auto head = c.read_head(std::chrono::seconds(10));
    if (!head) return;
    if (head->method == "RPC_IN_DATA") {
        for (;;) {
            auto piece = c.read_body_some(64 * 1024, std::chrono::seconds(10));
            if (piece.empty()) return;
            c.backend().add("in_bytes", piece.size());
        }
    }
    while (c.body_remaining() > 0) c.read_body_some();
    c.write(
        "HTTP/1.1 200 Success\r\nContent-Type: application/rpc\r\nCache-Control: private\r\n"
        "Content-Length: 1073741824\r\n\r\n");
    std::string piece(64 * 1024, 'o');
    for (std::size_t sent = 0; sent < out_bytes; sent += piece.size()) {
        c.write(piece);
        c.backend().add("out_bytes", piece.size());
    }
    c.wait_closed(std::chrono::seconds(10));
}

const char* rpc_config = R"({
  "listeners": { "http": { "address": "127.0.0.1", "port": 0 } },
  "farms": { "rpc": { "servers": [ { "address": "127.0.0.1", "port": ${B1} } ] } },
  "rules": [ { "name": "rpc", "pattern": "^rpc/rpcproxy\\.dll$",
               "action": { "type": "route", "farm": "rpc" },
               "timeout_ms": 900000, "max_allowed_content_length": 2147483648 } ]
})";

class Streaming : public ProxyTest {};

TEST_F(Streaming, RpcChannelPairStreamsBothWaysWithoutBuffering) {
    constexpr std::size_t volume = 32 * mib;
    fake_backend cas([](backend_connection& c) { rpc_proxy(c, volume); });
    start(rpc_config, {{"B1", std::to_string(cas.port())}});
    const auto rss_before = resident_bytes();

    // IN channel: 1 GiB declared; every MiB must reach the back end before the next is sent.
    test_client in(http(), std::chrono::seconds(10));
    in.send(
        "RPC_IN_DATA /rpc/rpcproxy.dll?3f7b8a1c@contoso.com:6001 HTTP/1.1\r\n"
        "Host: mail.contoso.com\r\nAccept: application/rpc\r\nUser-Agent: MSRPC\r\n"
        "Content-Length: 1073741824\r\nConnection: Keep-Alive\r\n\r\n");
    const std::string one_mib(mib, 'i');
    for (std::size_t sent = 0; sent < volume; sent += mib) {
        in.send(one_mib);
        ASSERT_TRUE(cas.wait_for_value("in_bytes", sent + mib))
            << "bytes did not reach the back end while the request was incomplete";
    }

    // OUT channel, while IN stays open: the head and every byte arrive as they are sent.
    test_client out(http(), std::chrono::seconds(10));
    out.send(
        "RPC_OUT_DATA /rpc/rpcproxy.dll?3f7b8a1c@contoso.com:6001 HTTP/1.1\r\n"
        "Host: mail.contoso.com\r\nContent-Length: 76\r\n\r\n" +
        std::string(76, 'a'));
    auto head = out.read_head();
    EXPECT_EQ(head.result_int(), 200);
    EXPECT_EQ(head.reason(), "Success");
    EXPECT_EQ(head["Content-Length"], std::to_string(one_gib));
    std::size_t received = 0;
    while (received < volume) received += out.read_some(mib).size();
    EXPECT_EQ(received, volume);

    // Both channels are open: the proxy holds one relay buffer per direction in flight, whatever
    // the bodies' size, and the process did not grow with the 64 MiB that went through.
    auto stats = proxy_->stats();
    EXPECT_LE(stats.relay_buffers_in_use, 2u);
    EXPECT_LE(stats.relay_buffer_bytes, 2u * 64 * 1024);
    EXPECT_EQ(stats.farm("rpc")->current_requests, 2u);
    const auto growth = static_cast<std::int64_t>(resident_bytes() - rss_before);
#if !defined(__SANITIZE_ADDRESS__)
    EXPECT_LT(growth, static_cast<std::int64_t>(16 * mib)) << "RSS grew by " << growth;
#else
    (void)growth;  // AddressSanitizer keeps freed memory in quarantine: RSS says nothing here
#endif
}

// A back end that holds every request `hold` before answering (an ActiveSync Ping that
// ends at its heartbeat with Status 1).
fake_backend::script hold_then_answer(std::chrono::milliseconds hold) {
    return [hold](backend_connection& c) {
        while (auto req = c.read_request()) {
            static_cast<void>(c.backend().wait_for_value("never", 1, hold));
            c.respond(200, "Status 1");
        }
    };
}

const char* eas_config = R"json({
  "listeners": { "http": { "address": "127.0.0.1", "port": 0 } },
  "farms": { "eas": { "servers": [ { "address": "127.0.0.1", "port": ${B1} } ],
                      "proxy": { "timeout_ms": 100 } } },
  "rules": [
    { "name": "eas-ping", "pattern": "^Microsoft-Server-ActiveSync",
      "conditions": [ { "input": "{QUERY_STRING}", "pattern": "(^|&)Cmd=Ping(&|$)" } ],
      "action": { "type": "route", "farm": "eas" }, "timeout_ms": 2000, "stop_processing": true },
    { "name": "eas", "pattern": "^Microsoft-Server-ActiveSync",
      "action": { "type": "route", "farm": "eas" } } ]
})json";

TEST_F(Streaming, LongPollPassesWithARuleTimeoutLongerThanTheHold) {
    fake_backend cas(hold_then_answer(std::chrono::milliseconds(300)));
    start(eas_config, {{"B1", std::to_string(cas.port())}});
    auto res = get(http(), "/Microsoft-Server-ActiveSync?Cmd=Ping&User=alice&DeviceId=D1");
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "Status 1");
}

TEST_F(Streaming, LongPollFailsWith12002WhenTheTimeoutIsShorterThanTheHold) {
    fake_backend cas(hold_then_answer(std::chrono::milliseconds(300)));
    start(eas_config, {{"B1", std::to_string(cas.port())}});
    auto t0 = std::chrono::steady_clock::now();
    auto res = get(http(), "/Microsoft-Server-ActiveSync?Cmd=Sync&User=alice&DeviceId=D1");
    EXPECT_EQ(res["X-Gatehouse-Error"], "502.3.12002");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(290));
}

TEST_F(Streaming, PostedLongPollFailsWith12002WhenTheTimeoutIsShorterThanTheHold) {
    // A real Ping is a POST whose small body leaves at once with its head: the response timeout
    // starts when the body is sent, however quickly that happens.
    fake_backend cas(hold_then_answer(std::chrono::milliseconds(1500)));
    start(eas_config, {{"B1", std::to_string(cas.port())}});
    test_client client(http(), std::chrono::seconds(5));
    auto t0 = std::chrono::steady_clock::now();
    auto res = client.roundtrip(make_request(
        "POST", "/Microsoft-Server-ActiveSync?Cmd=Sync&User=alice&DeviceId=D1",
        "mail.contoso.com", std::string(40, 'w')));
    EXPECT_EQ(res["X-Gatehouse-Error"], "502.3.12002");
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(1400));
}

TEST_F(Streaming, ResponseTimeoutDoesNotRunWhileTheRequestBodyIsStillFlowing) {
    // RPC_IN_DATA never gets a response while it uploads; pauses between its pieces are longer
    // than the farm's response timeout, which only starts once the body is complete.
    fake_backend cas([](backend_connection& c) { rpc_proxy(c, 0); });
    std::string json = rpc_config;
    json.replace(json.find("\"timeout_ms\": 900000"), 20, "\"timeout_ms\": 150");
    start(json, {{"B1", std::to_string(cas.port())}});
    test_client in(http(), std::chrono::seconds(5));
    in.send(
        "RPC_IN_DATA /rpc/rpcproxy.dll?x:6001 HTTP/1.1\r\nHost: h\r\n"
        "Content-Length: 1073741824\r\n\r\n");
    for (int i = 1; i <= 3; ++i) {
        in.send(std::string(20, 'p'));  // an RTS ping
        ASSERT_TRUE(cas.wait_for_value("in_bytes", 20u * static_cast<unsigned>(i)));
        std::this_thread::sleep_for(std::chrono::milliseconds(250));  // the channel's idle gap
    }
    in.send(std::string(20, 'p'));
    EXPECT_TRUE(cas.wait_for_value("in_bytes", 80));
    EXPECT_EQ(proxy_->stats().generated_count(proxy::generated_response::timeout), 0u);
}

}  // namespace
}  // namespace gatehouse::test
