// /<vdir>/HealthCheck.htm (§2): answered by the front end itself, anonymously, from memory, as
// long as the vdir's component is active.

#include "fake-cas/request_context.hpp"

namespace gatehouse::fake_cas {

awaitable<void> handle_health_check(request_context& ctx) {
    const auto v = ctx.where.dir;
    const auto& h = ctx.cfg().at(v).health;
    if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
    if (!ctx.is("GET") && !ctx.is("HEAD")) {
        ctx.reply_error(405);
        ctx.res.fields.add("Allow", "GET, HEAD");
        co_return;
    }
    auto probe = ctx.srv.next_probe(v);
    if (h.requires_auth) {
        const auto& schemes = ctx.cfg().at(v).auth;
        static const std::vector<auth_scheme> basic_only = {auth_scheme::basic};
        const auto& use = schemes.empty() ? basic_only : schemes;
        bool ok = co_await require_auth(ctx, use);
        if (!ok) co_return;
    }
    bool alive = co_await pause(ctx, ctx.snap->ms(h.latency_ms));
    if (!alive) {
        ctx.close = true;
        ctx.responded = true;
        co_return;
    }
    bool ok = health_answer_ok(ctx.srv.component_active(v), h.flap_every, probe);
    if (ok) {
        ctx.res.status = 200;
        ctx.res.fields.add("Cache-Control", "private");
        ctx.res.fields.add("Content-Type", "text/html");
        const auto& cfg = ctx.cfg();
        if (cfg.memory_available_mb)
            ctx.res.fields.add("X-Memory-Available-MB", std::to_string(cfg.memory_available_mb));
        if (h.fqdn_upper == cfg.at(vdir::owa).health.fqdn_upper)
            ctx.res_body.assign(ctx.snap->health_body);
        else
            ctx.res_body = "200 OK<br/>" + (h.fqdn_upper ? to_upper(cfg.fqdn) : to_lower(cfg.fqdn));
        co_return;
    }
    switch (h.inactive) {
        case inactive_action::status:
            ctx.reply_error(h.inactive_status);
            break;
        case inactive_action::hang:
            co_await hang(ctx);
            break;
        case inactive_action::reset:
            ctx.reset_after_record = true;
            ctx.close = true;
            ctx.responded = true;
            break;
    }
}

awaitable<void> handle_powershell(request_context& ctx) {
    // Remote PowerShell is Kerberos-only in practice; only its health page matters here.
    if (bool ok_ = co_await require_auth(ctx, ctx.cfg().at(vdir::powershell).auth); !ok_) co_return;
    if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
    ctx.mark_proxied(ctx.user);
    ctx.reply(200, "text/html", "<html><body>Exchange Remote PowerShell</body></html>");
}

}  // namespace gatehouse::fake_cas
