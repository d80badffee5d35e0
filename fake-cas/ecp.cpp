// /ecp (§10): the same FBA cookies as /owa, plus an ASP.NET session and the msExchEcpCanary
// that every DDI call must carry in its query. With ecp.session_scope = instance a session made
// on one server is unknown on another: logged in, yet every admin action fails after a switch.

#include "fake-cas/encoding.hpp"
#include "fake-cas/fba.hpp"

namespace gatehouse::fake_cas {

namespace {

std::string_view cookie_of(const request_context& ctx, std::string_view name) {
    for (auto [field_name, value] : ctx.req.fields) {
        if (!net::iequals(field_name, "Cookie")) continue;
        if (auto v = cookie_value(value, name)) return *v;
    }
    return {};
}

void something_went_wrong(request_context& ctx, std::string_view why) {
    ctx.res.fields.add("X-ECP-ERROR", why);
    ctx.reply(500, "application/json; charset=utf-8",
              "{\"d\":{\"ErrorRecords\":[{\"Message\":\"Something went wrong.\"}]}}");
}

}  // namespace

awaitable<void> handle_ecp(request_context& ctx) {
    const auto& c = ctx.cfg();
    if (bool ok_ = co_await read_body(ctx, c.at(vdir::ecp).max_request_bytes); !ok_) co_return;
    auto session = read_fba(ctx);
    auto ecp_url = origin(ctx) + "/ecp/";
    if (session.status != fba_status::ok) {
        if (is_xhr(ctx)) {
            fba_unauthenticated(ctx, session, ecp_url);
        } else {
            ctx.res.status = 302;
            ctx.res.fields.add("Cache-Control", "no-cache, no-store");
            ctx.res.fields.add("Location", logon_url(ctx, ecp_url, 0, true));
        }
        co_return;
    }
    ctx.mark_proxied(ctx.user);
    auto& table = ctx.srv.tables(c.ecp.session_scope).ecp;
    auto ttl = ctx.snap->s(c.owa.cookie_ttl_s);
    if (istarts_with(ctx.where.rest, "/DDI/")) {
        auto session_id = std::string(cookie_of(ctx, "ASP.NET_SessionId"));
        auto known = session_id.empty() ? std::nullopt
                                        : table.find(session_id, std::chrono::steady_clock::now());
        if (!known || normalize_user(known->user) != normalize_user(ctx.user)) {
            something_went_wrong(ctx, "SessionNotFound");
            co_return;
        }
        if (c.ecp.canary_param_required) {
            auto param = form_value(ctx.query, "msExchEcpCanary").value_or("");
            auto cookie = cookie_of(ctx, "msExchEcpCanary");
            if (param.empty() || param != cookie ||
                !check_canary(ctx.snap->canary_secret, ctx.user, param)) {
                something_went_wrong(ctx, "InvalidCanary");
                co_return;
            }
        }
        table.touch(session_id, ttl);
        auto op = ctx.where.rest.substr(ctx.where.rest.rfind('/') + 1);
        ctx.reply(200, "application/json; charset=utf-8",
                  "{\"d\":{\"__type\":\"" + xml_escape(op) +
                      "Results:ECP\",\"Output\":[],\"ErrorRecords\":[],\"User\":\"" +
                      xml_escape(ctx.user) + "\"}}");
        co_return;
    }
    // The admin center's start page: a session and a canary for the DDI calls that follow.
    auto id = table.create(ctx.user, ttl);
    auto canary = make_canary(ctx.snap->canary_secret, ctx.user);
    ctx.res.fields.add("Cache-Control", "no-cache, no-store");
    ctx.res.fields.add("Set-Cookie", "ASP.NET_SessionId=" + id + "; path=/; secure; HttpOnly");
    ctx.res.fields.add("Set-Cookie", "msExchEcpCanary=" + canary + "; path=/ecp; secure");
    ctx.reply(200, "text/html; charset=utf-8",
              "<!DOCTYPE html>\r\n<html><head><title>Exchange admin center</title></head><body "
              "data-user=\"" +
                  xml_escape(ctx.user) + "\" data-fe=\"" + c.netbios + "\"></body></html>\r\n");
}

}  // namespace gatehouse::fake_cas
