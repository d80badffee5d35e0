// /Autodiscover (§7): POX autodiscover.xml (per-user response, mapiHttp section only on request,
// the 600 error for GET and bad bodies) and the anonymous autodiscover.json v2.

#include "fake-cas/encoding.hpp"
#include "fake-cas/fba.hpp"

#include <charconv>
#include <cstdio>

#include <pugixml.hpp>

namespace gatehouse::fake_cas {

namespace {

std::string_view local_name(const char* name) {
    std::string_view n(name);
    auto colon = n.find(':');
    return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

pugi::xml_node child_named(pugi::xml_node parent, std::string_view name) {
    for (auto c : parent.children())
        if (c.type() == pugi::node_element && local_name(c.name()) == name) return c;
    return {};
}

// The ServerVersion hex of POX autodiscover: structure version 0111, major (6 bits), minor
// (6 bits), a set flag bit, build (15 bits) — e.g. 15.1.2176 → 73C18880.
std::string server_version_hex(std::string_view build) {
    unsigned parts[3] = {15, 2, 0};
    for (int i = 0; i < 3 && !build.empty(); ++i) {
        auto dot = build.find('.');
        auto piece = build.substr(0, dot);
        std::from_chars(piece.data(), piece.data() + piece.size(), parts[i]);
        build = dot == std::string_view::npos ? std::string_view{} : build.substr(dot + 1);
    }
    std::uint32_t v = (0x7u << 28) | ((parts[0] & 0x3f) << 22) | ((parts[1] & 0x3f) << 16) |
                      (1u << 15) | (parts[2] & 0x7fff);
    char buf[16];
    std::snprintf(buf, sizeof buf, "%08X", v);
    return buf;
}

std::string error_600(std::string_view message = "Invalid Request") {
    return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Autodiscover xmlns=\"http://schemas."
           "microsoft.com/exchange/autodiscover/responseschema/2006\">\r\n  <Response>\r\n    "
           "<Error Time=\"10:00:00.0000000\" Id=\"2594838815\">\r\n      <ErrorCode>600</ErrorCode>"
           "\r\n      <Message>" +
           std::string(message) +
           "</Message>\r\n      <DebugData />\r\n    </Error>\r\n  "
           "</Response>\r\n</Autodiscover>\r\n";
}

std::string outlook_response(const request_context& ctx, const mailbox_user& m, bool mapi_http) {
    const auto& c = ctx.cfg();
    auto base = origin(ctx);
    auto host = ctx.url_host();
    auto ews = base + "/EWS/Exchange.asmx";
    auto mailbox = m.mailbox_guid + "@" + ctx.srv.farm().users.email_domain();
    auto version = server_version_hex(c.build);
    std::string account;
    if (c.autodiscover.redirect == redirect_mode::redirect_url) {
        account =
            "<Account><AccountType>email</AccountType><Action>redirectUrl</Action>"
            "<RedirectUrl>" +
            xml_escape(c.autodiscover.redirect_target) + "</RedirectUrl></Account>";
    } else if (c.autodiscover.redirect == redirect_mode::redirect_addr) {
        account =
            "<Account><AccountType>email</AccountType><Action>redirectAddr</Action>"
            "<RedirectAddr>" +
            xml_escape(c.autodiscover.redirect_target) + "</RedirectAddr></Account>";
    } else {
        account =
            "<Account><AccountType>email</AccountType><Action>settings</Action>"
            "<MicrosoftOnline>False</MicrosoftOnline>";
        if (mapi_http) {
            account += "<Protocol Type=\"mapiHttp\" Version=\"1\"><MailStore><InternalUrl>" + base +
                       "/mapi/emsmdb/?MailboxId=" + mailbox + "</InternalUrl><ExternalUrl>" + base +
                       "/mapi/emsmdb/?MailboxId=" + mailbox +
                       "</ExternalUrl></MailStore><AddressBook><InternalUrl>" + base +
                       "/mapi/nspi/?MailboxId=" + mailbox + "</InternalUrl><ExternalUrl>" + base +
                       "/mapi/nspi/?MailboxId=" + mailbox +
                       "</ExternalUrl></AddressBook></Protocol>";
        }
        account += "<Protocol><Type>EXCH</Type><Server>" + mailbox + "</Server><ServerDN>" +
                   "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Configuration/"
                   "cn=Servers/cn=" +
                   mailbox + "</ServerDN><ServerVersion>" + version +
                   "</ServerVersion><AuthPackage>Kerb</AuthPackage><ASUrl>" + ews +
                   "</ASUrl><EwsUrl>" + ews + "</EwsUrl><OOFUrl>" + ews + "</OOFUrl><OABUrl>" +
                   base + "/OAB/" + c.oab.oab_guid + "/</OABUrl></Protocol>";
        account += "<Protocol><Type>EXPR</Type><Server>" + host +
                   "</Server><SSL>On</SSL><AuthPackage>Ntlm</AuthPackage><ServerVersion>" +
                   version + "</ServerVersion><ASUrl>" + ews + "</ASUrl><EwsUrl>" + ews +
                   "</EwsUrl><OOFUrl>" + ews + "</OOFUrl><OABUrl>" + base + "/OAB/" +
                   c.oab.oab_guid + "/</OABUrl></Protocol>";
        account += "<Protocol><Type>WEB</Type><External><OWAUrl AuthenticationMethod=\"Fba\">" +
                   base + "/owa/</OWAUrl></External></Protocol></Account>";
    }
    return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Autodiscover xmlns=\"http://schemas."
           "microsoft.com/exchange/autodiscover/responseschema/2006\"><Response xmlns=\"http://"
           "schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\"><User>"
           "<DisplayName>" +
           xml_escape(m.display_name) + "</DisplayName><LegacyDN>" + xml_escape(m.legacy_dn) +
           "</LegacyDN><AutoDiscoverSMTPAddress>" + xml_escape(m.email) +
           "</AutoDiscoverSMTPAddress><DeploymentId>30c3a927-42aa-5de8-91e3-8e5b4655ed00"
           "</DeploymentId></User>" +
           account + "</Response></Autodiscover>\r\n";
}

std::string mobilesync_response(const request_context& ctx, const mailbox_user& m) {
    return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Autodiscover xmlns=\"http://schemas."
           "microsoft.com/exchange/autodiscover/responseschema/2006\"><Response xmlns=\"http://"
           "schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006\">"
           "<Culture>en:us</Culture><User><DisplayName>" +
           xml_escape(m.display_name) + "</DisplayName><EMailAddress>" + xml_escape(m.email) +
           "</EMailAddress></User><Action><Settings><Server><Type>MobileSync</Type><Url>" +
           origin(ctx) + "/Microsoft-Server-ActiveSync</Url><Name>" + origin(ctx) +
           "/Microsoft-Server-ActiveSync</Name></Server></Settings></Action></Response>"
           "</Autodiscover>\r\n";
}

bool host_acceptable(const request_context& ctx) {
    auto host = std::string(ctx.host());
    if (auto colon = host.rfind(':');
        colon != std::string::npos && host.find(']') == std::string::npos)
        host.resize(colon);
    const auto& c = ctx.cfg();
    if (net::iequals(host, c.fqdn) ||
        (!c.external_host.empty() && net::iequals(host, c.external_host)))
        return true;
    error_code ec;
    asio::ip::make_address(host.front() == '[' ? host.substr(1, host.size() - 2) : host, ec);
    return !ec;
}

awaitable<void> json_v2(request_context& ctx) {
    const auto& c = ctx.cfg();
    if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
    if (!c.autodiscover.json_enabled) {
        ctx.reply_error(404);
        co_return;
    }
    if (c.autodiscover.json_requires_auth) {
        bool ok = co_await require_auth(ctx, c.at(vdir::autodiscover).auth);
        if (!ok) co_return;
    }
    auto protocol = form_value(ctx.query, "Protocol").value_or("");
    static constexpr std::pair<std::string_view, std::string_view> protocols[] = {
        {"AutodiscoverV1", "/Autodiscover/Autodiscover.xml"},
        {"ActiveSync", "/Microsoft-Server-ActiveSync"},
        {"Ews", "/EWS/Exchange.asmx"},
        {"Rest", "/api"},
        {"Substrate", "/api"},
    };
    for (auto [name, path] : protocols) {
        if (net::iequals(protocol, name)) {
            ctx.res.fields.add("Cache-Control", "private");
            ctx.reply(200, "application/json; charset=utf-8",
                      "{\"Protocol\":\"" + std::string(name) + "\",\"Url\":\"" + origin(ctx) +
                          std::string(path) + "\"}");
            co_return;
        }
    }
    ctx.reply(400, "application/json; charset=utf-8",
              "{\"ErrorCode\":\"InvalidProtocol\",\"ErrorMessage\":\"The given protocol value '" +
                  xml_escape(protocol) +
                  "' is invalid. Supported values are 'AutodiscoverV1,ActiveSync,Ews,Rest'.\"}");
}

}  // namespace

awaitable<void> handle_autodiscover(request_context& ctx) {
    const auto& c = ctx.cfg();
    const auto& k = c.autodiscover;
    auto rest = ctx.where.rest;
    if (k.host_header_validation && !host_acceptable(ctx)) {
        if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
        ctx.reply_error(400);
        co_return;
    }
    if (istarts_with(rest, "/autodiscover.json") || iends_with(rest, "/autodiscover.json")) {
        co_await json_v2(ctx);
        co_return;
    }
    if (!iequals_path(rest, "/autodiscover.xml")) {
        if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
        ctx.reply_error(404);
        co_return;
    }
    if (k.ua_filter) {
        auto ua = ctx.header("User-Agent").value_or("");
        if (ua.find("Outlook") == std::string_view::npos &&
            ua.find("Microsoft Office") == std::string_view::npos) {
            if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
            ctx.reply_error(403);
            co_return;
        }
    }
    if (bool ok_ = co_await require_auth(ctx, c.at(vdir::autodiscover).auth); !ok_) co_return;
    if (bool ok_ = co_await read_body(ctx, c.at(vdir::autodiscover).max_request_bytes); !ok_)
        co_return;
    bool alive = co_await pause(ctx, ctx.snap->ms(k.latency_ms));
    if (!alive) {
        ctx.close = true;
        ctx.responded = true;
        co_return;
    }
    ctx.mark_proxied(ctx.user);
    ctx.res.fields.add("Cache-Control", "private");
    ctx.res.fields.add("X-ServerApplication", "Exchange/" + c.build);
    if (!ctx.is("POST")) {
        ctx.reply(200, "text/xml; charset=utf-8", error_600());
        co_return;
    }
    if (k.redirect == redirect_mode::http_302) {
        ctx.res.status = 302;
        ctx.res.fields.add("Location", k.redirect_target);
        co_return;
    }
    pugi::xml_document doc;
    auto parsed = doc.load_buffer(ctx.conn.body.data(), ctx.conn.body.size());
    auto root = doc.document_element();
    auto request = child_named(root, "Request");
    if (!parsed || local_name(root.name()) != "Autodiscover" || !request) {
        ctx.reply(200, "text/xml; charset=utf-8", error_600());
        co_return;
    }
    std::string address = child_named(request, "EMailAddress").text().as_string();
    std::string legacy_dn = child_named(request, "LegacyDN").text().as_string();
    std::string schema = child_named(request, "AcceptableResponseSchema").text().as_string();
    if (!legacy_dn.empty()) address = legacy_dn.substr(legacy_dn.rfind('=') + 1);
    if (address.empty()) {
        ctx.reply(200, "text/xml; charset=utf-8", error_600());
        co_return;
    }
    const auto& user = *ctx.srv.farm().users.lookup(address);
    if (schema.find("mobilesync") != std::string::npos) {
        ctx.reply(200, "text/xml; charset=utf-8", mobilesync_response(ctx, user));
        co_return;
    }
    bool mapi = k.include_mapihttp == mapihttp_mode::always;
    if (k.include_mapihttp == mapihttp_mode::automatic) {
        auto cap = ctx.header("X-MapiHttpCapability").value_or("0");
        unsigned level = 0;
        std::from_chars(cap.data(), cap.data() + cap.size(), level);
        mapi = level >= 1;
    }
    ctx.reply(200, "text/xml; charset=utf-8", outlook_response(ctx, user, mapi));
}

}  // namespace gatehouse::fake_cas
