#include "fake-cas/component_states.hpp"

#include <gtest/gtest.h>

namespace gatehouse::fake_cas {
namespace {

TEST(ComponentStates, EverythingStartsActive) {
    component_states s;
    for (auto v : all_vdirs) EXPECT_TRUE(s.is_active(v));
}

TEST(ComponentStates, InactiveWhileAnyRequesterHoldsIt) {
    component_states s;
    ASSERT_TRUE(s.set("OwaProxy", "Maintenance", false));
    ASSERT_TRUE(s.set("owaproxy", "HealthApi", false));
    EXPECT_FALSE(s.is_active(vdir::owa));
    s.set("OwaProxy", "HealthApi", true);
    EXPECT_FALSE(s.is_active(vdir::owa));  // Maintenance still holds it
    s.set("OwaProxy", "Maintenance", true);
    EXPECT_TRUE(s.is_active(vdir::owa));
}

TEST(ComponentStates, OneComponentDoesNotAffectAnother) {
    component_states s;
    s.set("OwaProxy", "HealthApi", false);
    EXPECT_TRUE(s.is_active(vdir::ews));
    EXPECT_TRUE(s.is_active(vdir::rpc));
}

TEST(ComponentStates, ServerWideOfflineTakesEveryComponentOut) {
    component_states s;
    s.set("ServerWideOffline", "Maintenance", false);
    EXPECT_TRUE(s.server_offline());
    for (auto v : all_vdirs) EXPECT_FALSE(s.is_active(v));
    s.set("ServerWideOffline", "Maintenance", true);
    EXPECT_TRUE(s.is_active(vdir::mapi));
}

TEST(ComponentStates, UnknownComponentIsRefused) {
    component_states s;
    EXPECT_FALSE(s.set("CoffeeProxy", "HealthApi", false));
}

TEST(ComponentStates, RequestersAreListed) {
    component_states s;
    s.set("RpcProxy", "Sidelined", false);
    s.set("RpcProxy", "Functional", false);
    EXPECT_EQ(s.inactive_requesters("rpcproxy"),
              (std::vector<std::string>{"Functional", "Sidelined"}));
}

TEST(ComponentStates, FlapInvertsTheAnswerEveryNProbes) {
    // flap_every = 2: probes 1,2 as configured; 3,4 inverted; 5,6 as configured.
    EXPECT_TRUE(health_answer_ok(true, 2, 1));
    EXPECT_TRUE(health_answer_ok(true, 2, 2));
    EXPECT_FALSE(health_answer_ok(true, 2, 3));
    EXPECT_FALSE(health_answer_ok(true, 2, 4));
    EXPECT_TRUE(health_answer_ok(true, 2, 5));
    EXPECT_TRUE(health_answer_ok(false, 2, 3));
    EXPECT_FALSE(health_answer_ok(false, 0, 3));
}

TEST(Vdir, PathsMatchCaseInsensitivelyOnSegmentBoundaries) {
    EXPECT_EQ(classify("/ews/exchange.asmx").dir, vdir::ews);
    EXPECT_EQ(classify("/EWS/Exchange.asmx").kind, route::vdir);
    EXPECT_EQ(classify("/microsoft-server-activesync?Cmd=Ping").dir, vdir::activesync);
    auto rpc = classify("/Rpc/RpcProxy.dll?x:6001");
    EXPECT_EQ(rpc.dir, vdir::rpc);
    EXPECT_EQ(rpc.rest, "/RpcProxy.dll");
    EXPECT_EQ(classify("/owax").kind, route::other);
    EXPECT_EQ(classify("/").kind, route::root);
    EXPECT_EQ(classify("http://mail.contoso.com/OWA/").dir, vdir::owa);
}

TEST(Vdir, QueryIsKeptByteExact) {
    EXPECT_EQ(target_query("/autodiscover/autodiscover.json?@foo.com/x?&Email=a%3f"),
              "@foo.com/x?&Email=a%3f");
    EXPECT_EQ(target_path("/mapi/emsmdb/?MailboxId=g@contoso.com"), "/mapi/emsmdb/");
}

}  // namespace
}  // namespace gatehouse::fake_cas
