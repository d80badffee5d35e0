// TLS rows of the reliability table (reliability-anchors §8): OCSP stapling from a file (row
// 68), client-initiated renegotiation and early data refused (row 69). The client side is plain
// OpenSSL, so each test can ask for exactly the protocol feature it probes.

#include "net/certificate.hpp"
#include "tests/integration/proxy_fixture.hpp"
#include "tests/integration/raw_exchange.hpp"

#include <filesystem>
#include <fstream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

namespace gatehouse::test {
namespace {

using namespace std::chrono_literals;

X509* read_x509(std::string_view pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return cert;
}

EVP_PKEY* read_key(std::string_view pem) {
    BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    return key;
}

// A DER OCSP response saying `leaf` (issued by `authority`) is good, valid from `from` to `to`
// (seconds relative to now), as a responder would produce it; signed by `authority`, or by
// `signer` when given.
std::string ocsp_response(const net::certificate& leaf, const net::certificate& authority,
                          long from = -3600, long to = 7 * 86400,
                          const net::certificate* signer = nullptr) {
    X509* cert = read_x509(leaf.chain_pem);
    X509* ca = read_x509(authority.chain_pem);
    X509* signer_cert = read_x509((signer ? *signer : authority).chain_pem);
    EVP_PKEY* signer_key = read_key((signer ? *signer : authority).key_pem);
    OCSP_CERTID* id = OCSP_cert_to_id(EVP_sha1(), cert, ca);
    OCSP_BASICRESP* basic = OCSP_BASICRESP_new();
    ASN1_TIME* this_update = X509_gmtime_adj(nullptr, from);
    ASN1_TIME* next_update = X509_gmtime_adj(nullptr, to);
    std::string der;
    if (cert && ca && signer_cert && signer_key && id && basic &&
        OCSP_basic_add1_status(basic, id, V_OCSP_CERTSTATUS_GOOD, 0, nullptr, this_update,
                               next_update) &&
        OCSP_basic_sign(basic, signer_cert, signer_key, EVP_sha256(), nullptr, 0) == 1) {
        OCSP_RESPONSE* response = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL, basic);
        unsigned char* out = nullptr;
        int n = i2d_OCSP_RESPONSE(response, &out);
        if (n > 0) der.assign(reinterpret_cast<char*>(out), static_cast<std::size_t>(n));
        OPENSSL_free(out);
        OCSP_RESPONSE_free(response);
    }
    ASN1_TIME_free(this_update);
    ASN1_TIME_free(next_update);
    OCSP_BASICRESP_free(basic);
    OCSP_CERTID_free(id);
    EVP_PKEY_free(signer_key);
    X509_free(signer_cert);
    X509_free(ca);
    X509_free(cert);
    if (der.empty()) throw std::runtime_error("cannot build an OCSP response");
    return der;
}

// One TLS client connection over a blocking socket whose reads and writes give up after 3 s.
class tls_probe {
public:
    tls_probe(const tcp::endpoint& to, const std::string& server_name, int max_version) {
        ctx_ = SSL_CTX_new(TLS_client_method());
        SSL_CTX_set_max_proto_version(ctx_, max_version);
        SSL_CTX_set_verify(ctx_, SSL_VERIFY_NONE, nullptr);
        SSL_CTX_set_session_cache_mode(ctx_, SSL_SESS_CACHE_CLIENT);  // keep TLS 1.3 tickets
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        timeval limit{3, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(to.port());
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
            throw std::runtime_error("connect");
        ssl_ = SSL_new(ctx_);
        SSL_set_fd(ssl_, fd_);
        SSL_set_tlsext_host_name(ssl_, server_name.c_str());
    }
    ~tls_probe() {
        SSL_free(ssl_);
        SSL_CTX_free(ctx_);
        ::close(fd_);
    }
    tls_probe(const tls_probe&) = delete;
    tls_probe& operator=(const tls_probe&) = delete;

    SSL* ssl() const noexcept { return ssl_; }
    bool handshake() { return SSL_connect(ssl_) == 1; }
    // The OCSP response the server stapled; empty when none.
    std::string stapled() const {
        const unsigned char* p = nullptr;
        long n = SSL_get_tlsext_status_ocsp_resp(ssl_, &p);
        return n > 0 && p ? std::string(reinterpret_cast<const char*>(p), n) : std::string();
    }
    // Sends a GET and returns its response (head and Content-Length body); the connection
    // stays open.
    std::string get(const std::string& target) {
        std::string request = "GET " + target + " HTTP/1.1\r\nHost: mail.contoso.com\r\n\r\n";
        if (SSL_write(ssl_, request.data(), static_cast<int>(request.size())) <= 0) return {};
        std::string response;
        char buffer[4096];
        for (;;) {
            if (auto end = response.find("\r\n\r\n"); end != std::string::npos) {
                auto at = lower(response.substr(0, end)).find("content-length: ");
                if (at == std::string::npos) return response;
                if (response.size() >= end + 4 + std::stoul(response.substr(at + 16))) break;
            }
            int n = SSL_read(ssl_, buffer, sizeof buffer);
            if (n <= 0) break;
            response.append(buffer, static_cast<std::size_t>(n));
        }
        return response;
    }

private:
    SSL_CTX* ctx_ = nullptr;
    SSL* ssl_ = nullptr;
    int fd_ = -1;
};

class TlsHardening : public ProxyTest {
protected:
    static void SetUpTestSuite() {
        authority_ = new net::certificate(net::make_authority("Gatehouse Test CA"));
        mail_ = new net::certificate(net::issue_certificate(*authority_, {"mail.contoso.com"}));
        autodiscover_ =
            new net::certificate(net::issue_certificate(*authority_, {"autodiscover.contoso.com"}));
    }
    static void TearDownTestSuite() {
        delete authority_;
        delete mail_;
        delete autodiscover_;
    }
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("gatehouse-tls-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
        write("mail.pem", mail_->chain_pem);
        write("mail.key", mail_->key_pem);
        write("autodiscover.pem", autodiscover_->chain_pem);
        write("autodiscover.key", autodiscover_->key_pem);
    }
    void TearDown() override {
        ProxyTest::TearDown();
        std::filesystem::remove_all(dir_);
    }

    void write(const std::string& name, const std::string& bytes) {
        std::ofstream(dir_ / name, std::ios::binary) << bytes;
    }

    // An https listener with mail's certificate (OCSP response file `mail_ocsp` when given) and
    // autodiscover's (never one), in front of `backend_port`.
    proxy::config config(std::uint16_t backend_port, const std::string& mail_ocsp = "") {
        std::string ocsp =
            mail_ocsp.empty() ? "" : R"(, "ocsp_response_file": ")" + mail_ocsp + "\"";
        return proxy::parse_config(R"({
          "listeners": { "https": { "address": "127.0.0.1", "port": 0, "tls": { "certificates": [
            { "names": [ "mail.contoso.com" ], "certificate_file": "mail.pem",
              "key_file": "mail.key")" + ocsp + R"( },
            { "names": [ "autodiscover.contoso.com" ], "certificate_file": "autodiscover.pem",
              "key_file": "autodiscover.key" } ] } } },
          "farms": { "cas": { "servers": [ { "address": "127.0.0.1", "port": )" +
                                       std::to_string(backend_port) + R"( } ] } },
          "rules": [ { "name": "all", "pattern": ".*",
                       "action": { "type": "route", "farm": "cas" } } ]
        })",
                                   "test.json", dir_.string());
    }

    // The OCSP response stapled for a client asking for one with `server_name`.
    std::string stapled_for(const std::string& server_name, int max_version = TLS1_3_VERSION,
                            bool ask = true) {
        tls_probe probe(https(), server_name, max_version);
        if (ask) SSL_set_tlsext_status_type(probe.ssl(), TLSEXT_STATUSTYPE_ocsp);
        EXPECT_TRUE(probe.handshake());
        return probe.stapled();
    }

    static net::certificate* authority_;
    static net::certificate* mail_;
    static net::certificate* autodiscover_;
    std::filesystem::path dir_;
};

net::certificate* TlsHardening::authority_ = nullptr;
net::certificate* TlsHardening::mail_ = nullptr;
net::certificate* TlsHardening::autodiscover_ = nullptr;

// Row 68: with ocsp_response_file, a client that asks (status_request) gets that response with
// the certificate, on TLS 1.2 and 1.3; a certificate without one staples nothing, and a client
// that does not ask gets nothing.
TEST_F(TlsHardening, StaplesTheConfiguredOcspResponseToClientsThatAsk) {
    fake_backend cas(answer("ok"));
    const auto der = ocsp_response(*mail_, *authority_);
    write("mail.ocsp", der);
    start(config(cas.port(), "mail.ocsp"));
    EXPECT_EQ(stapled_for("mail.contoso.com", TLS1_3_VERSION), der);
    EXPECT_EQ(stapled_for("mail.contoso.com", TLS1_2_VERSION), der);
    EXPECT_EQ(stapled_for("autodiscover.contoso.com"), "");
    EXPECT_EQ(stapled_for("mail.contoso.com", TLS1_3_VERSION, false), "");
    // Stapling changes nothing else: requests go through.
    tls_probe probe(https(), "mail.contoso.com", TLS1_3_VERSION);
    ASSERT_TRUE(probe.handshake());
    EXPECT_TRUE(probe.get("/owa/").starts_with("HTTP/1.1 200"));
}

TEST_F(TlsHardening, WithoutAnOcspResponseFileNothingIsStapled) {
    fake_backend cas(answer("ok"));
    start(config(cas.port()));
    EXPECT_EQ(stapled_for("mail.contoso.com"), "");
}

// Responses are refreshed by replacing the file and reloading; the proxy never fetches one.
TEST_F(TlsHardening, AReloadStaplesTheResponseFileAsItIsNow) {
    fake_backend cas(answer("ok"));
    const auto first = ocsp_response(*mail_, *authority_);
    write("mail.ocsp", first);
    start(config(cas.port(), "mail.ocsp"));
    EXPECT_EQ(stapled_for("mail.contoso.com"), first);
    const auto renewed = ocsp_response(*mail_, *authority_, -60, 14 * 86400);
    ASSERT_NE(renewed, first);
    write("mail.ocsp", renewed);
    EXPECT_EQ(stapled_for("mail.contoso.com"), first);  // read at load only
    proxy_->reload(config(cas.port(), "mail.ocsp"));
    EXPECT_EQ(stapled_for("mail.contoso.com"), renewed);
}

// An expired response would make careful clients fail: it is logged and not stapled, and the
// listener serves without one.
TEST_F(TlsHardening, ExpiredOcspResponseIsNotStapled) {
    fake_backend cas(answer("ok"));
    write("mail.ocsp", ocsp_response(*mail_, *authority_, -8 * 86400, -86400));
    start(config(cas.port(), "mail.ocsp"));
    EXPECT_EQ(stapled_for("mail.contoso.com"), "");
}

// A file that is not an OCSP response for that certificate is a configuration error naming the
// JSON path: a response for another certificate, one its issuer did not sign, no response, or
// no file.
TEST_F(TlsHardening, OcspResponseThatDoesNotAnswerForTheCertificateIsAConfigError) {
    fake_backend cas(answer("ok"));
    auto stranger = net::make_authority("Someone Else");
    auto mail_from_stranger = net::issue_certificate(stranger, {"mail.contoso.com"});
    struct bad_file {
        std::string bytes;
        std::string problem;  // part of the message
    };
    const bad_file cases[] = {
        {ocsp_response(*autodiscover_, *authority_), "answers for another certificate"},
        {ocsp_response(mail_from_stranger, stranger), "answers for another certificate"},
        {ocsp_response(*mail_, *authority_, -3600, 86400, &stranger), "signature"},
        {"not DER at all", "not a DER OCSP response"},
    };
    for (const auto& [bytes, problem] : cases) {
        SCOPED_TRACE(problem);
        write("mail.ocsp", bytes);
        try {
            proxy::proxy_server proxy(config(cas.port(), "mail.ocsp"), {.source = "test.json"});
            ADD_FAILURE() << "accepted";
        } catch (const proxy::config_error& e) {
            EXPECT_EQ(e.path(), "listeners.https.tls.certificates[0].ocsp_response_file");
            EXPECT_TRUE(std::string(e.what()).starts_with("test.json: ")) << e.what();
            EXPECT_NE(e.problem().find(problem), std::string::npos) << e.what();
        }
    }
    std::filesystem::remove(dir_ / "mail.ocsp");
    try {
        config(cas.port(), "mail.ocsp");
        ADD_FAILURE() << "a missing file was accepted";
    } catch (const proxy::config_error& e) {
        EXPECT_EQ(e.path(), "listeners.https.tls.certificates[0].ocsp_response_file");
    }
}

// Row 69: a client that asks to renegotiate a TLS 1.2 connection is refused (no_renegotiation),
// and the proxy goes on serving others.
TEST_F(TlsHardening, ClientInitiatedRenegotiationIsRefused) {
    fake_backend cas(answer("ok"));
    start(config(cas.port()));
    {
        tls_probe probe(https(), "mail.contoso.com", TLS1_2_VERSION);
        ASSERT_TRUE(probe.handshake());
        ASSERT_EQ(SSL_version(probe.ssl()), TLS1_2_VERSION);
        ASSERT_EQ(SSL_renegotiate(probe.ssl()), 1);
        ERR_clear_error();
        EXPECT_NE(SSL_do_handshake(probe.ssl()), 1);
        EXPECT_EQ(ERR_GET_REASON(ERR_peek_error()), SSL_R_NO_RENEGOTIATION);
    }
    tls_probe next(https(), "mail.contoso.com", TLS1_2_VERSION);
    ASSERT_TRUE(next.handshake());
    EXPECT_TRUE(next.get("/owa/").starts_with("HTTP/1.1 200"));
}

// Row 69: early data (0-RTT) is never accepted: session tickets offer none, and a client that
// sends a request as early data anyway has it rejected — the back end never sees it.
TEST_F(TlsHardening, EarlyDataIsNotAccepted) {
    fake_backend cas(answer("ok"));
    start(config(cas.port()));
    // The first connection stays open: OpenSSL forgets the session of one that ended abruptly.
    tls_probe first(https(), "mail.contoso.com", TLS1_3_VERSION);
    ASSERT_TRUE(first.handshake());
    ASSERT_TRUE(first.get("/owa/first").starts_with("HTTP/1.1 200"));  // tickets arrive
    SSL_SESSION* session = SSL_get1_session(first.ssl());
    ASSERT_NE(session, nullptr);
    EXPECT_EQ(SSL_SESSION_get_max_early_data(session), 0u);
    // A client that sends early data regardless of what the ticket said.
    ASSERT_EQ(SSL_SESSION_is_resumable(session), 1);
    SSL_SESSION* forced = SSL_SESSION_dup(session);
    SSL_SESSION_free(session);
    ASSERT_NE(forced, nullptr);
    ASSERT_EQ(SSL_SESSION_set_max_early_data(forced, 16384), 1);
    tls_probe replay(https(), "mail.contoso.com", TLS1_3_VERSION);
    ASSERT_EQ(SSL_set_session(replay.ssl(), forced), 1);
    SSL_SESSION_free(forced);
    const std::string early =
        "GET /owa/early HTTP/1.1\r\nHost: mail.contoso.com\r\nContent-Length: 0\r\n\r\n";
    std::size_t written = 0;
    ASSERT_EQ(SSL_write_early_data(replay.ssl(), early.data(), early.size(), &written), 1)
        << ERR_error_string(ERR_peek_error(), nullptr);
    ASSERT_TRUE(replay.handshake());
    EXPECT_EQ(SSL_get_early_data_status(replay.ssl()), SSL_EARLY_DATA_REJECTED);
    EXPECT_TRUE(replay.get("/owa/after").starts_with("HTTP/1.1 200"));
    ASSERT_TRUE(cas.wait_for_requests(2));
    for (const auto& r : cas.requests()) EXPECT_NE(r.target, "/owa/early");
}

}  // namespace
}  // namespace gatehouse::test
