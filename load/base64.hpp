#pragma once
// Base64 (RFC 4648, standard alphabet, padded), as HTTP Basic and NTLM tokens use it.

#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::load {

std::string base64_encode(std::string_view bytes);
// nullopt when `text` is not valid padded base64 (surrounding spaces are ignored).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace gatehouse::load
