// Outlook over MAPI/HTTP (exchange-protocols.md §5): autodiscover with X-MapiHttpCapability,
// then Connect, Execute and NotificationWait on /mapi/emsmdb/, carrying the MapiContext and
// MapiSequence cookies the server sets, and Disconnect. Responses stream PROCESSING/PENDING
// meta-tags before DONE and X-ResponseCode; a non-zero code is an error even with HTTP 200.
#include "load/exchange_client.hpp"
#include "load/mapi_codec.hpp"

#include <cstdio>

namespace gatehouse::load {

namespace {

bool response_code_zero(const http_response& r, const vu&) {
    if (auto code = r.field("X-ResponseCode"); code && *code != "0") return false;
    auto parsed = mapi::parse_response(r.body);
    if (parsed.done && parsed.response_code) return *parsed.response_code == 0;
    return r.field("X-ResponseCode").has_value() || parsed.done;
}

class mapi_client final : public exchange_client {
public:
    explicit mapi_client(vu& v) : exchange_client(v, "mapi") {
        exchange::default_auth(v, auth_scheme::ntlm);
        auto r = v.random()();
        char guid[40];
        std::snprintf(guid, sizeof guid, "{%08X-%04X-%04X-%04X-%012llX}", unsigned(r),
                      unsigned(r >> 32) & 0xFFFF, (unsigned(r >> 48) & 0x0FFF) | 0x4000,
                      unsigned(v.index() & 0x3FFF) | 0x8000,
                      static_cast<unsigned long long>(v.random()() & 0xFFFFFFFFFFFFull));
        client_info_ = guid;
        store_ = "/mapi/emsmdb/?MailboxId=" + v.mailbox_guid() + "@" +
                 v.email().substr(v.email().find('@') + 1);
    }

    awaitable<bool> logon(vu& v) override {
        if (!co_await exchange::autodiscover(v, profile_, key(v, "mapi.autodiscover"), true))
            co_return false;
        if (auto s = exchange::mapi_mail_store(v.last().body); !s.empty()) store_ = s;
        std::string dn =
            "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
            "/cn=Recipients/cn=" +
            v.user();
        co_return co_await call(v, "Connect", mapi::connect_body(dn), false);
    }

    awaitable<bool> task(vu& v) override {
        co_return co_await call(v, "Execute", mapi::execute_body(), false);
    }

    // The session ends with the long poll Outlook keeps outstanding, then Disconnect.
    awaitable<bool> logoff(vu& v) override {
        if (!co_await call(v, "NotificationWait", mapi::notification_wait_body(), true))
            co_return false;
        bool ok = co_await call(v, "Disconnect", mapi::disconnect_body(), false);
        v.cookies().clear();
        co_return ok;
    }

private:
    awaitable<bool> call(vu& v, std::string type, std::string body, bool long_poll) {
        char id[64];
        std::snprintf(id, sizeof id, "%s:%u", client_info_.c_str(), ++request_id_);
        std::string request_id = id;
        http_request r;
        r.method = "POST";
        r.target = store_;
        r.body = body;
        r.capture = 64 * 1024;
        r.headers = {{"Content-Type", "application/mapi-http"},
                     {"X-RequestType", type},
                     {"X-RequestId", request_id},
                     {"X-ClientInfo", client_info_},
                     {"X-ClientApplication", "Outlook/16.0.17928.20114"},
                     {"X-User-Identity", v.email()},
                     {"Accept", "*/*"},
                     {"User-Agent",
                      "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook "
                      "16.0.17928; Pro)"}};
        if (long_poll) {
            // Held up to five minutes of server time (scaled), plus a margin.
            r.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(
                            v.scaled(std::chrono::seconds(330))) +
                        std::chrono::seconds(10);
        }
        co_return co_await v.step(profile_, key(v, "mapi." + type), r, {200}, long_poll,
                                  response_code_zero);
    }

    std::string client_info_;
    std::string store_;
    unsigned request_id_ = 0;
};

}  // namespace

std::unique_ptr<exchange_client> make_mapi_client(vu& v) {
    return std::make_unique<mapi_client>(v);
}

}  // namespace gatehouse::load
