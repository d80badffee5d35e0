#pragma once
// Certificates for loopback labs: an authority, and leaf certificates it issues, generated with
// OpenSSL at run time (no files needed). Every fake CAS gets its own certificate; tests trust
// the authority, or deliberately do not.

#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::net {

// PEM text of a certificate chain (leaf first) and of its private key.
struct certificate {
    std::string chain_pem;
    std::string key_pem;
};

enum class key_type { ecdsa_p256, rsa_2048 };

// A self-signed certification authority (CA:TRUE).
certificate make_authority(std::string_view common_name, key_type type = key_type::ecdsa_p256);

// A server certificate for `names` signed by `authority`. Each name is a DNS name or an IP
// address literal ("127.0.0.1", "::1"); the first is also the subject's common name.
// Valid from an hour ago for `days` days. Throws std::runtime_error when OpenSSL fails.
certificate issue_certificate(const certificate& authority, const std::vector<std::string>& names,
                              key_type type = key_type::ecdsa_p256, int days = 90);

// A self-signed server certificate for `names` (its own trust anchor).
certificate make_self_signed(const std::vector<std::string>& names,
                             key_type type = key_type::ecdsa_p256, int days = 90);

// The SHA-256 fingerprint of the first certificate in `pem`, as lower-case hex.
std::string fingerprint_sha256(std::string_view pem);

}  // namespace gatehouse::net
