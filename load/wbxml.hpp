#pragma once
// The few WBXML documents ([MS-ASWBXML]) an ActiveSync device sends, and the reading of their
// answers: Ping (code page 13), FolderSync (7) and Sync (0). Documents start with WBXML 1.3,
// public id 1, UTF-8, an empty string table (03 01 6A 00). Pure.

#include <optional>
#include <string>
#include <string_view>

namespace gatehouse::load::wbxml {

// Ping with HeartbeatInterval (seconds) and one folder of `folder_class` ("Email").
std::string ping_request(unsigned heartbeat_s, std::string_view folder_id,
                         std::string_view folder_class = "Email");
// FolderSync with `sync_key` ("0" for the first).
std::string folder_sync_request(std::string_view sync_key);
// Sync of one collection; GetChanges once the key is not "0".
std::string sync_request(std::string_view sync_key, std::string_view collection_id,
                         unsigned window_size = 100);

// The text of the first element with token `tag` on code page `page` (for example Status or
// SyncKey), or nullopt when absent or the document is malformed.
std::optional<std::string> find_text(std::string_view document, unsigned page, unsigned tag);

inline constexpr unsigned page_airsync = 0;
inline constexpr unsigned page_folder_hierarchy = 7;
inline constexpr unsigned page_ping = 13;
inline constexpr unsigned tag_airsync_sync_key = 0x0B;
inline constexpr unsigned tag_airsync_status = 0x0E;
inline constexpr unsigned tag_folder_status = 0x0C;
inline constexpr unsigned tag_folder_sync_key = 0x12;
inline constexpr unsigned tag_ping_status = 0x07;
inline constexpr unsigned tag_ping_heartbeat = 0x08;

}  // namespace gatehouse::load::wbxml
