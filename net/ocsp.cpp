#include "net/ocsp.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <array>
#include <ctime>
#include <memory>
#include <stdexcept>

namespace gatehouse::net {

namespace {

using system_clock = std::chrono::system_clock;

struct openssl_free {
    void operator()(OCSP_RESPONSE* p) const noexcept { OCSP_RESPONSE_free(p); }
    void operator()(OCSP_BASICRESP* p) const noexcept { OCSP_BASICRESP_free(p); }
    void operator()(OCSP_CERTID* p) const noexcept { OCSP_CERTID_free(p); }
    void operator()(X509_STORE* p) const noexcept { X509_STORE_free(p); }
    void operator()(BIO* p) const noexcept { BIO_free(p); }
    void operator()(STACK_OF(X509) * p) const noexcept { sk_X509_pop_free(p, X509_free); }
};
template <class T>
using owned = std::unique_ptr<T, openssl_free>;

[[noreturn]] void fail(const std::string& what) {
    std::string message = "not a usable OCSP response: " + what;
    if (auto code = ERR_get_error(); code != 0) {
        std::array<char, 256> text{};
        ERR_error_string_n(code, text.data(), text.size());
        message.append(" (").append(text.data()).append(")");
    }
    ERR_clear_error();
    throw std::runtime_error(message);
}

owned<STACK_OF(X509)> read_chain(std::string_view pem) {
    owned<BIO> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    owned<STACK_OF(X509)> chain(sk_X509_new_null());
    if (!bio || !chain) fail("out of memory");
    while (X509* cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
        sk_X509_push(chain.get(), cert);
    ERR_clear_error();  // the end of the PEM text
    if (sk_X509_num(chain.get()) == 0) fail("the certificate file holds no certificate");
    return chain;
}

system_clock::time_point to_time_point(const ASN1_GENERALIZEDTIME* t) {
    std::tm tm{};
    if (ASN1_TIME_to_tm(t, &tm) != 1) fail("a time that does not parse");
    return system_clock::from_time_t(timegm(&tm));
}

}  // namespace

bool ocsp_staple::current(system_clock::time_point now) const noexcept {
    return now + std::chrono::minutes(5) >= this_update && now < next_update;
}

ocsp_staple check_ocsp_response(std::string_view der, std::string_view chain_pem) {
    const auto* p = reinterpret_cast<const unsigned char*>(der.data());
    owned<OCSP_RESPONSE> response(d2i_OCSP_RESPONSE(nullptr, &p, static_cast<long>(der.size())));
    if (!response || p != reinterpret_cast<const unsigned char*>(der.data() + der.size()))
        fail("the file is not a DER OCSP response");
    if (int s = OCSP_response_status(response.get()); s != OCSP_RESPONSE_STATUS_SUCCESSFUL)
        fail(std::string("the responder answered \"") + OCSP_response_status_str(s) + "\"");
    owned<OCSP_BASICRESP> basic(OCSP_response_get1_basic(response.get()));
    if (!basic) fail("no basic response inside");

    auto chain = read_chain(chain_pem);
    X509* leaf = sk_X509_value(chain.get(), 0);
    X509* issuer = nullptr;
    for (int i = 1; i < sk_X509_num(chain.get()) && !issuer; ++i)
        if (X509_check_issued(sk_X509_value(chain.get(), i), leaf) == X509_V_OK)
            issuer = sk_X509_value(chain.get(), i);
    if (!issuer) fail("the certificate file must include the certificate's issuer to check it");

    // The response's entry for this certificate, whichever hash its identifier uses.
    OCSP_SINGLERESP* single = nullptr;
    for (int i = 0; i < OCSP_resp_count(basic.get()) && !single; ++i) {
        OCSP_SINGLERESP* candidate = OCSP_resp_get0(basic.get(), i);
        ASN1_OBJECT* hash = nullptr;
        const OCSP_CERTID* id = OCSP_SINGLERESP_get0_id(candidate);
        auto* mutable_id = const_cast<OCSP_CERTID*>(id);  // the getter is not const-correct
        if (OCSP_id_get0_info(nullptr, &hash, nullptr, nullptr, mutable_id) != 1) continue;
        const EVP_MD* md = EVP_get_digestbyobj(hash);
        if (!md) continue;
        owned<OCSP_CERTID> ours(OCSP_cert_to_id(md, leaf, issuer));
        if (ours && OCSP_id_cmp(ours.get(), id) == 0) single = candidate;
    }
    if (!single) fail("it answers for another certificate");

    // Signed by the issuer itself or by a responder certificate the issuer delegated to.
    owned<X509_STORE> store(X509_STORE_new());
    if (!store || X509_STORE_add_cert(store.get(), issuer) != 1) fail("out of memory");
    X509_STORE_set_flags(store.get(), X509_V_FLAG_PARTIAL_CHAIN);
    if (OCSP_basic_verify(basic.get(), chain.get(), store.get(), 0) != 1)
        fail("its signature does not verify against the certificate's issuer");

    int reason = 0;
    ASN1_GENERALIZEDTIME* revoked_at = nullptr;
    ASN1_GENERALIZEDTIME* this_update = nullptr;
    ASN1_GENERALIZEDTIME* next_update = nullptr;
    int status = OCSP_single_get0_status(single, &reason, &revoked_at, &this_update, &next_update);
    if (status < 0 || !this_update) fail("the certificate's entry has no status");

    ocsp_staple staple;
    staple.der.assign(der);
    staple.status = OCSP_cert_status_str(status);
    staple.this_update = to_time_point(this_update);
    if (next_update) staple.next_update = to_time_point(next_update);
    return staple;
}

}  // namespace gatehouse::net
