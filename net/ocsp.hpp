#pragma once
// OCSP stapling from a file, HAProxy's way: an administrator (or a cron job running `openssl
// ocsp -respout`) keeps a DER OCSP response next to the certificate; the server checks it once
// when the configuration is loaded and hands it to clients that ask (status_request). Nothing
// here contacts a responder, so a responder that is down can never delay a handshake.

#include <chrono>
#include <string>
#include <string_view>

namespace gatehouse::net {

// A checked OCSP response, ready to staple.
struct ocsp_staple {
    std::string der{};
    std::string status{};  // the certificate's status: "good", "revoked" or "unknown"
    std::chrono::system_clock::time_point this_update{};
    std::chrono::system_clock::time_point next_update{
        std::chrono::system_clock::time_point::max()};  // max(): the response gave none

    // True while the response may be stapled: within [this_update - 5 min, next_update).
    bool current(std::chrono::system_clock::time_point now) const noexcept;
};

// Checks that `der` is a successful OCSP response holding a status for the leaf certificate of
// `chain_pem` (PEM, leaf first; the issuer must be in the chain), signed by that issuer or by a
// responder it authorised. Times are not judged here (see ocsp_staple::current). Throws
// std::runtime_error saying what is wrong.
ocsp_staple check_ocsp_response(std::string_view der, std::string_view chain_pem);

}  // namespace gatehouse::net
