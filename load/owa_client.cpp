// Outlook on the web with forms-based authentication (exchange-protocols.md §9.1): the logon
// redirect chain, POST /owa/auth.owa, the boot page that sets X-OWA-CANARY, then service.svc
// calls that echo the canary. A 440 (session expired) sends the user through logon again.
#include "load/exchange_client.hpp"

namespace gatehouse::load {

namespace {

constexpr std::string_view browser =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0";

bool has_cadata(const http_response&, const vu& v) {
    return v.cookies().find("cadata").has_value();
}

bool has_canary(const http_response&, const vu& v) {
    return v.cookies().find("X-OWA-CANARY").has_value();
}

class owa_client final : public exchange_client {
public:
    explicit owa_client(vu& v) : exchange_client(v, "owa") {}

    awaitable<bool> logon(vu& v) override {
        auto origin = v.http().origin();
        auto destination = origin + "/owa/";

        // 1. GET /owa: an unauthenticated browser is sent to the logon page.
        http_request r = page("/owa");
        if (!co_await v.step(profile_, key(v, "owa.start"), r, {302, 200})) co_return false;
        if (v.last().status == 200) {  // the cookies still hold a session
            logged_on_ = true;
            co_return true;
        }
        std::string logon_target =
            "/owa/auth/logon.aspx?url=" + exchange::form_encode(destination) + "&reason=0";
        if (auto location = v.last().field("Location")) {
            std::string host, target;
            std::optional<bool> tls;
            if (split_url(*location, host, target, tls)) logon_target = target;
        }
        // 2. The logon form, then 3. the page script's replaceCurrent navigation.
        r = page(logon_target);
        if (!co_await v.step(profile_, key(v, "owa.logon_page"), r, {200})) co_return false;
        std::string replace =
            "/owa/auth/logon.aspx?replaceCurrent=1&url=" + exchange::form_encode(destination);
        r = page(replace);
        if (!co_await v.step(profile_, key(v, "owa.logon_page"), r, {200})) co_return false;

        // 4. The form post; success is a 302 with the cadata cookies.
        std::string account = v.domain().empty() ? v.user() : v.domain() + "\\" + v.user();
        std::string form = "destination=" + exchange::form_encode(destination) +
                           "&flags=4&forcedownlevel=0&username=" + exchange::form_encode(account) +
                           "&password=" + exchange::form_encode(v.password()) +
                           "&passwordText=&isUtf8=1";
        r = page("/owa/auth.owa");
        r.method = "POST";
        r.body = form;
        r.headers.push_back({"Content-Type", "application/x-www-form-urlencoded"});
        r.headers.push_back({"Referer", referer_ = origin + replace});
        if (!co_await v.step(profile_, key(v, "owa.auth"), r, {302}, false, has_cadata))
            co_return false;

        // 5. The boot page sets the canary; a 302 back to logon.aspx here is the login loop.
        r = page("/owa/");
        if (!co_await v.step(profile_, key(v, "owa.boot"), r, {200}, false, has_canary))
            co_return false;
        logged_on_ = true;

        // 6. The first service call of the boot sequence.
        co_return co_await service(v, "GetOwaUserConfiguration",
                                   R"({"__type":"GetOwaUserConfigurationJsonRequest:#Exchange",)"
                                   R"("Header":{"__type":"JsonRequestHeaders:#Exchange",)"
                                   R"("RequestServerVersion":"Exchange2013"}})");
    }

    awaitable<bool> task(vu& v) override {
        if (!logged_on_ && !co_await logon(v)) co_return false;
        // Folder views and item reads alternate, as a user scanning the inbox does.
        bool view = (tasks_++ % 2) == 0;
        if (view)
            co_return co_await service(
                v, "FindItem",
                R"({"__type":"FindItemJsonRequest:#Exchange","Body":{"ParentFolderIds":)"
                R"([{"__type":"DistinguishedFolderId:#Exchange","Id":"inbox"}],)"
                R"("ItemShape":{"BaseShape":"IdOnly"},"Paging":{"MaxEntriesReturned":50}}})");
        co_return co_await service(
            v, "GetItem",
            R"({"__type":"GetItemJsonRequest:#Exchange","Body":{"ItemShape":)"
            R"({"BaseShape":"Default"},"ItemIds":[{"__type":"ItemId:#Exchange","Id":"AAMk"}]}})");
    }

    awaitable<bool> logoff(vu& v) override {
        http_request r = page("/owa/logoff.owa");
        bool ok = co_await v.step(profile_, key(v, "owa.logoff"), r, {302, 200});
        v.cookies().clear();
        logged_on_ = false;
        co_return ok;
    }

private:
    static http_request page(std::string_view target) {
        http_request r;
        r.method = "GET";
        r.target = target;
        r.headers = {{"User-Agent", browser},
                     {"Accept", "text/html,application/xhtml+xml,*/*;q=0.8"},
                     {"Accept-Language", "en-US,en;q=0.9"}};
        return r;
    }

    awaitable<bool> service(vu& v, std::string action, std::string json) {
        auto canary = v.cookies().find("X-OWA-CANARY");
        std::string canary_value = canary ? std::string(*canary) : std::string();
        std::string target = "/owa/service.svc?action=" + action + "&app=Mail";
        http_request r;
        r.method = "POST";
        r.target = target;
        r.body = json;
        r.capture = 4096;
        r.headers = {{"User-Agent", browser},
                     {"Content-Type", "application/json; charset=utf-8"},
                     {"Action", action},
                     {"X-OWA-ActionName", action},
                     {"X-OWA-CANARY", canary_value},
                     {"X-Requested-With", "XMLHttpRequest"}};
        bool ok = co_await v.step(profile_, key(v, "owa.service." + action), r, {200});
        if (v.last().status == 440) logged_on_ = false;  // expired: log on again next time
        co_return ok;
    }

    bool logged_on_ = false;
    unsigned tasks_ = 0;
    std::string referer_;
};

}  // namespace

std::unique_ptr<exchange_client> make_owa_client(vu& v) {
    return std::make_unique<owa_client>(v);
}

}  // namespace gatehouse::load
