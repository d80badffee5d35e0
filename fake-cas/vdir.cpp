#include "fake-cas/vdir.hpp"

#include "net/http_message.hpp"

namespace gatehouse::fake_cas {

namespace {

struct vdir_names {
    std::string_view key;
    std::string_view path;
    std::string_view component;
};

constexpr std::array<vdir_names, vdir_count> names = {{
    {"owa", "/owa", "OwaProxy"},
    {"ecp", "/ecp", "EcpProxy"},
    {"ews", "/EWS", "EwsProxy"},
    {"autodiscover", "/Autodiscover", "AutoDiscoverProxy"},
    {"rpc", "/rpc", "RpcProxy"},
    {"mapi", "/mapi", "MapiProxy"},
    {"activesync", "/Microsoft-Server-ActiveSync", "ActiveSyncProxy"},
    {"oab", "/OAB", "OabProxy"},
    {"powershell", "/PowerShell", "RpsProxy"},
}};

}  // namespace

std::string_view vdir_key(vdir v) noexcept {
    return names[static_cast<std::size_t>(v)].key;
}
std::string_view vdir_path(vdir v) noexcept {
    return names[static_cast<std::size_t>(v)].path;
}
std::string_view component_name(vdir v) noexcept {
    return names[static_cast<std::size_t>(v)].component;
}

std::optional<vdir> vdir_from_key(std::string_view key) noexcept {
    for (auto v : all_vdirs)
        if (net::iequals(vdir_key(v), key)) return v;
    return std::nullopt;
}

std::optional<vdir> vdir_from_component(std::string_view component) noexcept {
    for (auto v : all_vdirs)
        if (net::iequals(component_name(v), component)) return v;
    return std::nullopt;
}

bool iequals_path(std::string_view a, std::string_view b) noexcept {
    return net::iequals(a, b);
}

bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
    return s.size() >= prefix.size() && net::iequals(s.substr(0, prefix.size()), prefix);
}

bool iends_with(std::string_view s, std::string_view suffix) noexcept {
    return s.size() >= suffix.size() && net::iequals(s.substr(s.size() - suffix.size()), suffix);
}

std::string_view target_path(std::string_view target) noexcept {
    if (istarts_with(target, "http://") || istarts_with(target, "https://")) {
        auto scheme_end = target.find("//") + 2;
        auto slash = target.find('/', scheme_end);
        target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
    }
    auto q = target.find('?');
    return q == std::string_view::npos ? target : target.substr(0, q);
}

std::string_view target_query(std::string_view target) noexcept {
    auto q = target.find('?');
    return q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
}

classified_path classify(std::string_view target) noexcept {
    auto path = target_path(target);
    if (path == "/" || path.empty()) return {route::root, vdir::owa, {}};
    for (auto v : all_vdirs) {
        auto prefix = vdir_path(v);
        if (!istarts_with(path, prefix)) continue;
        auto rest = path.substr(prefix.size());
        if (rest.empty() || rest.front() == '/') return {route::vdir, v, rest};
    }
    return {route::other, vdir::owa, path};
}

}  // namespace gatehouse::fake_cas
