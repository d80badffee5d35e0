// /Microsoft-Server-ActiveSync (§6): OPTIONS capability discovery, POST commands addressed by a
// plain or base64 query, Ping held silently for its heartbeat (Status 1 at expiry, 2 on a
// change, 5 when out of range), canned FolderSync/Sync/Provision, and the non-standard statuses
// (449, 451, 456, 457, 503, 507) proxies like to rewrite.

#include "fake-cas/encoding.hpp"
#include "fake-cas/request_context.hpp"
#include "fake-cas/wbxml.hpp"

#include <charconv>

namespace gatehouse::fake_cas {

namespace {

constexpr std::string_view protocol_versions = "2.0,2.1,2.5,12.0,12.1,14.0,14.1,16.0,16.1";
constexpr std::string_view protocol_commands =
    "Sync,SendMail,SmartForward,SmartReply,GetAttachment,GetHierarchy,CreateCollection,"
    "DeleteCollection,MoveCollection,FolderSync,FolderCreate,FolderDelete,FolderUpdate,MoveItems,"
    "GetItemEstimate,MeetingResponse,Search,Settings,Ping,ItemOperations,Provision,"
    "ResolveRecipients,ValidateCert,Find";

struct eas_request {
    std::string command{};
    std::string user{};
    std::string device_id{};
    std::string device_type{};
    std::optional<std::string> policy_key{};
};

std::string_view command_name(unsigned code) {
    static constexpr std::string_view names[] = {"Sync",
                                                 "SendMail",
                                                 "SmartForward",
                                                 "SmartReply",
                                                 "GetAttachment",
                                                 "",
                                                 "",
                                                 "",
                                                 "",
                                                 "FolderSync",
                                                 "FolderCreate",
                                                 "FolderDelete",
                                                 "FolderUpdate",
                                                 "MoveItems",
                                                 "GetItemEstimate",
                                                 "MeetingResponse",
                                                 "Search",
                                                 "Settings",
                                                 "Ping",
                                                 "ItemOperations",
                                                 "Provision",
                                                 "ResolveRecipients",
                                                 "ValidateCert"};
    return code < std::size(names) ? names[code] : std::string_view{};
}

// The packed base64 query of protocol 12.1+ ([MS-ASHTTP] 2.2.1.1.1.1).
std::optional<eas_request> decode_base64_query(std::string_view query) {
    auto raw = base64_decode(url_decode(query, false));
    if (!raw || raw->size() < 6) return std::nullopt;
    const auto& d = *raw;
    eas_request r;
    std::size_t at = 1;
    r.command = std::string(command_name(d[at++]));
    if (r.command.empty()) return std::nullopt;
    at += 2;  // locale
    auto take = [&](std::string& out) {
        if (at >= d.size()) return false;
        std::size_t n = d[at++];
        if (at + n > d.size()) return false;
        out.assign(reinterpret_cast<const char*>(d.data() + at), n);
        at += n;
        return true;
    };
    std::string key;
    if (!take(r.device_id) || !take(key) || !take(r.device_type)) return std::nullopt;
    if (key.size() == 4) {
        std::uint32_t v = static_cast<std::uint8_t>(key[0]) |
                          (static_cast<std::uint8_t>(key[1]) << 8) |
                          (static_cast<std::uint8_t>(key[2]) << 16) |
                          (static_cast<std::uint32_t>(static_cast<std::uint8_t>(key[3])) << 24);
        r.policy_key = std::to_string(v);
    }
    while (at + 1 < d.size()) {
        auto tag = d[at++];
        std::string value;
        if (!take(value)) return std::nullopt;
        if (tag == 8) r.user = value;
    }
    if (r.device_id.empty() || r.device_type.empty()) return std::nullopt;
    return r;
}

std::optional<eas_request> parse_query(std::string_view query) {
    if (query.empty()) return std::nullopt;
    if (!form_value(query, "Cmd")) return decode_base64_query(query);
    eas_request r;
    r.command = form_value(query, "Cmd").value_or("");
    r.user = form_value(query, "User").value_or("");
    r.device_id = form_value(query, "DeviceId").value_or("");
    r.device_type = form_value(query, "DeviceType").value_or("");
    if (r.command.empty() || r.device_id.empty() || r.device_type.empty()) return std::nullopt;
    return r;
}

bytes ping_response(unsigned status, const std::vector<std::string>& folders,
                    std::optional<std::uint32_t> interval) {
    using namespace eas;
    wbxml_writer w;
    w.open(page_ping, ping::ping).leaf(page_ping, ping::status, std::to_string(status));
    if (interval) w.leaf(page_ping, ping::heartbeat_interval, std::to_string(*interval));
    if (!folders.empty()) {
        w.open(page_ping, ping::folders);
        for (const auto& f : folders) w.leaf(page_ping, ping::folder, f);
        w.close();
    }
    w.close();
    return w.data();
}

bytes folder_sync_response() {
    using namespace eas;
    namespace fh = folderhierarchy;
    wbxml_writer w;
    w.open(page_folderhierarchy, fh::folder_sync)
        .leaf(page_folderhierarchy, fh::status, "1")
        .leaf(page_folderhierarchy, fh::sync_key, "1")
        .open(page_folderhierarchy, fh::changes)
        .leaf(page_folderhierarchy, fh::count, "3");
    struct folder {
        const char* id;
        const char* name;
        const char* type;
    };
    for (auto f : {folder{"1", "Inbox", "2"}, folder{"2", "Sent Items", "5"},
                   folder{"3", "Calendar", "8"}}) {
        w.open(page_folderhierarchy, fh::add)
            .leaf(page_folderhierarchy, fh::server_id, f.id)
            .leaf(page_folderhierarchy, fh::parent_id, "0")
            .leaf(page_folderhierarchy, fh::display_name, f.name)
            .leaf(page_folderhierarchy, fh::type, f.type)
            .close();
    }
    w.close().close();
    return w.data();
}

bytes sync_response(const std::optional<wbxml_element>& request) {
    using namespace eas;
    std::string collection = "1";
    if (request)
        if (auto* id = request->find(page_airsync, airsync::collection_id)) collection = id->text;
    wbxml_writer w;
    w.open(page_airsync, airsync::sync)
        .open(page_airsync, airsync::collections)
        .open(page_airsync, airsync::collection)
        .leaf(page_airsync, airsync::sync_key, "2")
        .leaf(page_airsync, airsync::collection_id, collection)
        .leaf(page_airsync, airsync::status, "1")
        .close()
        .close()
        .close();
    return w.data();
}

bytes provision_response() {
    using namespace eas;
    wbxml_writer w;
    w.open(page_provision, provision::provision)
        .leaf(page_provision, provision::status, "1")
        .open(page_provision, provision::policies)
        .open(page_provision, provision::policy)
        .leaf(page_provision, provision::policy_type, "MS-EAS-Provisioning-WBXML")
        .leaf(page_provision, provision::status, "1")
        .leaf(page_provision, provision::policy_key, "3942919513")
        .close()
        .close()
        .close();
    return w.data();
}

void common_headers(request_context& ctx) {
    ctx.res.fields.add("Cache-Control", "private");
    ctx.res.fields.add("MS-Server-ActiveSync", "15.20");
    if (ctx.cfg().activesync.announce_x_ms_rp) ctx.res.fields.add("X-MS-RP", protocol_versions);
}

awaitable<void> send_wbxml(request_context& ctx, const bytes& body) {
    ctx.res.status = 200;
    ctx.res.fields.add("Content-Type", "application/vnd.ms-sync.wbxml");
    std::string_view data(reinterpret_cast<const char*>(body.data()), body.size());
    if (ctx.cfg().activesync.chunked_responses) {
        if (auto ec_ = co_await send_head(ctx, std::nullopt); ec_) co_return;
        if (auto ec_ = co_await send_body(ctx, data); ec_) co_return;
        co_await send_last_chunk(ctx);
        co_return;
    }
    ctx.res_body.assign(data);
}

awaitable<void> ping(request_context& ctx, const eas_request& r) {
    const auto& k = ctx.cfg().activesync;
    auto& farm = ctx.srv.farm();
    auto user = normalize_user(ctx.user);
    auto cache_key = user + "|" + r.device_id;
    std::optional<std::uint32_t> interval;
    std::vector<std::string> folders;
    if (!ctx.conn.body.empty()) {
        auto doc = wbxml_decode(
            {reinterpret_cast<const std::uint8_t*>(ctx.conn.body.data()), ctx.conn.body.size()});
        if (!doc || doc->page != eas::page_ping || doc->token != eas::ping::ping) {
            co_await send_wbxml(ctx, ping_response(4, {}, std::nullopt));  // syntax error
            co_return;
        }
        if (auto* hb = doc->child(eas::page_ping, eas::ping::heartbeat_interval)) {
            std::uint32_t v = 0;
            auto [p, ec] = std::from_chars(hb->text.data(), hb->text.data() + hb->text.size(), v);
            if (ec == std::errc{}) interval = v;
        }
        if (auto* list = doc->child(eas::page_ping, eas::ping::folders))
            for (const auto& f : list->children)
                if (auto* id = f.child(eas::page_ping, eas::ping::id)) folders.push_back(id->text);
    }
    {
        std::lock_guard lock(farm.eas_mutex);
        auto& cached = farm.eas_ping_cache[cache_key];
        if (!interval && cached.first != 0) interval = cached.first;
        if (folders.empty()) folders = cached.second;
        if (interval) cached = {*interval, folders};
    }
    if (!interval || folders.empty()) {
        co_await send_wbxml(ctx, ping_response(3, {}, std::nullopt));  // missing parameters
        co_return;
    }
    if (*interval < k.hb_min_s || *interval > k.hb_max_s) {
        auto allowed = *interval < k.hb_min_s ? k.hb_min_s : k.hb_max_s;
        co_await send_wbxml(ctx, ping_response(5, {}, allowed));
        co_return;
    }
    long_poll_guard guard(ctx.srv.obs(), long_poll::eas_ping);
    auto w = std::make_shared<wakeup>(co_await asio::this_coro::executor);
    event_hub::registration reg(farm.eas_changes, user, w);
    auto start = steady_clock::now();
    auto end = start + ctx.snap->s(*interval);
    auto change_at = k.ping_change_after_s != 0 ? start + ctx.snap->s(k.ping_change_after_s)
                                                : steady_clock::time_point::max();
    std::vector<std::string> changed;
    for (;;) {
        auto events = farm.eas_changes.take(user);
        if (!events.empty()) {
            for (auto& e : events) changed.push_back(e.empty() ? folders.front() : e);
            break;
        }
        auto now = steady_clock::now();
        if (now >= change_at) {
            changed.push_back(folders.front());
            break;
        }
        if (now >= end) break;
        auto why = co_await w->wait(std::min(end, change_at), &ctx.conn.stream.socket());
        if (why == wake_reason::peer_closed) {
            ctx.close = true;
            ctx.responded = true;
            co_return;
        }
    }
    // Built before the co_await: GCC 12 destroys conditional-operator temporaries in an
    // awaited call twice.
    bytes answer = changed.empty() ? ping_response(1, {}, std::nullopt)
                                   : ping_response(2, changed, std::nullopt);
    co_await send_wbxml(ctx, answer);
}

}  // namespace

awaitable<void> handle_activesync(request_context& ctx) {
    const auto& c = ctx.cfg();
    const auto& k = c.activesync;
    if (bool ok_ = co_await require_auth(ctx, c.at(vdir::activesync).auth); !ok_) co_return;
    if (ctx.is("OPTIONS")) {
        if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
        ctx.mark_proxied(ctx.user);
        ctx.res.status = 200;
        ctx.res.fields.add("Allow", "OPTIONS,POST");
        common_headers(ctx);
        ctx.res.fields.add("MS-ASProtocolVersions", protocol_versions);
        ctx.res.fields.add("MS-ASProtocolCommands", protocol_commands);
        ctx.res.fields.add("Public", "OPTIONS,POST");
        ctx.res.fields.add("X-AspNet-Version", "4.0.30319");
        co_return;
    }
    if (!ctx.is("POST")) {
        if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
        ctx.reply_error(501);
        co_return;
    }
    if (bool ok_ = co_await read_body(ctx, c.at(vdir::activesync).max_request_bytes); !ok_)
        co_return;
    ctx.mark_proxied(ctx.user);
    auto r = parse_query(ctx.query);
    if (!r) {
        ctx.reply_error(400);
        co_return;
    }
    common_headers(ctx);
    if (k.force_http_status != 0) {
        ctx.res.status = k.force_http_status;
        if (k.force_http_status == 451 && !k.x_ms_location.empty())
            ctx.res.fields.add("X-MS-Location", k.x_ms_location);
        if (k.force_http_status == 503)
            ctx.res.fields.add("Retry-After", std::to_string(k.retry_after_s));
        co_return;
    }
    if (!r->policy_key) {
        if (auto h = ctx.header("X-MS-PolicyKey")) r->policy_key = std::string(*h);
    }
    if (k.require_policy_key && r->command != "Provision" &&
        (!r->policy_key || *r->policy_key == "0")) {
        ctx.res.status = 449;
        co_return;
    }
    const auto& cmd = r->command;
    if (net::iequals(cmd, "Ping")) {
        co_await ping(ctx, *r);
    } else if (net::iequals(cmd, "FolderSync")) {
        co_await send_wbxml(ctx, folder_sync_response());
    } else if (net::iequals(cmd, "Sync")) {
        auto doc = wbxml_decode(
            {reinterpret_cast<const std::uint8_t*>(ctx.conn.body.data()), ctx.conn.body.size()});
        co_await send_wbxml(ctx, sync_response(doc));
    } else if (net::iequals(cmd, "Provision")) {
        co_await send_wbxml(ctx, provision_response());
    } else {
        // Other commands succeed with an empty body (Content-Type still set, as Exchange does).
        ctx.res.status = 200;
        ctx.res.fields.add("Content-Type", "application/vnd.ms-sync.wbxml");
    }
}

}  // namespace gatehouse::fake_cas
