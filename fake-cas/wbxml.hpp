#pragma once
// WBXML 1.3 as ActiveSync uses it ([MS-ASWBXML]): tags from numbered code pages, inline strings
// and opaque data, no attributes. A decoder into a small element tree and an encoder, enough
// for Ping, FolderSync, Sync and Provision. Pure.

#include "fake-cas/encoding.hpp"

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gatehouse::fake_cas {

namespace eas {
// Code pages and tokens used here (token values without the 0x40 content bit).
inline constexpr std::uint8_t page_airsync = 0, page_folderhierarchy = 7, page_ping = 13,
                              page_provision = 14;
namespace ping {
inline constexpr std::uint8_t ping = 0x05, status = 0x07, heartbeat_interval = 0x08, folders = 0x09,
                              folder = 0x0a, id = 0x0b, klass = 0x0c, max_folders = 0x0d;
}
namespace folderhierarchy {
inline constexpr std::uint8_t display_name = 0x07, server_id = 0x08, parent_id = 0x09, type = 0x0a,
                              status = 0x0c, changes = 0x0e, add = 0x0f, sync_key = 0x12,
                              folder_sync = 0x16, count = 0x17;
}
namespace airsync {
inline constexpr std::uint8_t sync = 0x05, sync_key = 0x0b, status = 0x0e, collection = 0x0f,
                              collection_id = 0x12, collections = 0x1c;
}
namespace provision {
inline constexpr std::uint8_t provision = 0x05, policies = 0x06, policy = 0x07, policy_type = 0x08,
                              policy_key = 0x09, status = 0x0b;
}
}  // namespace eas

struct wbxml_element {
    std::uint8_t page = 0;
    std::uint8_t token = 0;
    std::string text{};  // inline string or opaque content
    std::vector<wbxml_element> children{};

    // The first direct child with `page`/`token`, or nullptr.
    const wbxml_element* child(std::uint8_t page, std::uint8_t token) const;
    // The first descendant (depth first) with `page`/`token`, or nullptr.
    const wbxml_element* find(std::uint8_t page, std::uint8_t token) const;
};

// Decodes a document; nullopt when it is malformed or truncated.
std::optional<wbxml_element> wbxml_decode(std::span<const std::uint8_t> data);

// Builds a document element by element.
class wbxml_writer {
public:
    wbxml_writer();
    // Opens an element with content.
    wbxml_writer& open(std::uint8_t page, std::uint8_t token);
    // An element with an inline string.
    wbxml_writer& leaf(std::uint8_t page, std::uint8_t token, std::string_view text);
    wbxml_writer& close();
    const bytes& data() const { return out_; }

private:
    void switch_page(std::uint8_t page);
    bytes out_;
    std::uint8_t page_ = 0;
};

}  // namespace gatehouse::fake_cas
