// EWS SOAP over the in-memory mailbox, streaming notifications, throttling answers, and
// autodiscover (POX and v2 JSON), including over TLS with the fleet authority.

#include "net/tls.hpp"
#include "tests/integration/fake_cas_fixture.hpp"

#include <thread>

namespace gatehouse::fake_cas::testing {
namespace {

using test::make_request;
using test::test_client;

std::string soap(std::string_view body) {
    return "<?xml version=\"1.0\" encoding=\"utf-8\"?><soap:Envelope xmlns:soap=\"http://schemas."
           "xmlsoap.org/soap/envelope/\" xmlns:t=\"http://schemas.microsoft.com/exchange/services/"
           "2006/types\" xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\">"
           "<soap:Header><t:RequestServerVersion "
           "Version=\"Exchange2016\"/></soap:Header><soap:Body>" +
           std::string(body) + "</soap:Body></soap:Envelope>";
}

test::request ews(std::string_view body) {
    auto req = make_request("POST", "/EWS/Exchange.asmx", "mail.contoso.com", soap(body));
    req.set(http::field::content_type, "text/xml; charset=utf-8");
    req.set(http::field::authorization, basic("CONTOSO\\jdoe", "P@ssw0rd"));
    return req;
}

std::string between(const std::string& s, std::string_view open, std::string_view close) {
    auto a = s.find(open);
    if (a == std::string::npos) return {};
    a += open.size();
    auto b = s.find(close, a);
    return s.substr(a, b - a);
}

class EwsTest : public FleetTest {
protected:
    void SetUp() override {}
    void start_basic(double time_scale = 1.0) {
        auto config = default_fleet(2);
        config.time_scale = time_scale;
        for (auto& s : config.servers)
            s.at(vdir::ews).auth = {auth_scheme::ntlm, auth_scheme::basic};
        start(std::move(config));
    }
};

TEST_F(EwsTest, GetFolderAnswersWithServerVersionInfoAndCounts) {
    start_basic();
    test_client c(ep());
    auto res = c.roundtrip(
        ews("<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape></m:FolderShape>"
            "<m:FolderIds><t:DistinguishedFolderId Id=\"inbox\"/></m:FolderIds></m:GetFolder>"));
    EXPECT_EQ(res.result_int(), 200);
    auto& b = res.body();
    EXPECT_NE(
        b.find(
            "ServerVersionInfo MajorVersion=\"15\" MinorVersion=\"2\" MajorBuildNumber=\"1544\""),
        std::string::npos);
    EXPECT_NE(b.find("ResponseClass=\"Success\""), std::string::npos);
    EXPECT_EQ(between(b, "<t:DisplayName>", "<"), "Inbox");
    EXPECT_EQ(between(b, "<t:TotalCount>", "<"), "5");
    EXPECT_EQ(res["X-BEServer"].empty(), false);
}

TEST_F(EwsTest, FindItemThenGetItemReturnsTheMessages) {
    start_basic();
    test_client c(ep());
    auto found = c.roundtrip(
        ews("<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly</t:BaseShape>"
            "</m:ItemShape><m:ParentFolderIds><t:DistinguishedFolderId Id=\"inbox\"/>"
            "</m:ParentFolderIds></m:FindItem>"));
    EXPECT_NE(found.body().find("TotalItemsInView=\"5\""), std::string::npos);
    auto id = between(found.body(), "<t:ItemId Id=\"", "\"");
    ASSERT_FALSE(id.empty());
    auto item =
        c.roundtrip(ews("<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape>"
                        "<m:ItemIds><t:ItemId Id=\"" +
                        id + "\"/></m:ItemIds></m:GetItem>"));
    EXPECT_EQ(between(item.body(), "<t:Subject>", "<"), "Quarterly numbers");
    EXPECT_NE(item.body().find("<t:Body BodyType=\"Text\">Hello Jane Doe"), std::string::npos);
}

TEST_F(EwsTest, ResolveNamesFindsDirectoryUsers) {
    start_basic();
    test_client c(ep());
    auto res =
        c.roundtrip(ews("<m:ResolveNames ReturnFullContactData=\"false\"><m:UnresolvedEntry>asm"
                        "</m:UnresolvedEntry></m:ResolveNames>"));
    EXPECT_EQ(between(res.body(), "<t:EmailAddress>", "<"), "asmith@contoso.com");
    auto none = c.roundtrip(
        ews("<m:ResolveNames><m:UnresolvedEntry>zzz</m:UnresolvedEntry></m:ResolveNames>"));
    EXPECT_NE(none.body().find("ErrorNameResolutionNoResults"), std::string::npos);
}

TEST_F(EwsTest, MalformedSoapIsA500WithASoapFault) {
    start_basic();
    test_client c(ep());
    auto req = make_request("POST", "/EWS/Exchange.asmx", "mail.contoso.com", "<not soap");
    req.set(http::field::authorization, basic("jdoe", "x"));
    auto res = c.roundtrip(req);
    EXPECT_EQ(res.result_int(), 500);
    EXPECT_NE(res.body().find("<s:Fault>"), std::string::npos);
}

TEST_F(EwsTest, ThrottlingAnswersServerBusyWithBackOff) {
    start_basic();
    server(0).patch({{"ews", {{"throttle_mode", "soap-busy"}, {"throttle_backoff_ms", 1234}}}});
    test_client c(ep());
    auto res = c.roundtrip(ews("<m:GetFolder/>"));
    EXPECT_EQ(res.result_int(), 500);
    EXPECT_NE(res.body().find("ErrorServerBusy"), std::string::npos);
    EXPECT_NE(res.body().find(">1234<"), std::string::npos);
    server(0).patch({{"ews", {{"throttle_mode", "503"}}}});
    auto busy = c.roundtrip(ews("<m:GetFolder/>"));
    EXPECT_EQ(busy.result_int(), 503);
    EXPECT_EQ(busy[http::field::retry_after], "2");
}

TEST_F(EwsTest, ExpectContinueIsHonouredOrRefused) {
    start_basic();
    test_client c(ep());
    auto body = soap(
        "<m:GetFolder><m:FolderIds><t:DistinguishedFolderId "
        "Id=\"inbox\"/></m:FolderIds></m:GetFolder>");
    c.send("POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\nAuthorization: " + basic("jdoe", "x") +
           "\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) +
           "\r\n\r\n");
    EXPECT_EQ(c.read_exactly(25), "HTTP/1.1 100 Continue\r\n\r\n");
    c.send(body);
    EXPECT_EQ(c.read().result_int(), 200);
    server(0).patch({{"ews", {{"expect_100", "417"}}}});
    test_client d(ep());
    d.send(
        "POST /EWS/Exchange.asmx HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: "
        "10\r\n\r\n");
    EXPECT_EQ(d.read().result_int(), 417);
}

TEST_F(EwsTest, StreamingSubscriptionDeliversNotificationsKeepAlivesAndClosed) {
    start_basic(0.01);                                         // ConnectionTimeout 1 min → 600 ms
    server(0).patch({{"ews", {{"stream_keepalive_s", 10}}}});  // 100 ms
    test_client c(ep(), std::chrono::seconds(5));
    auto sub = c.roundtrip(
        ews("<m:Subscribe><m:StreamingSubscriptionRequest><t:FolderIds><t:DistinguishedFolderId "
            "Id=\"inbox\"/></t:FolderIds><t:EventTypes><t:EventType>NewMailEvent"
            "</t:EventType></t:EventTypes></m:StreamingSubscriptionRequest></m:Subscribe>"));
    auto id = between(sub.body(), "<m:SubscriptionId>", "<");
    ASSERT_FALSE(id.empty());
    c.send(ews("<m:GetStreamingEvents><m:SubscriptionIds><t:SubscriptionId>" + id +
               "</t:SubscriptionId></m:SubscriptionIds><m:ConnectionTimeout>1</m:ConnectionTimeout>"
               "</m:GetStreamingEvents>"));
    auto deadline = steady_clock::now() + std::chrono::seconds(5);
    while (server(0).observations(false).open(long_poll::ews_streaming) == 0 &&
           steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    EXPECT_EQ(f().inject(event_kind::ews_notification, "jdoe", "new"), 1u);
    auto t0 = steady_clock::now();
    auto res = c.read();
    EXPECT_EQ(res[http::field::transfer_encoding], "chunked");
    auto& b = res.body();
    EXPECT_NE(b.find("<t:NewMailEvent>"), std::string::npos);
    std::size_t envelopes = 0;
    for (auto at = b.find("<s:Envelope"); at != std::string::npos;
         at = b.find("<s:Envelope", at + 1))
        ++envelopes;
    EXPECT_GE(envelopes, 4u);  // the notification, keep-alives, Closed
    EXPECT_NE(b.rfind("<m:ConnectionStatus>Closed</m:ConnectionStatus>"), std::string::npos);
    EXPECT_LT(steady_clock::now() - t0, std::chrono::seconds(3));
}

TEST_F(EwsTest, UnknownSubscriptionIsAnError) {
    start_basic();
    test_client c(ep());
    auto res =
        c.roundtrip(ews("<m:GetStreamingEvents><m:SubscriptionIds><t:SubscriptionId>nope"
                        "</t:SubscriptionId></m:SubscriptionIds><m:ConnectionTimeout>1"
                        "</m:ConnectionTimeout></m:GetStreamingEvents>"));
    EXPECT_NE(res.body().find("ErrorSubscriptionNotFound"), std::string::npos);
}

class AutodiscoverTest : public FleetTest {};

test::request pox(std::string_view email) {
    auto req = make_request(
        "POST", "/autodiscover/autodiscover.xml", "mail.contoso.com",
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas."
        "microsoft.com/exchange/autodiscover/outlook/requestschema/2006\"><Request>"
        "<EMailAddress>" +
            std::string(email) +
            "</EMailAddress><AcceptableResponseSchema>"
            "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
            "</AcceptableResponseSchema></Request></Autodiscover>");
    req.set(http::field::content_type, "text/xml");
    req.set(http::field::authorization, basic("jdoe", "x"));
    return req;
}

TEST_F(AutodiscoverTest, PoxResponseIsPerUserAndMapiHttpOnRequest) {
    start(1);
    test_client c(ep());
    auto plain = c.roundtrip(pox("jdoe@contoso.com"));
    EXPECT_EQ(plain.result_int(), 200);
    EXPECT_NE(plain.body().find("<Type>EXPR</Type>"), std::string::npos);
    EXPECT_NE(plain.body().find("<EwsUrl>http://mail.contoso.com/EWS/Exchange.asmx</EwsUrl>"),
              std::string::npos);
    EXPECT_EQ(plain.body().find("mapiHttp"), std::string::npos);
    auto req = pox("asmith@contoso.com");
    req.set("X-MapiHttpCapability", "1");
    auto mapi = c.roundtrip(req);
    EXPECT_NE(mapi.body().find("<Protocol Type=\"mapiHttp\" Version=\"1\">"), std::string::npos);
    EXPECT_NE(mapi.body().find("<AutoDiscoverSMTPAddress>asmith@contoso.com<"), std::string::npos);
    // Two users get two different mailbox ids (a proxy must not cache by URL).
    auto guid = [](const std::string& b) { return between(b, "<Server>", "@"); };
    EXPECT_NE(guid(plain.body()), guid(mapi.body()));
}

TEST_F(AutodiscoverTest, GetAndBadBodiesGetTheError600) {
    start(1);
    test_client c(ep());
    auto get = make_request("GET", "/Autodiscover/Autodiscover.xml");
    get.set(http::field::authorization, basic("jdoe", "x"));
    auto res = c.roundtrip(get);
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_NE(res.body().find("<ErrorCode>600</ErrorCode>"), std::string::npos);
    auto bad =
        make_request("POST", "/autodiscover/autodiscover.xml", "mail.contoso.com", "garbage");
    bad.set(http::field::authorization, basic("jdoe", "x"));
    EXPECT_NE(c.roundtrip(bad).body().find("<ErrorCode>600</ErrorCode>"), std::string::npos);
}

TEST_F(AutodiscoverTest, JsonV2IsAnonymousAndRejectsUnknownProtocols) {
    start(1);
    auto ok = test::get(
        ep(), "/autodiscover/autodiscover.json/v1.0/jdoe@contoso.com?Protocol=ActiveSync");
    EXPECT_EQ(ok.result_int(), 200);
    auto j = nlohmann::json::parse(ok.body());
    EXPECT_EQ(j["Protocol"], "ActiveSync");
    EXPECT_EQ(j["Url"], "http://mail.contoso.com/Microsoft-Server-ActiveSync");
    auto query = test::get(
        ep(),
        "/autodiscover/autodiscover.json?Email=jdoe%40contoso.com&Protocol=Ews&RedirectCount=1");
    EXPECT_EQ(nlohmann::json::parse(query.body())["Url"],
              "http://mail.contoso.com/EWS/Exchange.asmx");
    auto bad =
        test::get(ep(), "/autodiscover/autodiscover.json/v1.0/jdoe@contoso.com?Protocol=Foo");
    EXPECT_EQ(bad.result_int(), 400);
    EXPECT_EQ(nlohmann::json::parse(bad.body())["ErrorCode"], "InvalidProtocol");
}

TEST_F(AutodiscoverTest, TlsServerIsTrustedThroughTheFleetAuthority) {
    auto config = default_fleet(1);
    config.servers[0].tls.enabled = true;
    start(std::move(config));
    auto ctx = net::make_client_context(
        {.verify = true, .trusted_pem = f().authority().chain_pem, .system_trust = false});
    SSL_CTX_set_verify(ctx->native_handle(), SSL_VERIFY_PEER, nullptr);
    test_client c(ep(), *ctx, "mail.contoso.com");
    auto res = c.roundtrip(
        make_request("GET", "/autodiscover/autodiscover.json/v1.0/jdoe@contoso.com?Protocol=Ews"));
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(nlohmann::json::parse(res.body())["Url"],
              "https://mail.contoso.com/EWS/Exchange.asmx");
    EXPECT_TRUE(server(0).observations().connections.front().tls);
}

}  // namespace
}  // namespace gatehouse::fake_cas::testing
