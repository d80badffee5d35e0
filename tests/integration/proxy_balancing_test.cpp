// Each load-balancing algorithm's distribution through the proxy, with ARR's server states and
// monitoring counters. One worker thread, so sequences are deterministic.

#include "tests/integration/proxy_fixture.hpp"

#include <set>
#include <thread>

namespace gatehouse::test {
namespace {

struct member {
    std::uint16_t port;
    std::uint32_t weight = 100;
    std::string state = "available";
};

std::string farm_config(const std::vector<member>& members, const std::string& load_balancing) {
    std::string servers;
    for (const auto& m : members) {
        if (!servers.empty()) servers += ",";
        servers += R"({ "address": "127.0.0.1", "port": )" + std::to_string(m.port) +
                   R"(, "weight": )" + std::to_string(m.weight) + R"(, "state": ")" + m.state +
                   "\" }";
    }
    return R"({
      "listeners": { "http": { "address": "127.0.0.1", "port": 0 } },
      "farms": { "cas": { "servers": [ )" +
           servers + R"( ],
                          "load_balancing": )" +
           load_balancing + R"( } },
      "rules": [ { "name": "all", "pattern": ".*", "action": { "type": "route", "farm": "cas" } } ]
    })";
}

class Balancing : public ProxyTest {
protected:
    // Sends `n` GETs on one keep-alive connection; returns the bodies (each back end answers
    // its own name).
    std::vector<std::string> send(int n, const std::string& target = "/owa/") {
        test_client client(http());
        std::vector<std::string> names;
        for (int i = 0; i < n; ++i)
            names.push_back(client.roundtrip(make_request("GET", target)).body());
        return names;
    }

    static std::map<std::string, int> tally(const std::vector<std::string>& names) {
        std::map<std::string, int> out;
        for (const auto& n : names) ++out[n];
        return out;
    }
};

TEST_F(Balancing, WeightedRoundRobinFollowsRelativeWeightsSmoothly) {
    fake_backend a(answer("A")), b(answer("B")), c(answer("C"));
    start(farm_config({{a.port(), 100}, {b.port(), 200}, {c.port(), 300}},
                      R"({ "algorithm": "weighted_round_robin" })"));
    auto names = send(60);
    auto count = tally(names);
    EXPECT_EQ(count["A"], 10);
    EXPECT_EQ(count["B"], 20);
    EXPECT_EQ(count["C"], 30);
    // Smooth: the heaviest server never gets more than its share in a row.
    std::string seq;
    for (int i = 0; i < 6; ++i) seq += names[static_cast<std::size_t>(i)];
    EXPECT_EQ(seq, "CBACBC");
    auto farm = *proxy_->stats().farm("cas");
    EXPECT_EQ(farm.total_requests, 60u);
    EXPECT_DOUBLE_EQ(farm.servers[2].distribution_percent, 50.0);
}

TEST_F(Balancing, DrainAndUnavailableServersGetNoNewRequests) {
    fake_backend a(answer("A")), b(answer("B")), c(answer("C"));
    start(farm_config({{a.port()}, {b.port(), 100, "drain"}, {c.port(), 100, "unavailable"}},
                      R"({ "algorithm": "weighted_round_robin" })"));
    auto count = tally(send(10));
    EXPECT_EQ(count["A"], 10);
    EXPECT_EQ(b.connections() + c.connections(), 0u);
}

TEST_F(Balancing, WeightedTotalTrafficFavoursTheServerThatMovedLessData) {
    // A's responses are 100 times larger than B's: B should take most requests.
    fake_backend a(answer(std::string(20'000, 'A'))), b(answer(std::string(200, 'B')));
    start(farm_config({{a.port()}, {b.port()}}, R"({ "algorithm": "weighted_total_traffic" })"));
    std::map<char, int> count;
    for (const auto& body : send(40)) ++count[body.at(0)];
    EXPECT_LE(count['A'], 2);
    EXPECT_GE(count['B'], 38);
    auto farm = *proxy_->stats().farm("cas");
    EXPECT_GT(farm.servers[0].bytes_received, 20'000u);
}

TEST_F(Balancing, LeastRequestsAvoidsTheServerHoldingALongPoll) {
    // A holds every request until released (an ActiveSync Ping); B answers at once.
    fake_backend a([](backend_connection& c) {
        while (auto req = c.read_request()) {
            if (!c.backend().wait_for_value("release", 1)) return;
            c.respond(200, "A");
        }
    });
    fake_backend b(answer("B"));
    start(farm_config({{a.port()}, {b.port()}}, R"({ "algorithm": "least_requests" })"));
    auto endpoint = http();
    std::string held_body;
    std::thread held([&] { held_body = get(endpoint, "/Microsoft-Server-ActiveSync").body(); });
    ASSERT_TRUE(a.wait_for_requests(1));  // the first pick (a tie) went to A
    auto count = tally(send(6));
    EXPECT_EQ(count["B"], 6);
    EXPECT_EQ(proxy_->stats().farm("cas")->servers[0].current_requests, 1u);
    a.add("release");
    held.join();
    EXPECT_EQ(held_body, "A");
}

TEST_F(Balancing, LeastResponseTimePrefersTheFasterServer) {
    fake_backend slow([](backend_connection& c) {
        while (auto req = c.read_request()) {
            static_cast<void>(
                c.backend().wait_for_value("never", 1, std::chrono::milliseconds(20)));
            c.respond(200, "slow");
        }
    });
    fake_backend fast(answer("fast"));
    start(farm_config({{slow.port()}, {fast.port()}}, R"({ "algorithm": "least_response_time" })"));
    auto count = tally(send(12));
    EXPECT_EQ(count["slow"], 1);  // measured once, then avoided
    EXPECT_EQ(count["fast"], 11);
}

TEST_F(Balancing, RequestHashByQueryStringKeepsADeviceOnOneServer) {
    fake_backend a(answer("A")), b(answer("B"));
    start(farm_config({{a.port()}, {b.port()}},
                      R"({ "algorithm": "request_hash", "query_string_names": ["DeviceId"] })"));
    std::set<std::string> servers_used;
    for (int device = 0; device < 20; ++device) {
        auto target = "/Microsoft-Server-ActiveSync?Cmd=Ping&DeviceId=DEV" + std::to_string(device);
        auto names = tally(send(3, target));
        EXPECT_EQ(names.size(), 1u) << "device " << device << " moved between servers";
        servers_used.insert(names.begin()->first);
    }
    EXPECT_EQ(servers_used.size(), 2u);
}

TEST_F(Balancing, RequestHashByServerVariableFollowsTheHeader) {
    fake_backend a(answer("A")), b(answer("B"));
    start(farm_config({{a.port()}, {b.port()}},
                      R"({ "algorithm": "request_hash",
                           "hash_server_variable": "HTTP_X_ANCHORMAILBOX" })"));
    std::map<std::string, std::string> placed;
    for (int round = 0; round < 2; ++round) {
        for (int user = 0; user < 10; ++user) {
            auto mailbox = "user" + std::to_string(user) + "@contoso.com";
            auto req = make_request("POST", "/EWS/Exchange.asmx", "mail.contoso.com", "<x/>");
            req.set("X-AnchorMailbox", mailbox);
            test_client client(http());
            auto name = client.roundtrip(req).body();
            if (round == 0)
                placed[mailbox] = name;
            else
                EXPECT_EQ(placed[mailbox], name) << mailbox;
        }
    }
}

TEST_F(Balancing, CountersMergeAcrossWorkerThreads) {
    fake_backend a(answer("A")), b(answer("B"));
    start(farm_config({{a.port()}, {b.port()}}, R"({ "algorithm": "weighted_round_robin" })"), {},
          2);
    for (int i = 0; i < 8; ++i) send(5);
    // After a stop every request is accounted for (a client may read its response a moment
    // before the worker books it).
    proxy_->stop(std::chrono::seconds(1));
    auto stats = proxy_->stats();
    EXPECT_EQ(stats.requests, 40u);
    EXPECT_EQ(stats.connections_accepted, 8u);
    auto farm = *stats.farm("cas");
    EXPECT_EQ(farm.total_requests, 40u);
    EXPECT_EQ(farm.servers[0].total_requests + farm.servers[1].total_requests, 40u);
    EXPECT_EQ(farm.current_requests, 0u);
    EXPECT_GT(farm.servers[0].bytes_sent, 0u);
    EXPECT_GE(farm.response_time_ms, 0.0);
}

}  // namespace
}  // namespace gatehouse::test
