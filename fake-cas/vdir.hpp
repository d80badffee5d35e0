#pragma once
// The virtual directories of an Exchange front end, the Managed Availability component behind
// each, and how a request path maps onto them (case-insensitively, on a segment boundary, as
// IIS matches application paths).

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace gatehouse::fake_cas {

enum class vdir : std::uint8_t {
    owa,
    ecp,
    ews,
    autodiscover,
    rpc,
    mapi,
    activesync,
    oab,
    powershell,
};
inline constexpr std::size_t vdir_count = 9;

inline constexpr std::array<vdir, vdir_count> all_vdirs = {
    vdir::owa,  vdir::ecp,        vdir::ews, vdir::autodiscover, vdir::rpc,
    vdir::mapi, vdir::activesync, vdir::oab, vdir::powershell};

// The key used in JSON ("owa", "activesync", ...).
std::string_view vdir_key(vdir v) noexcept;
// The canonical path ("/owa", "/Microsoft-Server-ActiveSync", ...).
std::string_view vdir_path(vdir v) noexcept;
// The server component that takes the vdir in and out of service ("OwaProxy", ...).
std::string_view component_name(vdir v) noexcept;
std::optional<vdir> vdir_from_key(std::string_view key) noexcept;
std::optional<vdir> vdir_from_component(std::string_view component) noexcept;

// Where a request goes: a vdir, the site root "/", or nowhere (404).
enum class route : std::uint8_t { vdir, root, other };
struct classified_path {
    route kind = route::other;
    vdir dir = vdir::owa;
    // The path after the vdir prefix ("" or starting with '/'), query excluded.
    std::string_view rest{};
};

// Classifies the path part of a request target (the query, if any, is ignored). Absolute-form
// targets ("http://host/owa") are reduced to their path first.
classified_path classify(std::string_view target) noexcept;

// The path of a request target (without query) and the query (without '?').
std::string_view target_path(std::string_view target) noexcept;
std::string_view target_query(std::string_view target) noexcept;

// ASCII case-insensitive comparisons for paths.
bool iequals_path(std::string_view a, std::string_view b) noexcept;
bool istarts_with(std::string_view s, std::string_view prefix) noexcept;
bool iends_with(std::string_view s, std::string_view suffix) noexcept;

}  // namespace gatehouse::fake_cas
