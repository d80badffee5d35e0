#include "load/rts.hpp"

namespace gatehouse::load::rts {

namespace {

void put16(std::string& out, std::uint16_t v) {
    out += char(v & 0xff);
    out += char(v >> 8);
}
void put32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out += char((v >> (8 * i)) & 0xff);
}
void put_cookie(std::string& out, const cookie& c) {
    out.append(reinterpret_cast<const char*>(c.data()), c.size());
}

// The 16-byte common header; frag_length is patched by finish().
std::string start(std::uint8_t type, std::uint32_t call_id) {
    std::string out;
    out += char(5);                             // rpc_vers
    out += char(0);                             // rpc_vers_minor
    out += char(type);                          // PTYPE
    out += char(3);                             // PFC_FIRST_FRAG | PFC_LAST_FRAG
    out += std::string("\x10\x00\x00\x00", 4);  // little-endian, ASCII, IEEE
    put16(out, 0);                              // frag_length, patched
    put16(out, 0);                              // auth_length
    put32(out, call_id);
    return out;
}

std::string finish(std::string pdu) {
    auto n = static_cast<std::uint16_t>(pdu.size());
    pdu[8] = char(n & 0xff);
    pdu[9] = char(n >> 8);
    return pdu;
}

std::string start_rts(std::uint16_t flags, std::uint16_t commands) {
    auto out = start(ptype_rts, 0);
    put16(out, flags);
    put16(out, commands);
    return out;
}

enum command : std::uint32_t {
    receive_window_size = 0,
    flow_control_ack_cmd = 1,
    cookie_cmd = 3,
    channel_lifetime = 4,
    client_keepalive = 5,
    version = 6,
    association_group_id = 12,
    destination = 13,
};

std::uint16_t get16(std::string_view s, std::size_t at) {
    return std::uint16_t(std::uint8_t(s[at]) | std::uint8_t(s[at + 1]) << 8);
}

}  // namespace

std::string conn_a1(const cookie& vc, const cookie& out_channel, std::uint32_t window) {
    auto out = start_rts(0, 4);
    put32(out, version);
    put32(out, 1);
    put32(out, cookie_cmd);
    put_cookie(out, vc);
    put32(out, cookie_cmd);
    put_cookie(out, out_channel);
    put32(out, receive_window_size);
    put32(out, window);
    return finish(std::move(out));
}

std::string conn_b1(const cookie& vc, const cookie& in_channel, std::uint32_t lifetime,
                    std::uint32_t keepalive_ms, const cookie& group) {
    auto out = start_rts(0, 6);
    put32(out, version);
    put32(out, 1);
    put32(out, cookie_cmd);
    put_cookie(out, vc);
    put32(out, cookie_cmd);
    put_cookie(out, in_channel);
    put32(out, channel_lifetime);
    put32(out, lifetime);
    put32(out, client_keepalive);
    put32(out, keepalive_ms);
    put32(out, association_group_id);
    put_cookie(out, group);
    return finish(std::move(out));
}

std::string ping() {
    return finish(start_rts(flag_ping, 0));
}

std::string flow_control_ack(std::uint32_t bytes_received, std::uint32_t available_window,
                             const cookie& out_channel) {
    auto out = start_rts(flag_other_cmd, 2);
    put32(out, destination);
    put32(out, 3);  // FDOutProxy
    put32(out, flow_control_ack_cmd);
    put32(out, bytes_received);
    put32(out, available_window);
    put_cookie(out, out_channel);
    return finish(std::move(out));
}

std::string request(std::uint32_t call_id, std::uint16_t opnum, std::string_view stub) {
    auto out = start(ptype_request, call_id);
    put32(out, static_cast<std::uint32_t>(stub.size()));  // alloc_hint
    put16(out, 0);                                        // p_cont_id
    put16(out, opnum);
    out += stub;
    return finish(std::move(out));
}

std::optional<pdu_header> peek(std::string_view bytes) {
    if (bytes.size() < 16) return std::nullopt;
    pdu_header h;
    h.type = std::uint8_t(bytes[2]);
    h.frag_length = get16(bytes, 8);
    h.call_id = std::uint32_t(get16(bytes, 12)) | std::uint32_t(get16(bytes, 14)) << 16;
    if (h.type == ptype_rts) {
        if (bytes.size() < 20) return std::nullopt;
        h.rts_flags = get16(bytes, 16);
        h.rts_commands = get16(bytes, 18);
    }
    return h;
}

bool is_conn_a3(const pdu_header& h) {
    return h.type == ptype_rts && h.frag_length == 28 && h.rts_commands == 1 && h.rts_flags == 0;
}

bool is_conn_c2(const pdu_header& h) {
    return h.type == ptype_rts && h.frag_length == 44 && h.rts_commands == 3 && h.rts_flags == 0;
}

cookie make_cookie(std::uint64_t a, std::uint64_t b) {
    cookie c{};
    for (int i = 0; i < 8; ++i) {
        c[i] = std::uint8_t(a >> (8 * i));
        c[8 + i] = std::uint8_t(b >> (8 * i));
    }
    c[7] = std::uint8_t((c[7] & 0x0F) | 0x40);  // a version-4 UUID, as Windows makes them
    c[8] = std::uint8_t((c[8] & 0x3F) | 0x80);
    return c;
}

}  // namespace gatehouse::load::rts
