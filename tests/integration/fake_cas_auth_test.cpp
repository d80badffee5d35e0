// Authentication as IIS runs it for Exchange: NTLM bound to the TCP connection (with the
// identity recorded per connection, so sharing is detectable), Negotiate carrying NTLMSSP,
// Basic, separate WWW-Authenticate lines, and per-request auth when a proxy adds Via.

#include "tests/integration/fake_cas_fixture.hpp"

namespace gatehouse::fake_cas::testing {
namespace {

using test::make_request;
using test::test_client;

class AuthTest : public FleetTest {};

test::request ews_get() {
    return make_request("GET", "/EWS/Exchange.asmx");
}

TEST_F(AuthTest, UnauthenticatedRequestGetsOneChallengeLinePerScheme) {
    start(1);
    test_client c(ep());
    auto res = c.roundtrip(make_request("GET", "/rpc/rpcproxy.dll"));
    EXPECT_EQ(res.result_int(), 401);
    std::vector<std::string> lines;
    for (const auto& field : res)
        if (field.name() == http::field::www_authenticate) lines.emplace_back(field.value());
    EXPECT_EQ(lines,
              (std::vector<std::string>{"Negotiate", "NTLM", "Basic realm=\"mail.contoso.com\""}));
    EXPECT_EQ(res["X-FEServer"], "EX01");
}

TEST_F(AuthTest, NtlmHandshakeAuthenticatesTheConnection) {
    start(2);
    test_client c(ep(1));
    ntlm_challenge_view challenge;
    auto res = ntlm_roundtrip(c, ews_get(), "jdoe", "CONTOSO", "P@ssw0rd", "NTLM", &challenge);
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(challenge.nb_computer, "EX02");  // the server that issued the Type 2
    EXPECT_EQ(challenge.dns_computer, "ex02.contoso.local");
    // Later requests on the connection need no Authorization.
    EXPECT_EQ(c.roundtrip(ews_get()).result_int(), 200);
    auto o = server(1).observations();
    const auto* conn = o.connection(o.log.back().connection_id);
    ASSERT_NE(conn, nullptr);
    EXPECT_EQ(conn->user, "CONTOSO\\jdoe");
    EXPECT_EQ(conn->auth_scheme, "NTLM");
    EXPECT_EQ(conn->remote_port, c.local_port());
    EXPECT_EQ(conn->requests, 3u);
    EXPECT_FALSE(conn->identity_mismatch);
    EXPECT_EQ(o.log.back().user, "CONTOSO\\jdoe");
}

TEST_F(AuthTest, AnotherConnectionIsNotAuthenticated) {
    start(1);
    test_client a(ep());
    ASSERT_EQ(ntlm_roundtrip(a, ews_get(), "jdoe", "CONTOSO", "x").result_int(), 200);
    test_client b(ep());
    EXPECT_EQ(b.roundtrip(ews_get()).result_int(), 401);
}

TEST_F(AuthTest, Type3OnAnotherConnectionIsRejected) {
    start(1);
    test_client a(ep());
    auto first = ews_get();
    first.set(http::field::authorization, "NTLM " + base64_encode(build_ntlm_negotiate()));
    ASSERT_EQ(a.roundtrip(first).result_int(), 401);
    test_client b(ep());
    auto third = ews_get();
    third.set(http::field::authorization, "NTLM " + base64_encode(build_ntlm_authenticate(
                                                        "jdoe", "CONTOSO", "WS", bytes(40, 7))));
    EXPECT_EQ(b.roundtrip(third).result_int(), 401);
}

TEST_F(AuthTest, VerifyModeChecksTheNtlmV2Response) {
    auto config = default_fleet(1);
    config.servers[0].auth = auth_mode::verify;
    start(std::move(config));
    test_client good(ep());
    EXPECT_EQ(ntlm_roundtrip(good, ews_get(), "jdoe", "CONTOSO", "P@ssw0rd").result_int(), 200);
    test_client bad(ep());
    EXPECT_EQ(ntlm_roundtrip(bad, ews_get(), "jdoe", "CONTOSO", "wrong").result_int(), 401);
}

TEST_F(AuthTest, NegotiateCarryingNtlmIsAcceptedLikeNtlm) {
    start(1);
    test_client c(ep());
    EXPECT_EQ(ntlm_roundtrip(c, ews_get(), "asmith", "CONTOSO", "x", "Negotiate").result_int(),
              200);
    auto o = server(0).observations();
    EXPECT_EQ(o.connections.front().auth_scheme, "Negotiate");
}

TEST_F(AuthTest, BasicIsCheckedOnEveryRequest) {
    auto config = default_fleet(1);
    config.servers[0].auth = auth_mode::verify;
    start(std::move(config));
    test_client c(ep());
    auto req = make_request("OPTIONS", "/Microsoft-Server-ActiveSync");
    req.set(http::field::authorization, basic("CONTOSO\\jdoe", "P@ssw0rd"));
    EXPECT_EQ(c.roundtrip(req).result_int(), 200);
    EXPECT_EQ(c.roundtrip(make_request("OPTIONS", "/Microsoft-Server-ActiveSync")).result_int(),
              401);
    req.set(http::field::authorization, basic("CONTOSO\\jdoe", "nope"));
    EXPECT_EQ(c.roundtrip(req).result_int(), 401);
    auto o = server(0).observations();
    EXPECT_EQ(o.connections.front().user, "CONTOSO\\jdoe");
    EXPECT_EQ(o.connections.front().auth_scheme, "Basic");
}

// A pooling proxy that forwards client B's request on the back-end connection client A
// authenticated: the server sees B's credentials on A's connection and flags it.
TEST_F(AuthTest, OtherCredentialsOnAnAuthenticatedConnectionAreFlagged) {
    start(1);
    server(0).patch({{"vdirs", {{"ews", {{"auth", {"NTLM", "Basic"}}}}}}});
    test_client c(ep());
    ASSERT_EQ(ntlm_roundtrip(c, ews_get(), "jdoe", "CONTOSO", "x").result_int(), 200);
    auto req = ews_get();
    req.set(http::field::authorization, basic("CONTOSO\\bwayne", "x"));
    EXPECT_EQ(c.roundtrip(req).result_int(), 200);
    auto o = server(0).observations();
    EXPECT_EQ(o.identity_mismatches, 1u);
    EXPECT_TRUE(o.connections.front().identity_mismatch);
    EXPECT_TRUE(o.log.back().identity_mismatch);
    auto [status, body] = control("GET", "/servers/cas1/observations");
    EXPECT_EQ(body["identity_mismatches"], 1);
    EXPECT_EQ(body["connections"][0]["identities"], nlohmann::json({"jdoe", "bwayne"}));
}

TEST_F(AuthTest, SeparateClientsOnSeparateConnectionsAreNotFlagged) {
    start(1);
    test_client a(ep()), b(ep());
    ASSERT_EQ(ntlm_roundtrip(a, ews_get(), "jdoe", "CONTOSO", "x").result_int(), 200);
    ASSERT_EQ(ntlm_roundtrip(b, ews_get(), "asmith", "CONTOSO", "x").result_int(), 200);
    EXPECT_EQ(a.roundtrip(ews_get()).result_int(), 200);
    EXPECT_EQ(server(0).observations().identity_mismatches, 0u);
}

TEST_F(AuthTest, ViaHeaderForcesAuthenticationOnEveryRequest) {
    start(1);
    test_client c(ep());
    auto req = ews_get();
    req.set(http::field::via, "1.1 proxy");
    ASSERT_EQ(ntlm_roundtrip(c, req, "jdoe", "CONTOSO", "x").result_int(), 200);
    EXPECT_EQ(c.roundtrip(req).result_int(), 401);  // IIS re-challenges: per-request auth
    server(0).patch({{"via_forces_per_request", false}});
    test_client d(ep());
    ASSERT_EQ(ntlm_roundtrip(d, req, "jdoe", "CONTOSO", "x").result_int(), 200);
    EXPECT_EQ(d.roundtrip(req).result_int(), 200);
}

TEST_F(AuthTest, NtlmHandshakesAreCounted) {
    start(1);
    for (int i = 0; i < 3; ++i) {
        test_client c(ep());
        ntlm_roundtrip(c, ews_get(), "jdoe", "CONTOSO", "x");
    }
    EXPECT_EQ(server(0).observations().ntlm_handshakes, 3u);
}

}  // namespace
}  // namespace gatehouse::fake_cas::testing
