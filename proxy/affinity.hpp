#pragma once
// Client affinity (ARR's ARRAffinity cookie) as pure functions. The cookie value names a server
// by HMAC-SHA256(key, farm "\n" address:port) in hex: it does not reveal the server's address,
// and every proxy node with the same configuration computes the same value, so a client pinned
// through node A is honoured by node B.

#include "net/http_message.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::proxy {

// 64 lowercase hex digits.
std::string affinity_token(std::string_view key, std::string_view farm,
                           std::string_view authority);

// The value of cookie `name` in the request's Cookie fields (the first one found), without
// surrounding quotes.
std::optional<std::string_view> find_cookie(const net::http_fields& fields, std::string_view name);

// The Set-Cookie value that pins a client: "<name>=<token>; Path=/; HttpOnly" (+ "; Secure" on
// HTTPS listeners).
std::string affinity_set_cookie(std::string_view name, std::string_view token, bool secure);

}  // namespace gatehouse::proxy
