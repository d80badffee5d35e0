#include "net/tls.hpp"

#include "net/stream.hpp"
#include "tests/support/run_bounded.hpp"

#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>
#include <openssl/x509.h>

namespace gatehouse::net {
namespace {

// Accepts TLS connections and writes one byte on each (so TLS 1.3 session tickets reach the
// client before it reads).
awaitable<void> serve(tcp::acceptor& acceptor, asio::ssl::context& context, int connections) {
    for (int i = 0; i < connections; ++i) {
        auto [ec, socket] = co_await acceptor.async_accept(use_nothrow);
        if (ec) co_return;
        stream s(std::move(socket), context);
        s.expires_after(5s);
        if (co_await s.handshake(asio::ssl::stream_base::server)) continue;
        co_await s.write(asio::buffer("x", 1));
        co_await s.shutdown();
    }
}

struct client_result {
    error_code handshake;
    std::string subject_cn;
    bool reused = false;
};

awaitable<client_result> connect(tcp::endpoint endpoint, asio::ssl::context& context,
                                 std::string host, bool verify_host,
                                 tls_session_cache* cache = nullptr) {
    tcp::socket socket(co_await asio::this_coro::executor);
    co_await socket.async_connect(endpoint, use_awaitable);
    stream s(std::move(socket), context);
    s.expires_after(5s);
    EXPECT_TRUE(s.set_server_name(host, verify_host));
    if (cache) cache->prepare(s.ssl(), host);
    client_result result;
    result.handshake = co_await s.handshake(asio::ssl::stream_base::client);
    if (result.handshake) co_return result;
    result.reused = SSL_session_reused(s.ssl()) == 1;
    if (X509* peer = SSL_get1_peer_certificate(s.ssl())) {
        char cn[256] = {};
        X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
        result.subject_cn = cn;
        X509_free(peer);
    }
    std::array<char, 1> one;
    co_await s.read_some(asio::buffer(one));
    co_await s.shutdown();
    co_return result;
}

class TlsTest : public ::testing::Test {
protected:
    void start(asio::ssl::context& server_context, int connections = 1) {
        asio::co_spawn(ioc_, serve(acceptor_, server_context, connections), asio::detached);
    }
    client_result run_client(asio::ssl::context& ctx, std::string host, bool verify_host,
                             tls_session_cache* cache = nullptr) {
        return test::run_bounded(
            ioc_, connect(acceptor_.local_endpoint(), ctx, std::move(host), verify_host, cache));
    }

    asio::io_context ioc_;
    tcp::acceptor acceptor_{ioc_, {asio::ip::make_address("127.0.0.1"), 0}};
    certificate ca_ = make_authority("Gatehouse test CA");
};

TEST_F(TlsTest, ClientTrustingTheAuthorityVerifiesChainAndHostName) {
    auto server = make_server_context(issue_certificate(ca_, {"ex01.contoso.local"}));
    auto client = make_client_context({.trusted_pem = ca_.chain_pem, .system_trust = false});
    start(*server);
    auto result = run_client(*client, "ex01.contoso.local", true);
    EXPECT_FALSE(result.handshake) << result.handshake.message();
    EXPECT_EQ(result.subject_cn, "ex01.contoso.local");
}

TEST_F(TlsTest, HostNameMismatchFailsTheHandshake) {
    auto server = make_server_context(issue_certificate(ca_, {"ex01.contoso.local"}));
    auto client = make_client_context({.trusted_pem = ca_.chain_pem, .system_trust = false});
    start(*server);
    EXPECT_TRUE(run_client(*client, "ex02.contoso.local", true).handshake);
}

TEST_F(TlsTest, UntrustedAuthorityFailsUnlessVerificationIsOff) {
    auto server = make_server_context(issue_certificate(ca_, {"ex01.contoso.local"}));
    auto strict = make_client_context({.system_trust = false});
    auto lax = make_client_context({.verify = false});
    start(*server, 2);
    EXPECT_TRUE(run_client(*strict, "ex01.contoso.local", true).handshake);
    EXPECT_FALSE(run_client(*lax, "ex01.contoso.local", false).handshake);
}

TEST_F(TlsTest, ServerNameSelectsTheCertificate) {
    sni_server_contexts contexts;
    contexts.add(issue_certificate(ca_, {"mail.contoso.com"}), {"mail.contoso.com"});
    contexts.add(issue_certificate(ca_, {"autodiscover.contoso.com"}),
                 {"autodiscover.contoso.com", "*.fabrikam.com"});
    auto client = make_client_context({.trusted_pem = ca_.chain_pem, .system_trust = false});
    start(contexts.context(), 3);
    EXPECT_EQ(run_client(*client, "autodiscover.contoso.com", true).subject_cn,
              "autodiscover.contoso.com");
    EXPECT_EQ(run_client(*client, "owa.fabrikam.com", false).subject_cn,
              "autodiscover.contoso.com");
    EXPECT_EQ(run_client(*client, "unknown.example", false).subject_cn, "mail.contoso.com");
}

TEST_F(TlsTest, SessionCacheResumesTheSecondConnection) {
    auto server = make_server_context(issue_certificate(ca_, {"ex01.contoso.local"}));
    auto client = make_client_context({.trusted_pem = ca_.chain_pem, .system_trust = false});
    tls_session_cache cache(*client);
    start(*server, 2);
    auto first = run_client(*client, "ex01.contoso.local", true, &cache);
    ASSERT_FALSE(first.handshake);
    EXPECT_FALSE(first.reused);
    EXPECT_EQ(cache.size(), 1u);
    auto second = run_client(*client, "ex01.contoso.local", true, &cache);
    ASSERT_FALSE(second.handshake);
    EXPECT_TRUE(second.reused);
}

TEST(TlsContext, MismatchedKeyIsRejected) {
    auto a = make_self_signed({"a"});
    auto b = make_self_signed({"b"});
    EXPECT_THROW(make_server_context({a.chain_pem, b.key_pem}), std::runtime_error);
}

}  // namespace
}  // namespace gatehouse::net
