#include "proxy/host_affinity.hpp"

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

using namespace std::chrono_literals;

std::vector<host_candidate> three(bool b_eligible = true) {
    return {{"a:80", true, -1}, {"b:80", b_eligible, -1}, {"c:80", true, -1}};
}

// The index of the only allowed server (-1 when not exactly one).
int only(const std::vector<bool>& allowed) {
    int found = -1;
    for (std::size_t i = 0; i < allowed.size(); ++i)
        if (allowed[i]) {
            if (found >= 0) return -1;
            found = static_cast<int>(i);
        }
    return found;
}

TEST(HostAffinity, RoundRobinDealsHostsToServersInTurnAndKeepsThem) {
    host_affinity_table t;
    host_affinity_config c;
    std::vector<bool> allowed;
    auto servers = three();
    steady_time now{};
    t.route("one.contoso.com", servers, c, now, allowed);
    EXPECT_EQ(only(allowed), 0);
    t.route("two.contoso.com", servers, c, now, allowed);
    EXPECT_EQ(only(allowed), 1);
    t.route("three.contoso.com", servers, c, now, allowed);
    EXPECT_EQ(only(allowed), 2);
    t.route("one.contoso.com", servers, c, now + 1s, allowed);
    EXPECT_EQ(only(allowed), 0);
    EXPECT_EQ(t.table(now + 1s, c.timeout).size(), 3u);
}

TEST(HostAffinity, AnIneligibleServerLosesItsHostsToAnother) {
    host_affinity_table t;
    host_affinity_config c;
    std::vector<bool> allowed;
    steady_time now{};
    t.route("x", three(), c, now, allowed);
    t.route("y", three(), c, now, allowed);
    EXPECT_EQ(only(allowed), 1);
    t.route("y", three(false), c, now, allowed);
    EXPECT_EQ(only(allowed), 2);
    t.route("y", three(), c, now, allowed);  // stays on its new server
    EXPECT_EQ(only(allowed), 2);
}

TEST(HostAffinity, IdleMappingsExpireAfterTheTimeout) {
    host_affinity_table t;
    host_affinity_config c;
    c.timeout = 10s;
    std::vector<bool> allowed;
    steady_time now{};
    t.route("x", three(), c, now, allowed);  // a
    t.route("y", three(), c, now, allowed);  // b
    EXPECT_TRUE(t.table(now + 10s, c.timeout).empty());
    t.route("y", three(), c, now + 10s, allowed);
    EXPECT_EQ(only(allowed), 2);  // allocated anew (the cursor moved on)
}

TEST(HostAffinity, MemoryProviderPicksTheServerReportingTheMostFreeMemory) {
    host_affinity_table t;
    host_affinity_config c;
    c.provider = host_affinity_provider::memory;
    std::vector<host_candidate> servers = {
        {"a:80", true, 2048}, {"b:80", true, 8192}, {"c:80", true, -1}};
    std::vector<bool> allowed;
    t.route("x", servers, c, steady_time{}, allowed);
    EXPECT_EQ(only(allowed), 1);
    servers[1].memory_mb = 1024;
    t.route("y", servers, c, steady_time{}, allowed);
    EXPECT_EQ(only(allowed), 0);
}

TEST(HostAffinity, SeveralServersPerHost) {
    host_affinity_table t;
    host_affinity_config c;
    c.servers_per_host = 2;
    std::vector<bool> allowed;
    t.route("x", three(), c, steady_time{}, allowed);
    EXPECT_EQ(allowed, (std::vector<bool>{true, true, false}));
}

TEST(HostAffinity, NoEligibleServerAllowsNone) {
    host_affinity_table t;
    host_affinity_config c;
    std::vector<host_candidate> none = {{"a:80", false, -1}};
    std::vector<bool> allowed;
    t.route("x", none, c, steady_time{}, allowed);
    EXPECT_EQ(allowed, std::vector<bool>{false});
    EXPECT_TRUE(t.table(steady_time{}, c.timeout).empty());
}

TEST(HostAffinityKey, LowerCaseWithoutPortAndOptionallyWithoutSubdomains) {
    EXPECT_EQ(host_affinity_key("Mail.Contoso.com:443", false), "mail.contoso.com");
    EXPECT_EQ(host_affinity_key("mail.eu.contoso.com", true), "contoso.com");
    EXPECT_EQ(host_affinity_key("contoso.com", true), "contoso.com");
    EXPECT_EQ(host_affinity_key("10.0.0.1:80", true), "10.0.0.1");
    EXPECT_EQ(host_affinity_key("[::1]:80", true), "[::1]");
}

}  // namespace
}  // namespace gatehouse::proxy
