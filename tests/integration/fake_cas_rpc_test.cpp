// RPC over HTTP v2: echo requests, an IN/OUT channel pair established with CONN/A1, B1, A3, C2,
// held open while RPC PDUs flow up the IN channel and replies and pings come down the OUT
// channel, and pairing across servers by scope.

#include "fake-cas/rts_pdu.hpp"
#include "tests/integration/fake_cas_fixture.hpp"

namespace gatehouse::fake_cas::testing {
namespace {

using test::make_request;
using test::test_client;

constexpr std::string_view target =
    "/rpc/rpcproxy.dll?3f7b8a1c-5d2e-4c1a-9b8e-1a2b3c4d5e6f@contoso.com:6001";

std::string as_string(const bytes& b) {
    return {b.begin(), b.end()};
}

std::string channel_head(std::string_view method, std::uint64_t length) {
    return std::string(method) + " " + std::string(target) +
           " HTTP/1.1\r\nHost: mail.contoso.com\r\nAccept: application/rpc\r\nUser-Agent: MSRPC\r\n"
           "Cache-Control: no-cache\r\nConnection: Keep-Alive\r\nAuthorization: " +
           basic("CONTOSO\\jdoe", "P@ssw0rd") + "\r\nContent-Length: " + std::to_string(length) +
           "\r\n\r\n";
}

struct cookies {
    rts::cookie vc{}, in{}, out{}, group{};
    cookies() {
        random_bytes(vc);
        random_bytes(in);
        random_bytes(out);
        random_bytes(group);
    }
};

class RpcTest : public FleetTest {
protected:
    // Opens the OUT channel and reads its head and CONN/A3.
    void open_out(test_client& c, const cookies& k) {
        c.send(channel_head("RPC_OUT_DATA", 76) + as_string(rts::conn_a1(k.vc, k.out)));
        auto head = c.read_head();
        ASSERT_EQ(head.result_int(), 200);
        EXPECT_EQ(head.reason(), "Success");
        EXPECT_EQ(head[http::field::content_length], "1073741824");
        EXPECT_EQ(head[http::field::content_type], "application/rpc");
        EXPECT_EQ(head["X-FEServer"].empty(), false);
        EXPECT_EQ(c.read_exactly(28), as_string(rts::conn_a3(120000)));
    }
    void open_in(test_client& c, const cookies& k) {
        c.send(channel_head("RPC_IN_DATA", 1073741824) +
               as_string(rts::conn_b1(k.vc, k.in, k.group)));
    }
};

TEST_F(RpcTest, EchoRequestIsAnsweredWithTheEchoPdu) {
    start(1);
    test_client c(ep());
    auto req = make_request("RPC_IN_DATA", target);
    req.set(http::field::authorization, basic("jdoe", "x"));
    req.set(http::field::content_length, "0");
    auto res = c.roundtrip(req);
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.reason(), "Success");
    EXPECT_EQ(res.body(), as_string(rts::echo()));
}

TEST_F(RpcTest, OtherMethodsAre405AfterAuthentication) {
    start(1);
    test_client c(ep());
    auto req = make_request("POST", target, "mail.contoso.com", "x");
    req.set(http::field::authorization, basic("jdoe", "x"));
    EXPECT_EQ(c.roundtrip(req).result_int(), 405);
}

TEST_F(RpcTest, ChannelPairCarriesDataBothWaysWhileHeldOpen) {
    start(2, 0.01);
    test_client out(ep()), in(ep(), std::chrono::milliseconds(2000));
    cookies k;
    open_out(out, k);
    open_in(in, k);
    EXPECT_EQ(out.read_exactly(44), as_string(rts::conn_c2(65536, 120000)));
    auto o = server(0).observations(false);
    EXPECT_EQ(o.open(long_poll::rpc_in), 1u);
    EXPECT_EQ(o.open(long_poll::rpc_out), 1u);
    for (std::uint32_t call = 1; call <= 3; ++call) {
        bytes stub(200 * call, static_cast<std::uint8_t>(call));
        in.send(as_string(rts::request(call, stub)));
        auto header = out.read_exactly(16);
        auto h = rts::parse_header({reinterpret_cast<const std::uint8_t*>(header.data()), 16});
        ASSERT_TRUE(h);
        EXPECT_EQ(h->ptype, rts::ptype_response);
        EXPECT_EQ(h->call_id, call);
        EXPECT_EQ(h->frag_length, 24u + stub.size());
        out.read_exactly(h->frag_length - 16u);
    }
}

TEST_F(RpcTest, InChannelGetsNoResponseWhileHealthy) {
    start(1, 0.01);
    test_client out(ep()), in(ep(), std::chrono::milliseconds(200));
    cookies k;
    open_out(out, k);
    open_in(in, k);
    out.read_exactly(44);
    EXPECT_THROW(in.read_some(), std::runtime_error);  // nothing within the timeout
}

TEST_F(RpcTest, IdleOutChannelSendsPings) {
    start(1, 0.01);
    server(0).patch({{"rpc", {{"ping_interval_s", 10}}}});  // 100 ms after scaling
    test_client out(ep()), in(ep());
    cookies k;
    open_out(out, k);
    open_in(in, k);
    out.read_exactly(44);
    auto t0 = steady_clock::now();
    EXPECT_EQ(out.read_exactly(20), as_string(rts::ping()));
    EXPECT_EQ(out.read_exactly(20), as_string(rts::ping()));
    EXPECT_GE(steady_clock::now() - t0, std::chrono::milliseconds(150));
}

TEST_F(RpcTest, ChannelsOnDifferentServersPairWithAFarmTable) {
    start(2, 0.01);
    test_client out(ep(0)), in(ep(1));
    cookies k;
    open_out(out, k);
    open_in(in, k);
    EXPECT_EQ(out.read_exactly(44), as_string(rts::conn_c2(65536, 120000)));
}

// With two worker threads the two halves live on different threads: the IN channel's replies
// wake the OUT channel across them.
TEST_F(RpcTest, PairAcrossServersAndThreadsCarriesData) {
    auto config = default_fleet(2);
    config.time_scale = 0.01;
    config.threads = 2;
    start(std::move(config));
    test_client out(ep(0)), in(ep(1));
    cookies k;
    open_out(out, k);
    open_in(in, k);
    ASSERT_EQ(out.read_exactly(44), as_string(rts::conn_c2(65536, 120000)));
    for (std::uint32_t call = 1; call <= 20; ++call) {
        in.send(as_string(rts::request(call, bytes(64, 1))));
        auto pdu = out.read_exactly(24 + 64);
        auto h = rts::parse_header({reinterpret_cast<const std::uint8_t*>(pdu.data()), 16});
        ASSERT_TRUE(h);
        EXPECT_EQ(h->call_id, call);
    }
}

// Stopping the fleet while channels are open on two threads ends everything cleanly (the
// sanitizer build checks that nothing is used after it is gone).
TEST_F(RpcTest, FleetStopsWhileChannelsAreOpen) {
    auto config = default_fleet(2);
    config.time_scale = 0.01;
    config.threads = 2;
    start(std::move(config));
    test_client out(ep(0)), in(ep(1));
    cookies k;
    open_out(out, k);
    open_in(in, k);
    ASSERT_EQ(out.read_exactly(44), as_string(rts::conn_c2(65536, 120000)));
    f().stop();
    EXPECT_TRUE(out.wait_closed());
    EXPECT_TRUE(in.wait_closed());
    EXPECT_FALSE(f().running());
}

TEST_F(RpcTest, InstanceScopeLeavesChannelsOnDifferentServersUnpaired) {
    auto config = default_fleet(2);
    config.time_scale = 0.01;
    for (auto& s : config.servers) s.rpc.pair_scope = scope::instance;  // Exchange 2010 CAS
    start(std::move(config));
    test_client out(ep(0)), in(ep(1));
    cookies k;
    open_out(out, k);
    open_in(in, k);
    EXPECT_THROW(out.read_exactly(44), std::runtime_error);  // closed after pair_wait_s
    EXPECT_TRUE(in.wait_closed());
}

TEST_F(RpcTest, UnpairedInChannelCanAnswerRpcError) {
    start(1, 0.01);
    server(0).patch({{"rpc", {{"pair_timeout_action", "503-on-in"}}}});
    test_client in(ep());
    cookies k;
    open_in(in, k);
    auto status_line = in.read_exactly(27);
    EXPECT_EQ(status_line, "HTTP/1.0 503 RPC Error: 6ba");
}

TEST_F(RpcTest, InChannelOpenedFirstWaitsForItsOutChannel) {
    start(1, 0.01);
    test_client out(ep()), in(ep());
    cookies k;
    open_in(in, k);
    open_out(out, k);
    EXPECT_EQ(out.read_exactly(44), as_string(rts::conn_c2(65536, 120000)));
}

TEST_F(RpcTest, NtlmRunsPerChannelBeforeTheBodyStreams) {
    start(1, 0.01);
    test_client out(ep());
    auto leg1 = make_request("RPC_OUT_DATA", target);
    leg1.set(http::field::authorization, "NTLM " + base64_encode(build_ntlm_negotiate()));
    leg1.set(http::field::content_length, "0");
    auto r1 = out.roundtrip(leg1);
    ASSERT_EQ(r1.result_int(), 401);
    auto header = std::string(r1[http::field::www_authenticate]);
    auto challenge = parse_ntlm_challenge(*base64_decode(header.substr(5)));
    ASSERT_TRUE(challenge);
    bytes blob = {1, 1, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6,
                  7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0};
    auto nt = compute_ntlm_v2_response("x", "jdoe", "CONTOSO", challenge->server_challenge, blob);
    cookies k;
    out.send("RPC_OUT_DATA " + std::string(target) +
             " HTTP/1.1\r\nHost: x\r\nAuthorization: NTLM " +
             base64_encode(build_ntlm_authenticate("jdoe", "CONTOSO", "WS", nt)) +
             "\r\nContent-Length: 76\r\n\r\n" + as_string(rts::conn_a1(k.vc, k.out)));
    EXPECT_EQ(out.read_head().result_int(), 200);
}

}  // namespace
}  // namespace gatehouse::fake_cas::testing
