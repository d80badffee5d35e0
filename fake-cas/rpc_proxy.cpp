// /rpc/rpcproxy.dll (§4): RPC over HTTP v2. An OUT channel (RPC_OUT_DATA) answers "200 Success"
// with a 1 GiB Content-Length and streams CONN/A3, CONN/C2 once its IN channel is paired, RPC
// replies and idle pings; an IN channel (RPC_IN_DATA) never answers while healthy and uploads
// PDUs for hours. The two are paired by the virtual-connection cookie inside CONN/A1 and CONN/B1,
// in a table shared by the farm or private to the server (pair_scope). Bodies are read as they
// arrive: CONN/B1 is processed as soon as its bytes are in, never after 1 GiB.

#include "fake-cas/encoding.hpp"
#include "fake-cas/request_context.hpp"
#include "fake-cas/rts_pdu.hpp"
#include "net/http_date.hpp"

namespace gatehouse::fake_cas {

namespace {

// Reads one whole PDU from the request body into `pdu` (bytes already in `pending` first).
// Returns false at the end of the body or on error.
awaitable<bool> read_pdu(request_context& ctx, std::string& pending, std::string& pdu) {
    std::array<char, 16 * 1024> chunk;
    for (;;) {
        if (pending.size() >= rts::header_size) {
            auto h = rts::parse_header(
                {reinterpret_cast<const std::uint8_t*>(pending.data()), pending.size()});
            if (!h) co_return false;  // not DCE/RPC: the channel is broken
            if (pending.size() >= h->frag_length) {
                pdu.assign(pending, 0, h->frag_length);
                pending.erase(0, h->frag_length);
                co_return true;
            }
        }
        auto [ec, n] = co_await read_body_some(ctx, asio::buffer(chunk));
        if (ec || n == 0) co_return false;
        pending.append(chunk.data(), n);
    }
}

std::span<const std::uint8_t> as_span(const std::string& s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

awaitable<void> rpc_error(request_context& ctx) {
    std::string head = "HTTP/1.0 503 RPC Error: 6ba\r\nServer: Microsoft-IIS/10.0\r\nrequest-id: " +
                       std::string(ctx.conn.next_request_id()) + "\r\nX-Powered-By: ASP.NET\r\n";
    if (ctx.cfg().emit_fe_headers) head += "X-FEServer: " + ctx.cfg().netbios + "\r\n";
    head += "Date: " + std::string(net::http_date()) + "\r\nContent-Length: 0\r\n\r\n";
    ctx.res.status = 503;
    co_await send_raw(ctx, head);
    ctx.close = true;
}

// Detaches a channel from its virtual connection when the coroutine ends.
struct attachment {
    farm_state& farm;
    rpc_table& table;
    std::string key;
    rpc_table::side side;
    std::shared_ptr<virtual_connection> vc;
    ~attachment() {
        if (!farm.stopping.load()) {
            std::lock_guard lock(vc->mutex);
            auto& other = side == rpc_table::side::in ? vc->out_wakeup : vc->in_wakeup;
            if (other) other->notify();
        }
        table.detach(key, side);
    }
};

bool peer_attached(virtual_connection& vc, rpc_table::side side) {
    std::lock_guard lock(vc.mutex);
    return side == rpc_table::side::in ? vc.out_wakeup != nullptr : vc.in_wakeup != nullptr;
}

// Waits until the other half of the virtual connection is attached; false on timeout or when
// this client went away (then the pair_timeout action has been carried out).
awaitable<bool> wait_for_pair(request_context& ctx, virtual_connection& vc, wakeup& w,
                              rpc_table::side side) {
    const auto& k = ctx.cfg().rpc;
    auto deadline = steady_clock::now() + ctx.snap->s(k.pair_wait_s);
    while (!peer_attached(vc, side)) {
        auto why = co_await w.wait(deadline, &ctx.conn.stream.socket());
        if (why == wake_reason::peer_closed) {
            ctx.close = true;
            ctx.responded = true;
            co_return false;
        }
        if (why == wake_reason::deadline && !peer_attached(vc, side)) {
            switch (k.pair_timeout) {
                case pair_timeout_action::close:
                    ctx.conn.stream.close();
                    ctx.responded = true;
                    break;
                case pair_timeout_action::reset:
                    ctx.conn.stream.reset();
                    ctx.responded = true;
                    break;
                case pair_timeout_action::rpc_error:
                    if (side == rpc_table::side::in && !ctx.streamed)
                        co_await rpc_error(ctx);
                    else
                        ctx.conn.stream.close();
                    ctx.responded = true;
                    break;
            }
            ctx.close = true;
            co_return false;
        }
    }
    co_return true;
}

std::string key_of(std::string_view target, const rts::cookie& vc) {
    return to_lower(target) + "|" + hex_encode(vc);
}

awaitable<void> out_channel(request_context& ctx) {
    const auto& c = ctx.cfg();
    const auto& k = c.rpc;
    std::string pending, pdu;
    if (bool ok_ = co_await read_pdu(ctx, pending, pdu); !ok_) {
        ctx.close = true;
        ctx.responded = true;
        co_return;
    }
    auto a1 = rts::parse_rts(as_span(pdu));
    if (!a1 || !a1->virtual_connection || !a1->channel) {
        ctx.reply_error(400);
        ctx.close = true;
        co_return;
    }
    auto& table = ctx.srv.tables(k.pair_scope).rpc;
    auto key = key_of(ctx.query, *a1->virtual_connection);
    auto w = std::make_shared<wakeup>(co_await asio::this_coro::executor);
    auto vc = table.attach(key, rpc_table::side::out, w, c.netbios);
    if (!vc) {
        co_await rpc_error(ctx);
        co_return;
    }
    attachment attached{ctx.srv.farm(), table, key, rpc_table::side::out, vc};
    long_poll_guard guard(ctx.srv.obs(), long_poll::rpc_out);
    ctx.close = true;  // the response never completes: the connection ends with the channel
    ctx.res.status = 200;
    ctx.res.reason = "Success";
    ctx.res.fields.add("Cache-Control", "private");
    ctx.res.fields.add("Content-Type", "application/rpc");
    ctx.res.fields.add("Persistent-Auth", "true");
    if (auto ec_ = co_await send_head(ctx, k.out_content_length); ec_) co_return;
    auto a3 = rts::conn_a3(k.conn_timeout_ms);
    if (auto ec_ = co_await send_body(
            ctx, std::string_view(reinterpret_cast<const char*>(a3.data()), a3.size()));
        ec_)
        co_return;
    {
        std::lock_guard lock(vc->mutex);
        if (vc->in_wakeup) vc->in_wakeup->notify();
    }
    if (bool ok_ = co_await wait_for_pair(ctx, *vc, *w, rpc_table::side::out); !ok_) co_return;
    auto c2 = rts::conn_c2(k.receive_window, k.conn_timeout_ms);
    if (auto ec_ = co_await send_body(
            ctx, std::string_view(reinterpret_cast<const char*>(c2.data()), c2.size()));
        ec_)
        co_return;
    auto last_write = steady_clock::now();
    for (;;) {
        std::deque<bytes> batch;
        bool in_closed = false;
        std::uint32_t keepalive_ms = 300000;
        {
            std::lock_guard lock(vc->mutex);
            batch.swap(vc->to_client);
            in_closed = vc->in_closed;
            keepalive_ms = vc->client_keepalive_ms;
        }
        for (const auto& b : batch) {
            if (auto ec_ = co_await send_body(
                    ctx, std::string_view(reinterpret_cast<const char*>(b.data()), b.size()));
                ec_)
                co_return;
            last_write = steady_clock::now();
        }
        if (in_closed) co_return;  // the virtual connection is gone: close the OUT channel too
        auto interval = k.ping_interval_s != 0 ? ctx.snap->s(k.ping_interval_s)
                                               : ctx.snap->ms(keepalive_ms / 2);
        auto why = co_await w->wait(last_write + interval, &ctx.conn.stream.socket());
        if (why == wake_reason::peer_closed) co_return;
        if (why == wake_reason::deadline && steady_clock::now() >= last_write + interval) {
            auto p = rts::ping();
            if (auto ec_ = co_await send_body(
                    ctx, std::string_view(reinterpret_cast<const char*>(p.data()), p.size()));
                ec_)
                co_return;
            last_write = steady_clock::now();
        }
    }
}

awaitable<void> in_channel(request_context& ctx) {
    const auto& c = ctx.cfg();
    const auto& k = c.rpc;
    ctx.close = true;
    ctx.responded = true;  // an IN channel has no HTTP response while healthy
    std::string pending, pdu;
    if (bool ok_ = co_await read_pdu(ctx, pending, pdu); !ok_) co_return;
    auto b1 = rts::parse_rts(as_span(pdu));
    if (!b1 || !b1->virtual_connection || !b1->channel) {
        ctx.responded = false;
        ctx.reply_error(400);
        co_return;
    }
    auto& table = ctx.srv.tables(k.pair_scope).rpc;
    auto key = key_of(ctx.query, *b1->virtual_connection);
    auto w = std::make_shared<wakeup>(co_await asio::this_coro::executor);
    auto vc = table.attach(key, rpc_table::side::in, w, c.netbios);
    if (!vc) {
        co_await rpc_error(ctx);
        co_return;
    }
    attachment attached{ctx.srv.farm(), table, key, rpc_table::side::in, vc};
    long_poll_guard guard(ctx.srv.obs(), long_poll::rpc_in);
    {
        std::lock_guard lock(vc->mutex);
        if (b1->client_keepalive)
            vc->client_keepalive_ms = *b1->client_keepalive == 0 ? 300000 : *b1->client_keepalive;
        if (vc->out_wakeup) vc->out_wakeup->notify();
    }
    if (bool ok_ = co_await wait_for_pair(ctx, *vc, *w, rpc_table::side::in); !ok_) co_return;
    for (;;) {
        bool more = co_await read_pdu(ctx, pending, pdu);
        if (!more) break;
        auto h = rts::parse_header(as_span(pdu));
        if (!h || h->ptype == rts::ptype_rts) continue;  // client pings and flow-control acks
        auto reply = rts::reply_to(as_span(pdu), k.reply_pdu_bytes);
        if (!reply) continue;
        bool alive = co_await pause(ctx, ctx.snap->ms(k.reply_latency_ms));
        if (!alive) co_return;
        std::lock_guard lock(vc->mutex);
        if (vc->out_closed) break;  // the OUT channel is gone: so is the virtual connection
        vc->to_client.push_back(std::move(*reply));
        if (vc->out_wakeup) vc->out_wakeup->notify();
    }
}

}  // namespace

awaitable<void> handle_rpc(request_context& ctx) {
    const auto& c = ctx.cfg();
    const auto& k = c.rpc;
    if (!iequals_path(ctx.where.rest, "/rpcproxy.dll")) {
        if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
        ctx.reply_error(404);
        co_return;
    }
    if (k.expect_100 == expect_mode::reject && ctx.header("Expect")) {
        ctx.reply_error(417);
        ctx.close = true;
        co_return;
    }
    // IIS authenticates before it picks a handler, so a wrong verb is 401 first, then 405.
    if (bool ok_ = co_await require_auth(ctx, c.at(vdir::rpc).auth); !ok_) co_return;
    bool in = ctx.is("RPC_IN_DATA"), out = ctx.is("RPC_OUT_DATA");
    if (!in && !out) {
        if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
        ctx.reply_error(405);
        ctx.res.fields.add("Allow", "RPC_IN_DATA, RPC_OUT_DATA");
        co_return;
    }
    ctx.mark_proxied(ctx.user);
    if (k.rpc_error) {
        co_await rpc_error(ctx);
        co_return;
    }
    if (k.validate_targets) {
        auto q = ctx.query;
        bool ok = iends_with(q, ":6001") || iends_with(q, ":6002") || iends_with(q, ":6004");
        if (!ok) {
            co_await rpc_error(ctx);
            co_return;
        }
    }
    auto length = ctx.parser.content_length().value_or(0);
    if (length <= 0x10) {
        // Echo request (proxy discovery): 200 Success with the 20-byte echo PDU.
        if (bool ok_ = co_await read_body(ctx, 0x10); !ok_) co_return;
        auto echo = rts::echo();
        ctx.res.status = 200;
        ctx.res.reason = "Success";
        ctx.res.fields.add("Content-Type", "application/rpc");
        ctx.res_body.assign(reinterpret_cast<const char*>(echo.data()), echo.size());
        co_return;
    }
    if (auto expect = ctx.header("Expect");
        expect && net::iequals(*expect, "100-continue") && k.expect_100 == expect_mode::honour) {
        if (auto ec_ = co_await send_continue(ctx); ec_) {
            ctx.close = true;
            ctx.responded = true;
            co_return;
        }
    }
    if (out)
        co_await out_channel(ctx);
    else
        co_await in_channel(ctx);
}

}  // namespace gatehouse::fake_cas
