#pragma once
// MAPI over HTTP ([MS-OXCMAPIHTTP]) request bodies an Outlook client posts to /mapi/emsmdb/,
// and the reading of the response stream: text meta-tags (PROCESSING, PENDING, DONE), the
// additional headers after DONE (X-ResponseCode…), then the binary body. Pure.

#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::load::mapi {

// Connect: UserDn, Flags, DefaultCodePage 1252, LcidSort/LcidString 1033, no auxiliary buffer.
std::string connect_body(std::string_view user_dn);
// Execute: a small ROP buffer (RPC_HEADER_EXT + one ROP + handle table).
std::string execute_body();
// NotificationWait and Disconnect: flags and an empty auxiliary buffer.
std::string notification_wait_body();
std::string disconnect_body();

struct response_stream {
    bool done = false;                    // the DONE meta-tag was seen
    unsigned pending = 0;                 // PENDING keep-alives before DONE
    std::optional<long> response_code{};  // X-ResponseCode after DONE
    std::size_t body_offset = 0;          // where the binary body starts, when done
};

// Parses what has arrived of a response body so far.
response_stream parse_response(std::string_view text);

}  // namespace gatehouse::load::mapi
