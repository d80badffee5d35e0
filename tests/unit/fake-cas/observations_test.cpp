#include "fake-cas/observations.hpp"

#include <gtest/gtest.h>

namespace gatehouse::fake_cas {
namespace {

request_event event(std::uint64_t connection, unsigned status, std::size_t slot) {
    request_event e;
    e.time = std::chrono::system_clock::now();
    e.connection_id = connection;
    e.method = "GET";
    e.target = "/owa/HealthCheck.htm";
    e.slot = slot;
    e.status = status;
    e.bytes_out = 100;
    return e;
}

TEST(Observations, CountsPerVdirAndStatus) {
    observations o(16, 16);
    auto id = o.open_connection("127.0.0.1", 5000, false);
    o.record(event(id, 200, static_cast<std::size_t>(vdir::owa)));
    o.record(event(id, 503, static_cast<std::size_t>(vdir::owa)));
    o.record(event(id, 404, other_slot));
    auto s = o.snapshot();
    EXPECT_EQ(s.requests, 3u);
    EXPECT_EQ(s.at(vdir::owa).requests, 2u);
    EXPECT_EQ(s.at(vdir::owa).statuses.at(503), 1u);
    EXPECT_EQ(s.statuses.at(404), 1u);
    EXPECT_EQ(s.bytes_out, 300u);
    ASSERT_EQ(s.connections.size(), 1u);
    EXPECT_EQ(s.connections[0].requests, 3u);
    EXPECT_EQ(s.connections[0].remote_port, 5000);
}

TEST(Observations, LogIsABoundedRingOldestFirst) {
    observations o(3, 16);
    auto id = o.open_connection("127.0.0.1", 1, false);
    for (unsigned i = 0; i < 5; ++i) o.record(event(id, 200 + i, root_slot));
    auto s = o.snapshot();
    ASSERT_EQ(s.log.size(), 3u);
    EXPECT_EQ(s.log[0].status, 202u);
    EXPECT_EQ(s.log[2].status, 204u);
    EXPECT_EQ(s.log[0].route, "root");
}

TEST(Observations, AnotherIdentityOnAnAuthenticatedConnectionIsFlagged) {
    observations o(16, 16);
    auto id = o.open_connection("127.0.0.1", 1, false);
    o.authenticated(id, "CONTOSO\\jdoe", "NTLM");
    EXPECT_FALSE(o.identity_seen(id, "CONTOSO\\jdoe"));
    EXPECT_FALSE(o.identity_seen(id, "jdoe@contoso.com"));  // the same account
    EXPECT_TRUE(o.identity_seen(id, "asmith"));
    auto s = o.snapshot();
    EXPECT_TRUE(s.connections[0].identity_mismatch);
    EXPECT_EQ(s.identity_mismatches, 1u);
}

TEST(Observations, TwoIdentitiesOnOneConnectionAreFlaggedEvenWithoutNtlm) {
    observations o(16, 16);
    auto id = o.open_connection("127.0.0.1", 1, false);
    EXPECT_FALSE(o.identity_seen(id, "jdoe"));
    EXPECT_TRUE(o.identity_seen(id, "bwayne"));
}

TEST(Observations, ClosedConnectionsAreKeptBounded) {
    observations o(16, 2);
    for (int i = 0; i < 4; ++i) o.close_connection(o.open_connection("127.0.0.1", 1, false));
    auto s = o.snapshot();
    EXPECT_EQ(s.connections.size(), 2u);
    EXPECT_EQ(s.connections_accepted, 4u);
    EXPECT_EQ(s.connections_open, 0u);
}

TEST(Observations, LongPollsAreCountedWhileOpen) {
    observations o(16, 16);
    {
        long_poll_guard g(o, long_poll::eas_ping);
        EXPECT_EQ(o.snapshot().open(long_poll::eas_ping), 1u);
    }
    EXPECT_EQ(o.snapshot().open(long_poll::eas_ping), 0u);
}

TEST(Observations, ResetForgetsCountersButKeepsOpenConnections) {
    observations o(16, 16);
    auto id = o.open_connection("127.0.0.1", 1, false);
    o.record(event(id, 200, root_slot));
    o.reset();
    auto s = o.snapshot();
    EXPECT_EQ(s.requests, 0u);
    EXPECT_TRUE(s.log.empty());
    ASSERT_EQ(s.connections.size(), 1u);
    EXPECT_EQ(s.connections[0].requests, 0u);
}

TEST(Observations, RequestsInsideAWindowAreCounted) {
    observations o(16, 16);
    auto id = o.open_connection("127.0.0.1", 1, false);
    auto e = event(id, 200, root_slot);
    auto t0 = e.time;
    o.record(e);
    e.time = t0 + std::chrono::seconds(10);
    o.record(e);
    auto s = o.snapshot();
    EXPECT_EQ(s.requests_between(t0, t0 + std::chrono::seconds(5)), 1u);
    EXPECT_EQ(s.requests_between(t0, t0 + std::chrono::seconds(11)), 2u);
}

}  // namespace
}  // namespace gatehouse::fake_cas
