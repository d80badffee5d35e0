#pragma once
// RPC over HTTP v2 ([MS-RPCH]) PDUs as the client side of Outlook Anywhere writes and reads
// them: the RTS PDUs that build a virtual connection (CONN/A1 on the OUT channel, CONN/B1 on
// the IN channel), keep it alive (Ping) and acknowledge received data (FlowControlAck), plus
// minimal DCE/RPC request PDUs whose responses the server echoes back on the OUT channel.
// Little-endian throughout. Pure.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::load::rts {

using cookie = std::array<std::uint8_t, 16>;

inline constexpr std::uint8_t ptype_request = 0;
inline constexpr std::uint8_t ptype_response = 2;
inline constexpr std::uint8_t ptype_rts = 20;

inline constexpr std::uint16_t flag_ping = 0x0001;
inline constexpr std::uint16_t flag_other_cmd = 0x0002;
inline constexpr std::uint16_t flag_echo = 0x0040;

// CONN/A1 (76 bytes): Version, VirtualConnectionCookie, OutChannelCookie, ReceiveWindowSize.
std::string conn_a1(const cookie& virtual_connection, const cookie& out_channel,
                    std::uint32_t receive_window);
// CONN/B1 (104 bytes): Version, VirtualConnectionCookie, InChannelCookie, ChannelLifetime,
// ClientKeepalive (ms), AssociationGroupId.
std::string conn_b1(const cookie& virtual_connection, const cookie& in_channel,
                    std::uint32_t channel_lifetime, std::uint32_t client_keepalive_ms,
                    const cookie& association_group);
// A Ping RTS PDU (20 bytes).
std::string ping();
// FlowControlAckWithDestination (56 bytes) for the OUT channel: destination OUT proxy.
std::string flow_control_ack(std::uint32_t bytes_received, std::uint32_t available_window,
                             const cookie& out_channel);
// A DCE/RPC request PDU with `stub` as its body.
std::string request(std::uint32_t call_id, std::uint16_t opnum, std::string_view stub);

struct pdu_header {
    std::uint8_t type = 0;
    std::uint16_t frag_length = 0;
    std::uint32_t call_id = 0;
    std::uint16_t rts_flags = 0;     // RTS PDUs only
    std::uint16_t rts_commands = 0;  // RTS PDUs only
};

// The header of the PDU at the start of `bytes`, once at least 16 bytes (20 for RTS) are there;
// nullopt while more are needed. Throws nothing: an impossible length reads as 0.
std::optional<pdu_header> peek(std::string_view bytes);

// Is `pdu` the CONN/A3 or CONN/C2 the server sends (judged by size and command count)?
bool is_conn_a3(const pdu_header& h);
bool is_conn_c2(const pdu_header& h);

// A random-looking cookie from two 64-bit values.
cookie make_cookie(std::uint64_t a, std::uint64_t b);

}  // namespace gatehouse::load::rts
