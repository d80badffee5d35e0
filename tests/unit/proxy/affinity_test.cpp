#include "proxy/admin_api.hpp"
#include "proxy/affinity.hpp"

#include <gtest/gtest.h>

namespace gatehouse::proxy {
namespace {

TEST(AffinityToken, IsDeterministicAndDoesNotRevealTheAddress) {
    auto a = affinity_token("", "owa", "10.0.0.1:443");
    EXPECT_EQ(a, affinity_token("", "owa", "10.0.0.1:443"));  // another node computes the same
    EXPECT_EQ(a.size(), 64u);
    EXPECT_EQ(a.find("10.0.0.1"), std::string::npos);
    EXPECT_NE(a, affinity_token("", "owa", "10.0.0.2:443"));
    EXPECT_NE(a, affinity_token("", "ews", "10.0.0.1:443"));
    EXPECT_NE(a, affinity_token("secret", "owa", "10.0.0.1:443"));
}

TEST(FindCookie, FindsTheNamedCookieAmongOthers) {
    net::http_fields f;
    f.add("Cookie", "X-BackEndCookie=abc; ARRAffinity=\"1234\" ; other=1");
    EXPECT_EQ(find_cookie(f, "ARRAffinity").value(), "1234");
    EXPECT_EQ(find_cookie(f, "other").value(), "1");
    EXPECT_FALSE(find_cookie(f, "arraffinity"));  // names are case-sensitive
    net::http_fields g;
    g.add("Cookie", "a=1");
    g.add("cookie", "ARRAffinity=z");
    EXPECT_EQ(find_cookie(g, "ARRAffinity").value(), "z");
}

TEST(AffinitySetCookie, IsHttpOnlyAndSecureOnHttps) {
    EXPECT_EQ(affinity_set_cookie("ARRAffinity", "ab", false), "ARRAffinity=ab; Path=/; HttpOnly");
    EXPECT_EQ(affinity_set_cookie("A", "ab", true), "A=ab; Path=/; HttpOnly; Secure");
}

TEST(PrometheusText, ExposesFarmAndServerCountersWithLabels) {
    proxy_stats s;
    farm_stats f;
    f.name = "owa";
    f.total_requests = 7;
    f.no_server_requests = 2;
    server_stats srv;
    srv.address = "10.0.0.1";
    srv.port = 443;
    srv.total_requests = 5;
    srv.healthy = false;
    srv.state = availability::drain;
    f.servers.push_back(srv);
    s.farms.push_back(f);
    auto text = prometheus_text(s);
    EXPECT_NE(text.find("# TYPE gatehouse_requests_total counter"), std::string::npos);
    EXPECT_NE(text.find("gatehouse_requests_total{farm=\"owa\"} 7\n"), std::string::npos);
    EXPECT_NE(text.find("gatehouse_requests_total{farm=\"owa\",server=\"10.0.0.1:443\"} 5\n"),
              std::string::npos);
    EXPECT_NE(text.find("gatehouse_no_server_requests_total{farm=\"owa\"} 2\n"),
              std::string::npos);
    EXPECT_NE(text.find("gatehouse_server_healthy{farm=\"owa\",server=\"10.0.0.1:443\"} 0\n"),
              std::string::npos);
    EXPECT_NE(text.find("server=\"10.0.0.1:443\",state=\"drain\"} 1\n"), std::string::npos);
    auto json = farms_json(s);
    EXPECT_NE(json.find("\"availability\": \"drain\""), std::string::npos);
}

}  // namespace
}  // namespace gatehouse::proxy
