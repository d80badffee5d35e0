#include "load/mapi_codec.hpp"

#include <charconv>

namespace gatehouse::load::mapi {

namespace {

void put16(std::string& out, std::uint16_t v) {
    out += char(v & 0xff);
    out += char(v >> 8);
}
void put32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out += char((v >> (8 * i)) & 0xff);
}

}  // namespace

std::string connect_body(std::string_view user_dn) {
    std::string out(user_dn);
    out += '\0';
    put32(out, 0);     // Flags
    put32(out, 1252);  // DefaultCodePage
    put32(out, 1033);  // LcidSort
    put32(out, 1033);  // LcidString
    put32(out, 0);     // AuxiliaryBufferSize
    return out;
}

std::string execute_body() {
    // ROP buffer: RPC_HEADER_EXT {Version 0, Flags Last, Size, SizeActual}, then RopSize,
    // a RopGetHierarchyTable (0x04) on handle 0, and the server object handle table.
    std::string rops;
    put16(rops, 0);      // RopSize, patched below
    rops += char(0x04);  // RopId: GetHierarchyTable
    rops += char(0x00);  // LogonId
    rops += char(0x00);  // InputHandleIndex
    rops += char(0x01);  // OutputHandleIndex
    rops += char(0x00);  // TableFlags
    auto rop_size = static_cast<std::uint16_t>(rops.size());
    rops[0] = char(rop_size & 0xff);
    rops[1] = char(rop_size >> 8);
    put32(rops, 0x00000001u);  // handle table: the folder
    put32(rops, 0xFFFFFFFFu);  //               and the slot for the new table

    std::string buffer;
    put16(buffer, 0);       // Version
    put16(buffer, 0x0004);  // Flags: Last
    put16(buffer, static_cast<std::uint16_t>(rops.size()));
    put16(buffer, static_cast<std::uint16_t>(rops.size()));
    buffer += rops;

    std::string out;
    put32(out, 0);  // Flags
    put32(out, static_cast<std::uint32_t>(buffer.size()));
    out += buffer;
    put32(out, 0x00008007u);  // MaxRopOut
    put32(out, 0);            // AuxiliaryBufferSize
    return out;
}

std::string notification_wait_body() {
    std::string out;
    put32(out, 0);  // Flags
    put32(out, 0);  // AuxiliaryBufferSize
    return out;
}

std::string disconnect_body() {
    std::string out;
    put32(out, 0);  // AuxiliaryBufferSize
    return out;
}

response_stream parse_response(std::string_view text) {
    response_stream r;
    std::size_t at = 0;
    // Meta-tags, one per line, until DONE.
    while (!r.done) {
        auto eol = text.find("\r\n", at);
        if (eol == std::string_view::npos) return r;
        auto line = text.substr(at, eol - at);
        at = eol + 2;
        if (line == "DONE")
            r.done = true;
        else if (line == "PENDING")
            ++r.pending;
    }
    // Additional headers, then an empty line.
    for (;;) {
        auto eol = text.find("\r\n", at);
        if (eol == std::string_view::npos) {
            r.done = false;  // not all headers yet
            return r;
        }
        auto line = text.substr(at, eol - at);
        at = eol + 2;
        if (line.empty()) break;
        constexpr std::string_view name = "X-ResponseCode:";
        if (line.starts_with(name)) {
            auto v = line.substr(name.size());
            while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
            long code = 0;
            auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), code);
            if (ec == std::errc()) r.response_code = code;
        }
    }
    r.body_offset = at;
    return r;
}

}  // namespace gatehouse::load::mapi
