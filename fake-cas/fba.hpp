#pragma once
// Forms-based authentication shared by /owa and /ecp (§9, §10): reading the cadata cookies of a
// request, issuing them, and the redirects and 440s Exchange answers when they are missing.

#include "fake-cas/fba_cookie.hpp"
#include "fake-cas/request_context.hpp"

#include <string>

namespace gatehouse::fake_cas {

// The cadata* cookies of the request, opened with this server's key. On success ctx.user is
// set and the identity is noted on the connection.
fba_session read_fba(request_context& ctx);

// True for requests a browser script makes (service calls, XHR): they get 440, not a redirect.
bool is_xhr(const request_context& ctx);

// "https://host/owa/auth/logon.aspx?url=<return_url>&reason=<reason>" (replaceCurrent=1 first
// when `replace_current`).
std::string logon_url(const request_context& ctx, std::string_view return_url, unsigned reason,
                      bool replace_current);

// Answers an unauthenticated request: 302 to the logon page for navigation, else the
// xhr_expired_status (440 Login Timeout).
void fba_unauthenticated(request_context& ctx, const fba_session& session,
                         std::string_view return_url);

// "https://host" for URLs in Location headers.
std::string origin(const request_context& ctx);

}  // namespace gatehouse::fake_cas
