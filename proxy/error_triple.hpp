#pragma once
// ARR's error vocabulary. Every response the proxy makes up itself carries a triple
// (status, substatus, win32) as IIS logs it in sc-status / sc-substatus / sc-win32-status, in
// the header `X-Gatehouse-Error: <status>.<substatus>.<win32>` and in an IIS-like HTML page.
// docs/errors.md explains each one.

#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::proxy {

struct error_triple {
    unsigned status = 0;
    unsigned substatus = 0;
    unsigned win32 = 0;

    friend bool operator==(const error_triple&, const error_triple&) = default;
};

namespace errors {
// 502.3: WinHTTP failed while proxying; the win32 code says how.
inline constexpr error_triple timeout{502, 3, 12002};            // ERROR_WINHTTP_TIMEOUT
inline constexpr error_triple name_not_resolved{502, 3, 12007};  // ..._NAME_NOT_RESOLVED
inline constexpr error_triple cannot_connect{502, 3, 12029};     // ..._CANNOT_CONNECT
inline constexpr error_triple connection_error{502, 3, 12030};   // ..._CONNECTION_ERROR
inline constexpr error_triple invalid_response{502, 3, 12152};   // ..._INVALID_SERVER_RESPONSE
inline constexpr error_triple secure_failure{502, 3, 12175};     // ..._SECURE_FAILURE
// 502.4: no server of the farm may take the request.
inline constexpr error_triple no_server{502, 4, 0};
// Request filtering and parsing.
inline constexpr error_triple not_found{404, 0, 0};        // no rule publishes the URL
inline constexpr error_triple body_too_large{404, 13, 0};  // over maxAllowedContentLength
inline constexpr error_triple bad_request{400, 0, 0};
inline constexpr error_triple request_timeout{408, 0, 0};
inline constexpr error_triple uri_too_long{414, 0, 0};
inline constexpr error_triple header_too_large{431, 0, 0};
inline constexpr error_triple not_implemented{501, 0, 0};  // a transfer coding we do not know
inline constexpr error_triple version_not_supported{505, 0, 0};
inline constexpr error_triple service_unavailable{503, 0, 0};  // the proxy is stopping
// Logged (never sent) when the client went away before its response: IIS's ERROR_NETNAME_DELETED.
inline constexpr unsigned client_disconnected_win32 = 64;
}  // namespace errors

// The win32 code of a 502.3 error kind as written in the configuration: "timeout",
// "name_not_resolved", "cannot_connect", "connection_error", "invalid_response",
// "secure_failure"; nullopt for any other word.
std::optional<unsigned> win32_for_error_kind(std::string_view kind) noexcept;

// "502.3.12002"
std::string to_string(const error_triple& e);

// The header that names the triple on every proxy-generated error response.
inline constexpr std::string_view error_header = "X-Gatehouse-Error";

// The text IIS/WinHTTP use for the condition, e.g. "The operation timed out".
std::string_view describe(const error_triple& e) noexcept;

// Appends a complete HTTP/1.1 response for `e` to `out`: status line, Content-Type, the
// X-Gatehouse-Error header, Content-Length, `Connection: close` when `close`, and the HTML page.
// `request_id` (may be empty) is quoted in the page for correlation with the access log.
// `reason` overrides the status line's phrase (custom responses); `extra_headers` are complete
// header lines ("Name: value\r\n") inserted as they are.
void append_error_response(const error_triple& e, bool close, std::string_view request_id,
                           std::string& out, std::string_view reason = {},
                           std::string_view description = {}, std::string_view extra_headers = {});

}  // namespace gatehouse::proxy
