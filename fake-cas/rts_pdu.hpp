#pragma once
// RPC over HTTP v2 PDUs ([MS-RPCH] 2.2.3, 2.2.4; layouts in exchange-protocols.md §4.5): the
// DCE/RPC common header, RTS commands, the establishment PDUs (CONN/A1, A3, B1, C2), pings and
// echoes, and the minimal RPC replies of the fake's echo service. Pure encoders/decoders.

#include "fake-cas/encoding.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>

namespace gatehouse::fake_cas::rts {

inline constexpr std::uint8_t ptype_request = 0, ptype_response = 2, ptype_bind = 11,
                              ptype_bind_ack = 12, ptype_rts = 20;

namespace flags {
inline constexpr std::uint16_t none = 0, ping = 0x0001, other_cmd = 0x0002,
                               recycle_channel = 0x0004, in_channel = 0x0008, out_channel = 0x0010,
                               eof = 0x0020, echo = 0x0040;
}

namespace command {
inline constexpr std::uint32_t receive_window_size = 0, flow_control_ack = 1,
                               connection_timeout = 2, cookie = 3, channel_lifetime = 4,
                               client_keepalive = 5, version = 6, empty = 7, padding = 8,
                               negative_ance = 9, ance = 10, client_address = 11,
                               association_group_id = 12, destination = 13,
                               ping_traffic_sent_notify = 14;
}

using cookie = std::array<std::uint8_t, 16>;

inline constexpr std::size_t header_size = 16;

struct pdu_header {
    std::uint8_t ptype = 0;
    std::uint8_t pfc_flags = 0;
    std::uint16_t frag_length = 0;
    std::uint16_t auth_length = 0;
    std::uint32_t call_id = 0;
};
// The common header at the start of `data` (needs 16 bytes; nullopt otherwise or when it is not
// DCE/RPC version 5.0 little-endian, or frag_length < 16).
std::optional<pdu_header> parse_header(std::span<const std::uint8_t> data);

// An RTS PDU's flags and the commands the fake cares about.
struct rts_pdu {
    std::uint16_t flags = 0;
    std::uint16_t command_count = 0;
    std::optional<std::uint32_t> version{};
    std::optional<cookie> virtual_connection{};  // first Cookie command
    std::optional<cookie> channel{};             // second Cookie command
    std::optional<std::uint32_t> receive_window{};
    std::optional<std::uint32_t> connection_timeout{};
    std::optional<std::uint32_t> channel_lifetime{};
    std::optional<std::uint32_t> client_keepalive{};
    std::optional<cookie> association_group{};
    bool flow_control_ack = false;
};
// Parses a whole RTS PDU (ptype 20); nullopt when malformed.
std::optional<rts_pdu> parse_rts(std::span<const std::uint8_t> pdu);

// Server-side PDUs.
bytes conn_a3(std::uint32_t connection_timeout_ms);
bytes conn_c2(std::uint32_t receive_window, std::uint32_t connection_timeout_ms);
bytes ping();
bytes echo();
// Client-side PDUs (tests, load clients).
bytes conn_a1(const cookie& virtual_connection, const cookie& out_channel,
              std::uint32_t receive_window = 262144);
bytes conn_b1(const cookie& virtual_connection, const cookie& in_channel,
              const cookie& association_group, std::uint32_t channel_lifetime = 1073741824,
              std::uint32_t client_keepalive = 300000);
// A request PDU (ptype 0) with `stub` bytes of payload.
bytes request(std::uint32_t call_id, std::span<const std::uint8_t> stub, std::uint16_t opnum = 0);

// The echo service's answer to an RPC PDU: a bind_ack for a bind, a response with the same
// call_id and `reply_stub_bytes` of stub (0: as many as the request carried) for a request;
// nullopt for anything it does not answer.
std::optional<bytes> reply_to(std::span<const std::uint8_t> pdu, std::uint32_t reply_stub_bytes);

}  // namespace gatehouse::fake_cas::rts
