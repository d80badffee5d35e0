// NTLM / Negotiate authenticate a TCP connection, not a request: once a back end answers 401
// with NTLM or Negotiate, the proxy binds that back-end connection to the client connection for
// good. The scripted back end behaves like IIS: a connection that completed the three legs runs
// every later request as that user, and a type-3 message must answer the challenge issued on the
// same connection.

#include "tests/integration/proxy_fixture.hpp"

#include <set>

namespace gatehouse::test {
namespace {

void iis_ntlm(backend_connection& c) {
    std::string user;  // who this connection is authenticated as
    const std::string challenge = "CHALLENGE-" + std::to_string(c.index());
    while (auto req = c.read_request()) {
        auto auth = req->header("Authorization");
        if (auth == "NTLM TYPE1") {
            c.respond(401, "", {{"WWW-Authenticate", "NTLM " + challenge}});
        } else if (auth.starts_with("NTLM TYPE3:")) {
            auto rest = auth.substr(11);
            auto colon = rest.find(':');
            if (rest.substr(0, colon) != challenge) {
                c.respond(401, "wrong connection", {{"WWW-Authenticate", "NTLM"}});
                continue;
            }
            user = rest.substr(colon + 1);
            c.respond(200, "hello " + user, {{"Persistent-Auth", "true"}});
        } else if (user.empty()) {
            c.respond(401, "", {{"WWW-Authenticate", "Negotiate"}, {"WWW-Authenticate", "NTLM"}});
        } else {
            c.respond(200, "hello " + user);
        }
    }
}

std::string ntlm_config(const std::vector<std::uint16_t>& ports, const std::string& states = "") {
    std::string servers;
    for (std::size_t i = 0; i < ports.size(); ++i) {
        if (i) servers += ",";
        std::string state = i < states.size() && states[i] == 'd' ? "drain" : "available";
        servers += R"({ "address": "127.0.0.1", "port": )" + std::to_string(ports[i]) +
                   R"(, "state": ")" + state + "\" }";
    }
    return R"({
      "listeners": { "http": { "address": "127.0.0.1", "port": 0 } },
      "farms": { "ews": { "servers": [ )" +
           servers + R"( ] } },
      "rules": [ { "name": "ews", "pattern": ".*", "action": { "type": "route", "farm": "ews" } } ]
    })";
}

// A client connection running the three legs.
class ntlm_client {
public:
    ntlm_client(const tcp::endpoint& proxy, std::string user)
        : client_(proxy), user_(std::move(user)) {}

    response leg1() {
        auto res = client_.roundtrip(make_request("GET", "/EWS/Exchange.asmx"));
        return res;
    }
    std::string leg2() {
        auto req = make_request("GET", "/EWS/Exchange.asmx");
        req.set("Authorization", "NTLM TYPE1");
        auto res = client_.roundtrip(req);
        auto challenge = std::string(res["WWW-Authenticate"]);
        return challenge.starts_with("NTLM ") ? challenge.substr(5) : "";
    }
    response leg3(const std::string& challenge) {
        auto req = make_request("GET", "/EWS/Exchange.asmx");
        req.set("Authorization", "NTLM TYPE3:" + challenge + ":" + user_);
        return client_.roundtrip(req);
    }
    response get() { return client_.roundtrip(make_request("GET", "/EWS/Exchange.asmx")); }
    unsigned short port() const { return client_.local_port(); }
    test_client& raw() { return client_; }

private:
    test_client client_;
    std::string user_;
};

// For each client port, the back-end connections its requests arrived on.
std::map<std::string, std::set<std::size_t>> connections_by_client(const fake_backend& b) {
    std::map<std::string, std::set<std::size_t>> out;
    for (const auto& r : b.requests()) out[r.header("X-Forwarded-For")].insert(r.connection);
    return out;
}

class Ntlm : public ProxyTest {};

TEST_F(Ntlm, ChallengesReachTheClientUnfolded) {
    fake_backend cas(iis_ntlm);
    start(ntlm_config({cas.port()}));
    ntlm_client alice(http(), "alice");
    auto res = alice.leg1();
    EXPECT_EQ(res.result_int(), 401);
    std::vector<std::string> schemes;
    for (const auto& f : res)
        if (f.name_string() == "WWW-Authenticate") schemes.emplace_back(f.value());
    EXPECT_EQ(schemes, (std::vector<std::string>{"Negotiate", "NTLM"}));
}

TEST_F(Ntlm, InterleavedClientsNeverShareABackEndConnection) {
    fake_backend cas(iis_ntlm);
    start(ntlm_config({cas.port()}));
    ntlm_client alice(http(), "alice");
    ntlm_client bob(http(), "bob");
    EXPECT_EQ(alice.leg1().result_int(), 401);
    EXPECT_EQ(bob.leg1().result_int(), 401);
    auto alice_challenge = alice.leg2();
    auto bob_challenge = bob.leg2();
    EXPECT_NE(alice_challenge, bob_challenge);
    EXPECT_EQ(alice.leg3(alice_challenge).body(), "hello alice");
    EXPECT_EQ(bob.leg3(bob_challenge).body(), "hello bob");
    for (int i = 0; i < 3; ++i) {
        EXPECT_EQ(alice.get().body(), "hello alice");
        EXPECT_EQ(bob.get().body(), "hello bob");
    }
    // A third client without credentials must not run as anybody.
    ntlm_client eve(http(), "eve");
    EXPECT_EQ(eve.get().result_int(), 401);

    auto by_client = connections_by_client(cas);
    auto alice_conns = by_client["127.0.0.1:" + std::to_string(alice.port())];
    auto bob_conns = by_client["127.0.0.1:" + std::to_string(bob.port())];
    ASSERT_EQ(alice_conns.size(), 1u) << "alice's requests were spread over connections";
    ASSERT_EQ(bob_conns.size(), 1u);
    EXPECT_NE(*alice_conns.begin(), *bob_conns.begin());
    auto eve_conns = by_client["127.0.0.1:" + std::to_string(eve.port())];
    EXPECT_EQ(eve_conns.count(*alice_conns.begin()) + eve_conns.count(*bob_conns.begin()), 0u);
    EXPECT_TRUE(cas.script_errors().empty());
}

TEST_F(Ntlm, PinnedClientStaysOnItsServerWhateverTheBalancerSays) {
    fake_backend a(iis_ntlm), b(iis_ntlm);
    start(ntlm_config({a.port(), b.port()}));
    ntlm_client alice(http(), "alice");
    alice.leg1();
    auto challenge = alice.leg2();
    EXPECT_EQ(alice.leg3(challenge).body(), "hello alice");
    for (int i = 0; i < 6; ++i) EXPECT_EQ(alice.get().body(), "hello alice");
    // Round robin would have alternated; every request went to the server of the first leg.
    EXPECT_EQ(a.requests().size() * b.requests().size(), 0u);
    EXPECT_EQ(a.requests().size() + b.requests().size(), 9u);
}

TEST_F(Ntlm, PinnedClientKeepsItsServerWhenItIsDrained) {
    fake_backend a(iis_ntlm), b(iis_ntlm);
    start(ntlm_config({a.port(), b.port()}));
    ntlm_client alice(http(), "alice");
    alice.leg1();
    EXPECT_EQ(alice.leg3(alice.leg2()).body(), "hello alice");
    fake_backend& pinned = a.requests().empty() ? b : a;
    fake_backend& other = &pinned == &a ? b : a;
    const std::string drained = &pinned == &a ? "da" : "ad";

    proxy_->reload(proxy::parse_config(ntlm_config({a.port(), b.port()}, drained), "test.json"));
    EXPECT_EQ(alice.get().body(), "hello alice");
    EXPECT_EQ(pinned.requests().size(), 4u);
    // New clients avoid the drained server.
    for (int i = 0; i < 3; ++i) EXPECT_EQ(get(http(), "/EWS/Exchange.asmx").result_int(), 401);
    EXPECT_EQ(other.requests().size(), 3u);
    EXPECT_EQ(pinned.requests().size(), 4u);
}

TEST_F(Ntlm, ClientConnectionClosesWhenItsPinnedConnectionDies) {
    fake_backend cas([](backend_connection& c) {
        auto req = c.read_request();
        if (!req) return;
        c.respond(401, "", {{"WWW-Authenticate", "NTLM"}});
        c.close();  // e.g. the application pool recycled
        c.backend().add("closed");
    });
    start(ntlm_config({cas.port()}));
    ntlm_client alice(http(), "alice");
    EXPECT_EQ(alice.leg1().result_int(), 401);
    ASSERT_TRUE(cas.wait_for_value("closed", 1));
    auto res = alice.get();
    EXPECT_EQ(res["X-Gatehouse-Error"], "502.3.12030");
    EXPECT_TRUE(alice.raw().wait_closed());
    EXPECT_EQ(cas.connections(), 1u) << "the request must not move to a fresh connection";
}

}  // namespace
}  // namespace gatehouse::test
