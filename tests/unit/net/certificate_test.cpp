#include "net/certificate.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

namespace gatehouse::net {
namespace {

// Verifies the leaf of `chain_pem` against `anchor_pem` for host `host`.
bool verifies(const std::string& chain_pem, const std::string& anchor_pem, const char* host) {
    BIO* leaf_bio = BIO_new_mem_buf(chain_pem.data(), static_cast<int>(chain_pem.size()));
    X509* leaf = PEM_read_bio_X509(leaf_bio, nullptr, nullptr, nullptr);
    BIO* anchor_bio = BIO_new_mem_buf(anchor_pem.data(), static_cast<int>(anchor_pem.size()));
    X509* anchor = PEM_read_bio_X509(anchor_bio, nullptr, nullptr, nullptr);
    X509_STORE* store = X509_STORE_new();
    X509_STORE_add_cert(store, anchor);
    X509_STORE_CTX* ctx = X509_STORE_CTX_new();
    X509_STORE_CTX_init(ctx, store, leaf, nullptr);
    X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), host, 0);
    bool ok = X509_verify_cert(ctx) == 1;
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
    X509_free(anchor);
    X509_free(leaf);
    BIO_free(anchor_bio);
    BIO_free(leaf_bio);
    return ok;
}

TEST(Certificate, IssuedCertificateVerifiesAgainstItsAuthorityForItsNames) {
    auto ca = make_authority("Gatehouse test CA");
    auto leaf = issue_certificate(ca, {"ex01.contoso.local", "127.0.0.1"});
    EXPECT_TRUE(verifies(leaf.chain_pem, ca.chain_pem, "ex01.contoso.local"));
    EXPECT_FALSE(verifies(leaf.chain_pem, ca.chain_pem, "ex02.contoso.local"));
}

TEST(Certificate, AnotherAuthorityDoesNotVerifyIt) {
    auto ca = make_authority("CA one");
    auto other = make_authority("CA two");
    auto leaf = issue_certificate(ca, {"mail.contoso.com"});
    EXPECT_FALSE(verifies(leaf.chain_pem, other.chain_pem, "mail.contoso.com"));
}

TEST(Certificate, RsaKeysWorkToo) {
    auto ca = make_authority("RSA CA", key_type::rsa_2048);
    auto leaf = issue_certificate(ca, {"mail.contoso.com"}, key_type::rsa_2048);
    EXPECT_TRUE(verifies(leaf.chain_pem, ca.chain_pem, "mail.contoso.com"));
    EXPECT_NE(leaf.key_pem.find("PRIVATE KEY"), std::string::npos);
}

TEST(Certificate, FingerprintIsSha256Hex) {
    auto cert = make_self_signed({"ex01"});
    auto fp = fingerprint_sha256(cert.chain_pem);
    EXPECT_EQ(fp.size(), 64u);
    EXPECT_EQ(fp.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_NE(fp, fingerprint_sha256(make_self_signed({"ex01"}).chain_pem));
}

TEST(Certificate, NoNamesIsRejected) {
    auto ca = make_authority("CA");
    EXPECT_THROW(issue_certificate(ca, {}), std::invalid_argument);
}

}  // namespace
}  // namespace gatehouse::net
