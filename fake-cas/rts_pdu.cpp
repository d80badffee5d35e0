#include "fake-cas/rts_pdu.hpp"

#include <algorithm>

namespace gatehouse::fake_cas::rts {

namespace {

std::uint16_t u16(std::span<const std::uint8_t> d, std::size_t at) {
    return static_cast<std::uint16_t>(d[at] | (d[at + 1] << 8));
}
std::uint32_t u32(std::span<const std::uint8_t> d, std::size_t at) {
    return static_cast<std::uint32_t>(d[at]) | (static_cast<std::uint32_t>(d[at + 1]) << 8) |
           (static_cast<std::uint32_t>(d[at + 2]) << 16) |
           (static_cast<std::uint32_t>(d[at + 3]) << 24);
}
void put16(bytes& out, std::uint16_t v) {
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(bytes& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// A PDU header with frag_length patched in by finish().
bytes start(std::uint8_t ptype, std::uint32_t call_id = 0) {
    bytes out = {0x05, 0x00, ptype, 0x03, 0x10, 0x00, 0x00, 0x00};
    put16(out, 0);  // frag_length, patched
    put16(out, 0);  // auth_length
    put32(out, call_id);
    return out;
}

bytes finish(bytes out) {
    out[8] = static_cast<std::uint8_t>(out.size());
    out[9] = static_cast<std::uint8_t>(out.size() >> 8);
    return out;
}

bytes rts_start(std::uint16_t rts_flags, std::uint16_t count) {
    auto out = start(ptype_rts);
    put16(out, rts_flags);
    put16(out, count);
    return out;
}

void put_u32_command(bytes& out, std::uint32_t type, std::uint32_t value) {
    put32(out, type);
    put32(out, value);
}

void put_cookie(bytes& out, std::uint32_t type, const cookie& c) {
    put32(out, type);
    out.insert(out.end(), c.begin(), c.end());
}

}  // namespace

std::optional<pdu_header> parse_header(std::span<const std::uint8_t> d) {
    if (d.size() < header_size) return std::nullopt;
    if (d[0] != 5 || d[1] != 0 || d[4] != 0x10) return std::nullopt;
    pdu_header h;
    h.ptype = d[2];
    h.pfc_flags = d[3];
    h.frag_length = u16(d, 8);
    h.auth_length = u16(d, 10);
    h.call_id = u32(d, 12);
    if (h.frag_length < header_size) return std::nullopt;
    return h;
}

std::optional<rts_pdu> parse_rts(std::span<const std::uint8_t> d) {
    auto h = parse_header(d);
    if (!h || h->ptype != ptype_rts || d.size() < h->frag_length || h->frag_length < 20)
        return std::nullopt;
    d = d.first(h->frag_length);
    rts_pdu p;
    p.flags = u16(d, 16);
    p.command_count = u16(d, 18);
    std::size_t at = 20;
    int cookies = 0;
    for (unsigned i = 0; i < p.command_count; ++i) {
        if (at + 4 > d.size()) return std::nullopt;
        auto type = u32(d, at);
        at += 4;
        auto need = [&](std::size_t n) { return at + n <= d.size(); };
        auto read_cookie = [&]() {
            cookie c{};
            std::copy(d.begin() + at, d.begin() + at + 16, c.begin());
            at += 16;
            return c;
        };
        switch (type) {
            case command::receive_window_size:
            case command::connection_timeout:
            case command::channel_lifetime:
            case command::client_keepalive:
            case command::version:
            case command::destination:
            case command::ping_traffic_sent_notify: {
                if (!need(4)) return std::nullopt;
                auto v = u32(d, at);
                at += 4;
                if (type == command::receive_window_size) p.receive_window = v;
                if (type == command::connection_timeout) p.connection_timeout = v;
                if (type == command::channel_lifetime) p.channel_lifetime = v;
                if (type == command::client_keepalive) p.client_keepalive = v;
                if (type == command::version) p.version = v;
                break;
            }
            case command::flow_control_ack:
                if (!need(24)) return std::nullopt;
                at += 24;
                p.flow_control_ack = true;
                break;
            case command::cookie: {
                if (!need(16)) return std::nullopt;
                auto c = read_cookie();
                if (cookies++ == 0)
                    p.virtual_connection = c;
                else if (!p.channel)
                    p.channel = c;
                break;
            }
            case command::association_group_id:
                if (!need(16)) return std::nullopt;
                p.association_group = read_cookie();
                break;
            case command::empty:
            case command::negative_ance:
            case command::ance:
                break;
            case command::padding: {
                if (!need(4)) return std::nullopt;
                auto n = u32(d, at);
                at += 4;
                if (!need(n)) return std::nullopt;
                at += n;
                break;
            }
            case command::client_address: {
                if (!need(4)) return std::nullopt;
                auto family = u32(d, at);
                at += 4;
                std::size_t n = (family == 0 ? 4 : 16) + 12;
                if (!need(n)) return std::nullopt;
                at += n;
                break;
            }
            default:
                return std::nullopt;
        }
    }
    return p;
}

bytes conn_a3(std::uint32_t timeout_ms) {
    auto out = rts_start(flags::none, 1);
    put_u32_command(out, command::connection_timeout, timeout_ms);
    return finish(std::move(out));
}

bytes conn_c2(std::uint32_t window, std::uint32_t timeout_ms) {
    auto out = rts_start(flags::none, 3);
    put_u32_command(out, command::version, 1);
    put_u32_command(out, command::receive_window_size, window);
    put_u32_command(out, command::connection_timeout, timeout_ms);
    return finish(std::move(out));
}

bytes ping() {
    return finish(rts_start(flags::ping, 0));
}
bytes echo() {
    return finish(rts_start(flags::echo, 0));
}

bytes conn_a1(const cookie& vc, const cookie& out_channel, std::uint32_t window) {
    auto out = rts_start(flags::none, 4);
    put_u32_command(out, command::version, 1);
    put_cookie(out, command::cookie, vc);
    put_cookie(out, command::cookie, out_channel);
    put_u32_command(out, command::receive_window_size, window);
    return finish(std::move(out));
}

bytes conn_b1(const cookie& vc, const cookie& in_channel, const cookie& association_group,
              std::uint32_t channel_lifetime, std::uint32_t client_keepalive) {
    auto out = rts_start(flags::none, 6);
    put_u32_command(out, command::version, 1);
    put_cookie(out, command::cookie, vc);
    put_cookie(out, command::cookie, in_channel);
    put_u32_command(out, command::channel_lifetime, channel_lifetime);
    put_u32_command(out, command::client_keepalive, client_keepalive);
    put_cookie(out, command::association_group_id, association_group);
    return finish(std::move(out));
}

bytes request(std::uint32_t call_id, std::span<const std::uint8_t> stub, std::uint16_t opnum) {
    auto out = start(ptype_request, call_id);
    put32(out, static_cast<std::uint32_t>(stub.size()));  // alloc_hint
    put16(out, 0);                                        // p_cont_id
    put16(out, opnum);
    out.insert(out.end(), stub.begin(), stub.end());
    return finish(std::move(out));
}

std::optional<bytes> reply_to(std::span<const std::uint8_t> pdu, std::uint32_t reply_stub_bytes) {
    auto h = parse_header(pdu);
    if (!h || pdu.size() < h->frag_length) return std::nullopt;
    if (h->ptype == ptype_request) {
        std::size_t stub = h->frag_length >= 24 ? h->frag_length - 24u - h->auth_length : 0;
        if (h->auth_length != 0 && stub >= 8) stub -= 8;  // the auth verifier's header
        std::size_t n = reply_stub_bytes != 0 ? reply_stub_bytes : stub;
        n = std::min<std::size_t>(n, 65535 - 24);
        auto out = start(ptype_response, h->call_id);
        put32(out, static_cast<std::uint32_t>(n));  // alloc_hint
        put16(out, 0);                              // p_cont_id
        out.push_back(0);                           // cancel_count
        out.push_back(0);
        for (std::size_t i = 0; i < n; ++i)
            out.push_back(i + 24 < pdu.size() && i < stub ? pdu[24 + i]
                                                          : static_cast<std::uint8_t>(i));
        return finish(std::move(out));
    }
    if (h->ptype == ptype_bind) {
        // bind: max_xmit(2) max_recv(2) assoc_group(4) n_contexts(1) pad(3)
        //       context: id(2) n_transfer(1) pad(1) abstract(20) transfer(20)...
        if (h->frag_length < 28 + 44) return std::nullopt;
        auto out = start(ptype_bind_ack, h->call_id);
        put16(out, u16(pdu, 16));
        put16(out, u16(pdu, 18));
        put32(out, 0x00012345);  // association group assigned by the server
        const char port[] = "6001";
        put16(out, sizeof(port));
        out.insert(out.end(), port, port + sizeof(port));
        while (out.size() % 4 != 0) out.push_back(0);
        out.push_back(1);  // one result
        out.insert(out.end(), {0, 0, 0});
        put16(out, 0);                                                        // acceptance
        put16(out, 0);                                                        // reason
        out.insert(out.end(), pdu.begin() + 28 + 24, pdu.begin() + 28 + 44);  // transfer syntax
        return finish(std::move(out));
    }
    return std::nullopt;
}

}  // namespace gatehouse::fake_cas::rts
