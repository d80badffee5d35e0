#pragma once
// Percent-decoding as URL Rewrite, the Exchange protection preset and the admin API's paths need
// it: one pass, a malformed escape ("%zz", a "%4" at the end) kept as it is.

#include <string>
#include <string_view>

namespace gatehouse::proxy {

// The value of a hexadecimal digit, or -1.
int hex_value(char c) noexcept;

// Percent-decodes `in` into `out` (cleared first).
void percent_decode(std::string_view in, std::string& out);

}  // namespace gatehouse::proxy
