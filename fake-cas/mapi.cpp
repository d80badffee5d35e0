// /mapi/emsmdb and /mapi/nspi (§5): MAPI over HTTP. Session contexts in MapiContext/MapiSequence
// cookies (farm- or instance-scoped), X-ResponseCode failures, and responses streamed as
// PROCESSING / PENDING… / DONE meta-tags followed by the binary body, so that a proxy which
// buffers responses visibly starves the client of its keep-alives.

#include "fake-cas/encoding.hpp"
#include "fake-cas/request_context.hpp"
#include "net/http_date.hpp"

#include <charconv>
#include <cstdio>

namespace gatehouse::fake_cas {

namespace {

enum class endpoint { emsmdb, nspi };

void put32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::optional<std::uint32_t> get32(std::string_view d, std::size_t at) {
    if (at + 4 > d.size()) return std::nullopt;
    return static_cast<std::uint32_t>(static_cast<std::uint8_t>(d[at])) |
           (static_cast<std::uint32_t>(static_cast<std::uint8_t>(d[at + 1])) << 8) |
           (static_cast<std::uint32_t>(static_cast<std::uint8_t>(d[at + 2])) << 16) |
           (static_cast<std::uint32_t>(static_cast<std::uint8_t>(d[at + 3])) << 24);
}

// "15.2.1544.4" → "Exchange/15.02.1544.004"
std::string server_application(std::string_view build) {
    unsigned p[4] = {15, 2, 0, 0};
    for (int i = 0; i < 4 && !build.empty(); ++i) {
        auto dot = build.find('.');
        auto piece = build.substr(0, dot);
        std::from_chars(piece.data(), piece.data() + piece.size(), p[i]);
        build = dot == std::string_view::npos ? std::string_view{} : build.substr(dot + 1);
    }
    char buf[48];
    std::snprintf(buf, sizeof buf, "Exchange/%u.%02u.%04u.%03u", p[0], p[1], p[2], p[3]);
    return buf;
}

std::string_view cookie_of(const request_context& ctx, std::string_view name) {
    for (auto [field_name, value] : ctx.req.fields) {
        if (!net::iequals(field_name, "Cookie")) continue;
        if (auto v = cookie_value(value, name)) return *v;
    }
    return {};
}

std::string sequence_cookie(const request_context& ctx, const std::string& id, std::uint64_t seq) {
    auto mac = hmac_sha256(ctx.snap->cookie_secret, id + "|" + std::to_string(seq));
    return std::to_string(seq) + "." +
           base64url_encode(std::span<const std::uint8_t>(mac.data(), 9));
}

// Writes the meta-tags and body with the configured framing.
class mapi_stream {
public:
    explicit mapi_stream(request_context& ctx) : ctx_(ctx), k_(ctx.cfg().mapi) {}

    awaitable<error_code> emit(std::string_view data) {
        if (k_.content_length_responses || k_.chunking == mapi_chunking::single) {
            buffered_.append(data);
            co_return error_code{};
        }
        if (!head_sent_) {
            head_sent_ = true;
            if (auto ec = co_await send_head(ctx_, std::nullopt)) co_return ec;
        }
        if (k_.chunking == mapi_chunking::byte) {
            for (char c : data)
                if (auto ec = co_await send_body(ctx_, std::string_view(&c, 1))) co_return ec;
            co_return error_code{};
        }
        co_return co_await send_body(ctx_, data);
    }

    awaitable<error_code> finish() {
        if (k_.content_length_responses) {
            if (auto ec = co_await send_head(ctx_, buffered_.size())) co_return ec;
            co_return co_await send_body(ctx_, buffered_);
        }
        if (k_.chunking == mapi_chunking::single) {
            if (auto ec = co_await send_head(ctx_, std::nullopt)) co_return ec;
            if (auto ec = co_await send_body(ctx_, buffered_)) co_return ec;
        }
        co_return co_await send_last_chunk(ctx_);
    }

private:
    request_context& ctx_;
    const mapi_knobs& k_;
    std::string buffered_;
    bool head_sent_ = false;
};

void failure(request_context& ctx, unsigned code, std::string_view text) {
    ctx.res.fields.set("X-ResponseCode", std::to_string(code));
    ctx.reply(200, "text/html",
              "<html><head><title>MAPI OVER HTTP ERROR</title></head><body><h2>" +
                  std::to_string(code) + " " + std::string(text) + "</h2></body></html>");
}

// Waits `duration` (or until an event when `w` is registered), emitting PENDING every pending
// period. Returns notified/deadline/peer_closed.
awaitable<wake_reason> hold(request_context& ctx, mapi_stream& out, wakeup& w,
                            steady_clock::duration duration) {
    const auto& k = ctx.cfg().mapi;
    auto period = ctx.snap->ms(k.pending_period_ms);
    auto end = steady_clock::now() + duration;
    auto next_pending = steady_clock::now() + period;
    for (;;) {
        auto deadline = k.send_pending ? std::min(end, next_pending) : end;
        auto why = co_await w.wait(deadline, &ctx.conn.stream.socket());
        if (why != wake_reason::deadline) co_return why;
        auto now = steady_clock::now();
        if (now >= end) co_return wake_reason::deadline;
        if (now >= next_pending) {
            if (auto ec_ = co_await out.emit("PENDING\r\n"); ec_)
                co_return wake_reason::peer_closed;
            next_pending += period;
        }
    }
}

std::string done_block(steady_clock::time_point started) {
    auto elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - started);
    return "DONE\r\nX-ResponseCode: 0\r\nX-ElapsedTime: " + std::to_string(elapsed.count()) +
           "\r\nX-StartTime: " + std::string(net::http_date()) + "\r\n\r\n";
}

std::string connect_body(const mailbox_user& m) {
    std::string b;
    put32(b, 0);      // StatusCode
    put32(b, 0);      // ErrorCode
    put32(b, 60000);  // MaxPollingInterval
    put32(b, 5);      // MaxRetryCount
    put32(b, 2000);   // RetryDelay
    b += "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)";
    b.push_back('\0');
    auto name = utf16le(m.display_name);
    b.append(reinterpret_cast<const char*>(name.data()), name.size());
    b.append(2, '\0');
    put32(b, 0);  // AuxiliaryBufferSize
    return b;
}

}  // namespace

awaitable<void> handle_mapi(request_context& ctx) {
    const auto& c = ctx.cfg();
    const auto& k = c.mapi;
    auto rest = ctx.where.rest;
    endpoint ep;
    std::string_view vdir_path;
    if (iequals_path(rest, "/emsmdb") || iequals_path(rest, "/emsmdb/")) {
        ep = endpoint::emsmdb;
        vdir_path = "/mapi/emsmdb/";
    } else if (iequals_path(rest, "/nspi") || iequals_path(rest, "/nspi/")) {
        ep = endpoint::nspi;
        vdir_path = "/mapi/nspi/";
    } else {
        if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
        ctx.reply_error(404);
        co_return;
    }
    if (bool ok_ = co_await require_auth(ctx, c.at(vdir::mapi).auth); !ok_) co_return;
    if (bool ok_ = co_await read_body(ctx, c.at(vdir::mapi).max_request_bytes); !ok_) co_return;
    ctx.mark_proxied(ctx.user);
    auto user_entry = ctx.srv.farm().users.lookup(ctx.user);
    const auto& user = *user_entry;
    if (ctx.is("GET") || ctx.is("HEAD")) {
        ctx.reply(200, "text/html",
                  "<html><body>Exchange MAPI/HTTP Connectivity Endpoint<br><br>Version: " +
                      c.build + "<br>Vdir Path: " + std::string(vdir_path) +
                      "<br><br>User: " + xml_escape(ctx.user) +
                      "<br>UPN: " + xml_escape(user.email) + "<br></body></html>");
        co_return;
    }
    auto& res = ctx.res;
    res.fields.add("Cache-Control", "private");
    if (k.http_status_override != 0) {
        ctx.reply_error(k.http_status_override);
        if (k.http_status_override == 503) res.fields.add("Retry-After", "30");
        co_return;
    }
    auto request_type = std::string(ctx.header("X-RequestType").value_or(""));
    res.fields.add("X-RequestType", request_type);
    if (auto id = ctx.header("X-RequestId")) res.fields.add("X-RequestId", *id);
    if (auto info = ctx.header("X-ClientInfo")) res.fields.add("X-ClientInfo", *info);
    res.fields.add("X-PendingPeriod", std::to_string(k.pending_period_ms));
    res.fields.add("X-ExpirationInfo", std::to_string(k.expiration_ms));
    res.fields.add("X-ServerApplication", server_application(c.build));
    res.fields.add("X-ResponseCode", "0");
    if (!ctx.is("POST")) {
        failure(ctx, 2, "Invalid Verb");
        co_return;
    }
    if (request_type.empty() || !ctx.header("X-RequestId") || !ctx.header("X-ClientInfo")) {
        failure(ctx, 7, "Missing Header");
        co_return;
    }
    auto content_type = ctx.header("Content-Type").value_or("");
    if (!istarts_with(content_type, "application/mapi-http")) {
        failure(ctx, 4, "Invalid Header");
        co_return;
    }
    if (k.force_response_code != 0) {
        failure(ctx, k.force_response_code, "Forced");
        co_return;
    }
    static constexpr std::string_view emsmdb_types[] = {"Connect", "Execute", "Disconnect",
                                                        "NotificationWait", "PING"};
    static constexpr std::string_view nspi_types[] = {
        "Bind",        "Unbind",       "CompareMIds",     "DNToMId",           "GetMatches",
        "GetPropList", "GetProps",     "GetSpecialTable", "GetTemplateInfo",   "ModLinkAtt",
        "ModProps",    "QueryColumns", "QueryRows",       "ResolveNames",      "ResortRestriction",
        "SeekEntries", "UpdateStat",   "GetMailboxUrl",   "GetAddressBookUrl", "PING"};
    bool known = false;
    if (ep == endpoint::emsmdb) {
        for (auto t : emsmdb_types) known = known || net::iequals(t, request_type);
    } else {
        for (auto t : nspi_types) known = known || net::iequals(t, request_type);
    }
    if (!known) {
        failure(ctx, 5, "Invalid Request Type");
        co_return;
    }
    auto& table = ctx.srv.tables(k.session_scope).mapi;
    auto ttl = ctx.snap->ms(k.expiration_ms);
    auto started = steady_clock::now();
    const std::string_view& body = ctx.conn.body;
    auto cookie_path = std::string("; path=") + std::string(vdir_path) + "; secure; HttpOnly";
    mapi_stream out(ctx);
    res.status = 200;
    res.fields.add("Content-Type", "application/mapi-http");

    bool creates = net::iequals(request_type, "Connect") || net::iequals(request_type, "Bind");
    bool ping = net::iequals(request_type, "PING");
    std::string session_id;
    std::optional<session_table::session> session;
    if (!creates && !ping) {
        session_id = std::string(cookie_of(ctx, "MapiContext"));
        if (session_id.empty()) {
            res.fields.erase("Content-Type");
            failure(ctx, 13, "Missing Cookie");
            co_return;
        }
        session = table.find(session_id, steady_clock::now());
        if (!session) {
            res.fields.erase("Content-Type");
            failure(ctx, 10, "Context Not Found");
            co_return;
        }
    }
    std::string reply;
    if (creates) {
        session_id = table.create(user.name, ttl);
        res.fields.add("Set-Cookie", "MapiContext=" + session_id + cookie_path);
        res.fields.add("Set-Cookie",
                       "MapiSequence=" + sequence_cookie(ctx, session_id, 0) + cookie_path);
        if (ep == endpoint::emsmdb) {
            reply = connect_body(user);
        } else {
            put32(reply, 0);
            put32(reply, 0);
            std::array<std::uint8_t, 16> guid{};
            random_bytes(guid);
            reply.append(reinterpret_cast<const char*>(guid.data()), guid.size());
            put32(reply, 0);
        }
    } else if (ping) {
        // Short replies use Content-Length (§5.3).
        std::string whole = "PROCESSING\r\n" + done_block(started);
        ctx.res_body = std::move(whole);
        co_return;
    } else if (net::iequals(request_type, "Disconnect") || net::iequals(request_type, "Unbind")) {
        table.erase(session_id);
        res.fields.add("Set-Cookie",
                       "MapiContext=; expires=Thu, 01-Jan-1970 00:00:00 GMT" + cookie_path);
        res.fields.add("Set-Cookie",
                       "MapiSequence=; expires=Thu, 01-Jan-1970 00:00:00 GMT" + cookie_path);
        put32(reply, 0);
        put32(reply, 0);
        put32(reply, 0);
    } else if (net::iequals(request_type, "NotificationWait")) {
        if (auto ec_ = co_await out.emit("PROCESSING\r\n"); ec_) co_return;
        long_poll_guard guard(ctx.srv.obs(), long_poll::mapi_notification_wait);
        auto w = std::make_shared<wakeup>(co_await asio::this_coro::executor);
        auto& hub = ctx.srv.farm().mapi_notifications;
        event_hub::registration reg(hub, user.name, w);
        bool pending = !hub.take(user.name).empty();
        if (!pending) {
            auto why = co_await hold(ctx, out, *w, ctx.snap->s(k.nw_max_s));
            if (why == wake_reason::peer_closed) {
                ctx.close = true;
                co_return;
            }
            pending = !hub.take(user.name).empty();
        }
        table.touch(session_id, ttl);
        put32(reply, 0);
        put32(reply, 0);
        put32(reply, pending ? 1 : 0);  // EventPending
        put32(reply, 0);
        if (auto ec_ = co_await out.emit(done_block(started)); ec_) co_return;
        if (auto ec_ = co_await out.emit(reply); ec_) co_return;
        co_await out.finish();
        co_return;
    } else {
        // Execute and the NSPI operations: one request at a time per session context.
        auto seq_text = std::string(cookie_of(ctx, "MapiSequence"));
        if (k.enforce_sequence && seq_text != sequence_cookie(ctx, session_id, session->sequence)) {
            res.fields.erase("Content-Type");
            failure(ctx, 15, "Invalid Sequence");
            co_return;
        }
        table.advance(session_id, session->sequence, ttl);
        res.fields.add("Set-Cookie",
                       "MapiSequence=" + sequence_cookie(ctx, session_id, session->sequence + 1) +
                           cookie_path);
        std::string rops;
        if (net::iequals(request_type, "Execute")) {
            auto flags = get32(body, 0);
            auto size = get32(body, 4);
            if (!flags || !size || 8 + static_cast<std::size_t>(*size) > body.size()) {
                res.fields.erase("Content-Type");
                failure(ctx, 12, "Invalid Request Body");
                co_return;
            }
            rops.assign(body.substr(8, *size));
            if (k.execute_reply_bytes != 0) rops.resize(k.execute_reply_bytes, '\0');
        }
        put32(reply, 0);  // StatusCode
        put32(reply, 0);  // ErrorCode
        if (net::iequals(request_type, "Execute")) {
            put32(reply, 0);  // Flags
            put32(reply, static_cast<std::uint32_t>(rops.size()));
            reply += rops;
        }
        put32(reply, 0);  // AuxiliaryBufferSize
    }
    if (auto ec_ = co_await out.emit("PROCESSING\r\n"); ec_) co_return;
    if (k.processing_ms != 0) {
        wakeup w(co_await asio::this_coro::executor);
        auto why = co_await hold(ctx, out, w, ctx.snap->ms(k.processing_ms));
        if (why == wake_reason::peer_closed) {
            ctx.close = true;
            co_return;
        }
    }
    if (auto ec_ = co_await out.emit(done_block(started)); ec_) co_return;
    if (auto ec_ = co_await out.emit(reply); ec_) co_return;
    co_await out.finish();
}

}  // namespace gatehouse::fake_cas
