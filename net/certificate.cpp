#include "net/certificate.hpp"

#include <arpa/inet.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace gatehouse::net {

namespace {

struct openssl_free {
    void operator()(EVP_PKEY* p) const noexcept { EVP_PKEY_free(p); }
    void operator()(X509* p) const noexcept { X509_free(p); }
    void operator()(BIO* p) const noexcept { BIO_free(p); }
    void operator()(BIGNUM* p) const noexcept { BN_free(p); }
    void operator()(X509_EXTENSION* p) const noexcept { X509_EXTENSION_free(p); }
};
using pkey_ptr = std::unique_ptr<EVP_PKEY, openssl_free>;
using x509_ptr = std::unique_ptr<X509, openssl_free>;
using bio_ptr = std::unique_ptr<BIO, openssl_free>;
using bn_ptr = std::unique_ptr<BIGNUM, openssl_free>;
using extension_ptr = std::unique_ptr<X509_EXTENSION, openssl_free>;

[[noreturn]] void fail(std::string_view what) {
    std::string message = "certificate generation failed: ";
    message.append(what);
    if (auto code = ERR_get_error(); code != 0) {
        std::array<char, 256> text{};
        ERR_error_string_n(code, text.data(), text.size());
        message.append(": ").append(text.data());
    }
    throw std::runtime_error(message);
}

template <class T>
T check(T value, std::string_view what) {
    if (!value) fail(what);
    return value;
}

pkey_ptr generate_key(key_type type) {
    EVP_PKEY* key = type == key_type::rsa_2048 ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
    return pkey_ptr(check(key, "key generation"));
}

bool is_ip_literal(const std::string& name) {
    std::array<unsigned char, 16> storage{};
    return inet_pton(AF_INET, name.c_str(), storage.data()) == 1 ||
           inet_pton(AF_INET6, name.c_str(), storage.data()) == 1;
}

void add_extension(X509* cert, X509V3_CTX* ctx, int nid, const std::string& value) {
    extension_ptr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value.c_str()));
    if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) fail("extension " + value);
}

std::string pem_of(X509* cert) {
    bio_ptr bio(check(BIO_new(BIO_s_mem()), "BIO"));
    if (PEM_write_bio_X509(bio.get(), cert) != 1) fail("PEM encoding");
    char* data = nullptr;
    auto size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

std::string pem_of(EVP_PKEY* key) {
    bio_ptr bio(check(BIO_new(BIO_s_mem()), "BIO"));
    if (PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1)
        fail("PEM key encoding");
    char* data = nullptr;
    auto size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(size));
}

x509_ptr read_certificate(std::string_view pem) {
    bio_ptr bio(check(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), "BIO"));
    return x509_ptr(check(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), "PEM read"));
}

pkey_ptr read_key(std::string_view pem) {
    bio_ptr bio(check(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), "BIO"));
    return pkey_ptr(
        check(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr), "PEM key read"));
}

// Builds and signs one certificate. `issuer` null means self-signed with `key`.
x509_ptr build(const std::string& common_name, const std::vector<std::string>& names,
               EVP_PKEY* key, X509* issuer, EVP_PKEY* issuer_key, bool authority, int days) {
    x509_ptr cert(check(X509_new(), "X509_new"));
    X509_set_version(cert.get(), 2);

    std::array<unsigned char, 16> serial_bytes{};
    if (RAND_bytes(serial_bytes.data(), serial_bytes.size()) != 1) fail("serial");
    serial_bytes[0] &= 0x7f;  // positive
    bn_ptr serial(check(BN_bin2bn(serial_bytes.data(), serial_bytes.size(), nullptr), "serial"));
    if (!BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get()))) fail("serial");

    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400);
    if (X509_set_pubkey(cert.get(), key) != 1) fail("public key");

    X509_NAME* subject = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("Gatehouse lab"), -1, -1, 0);
    X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                               -1, 0);
    X509_set_issuer_name(cert.get(), issuer ? X509_get_subject_name(issuer) : subject);

    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer ? issuer : cert.get(), cert.get(), nullptr, nullptr, 0);
    add_extension(cert.get(), &ctx, NID_basic_constraints,
                  authority ? "critical,CA:TRUE" : "critical,CA:FALSE");
    add_extension(cert.get(), &ctx, NID_key_usage,
                  authority ? "critical,keyCertSign,cRLSign,digitalSignature"
                            : "critical,digitalSignature,keyEncipherment");
    add_extension(cert.get(), &ctx, NID_subject_key_identifier, "hash");
    add_extension(cert.get(), &ctx, NID_authority_key_identifier, "keyid:always");
    if (!authority) {
        add_extension(cert.get(), &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
        std::string alt_names;
        for (const auto& name : names) {
            if (!alt_names.empty()) alt_names += ',';
            alt_names += (is_ip_literal(name) ? "IP:" : "DNS:") + name;
        }
        if (!alt_names.empty()) add_extension(cert.get(), &ctx, NID_subject_alt_name, alt_names);
    }
    if (X509_sign(cert.get(), issuer_key ? issuer_key : key, EVP_sha256()) == 0) fail("signing");
    return cert;
}

}  // namespace

certificate make_authority(std::string_view common_name, key_type type) {
    auto key = generate_key(type);
    auto cert = build(std::string(common_name), {}, key.get(), nullptr, nullptr, true, 3650);
    return {pem_of(cert.get()), pem_of(key.get())};
}

certificate issue_certificate(const certificate& authority, const std::vector<std::string>& names,
                              key_type type, int days) {
    if (names.empty()) throw std::invalid_argument("issue_certificate: no names");
    auto issuer = read_certificate(authority.chain_pem);
    auto issuer_key = read_key(authority.key_pem);
    auto key = generate_key(type);
    auto cert = build(names.front(), names, key.get(), issuer.get(), issuer_key.get(), false, days);
    return {pem_of(cert.get()) + pem_of(issuer.get()), pem_of(key.get())};
}

certificate make_self_signed(const std::vector<std::string>& names, key_type type, int days) {
    if (names.empty()) throw std::invalid_argument("make_self_signed: no names");
    auto key = generate_key(type);
    auto cert = build(names.front(), names, key.get(), nullptr, nullptr, false, days);
    return {pem_of(cert.get()), pem_of(key.get())};
}

std::string fingerprint_sha256(std::string_view pem) {
    auto cert = read_certificate(pem);
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int size = 0;
    if (X509_digest(cert.get(), EVP_sha256(), digest.data(), &size) != 1) fail("digest");
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < size; ++i) {
        out += hex[digest[i] >> 4];
        out += hex[digest[i] & 0xf];
    }
    return out;
}

}  // namespace gatehouse::net
