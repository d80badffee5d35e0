#include "proxy/load_balancer.hpp"

#include "net/http_message.hpp"
#include "proxy/rules.hpp"

#include <map>
#include <set>

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

load_balancing_config algorithm(lb_algorithm a) {
    return load_balancing_config{.algorithm = a};
}

std::vector<server_load> servers(std::initializer_list<std::uint32_t> weights) {
    std::vector<server_load> out;
    std::uint64_t id = 1;
    for (auto w : weights) out.push_back(server_load{.weight = w, .id = id++});
    return out;
}

std::string sequence(load_balancer& lb, const std::vector<server_load>& s, int picks) {
    std::string out;
    for (int i = 0; i < picks; ++i) out.push_back(static_cast<char>('a' + lb.pick(s)));
    return out;
}

TEST(WeightedRoundRobin, IsSmoothAndDeterministic) {
    // nginx's smooth weighted round robin: 5/1/1 interleaves instead of sending five in a row.
    load_balancer lb(algorithm(lb_algorithm::weighted_round_robin));
    auto s = servers({5, 1, 1});
    EXPECT_EQ(sequence(lb, s, 14), "aabacaaaabacaa");
    load_balancer again(algorithm(lb_algorithm::weighted_round_robin));
    EXPECT_EQ(sequence(again, s, 14), "aabacaaaabacaa");
}

TEST(WeightedRoundRobin, DistributesExactlyByRelativeWeight) {
    load_balancer lb(algorithm(lb_algorithm::weighted_round_robin));
    auto s = servers({100, 200, 300});  // relative: 1/2/3, as ARR's 100/200/300
    std::map<int, int> count;
    for (int i = 0; i < 600; ++i) ++count[lb.pick(s)];
    EXPECT_EQ(count[0], 100);
    EXPECT_EQ(count[1], 200);
    EXPECT_EQ(count[2], 300);
}

TEST(WeightedRoundRobin, EvenWeightsAlternate) {
    load_balancer lb(algorithm(lb_algorithm::weighted_round_robin));
    EXPECT_EQ(sequence(lb, servers({100, 100, 100}), 6), "abcabc");
}

TEST(WeightedRoundRobin, SkipsIneligibleServersAndReportsNone) {
    load_balancer lb(algorithm(lb_algorithm::weighted_round_robin));
    auto s = servers({1, 1, 1});
    s[1].eligible = false;
    EXPECT_EQ(sequence(lb, s, 4), "acac");
    for (auto& x : s) x.eligible = false;
    EXPECT_EQ(lb.pick(s), -1);
}

TEST(LeastRequests, PicksFewestInFlightPerWeight) {
    load_balancer lb(algorithm(lb_algorithm::least_requests));
    auto s = servers({1, 1, 2});
    s[0].in_flight = 3;
    s[1].in_flight = 1;
    s[2].in_flight = 3;  // 1.5 per unit of weight
    EXPECT_EQ(lb.pick(s), 1);
    s[1].in_flight = 2;  // 2 per unit: server 2 is now the least loaded
    EXPECT_EQ(lb.pick(s), 2);
}

TEST(LeastRequests, TiesGoRoundRobin) {
    load_balancer lb(algorithm(lb_algorithm::least_requests));
    EXPECT_EQ(sequence(lb, servers({1, 1, 1}), 6), "abcabc");
}

TEST(WeightedTotalTraffic, SendsTheNextRequestToTheServerThatMovedLeastData) {
    load_balancer lb(algorithm(lb_algorithm::weighted_total_traffic));
    auto s = servers({100, 100});
    s[0].traffic_bytes = 1'000'000;
    s[1].traffic_bytes = 10'000;
    EXPECT_EQ(lb.pick(s), 1);
    s[1].traffic_bytes = 2'000'000;
    EXPECT_EQ(lb.pick(s), 0);
    // Twice the weight may carry twice the bytes.
    auto w = servers({200, 100});
    w[0].traffic_bytes = 1'900'000;
    w[1].traffic_bytes = 1'000'000;
    EXPECT_EQ(lb.pick(w), 0);
}

TEST(LeastResponseTime, MeasuresUnsampledServersFirstThenPicksTheFastest) {
    load_balancer lb(algorithm(lb_algorithm::least_response_time));
    auto s = servers({1, 1, 1});
    s[0].response_time_us = 5'000;
    s[1].response_time_us = 0;  // never measured
    s[2].response_time_us = 1'000;
    EXPECT_EQ(lb.pick(s), 1);
    s[1].response_time_us = 9'000;
    EXPECT_EQ(lb.pick(s), 2);
}

TEST(Ewma, WeighsTheNewSampleThreeTenths) {
    EXPECT_EQ(ewma_update(0, 1000), 1000u);
    EXPECT_EQ(ewma_update(1000, 2000), 1300u);
    EXPECT_EQ(ewma_update(1300, 0), 910u);
    EXPECT_EQ(ewma_update(0, 0), 1u);  // 0 is reserved for "no sample"
}

TEST(RequestHash, SameKeySameServer) {
    load_balancer lb(algorithm(lb_algorithm::request_hash));
    auto s = servers({1, 1, 1, 1});
    for (std::string key : {"/owa/", "/ews/Exchange.asmx", "/rpc/rpcproxy.dll?x:6001"}) {
        auto h = stable_hash(key);
        int first = lb.pick(s, h);
        for (int i = 0; i < 5; ++i) EXPECT_EQ(lb.pick(s, h), first) << key;
    }
}

TEST(RequestHash, SpreadsKeysByWeight) {
    load_balancer lb(algorithm(lb_algorithm::request_hash));
    auto s = servers({100, 100, 200});
    std::map<int, int> count;
    for (int i = 0; i < 8000; ++i) ++count[lb.pick(s, stable_hash("device-" + std::to_string(i)))];
    EXPECT_NEAR(count[0], 2000, 200);
    EXPECT_NEAR(count[1], 2000, 200);
    EXPECT_NEAR(count[2], 4000, 200);
}

TEST(RequestHash, ConsistentHashingMovesOnlyTheRemovedServersKeys) {
    load_balancer lb(
        load_balancing_config{.algorithm = lb_algorithm::request_hash, .consistent_hash = true});
    auto s = servers({1, 1, 1, 1});
    std::vector<int> before;
    for (int i = 0; i < 2000; ++i) before.push_back(lb.pick(s, stable_hash(std::to_string(i))));
    s[2].eligible = false;
    int moved = 0;
    for (int i = 0; i < 2000; ++i) {
        int now = lb.pick(s, stable_hash(std::to_string(i)));
        EXPECT_NE(now, 2);
        if (before[static_cast<std::size_t>(i)] != 2 && now != before[static_cast<std::size_t>(i)])
            ++moved;
    }
    EXPECT_EQ(moved, 0);
}

TEST(RequestHashKey, UsesQueryNamesServerVariableOrUrl) {
    net::http_fields fields;
    request_view r;
    r.method = "POST";
    r.target = "/Microsoft-Server-ActiveSync?Cmd=Ping&User=alice&DeviceId=ABC&DeviceType=iPhone";
    r.host = "mail.contoso.com";
    r.remote_address = "198.51.100.4";
    r.fields = &fields;
    std::string scratch;

    load_balancing_config by_device{.algorithm = lb_algorithm::request_hash,
                                    .query_string_names = {"DeviceId"}};
    auto a = request_hash_key(by_device, r, scratch);
    request_view other = r;
    other.target = "/Microsoft-Server-ActiveSync?Cmd=Sync&DeviceId=ABC&User=alice";
    EXPECT_EQ(request_hash_key(by_device, other, scratch), a);  // same device, other command
    other.target = "/Microsoft-Server-ActiveSync?Cmd=Ping&DeviceId=XYZ";
    EXPECT_NE(request_hash_key(by_device, other, scratch), a);

    load_balancing_config by_client{.algorithm = lb_algorithm::request_hash,
                                    .hash_server_variable = "REMOTE_ADDR"};
    EXPECT_EQ(request_hash_key(by_client, r, scratch), stable_hash("198.51.100.4"));

    load_balancing_config by_url{.algorithm = lb_algorithm::request_hash};
    EXPECT_EQ(request_hash_key(by_url, r, scratch), stable_hash(r.target));
}

TEST(StableHash, IsFixedAcrossRunsAndPlatforms) {
    // Two proxy nodes sharing a configuration must route a key alike.
    // Known answers (FNV-1a 64 then the splitmix64 finaliser), computed independently.
    EXPECT_EQ(stable_hash(""), 0xf52a15e9a9b5e89bull);
    EXPECT_EQ(stable_hash("mail.contoso.com"), 0x1a15779cd7557222ull);
    std::set<std::uint64_t> distinct;
    for (int i = 0; i < 1000; ++i) distinct.insert(stable_hash(std::to_string(i)));
    EXPECT_EQ(distinct.size(), 1000u);
}

}  // namespace
}  // namespace gatehouse::proxy
