#include "proxy/percent_decoding.hpp"

namespace gatehouse::proxy {

int hex_value(char c) noexcept {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

void percent_decode(std::string_view in, std::string& out) {
    out.clear();
    // The text between escapes is copied a run at a time: most paths have no escape at all.
    for (;;) {
        const auto escape = in.find('%');
        out.append(in.substr(0, escape));
        if (escape == std::string_view::npos) return;
        in.remove_prefix(escape);
        const int hi = in.size() > 2 ? hex_value(in[1]) : -1;
        const int lo = in.size() > 2 ? hex_value(in[2]) : -1;
        if (hi >= 0 && lo >= 0) {
            out.push_back(static_cast<char>(hi * 16 + lo));
            in.remove_prefix(3);
        } else {
            out.push_back('%');  // not an escape: kept as it is
            in.remove_prefix(1);
        }
    }
}

}  // namespace gatehouse::proxy
