#pragma once
// The opt-in Exchange protection preset: rules R1–R12 of reliability-anchors §7.2, which block
// the ProxyLogon, ProxyShell, ProxyNotShell, OWASSRF and ProxyToken request shapes at the edge
// (Microsoft's EOMT/EOMTv2 URL Rewrite mitigations and more), and keep the legitimate Outlook
// flows (autodiscover v2 `/autodiscover/autodiscover.json/v1.0/user@contoso.com?Protocol=…`,
// MAPI `?MailboxId=<guid>@domain`, OWA return URLs) passing. Pure: no I/O.
//
// Rules are evaluated on the target percent-decoded once and case-folded, path and query apart
// (the query starts at the first raw '?'); a target that still holds an encoded '%', '/', '\',
// '@', '?' or '#' after one decoding (double encoding) or that has '.'/'..' segments or '\' in
// its path is blocked as R0.
//
//   R0  double encoding, dot segments, backslash                         → 403
//   R1  decoded URI contains "autodiscover" and "powershell"             → 403 (EOMTv2)
//   R2  query contains "autodiscover.json", path contains it twice, or
//       an Email= value contains "autodiscover"                          → 403
//   R3  a path segment ends in "autodiscover.json" and the query starts
//       with '@' or the URI contains "?@"                                → 403
//   R4  /powershell, or a "powershell" segment under owa/ecp/
//       autodiscover/mapi/ews                                            → 403 (OWASSRF)
//   R5  X-Rps-CAT anywhere in the URI                                    → 403
//   R6  Cookie mentions X-BEResource or X-AnonResource-Backend           → 403 (EOMT)
//   R7  a non-empty SecurityToken cookie                                 → 403 (ProxyToken)
//   R8  /ecp unless allowed                                              → 403
//   R9  internal CAS headers from the client are removed (not blocked)
//   R10 Range with more than 10 parts, a number of 10+ digits, or
//       overlapping parts                                                → 416 (MS15-034)
//   R11 request trailers are never forwarded (always, preset or not)
//   R12 the first path segment is not a published virtual directory     → 404

#include "net/http_message.hpp"
#include "proxy/config.hpp"
#include "proxy/error_triple.hpp"

#include <string>
#include <string_view>

namespace gatehouse::proxy {

struct exchange_verdict {
    std::string_view rule{};  // "R0" … "R12"; empty: the request passes
    error_triple triple{};
    std::string_view reason{};

    explicit operator bool() const noexcept { return !rule.empty(); }
};

// Per-connection working memory, so that checking allocates nothing in steady state.
struct exchange_scratch {
    std::string path{};   // decoded, lower-case
    std::string query{};  // decoded, lower-case
};

// Checks a request against R0–R8, R10 and R12. `target` is the origin-form target.
exchange_verdict check_exchange_request(const exchange_protection_config& config,
                                        std::string_view target, const net::http_fields& fields,
                                        exchange_scratch& scratch);

// R9: removes the CAS-internal fields a client must never send (X-CommonAccessToken,
// X-IsFromCafe, X-SourceCafeServer, X-BEResource, X-AnonResource-Backend,
// X-BackEndOverrideCookie). Returns how many were removed.
std::size_t strip_internal_fields(net::http_fields& fields);

// R10 alone, exposed for tests: true when a Range value is abusive.
bool abusive_range(std::string_view value) noexcept;

}  // namespace gatehouse::proxy
