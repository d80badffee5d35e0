// An ActiveSync device (exchange-protocols.md §6): OPTIONS, FolderSync, then Sync and the
// Direct Push Ping, held by the server up to the HeartbeatInterval with no bytes flowing
// (WBXML of §6.4). Basic authentication on every request, as devices do.
#include "load/exchange_client.hpp"
#include "load/wbxml.hpp"

namespace gatehouse::load {

namespace {

constexpr std::string_view device_agent = "Apple-iPhone14C2/2002.32";

bool is_wbxml_status_ok(const http_response& r, const vu&) {
    // An empty 200 is a valid Sync answer ("no changes"); otherwise Status must be 1.
    if (r.body.empty()) return true;
    for (auto [page, tag] : {std::pair{wbxml::page_ping, wbxml::tag_ping_status},
                             std::pair{wbxml::page_folder_hierarchy, wbxml::tag_folder_status},
                             std::pair{wbxml::page_airsync, wbxml::tag_airsync_status}}) {
        if (auto s = wbxml::find_text(r.body, page, tag)) return *s == "1" || *s == "2";
    }
    return true;
}

class activesync_client final : public exchange_client {
public:
    explicit activesync_client(vu& v) : exchange_client(v, "activesync") {
        exchange::default_auth(v, auth_scheme::basic);
        heartbeat_ = static_cast<unsigned>(v.options().heartbeat.count());
    }

    awaitable<bool> logon(vu& v) override {
        http_request r =
            request(v, "OPTIONS",
                    "/Microsoft-Server-ActiveSync?User=" + exchange::form_encode(v.user()) +
                        "&DeviceId=" + v.device_id() + "&DeviceType=iPhone");
        if (!co_await v.step(profile_, key(v, "eas.OPTIONS"), r, {200})) co_return false;
        auto body = wbxml::folder_sync_request(folder_key_);
        r = command(v, "FolderSync", body);
        if (!co_await v.step(profile_, key(v, "eas.FolderSync"), r, {200}, false,
                             is_wbxml_status_ok))
            co_return false;
        if (auto k = wbxml::find_text(v.last().body, wbxml::page_folder_hierarchy,
                                      wbxml::tag_folder_sync_key))
            folder_key_ = *k;
        co_return true;
    }

    // A Sync of the inbox, then one Ping held to the heartbeat.
    awaitable<bool> task(vu& v) override {
        auto sync = wbxml::sync_request(sync_key_, "1");
        http_request r = command(v, "Sync", sync);
        if (!co_await v.step(profile_, key(v, "eas.Sync"), r, {200}, false, is_wbxml_status_ok))
            co_return false;
        if (auto k =
                wbxml::find_text(v.last().body, wbxml::page_airsync, wbxml::tag_airsync_sync_key))
            sync_key_ = *k;

        auto ping = wbxml::ping_request(heartbeat_, "1");
        r = command(v, "Ping", ping);
        // The server holds the Ping for the (time-scaled) heartbeat: wait that long and more.
        auto hold = v.scaled(std::chrono::seconds(heartbeat_));
        r.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(hold * 1.25) +
                    std::chrono::seconds(10);
        bool ok = co_await v.step(profile_, key(v, "eas.Ping"), r, {200}, true, is_wbxml_status_ok);
        if (auto s = wbxml::find_text(v.last().body, wbxml::page_ping, wbxml::tag_ping_status);
            s && *s == "5") {
            // Heartbeat out of range: the server names the bound to use next time.
            if (auto hb =
                    wbxml::find_text(v.last().body, wbxml::page_ping, wbxml::tag_ping_heartbeat))
                heartbeat_ = static_cast<unsigned>(std::stoul(*hb));
        }
        co_return ok;
    }

    awaitable<bool> logoff(vu&) override { co_return true; }

    awaitable<bool> session(vu& v) override {
        if (!co_await logon(v)) co_return false;
        for (unsigned i = 0; i < std::max(1u, v.options().pings); ++i)
            if (!co_await task(v)) co_return false;
        co_return true;
    }

private:
    http_request request(vu&, std::string_view method, std::string target) {
        target_ = std::move(target);
        http_request r;
        r.method = method;
        r.target = target_;
        r.capture = 16 * 1024;
        r.headers = {{"User-Agent", device_agent},
                     {"MS-ASProtocolVersion", "16.1"},
                     {"Accept-Language", "en-us"}};
        return r;
    }

    http_request command(vu& v, std::string_view cmd, const std::string& body) {
        auto r = request(v, "POST",
                         "/Microsoft-Server-ActiveSync?Cmd=" + std::string(cmd) +
                             "&User=" + exchange::form_encode(v.user()) +
                             "&DeviceId=" + v.device_id() + "&DeviceType=iPhone");
        body_ = body;
        r.body = body_;
        r.headers.push_back({"Content-Type", "application/vnd.ms-sync.wbxml"});
        return r;
    }

    std::string target_;
    std::string body_;
    std::string folder_key_ = "0";
    std::string sync_key_ = "0";
    unsigned heartbeat_ = 480;
};

}  // namespace

std::unique_ptr<exchange_client> make_activesync_client(vu& v) {
    return std::make_unique<activesync_client>(v);
}

}  // namespace gatehouse::load
