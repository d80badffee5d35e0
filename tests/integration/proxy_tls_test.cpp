// TLS on both sides: HTTPS listeners choosing a certificate by SNI, HTTP→HTTPS redirects, and
// SSL bridging to back ends with chain and host-name verification.

#include "net/tls.hpp"
#include "tests/integration/proxy_fixture.hpp"

#include <openssl/x509.h>

namespace gatehouse::test {
namespace {

class Tls : public ProxyTest {
protected:
    static void SetUpTestSuite() {
        authority_ = new net::certificate(net::make_authority("Gatehouse Test CA"));
        mail_ = new net::certificate(
            net::issue_certificate(*authority_, {"mail.contoso.com", "127.0.0.1"}));
        autodiscover_ =
            new net::certificate(net::issue_certificate(*authority_, {"autodiscover.contoso.com"}));
        ex01_ = new net::certificate(net::issue_certificate(*authority_, {"ex01.contoso.local"}));
    }
    static void TearDownTestSuite() {
        delete authority_;
        delete mail_;
        delete autodiscover_;
        delete ex01_;
    }

    // A client context that trusts the test authority and records the common name of the
    // certificate the server presented.
    std::unique_ptr<asio::ssl::context> client_context() {
        auto ctx = net::make_client_context(net::client_tls_options{
            .verify = true, .trusted_pem = authority_->chain_pem, .system_trust = false});
        ctx->set_verify_callback([this](bool preverified, asio::ssl::verify_context& v) {
            X509* cert = X509_STORE_CTX_get_current_cert(v.native_handle());
            if (X509_STORE_CTX_get_error_depth(v.native_handle()) == 0 && cert) {
                char cn[256] = {};
                X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn,
                                          sizeof cn);
                presented_ = cn;
            }
            return preverified;
        });
        return ctx;
    }

    // An http and an https listener in front of farm "cas" (protocol `protocol`).
    proxy::config config(std::uint16_t backend_port, const std::string& protocol = "http",
                         const std::string& tls = "") {
        auto c =
            proxy::parse_config(R"({
          "listeners": { "http": { "address": "127.0.0.1", "port": 0 } },
          "farms": { "cas": { "protocol": ")" +
                                    protocol + R"(",
                              "servers": [ { "address": "127.0.0.1", "port": )" +
                                    std::to_string(backend_port) +
                                    R"(, "host_name": "ex01.contoso.local" } ] )" + tls + R"( } },
          "rules": [
            { "name": "to-https", "pattern": "^(.*)$",
              "conditions": [ { "input": "{HTTPS}", "pattern": "^off$" } ],
              "action": { "type": "redirect", "url": "https://{HTTP_HOST}/{R:1}" },
              "stop_processing": true },
            { "name": "owa", "pattern": "^owa", "action": { "type": "route", "farm": "cas" } } ]
        })",
                                "test.json");
        c.listeners.push_back(proxy::listener_config{
            .name = "https",
            .address = "127.0.0.1",
            .port = 0,
            .tls = true,
            .certificates = {{.names = {"mail.contoso.com"}, .pem = *mail_},
                             {.names = {"autodiscover.contoso.com"}, .pem = *autodiscover_}}});
        return c;
    }

    static net::certificate* authority_;
    static net::certificate* mail_;
    static net::certificate* autodiscover_;
    static net::certificate* ex01_;
    std::string presented_;
};

net::certificate* Tls::authority_ = nullptr;
net::certificate* Tls::mail_ = nullptr;
net::certificate* Tls::autodiscover_ = nullptr;
net::certificate* Tls::ex01_ = nullptr;

TEST_F(Tls, HttpsListenerPresentsTheCertificateOfTheSniName) {
    fake_backend cas(answer("ok"));
    start(config(cas.port()));
    auto ctx = client_context();
    {
        test_client client(https(), *ctx, "autodiscover.contoso.com");
        EXPECT_EQ(presented_, "autodiscover.contoso.com");
    }
    {
        test_client client(https(), *ctx, "mail.contoso.com");
        EXPECT_EQ(presented_, "mail.contoso.com");
        auto res = client.roundtrip(make_request("GET", "/owa/"));
        EXPECT_EQ(res.result_int(), 200);
    }
    {
        test_client client(https(), *ctx, "");  // no SNI: the first certificate
        EXPECT_EQ(presented_, "mail.contoso.com");
    }
    ASSERT_TRUE(cas.wait_for_requests(1));
    EXPECT_EQ(cas.requests()[0].header("X-Forwarded-Proto"), "https");
}

TEST_F(Tls, PlainHttpIsRedirectedToHttps) {
    fake_backend cas(answer("ok"));
    start(config(cas.port()));
    auto res = get(http(), "/owa/?path=/mail", "mail.contoso.com");
    EXPECT_EQ(res.result_int(), 301);
    EXPECT_EQ(res["Location"], "https://mail.contoso.com/owa/?path=/mail");
    EXPECT_EQ(cas.connections(), 0u);
    EXPECT_EQ(proxy_->stats().redirects, 1u);
}

TEST_F(Tls, BridgesToABackEndWhoseCertificateAndNameVerify) {
    fake_backend cas(answer("secure"), *ex01_);
    auto c = config(cas.port(), "https");
    c.farms[0].tls.trusted_ca_pem = authority_->chain_pem;
    c.farms[0].tls.system_trust = false;
    start(std::move(c));
    auto ctx = client_context();
    test_client client(https(), *ctx, "mail.contoso.com");
    auto res = client.roundtrip(make_request("GET", "/owa/"));
    EXPECT_EQ(res.result_int(), 200);
    EXPECT_EQ(res.body(), "secure");
    EXPECT_EQ(cas.value("tls_handshakes"), 1u);
}

TEST_F(Tls, UntrustedBackEndCertificateIs502_3_12175) {
    fake_backend cas(answer("secure"), net::make_self_signed({"ex01.contoso.local"}));
    auto c = config(cas.port(), "https");
    c.farms[0].tls.trusted_ca_pem = authority_->chain_pem;
    c.farms[0].tls.system_trust = false;
    start(std::move(c));
    auto ctx = client_context();
    test_client client(https(), *ctx, "mail.contoso.com");
    auto res = client.roundtrip(make_request("GET", "/owa/"));
    EXPECT_EQ(res["X-Gatehouse-Error"], "502.3.12175");
    EXPECT_NE(res.body().find("A security error occurred"), std::string::npos);
}

TEST_F(Tls, BackEndCertificateForAnotherNameIs502_3_12175) {
    fake_backend cas(answer("secure"), *autodiscover_);  // trusted, but not ex01's
    auto c = config(cas.port(), "https");
    c.farms[0].tls.trusted_ca_pem = authority_->chain_pem;
    c.farms[0].tls.system_trust = false;
    start(std::move(c));
    auto res = get(http(), "/owa/", "x");  // redirected: use the https listener instead
    EXPECT_EQ(res.result_int(), 301);
    auto ctx = client_context();
    test_client client(https(), *ctx, "mail.contoso.com");
    EXPECT_EQ(client.roundtrip(make_request("GET", "/owa/"))["X-Gatehouse-Error"], "502.3.12175");
}

TEST_F(Tls, LabCertificatesPassWhenVerificationIsOff) {
    fake_backend cas(answer("lab"), net::make_self_signed({"whatever.local"}));
    auto c = config(cas.port(), "https", R"(, "tls": { "verify": false })");
    start(std::move(c));
    auto ctx = client_context();
    test_client client(https(), *ctx, "mail.contoso.com");
    EXPECT_EQ(client.roundtrip(make_request("GET", "/owa/")).body(), "lab");
}

TEST_F(Tls, ResumesBackEndSessions) {
    fake_backend cas(answer("secure"), *ex01_);
    auto c = config(cas.port(), "https", R"(, "proxy": { "keep_alive": false })");
    c.farms[0].tls.trusted_ca_pem = authority_->chain_pem;
    c.farms[0].tls.system_trust = false;
    start(std::move(c));
    auto ctx = client_context();
    test_client client(https(), *ctx, "mail.contoso.com");
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(client.roundtrip(make_request("GET", "/owa/")).body(), "secure");
    ASSERT_TRUE(cas.wait_for_value("tls_handshakes", 3));
    EXPECT_GE(cas.value("tls_resumed"), 1u);
}

}  // namespace
}  // namespace gatehouse::test
