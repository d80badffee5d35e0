// /owa (§9): the forms-based logon sequence, the boot page with its canary, service calls that
// need the canary, and logoff. The cadata cookies are sealed with this server's FBA key, so a
// server with another key sends the browser back to the logon page (the login loop of §12.2).

#include "fake-cas/encoding.hpp"
#include "fake-cas/fba.hpp"

namespace gatehouse::fake_cas {

namespace {

constexpr std::string_view cookie_names[] = {"cadata", "cadataTTL", "cadataKey", "cadataIV",
                                             "cadataSig"};

std::string_view cookie_of(const request_context& ctx, std::string_view name) {
    for (auto [field_name, value] : ctx.req.fields) {
        if (!net::iequals(field_name, "Cookie")) continue;
        if (auto v = cookie_value(value, name)) return *v;
    }
    return {};
}

std::string logon_page(const request_context& ctx, std::string_view destination) {
    auto build = ctx.cfg().build;
    return "<!DOCTYPE html>\r\n<html><head><meta http-equiv=\"X-UA-Compatible\" "
           "content=\"IE=10\"/><title>Outlook</title>"
           "<link rel=\"stylesheet\" href=\"/owa/auth/" +
           build +
           "/themes/resources/logon.css\"/></head><body class=\"signInBg\">\r\n"
           "<form action=\"/owa/auth.owa\" method=\"POST\" name=\"logonForm\" "
           "ENCTYPE=\"application/x-www-form-urlencoded\" autocomplete=\"off\">\r\n"
           "<input type=\"hidden\" name=\"destination\" value=\"" +
           xml_escape(destination) +
           "\"/>\r\n<input type=\"hidden\" name=\"flags\" value=\"4\"/>\r\n"
           "<input type=\"hidden\" name=\"forcedownlevel\" value=\"0\"/>\r\n"
           "<input id=\"username\" name=\"username\" type=\"text\"/>\r\n"
           "<input id=\"password\" name=\"password\" type=\"password\"/>\r\n"
           "<input id=\"passwordText\" name=\"passwordText\" type=\"text\" "
           "style=\"display:none\"/>\r\n"
           "<input type=\"hidden\" name=\"isUtf8\" value=\"1\"/>\r\n"
           "<div class=\"signinbutton\" role=\"button\" onclick=\"clkLgn()\">sign in</div>\r\n"
           "</form></body></html>\r\n";
}

void set_fba_cookies(request_context& ctx, const fba_cookies& c, bool expire) {
    const std::string* values[] = {&c.cadata, &c.ttl, &c.key, &c.iv, &c.sig};
    for (std::size_t i = 0; i < 5; ++i) {
        std::string line = std::string(cookie_names[i]) + "=";
        if (expire)
            line += "; expires=Thu, 01-Jan-1970 00:00:00 GMT";
        else
            line += *values[i];
        line += "; path=/; secure; HttpOnly";
        ctx.res.fields.add("Set-Cookie", line);
    }
}

awaitable<void> login(request_context& ctx) {
    const auto& c = ctx.cfg();
    if (bool ok_ = co_await read_body(ctx, c.at(vdir::owa).max_request_bytes); !ok_) co_return;
    bool alive = co_await pause(ctx, ctx.snap->ms(c.owa.login_latency_ms));
    if (!alive) {
        ctx.close = true;
        ctx.responded = true;
        co_return;
    }
    const auto& form = ctx.conn.body;
    auto user = form_value(form, "username").value_or("");
    auto password = form_value(form, "password").value_or("");
    auto destination = form_value(form, "destination").value_or("");
    if (destination.empty()) destination = origin(ctx) + "/owa/";
    bool ok =
        !normalize_user(user).empty() &&
        (c.auth == auth_mode::accept_any ? !password.empty()
                                         : ctx.srv.farm().users.check_password(user, password));
    ctx.res.status = 302;
    if (!ok) {
        ctx.res.fields.add("Location",
                           logon_url(ctx, destination, c.owa.reason_on_bad_password, true));
        co_return;
    }
    auto expires = std::chrono::system_clock::now() +
                   std::chrono::duration_cast<std::chrono::system_clock::duration>(
                       ctx.snap->s(c.owa.cookie_ttl_s));
    // An unusable key (a CNG certificate, §9.2) seals with a key nobody holds, this server
    // included.
    auto key = c.owa.fba_key_unusable ? fba_key::derive(random_guid(), "unusable") : ctx.snap->fba;
    set_fba_cookies(ctx, seal_fba(key, user, password, expires), false);
    ctx.res.fields.add("Location", destination);
    ctx.user = user;
    ctx.scheme = "FBA";
    ctx.srv.obs().identity_seen(ctx.conn.id, user);
}

void boot_page(request_context& ctx) {
    const auto& c = ctx.cfg();
    ctx.mark_proxied(ctx.user);
    auto canary = make_canary(ctx.snap->canary_secret, ctx.user);
    ctx.res.fields.add("Cache-Control", "no-cache, no-store");
    ctx.res.fields.add("X-OWA-Version", c.build);
    ctx.res.fields.add("Set-Cookie", "X-OWA-CANARY=" + canary + "; path=/; secure");
    ctx.res.fields.add("Set-Cookie", "X-BackEndCookie=" + ctx.backend_netbios + "=" +
                                         random_guid() + "; path=/owa; secure; HttpOnly");
    ctx.res.fields.add("Set-Cookie", "ClientId=" + to_upper(random_guid()) +
                                         "; expires=Wed, 01-Jul-2026 00:00:00 GMT; path=/; secure");
    ctx.reply(200, "text/html; charset=utf-8",
              "<!DOCTYPE html>\r\n<html><head><title>Outlook</title></head><body data-user=\"" +
                  xml_escape(ctx.user) + "\" data-fe=\"" + c.netbios +
                  "\"><div id=\"owaBoot\">Loading...</div></body></html>\r\n");
}

awaitable<void> service_call(request_context& ctx, const fba_session& session) {
    const auto& c = ctx.cfg();
    if (bool ok_ = co_await read_body(ctx, c.at(vdir::owa).max_request_bytes); !ok_) co_return;
    if (session.status != fba_status::ok) {
        fba_unauthenticated(ctx, session, origin(ctx) + "/owa/");
        co_return;
    }
    ctx.mark_proxied(ctx.user);
    if (c.owa.enforce_canary) {
        auto header = ctx.header("X-OWA-CANARY").value_or("");
        auto cookie = cookie_of(ctx, "X-OWA-CANARY");
        if (header.empty() || header != cookie ||
            !check_canary(ctx.snap->canary_secret, ctx.user, header)) {
            ctx.res.fields.add("X-OWA-Error",
                               "Microsoft.Exchange.Clients.Owa2.Server.Core."
                               "OwaInvalidCanary509Exception");
            ctx.reply(500, "application/json; charset=utf-8",
                      "{\"ErrorMessage\":\"Something went wrong.\"}");
            co_return;
        }
    }
    auto action = form_value(ctx.query, "action")
                      .value_or(std::string(ctx.header("Action").value_or("Unknown")));
    ctx.reply(200, "application/json; charset=utf-8",
              "{\"__type\":\"" + xml_escape(action) + "Response:#Exchange\",\"Body\":{\"User\":\"" +
                  xml_escape(ctx.user) + "\",\"ResponseClass\":\"Success\"}}");
}

}  // namespace

std::string origin(const request_context& ctx) {
    return std::string(ctx.scheme_prefix()) + ctx.url_host();
}

fba_session read_fba(request_context& ctx) {
    fba_cookies cookies;
    cookies.cadata = cookie_of(ctx, "cadata");
    cookies.ttl = cookie_of(ctx, "cadataTTL");
    cookies.key = cookie_of(ctx, "cadataKey");
    cookies.iv = cookie_of(ctx, "cadataIV");
    cookies.sig = cookie_of(ctx, "cadataSig");
    auto session = open_fba(ctx.snap->fba, cookies, std::chrono::system_clock::now());
    if (session.status == fba_status::ok) {
        ctx.user = session.user;
        ctx.scheme = "FBA";
        if (ctx.srv.obs().identity_seen(ctx.conn.id, session.user)) ctx.identity_mismatch = true;
        if (ctx.conn.user.empty() && ctx.conn.recorded_user != session.user) {
            ctx.conn.recorded_user = session.user;
            ctx.srv.obs().authenticated(ctx.conn.id, session.user, "FBA");
        }
    }
    return session;
}

bool is_xhr(const request_context& ctx) {
    if (!ctx.is("GET") && !ctx.is("HEAD")) return true;
    if (ctx.header("X-Requested-With") || ctx.header("Action")) return true;
    return istarts_with(ctx.where.rest, "/service.svc");
}

std::string logon_url(const request_context& ctx, std::string_view return_url, unsigned reason,
                      bool replace_current) {
    std::string url = origin(ctx) + "/owa/auth/logon.aspx?";
    if (replace_current) url += "replaceCurrent=1&";
    url += "url=" + to_lower(url_encode(return_url)) + "&reason=" + std::to_string(reason);
    return url;
}

void fba_unauthenticated(request_context& ctx, const fba_session& session,
                         std::string_view return_url) {
    if (is_xhr(ctx)) {
        ctx.res.status = ctx.cfg().owa.xhr_expired_status;
        ctx.res_body.clear();
        return;
    }
    unsigned reason = session.status == fba_status::expired ? 3 : 0;
    ctx.res.status = 302;
    ctx.res.fields.add("Cache-Control", "no-cache, no-store");
    ctx.res.fields.add("Location", logon_url(ctx, return_url, reason, false));
}

awaitable<void> handle_owa(request_context& ctx) {
    const auto& rest = ctx.where.rest;
    const auto& c = ctx.cfg();
    if (iequals_path(rest, "/auth.owa") || iequals_path(rest, "/auth/owaauth.dll")) {
        if (!ctx.is("POST")) {
            if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
            ctx.reply_error(405);
            co_return;
        }
        co_await login(ctx);
        co_return;
    }
    if (istarts_with(rest, "/auth/")) {
        // The logon page and the static resources under /owa/auth/<build>/ are anonymous.
        if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
        if (iequals_path(rest, "/auth/logon.aspx")) {
            auto destination = form_value(ctx.query, "url").value_or(origin(ctx) + "/owa/");
            ctx.res.fields.add("Cache-Control", "no-cache, no-store");
            ctx.reply(200, "text/html; charset=utf-8", logon_page(ctx, destination));
        } else {
            ctx.res.fields.add("Cache-Control", "public, max-age=2592000");
            ctx.reply(200, "text/css", "/* " + c.build + " */\n");
        }
        co_return;
    }
    if (iequals_path(rest, "/logoff.owa")) {
        if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
        read_fba(ctx);
        ctx.res.status = 302;
        set_fba_cookies(ctx, {}, true);
        ctx.res.fields.add("Location", logon_url(ctx, origin(ctx) + "/owa/", 1, false));
        co_return;
    }
    auto session = read_fba(ctx);
    if (istarts_with(rest, "/service.svc")) {
        co_await service_call(ctx, session);
        co_return;
    }
    if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
    if (session.status != fba_status::ok) {
        fba_unauthenticated(ctx, session, origin(ctx) + "/owa/");
        co_return;
    }
    if (ctx.is("GET") || ctx.is("HEAD")) {
        boot_page(ctx);
        co_return;
    }
    ctx.mark_proxied(ctx.user);
    ctx.reply(200, "application/json; charset=utf-8", "{}");
}

}  // namespace gatehouse::fake_cas
