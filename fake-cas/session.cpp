// The connection coroutine: read a request head, route it to its vdir, apply the fault plan,
// authenticate, run the handler, write the answer, record the observation; repeat while the
// connection is kept alive. A bad request is answered (or the connection dropped) without
// touching any other connection.

#include "fake-cas/request_context.hpp"
#include "net/http_date.hpp"
#include "net/log.hpp"

#include <algorithm>
#include <array>
#include <charconv>

#include <boost/asio/ssl/error.hpp>

namespace gatehouse::fake_cas {

namespace {

std::string_view number(std::array<char, 24>& buf, std::uint64_t v) {
    auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
    return {buf.data(), static_cast<std::size_t>(end - buf.data())};
}

bool is_disconnect(const error_code& ec) {
    return ec == http::error::end_of_stream || ec == http::error::partial_message ||
           ec == asio::error::timed_out || ec == asio::error::connection_reset ||
           ec == asio::error::operation_aborted || ec == asio::error::eof ||
           ec == asio::error::broken_pipe || ec == asio::error::bad_descriptor ||
           ec.category() == asio::error::get_ssl_category() ||
           ec == asio::ssl::error::stream_truncated;
}

const char* iis_title(unsigned status) {
    switch (status) {
        case 400:
            return "Bad Request";
        case 403:
            return "403 - Forbidden: Access is denied.";
        case 404:
            return "404 - File or directory not found.";
        case 405:
            return "405 - HTTP verb used to access this page is not allowed.";
        case 413:
            return "Request Entity Too Large";
        case 500:
            return "500 - Internal server error.";
        case 501:
            return "501 - Header values specify a method that is not implemented.";
        case 503:
            return "Service Unavailable";
        default:
            return "Server Error";
    }
}

// Adds the headers every front-end response carries and the framing.
void finalize_head(request_context& ctx, std::optional<std::uint64_t> content_length,
                   bool chunked) {
    auto& h = ctx.res;
    const auto& c = ctx.cfg();
    if (h.status == 0) h.status = 200;
    std::array<char, 24> buf;
    h.fields.add("Server", "Microsoft-IIS/10.0");
    h.fields.add("request-id", ctx.conn.next_request_id());
    if (!ctx.backend_netbios.empty()) {
        h.fields.add("X-CalculatedBETarget", ctx.backend_fqdn);
        h.fields.add("X-BackEndHttpStatus", number(buf, h.status));
        h.fields.add("X-DiagInfo", ctx.backend_netbios);
        h.fields.add("X-BEServer", ctx.backend_netbios);
    }
    if (ctx.www_authenticate_final) h.fields.add("WWW-Authenticate", *ctx.www_authenticate_final);
    h.fields.add("X-Powered-By", "ASP.NET");
    if (c.emit_fe_headers) h.fields.add("X-FEServer", c.netbios);
    h.fields.add("Date", net::http_date());
    if (chunked)
        h.fields.add("Transfer-Encoding", "chunked");
    else if (content_length)
        h.fields.add("Content-Length", number(buf, *content_length));
    if (ctx.faults.close_after) ctx.close = true;
    if (ctx.close) h.fields.add("Connection", "close");
}

awaitable<void> stall_connection(request_context& ctx) {
    // Keep the connection open without writing, until the client gives up or the server's own
    // connection timeout passes, then close.
    wakeup w(co_await asio::this_coro::executor);
    co_await w.wait(steady_clock::now() + ctx.snap->idle(), &ctx.conn.stream.socket());
    ctx.conn.stream.close();
    ctx.close = true;
}

// Writes through the fault plan's write-path faults.
awaitable<error_code> write_out(request_context& ctx, std::span<const asio::const_buffer> buffers) {
    auto& f = ctx.faults;
    auto& stream = ctx.conn.stream;
    if (!f.any_write_fault()) {
        auto [ec, n] = co_await stream.write(buffers);
        ctx.written += n;
        co_return ec;
    }
    for (auto b : buffers) {
        const char* p = static_cast<const char*>(b.data());
        std::size_t left = b.size();
        while (left > 0) {
            std::size_t piece = left;
            if (f.stall_after_bytes) {
                if (ctx.written >= *f.stall_after_bytes) {
                    co_await stall_connection(ctx);
                    co_return asio::error::operation_aborted;
                }
                piece = std::min<std::uint64_t>(piece, *f.stall_after_bytes - ctx.written);
            }
            if (f.close_mid_body && ctx.cut_at) {
                if (ctx.written >= *ctx.cut_at) {
                    stream.close();
                    ctx.close = true;
                    co_return asio::error::operation_aborted;
                }
                piece = std::min<std::uint64_t>(piece, *ctx.cut_at - ctx.written);
            }
            if (f.bandwidth_bytes_per_s != 0) {
                // Each slice leaves when the rate allows its last byte: the client never sees
                // more than bandwidth × elapsed bytes.
                piece = std::min<std::uint64_t>(
                    piece, std::max<std::uint64_t>(1, f.bandwidth_bytes_per_s / 20));
                if (ctx.paced == 0) ctx.pace_start = steady_clock::now();
                auto due =
                    ctx.pace_start + std::chrono::microseconds((ctx.paced + piece) * 1'000'000 /
                                                               f.bandwidth_bytes_per_s);
                if (due > steady_clock::now()) {
                    asio::steady_timer t(co_await asio::this_coro::executor, due);
                    co_await t.async_wait(use_nothrow);
                }
                ctx.paced += piece;
            }
            auto [ec, n] = co_await stream.write(asio::const_buffer(p, piece));
            ctx.written += n;
            if (ec) co_return ec;
            p += n;
            left -= n;
        }
    }
    // A cut exactly at the end of what was asked: close now.
    if (f.close_mid_body && ctx.cut_at && ctx.written >= *ctx.cut_at) {
        stream.close();
        ctx.close = true;
        co_return asio::error::operation_aborted;
    }
    co_return error_code{};
}

// HTTP.sys answers requests it cannot parse before IIS sees them.
awaitable<void> reject_unparsable(connection_state& conn, unsigned status) {
    // HTTP.sys reports oversized heads as 400 (only an oversized URL gets 414).
    std::string_view text = "The request is badly formed.";
    std::string_view title = "Bad Request";
    if (status == 431) {
        status = 400;
        title = "Bad Request - Request Too Long";
        text = "The size of the request headers is too long.";
    } else if (status == 414) {
        title = "Request URL Too Long";
        text = "The request URL is too long.";
    }
    std::string body =
        "<!DOCTYPE HTML PUBLIC \"-//W3C//DTD HTML 4.01//EN\"\"http://www.w3.org/TR/html4/"
        "strict.dtd\">\r\n<HTML><HEAD><TITLE>" +
        std::string(title) +
        "</TITLE>\r\n<META HTTP-EQUIV=\"Content-Type\" Content=\"text/html; "
        "charset=us-ascii\"></HEAD>\r\n<BODY><h2>" +
        std::string(title) + "</h2>\r\n<hr><p>HTTP Error " + std::to_string(status) + ". " +
        std::string(text) + "</p>\r\n</BODY></HTML>\r\n";
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " +
                       std::string(status == 400 ? "Bad Request" : net::reason_phrase(status)) +
                       "\r\nContent-Type: text/html; charset=us-ascii\r\n"
                       "Server: Microsoft-HTTPAPI/2.0\r\nDate: " +
                       std::string(net::http_date()) +
                       "\r\nConnection: close\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\n\r\n";
    std::array<asio::const_buffer, 2> bufs = {asio::buffer(head), asio::buffer(body)};
    conn.stream.expires_after(std::chrono::seconds(5));
    co_await conn.stream.write(bufs);
}

std::string_view remote_address_of(const net::stream& s, std::string& storage) {
    storage = s.remote_endpoint().address().to_string();
    return storage;
}

}  // namespace

// --- connection_state and request_context ----------------------------------------------------

namespace {
std::unique_ptr<net::stream> make_stream(server& s, tcp::socket socket) {
    if (s.tls()) return std::make_unique<net::stream>(std::move(socket), *s.tls_context());
    return std::make_unique<net::stream>(std::move(socket));
}
}  // namespace

connection_state::connection_state(server& s, tcp::socket socket)
    : srv(s),
      stream_owner(make_stream(s, std::move(socket))),
      stream(*stream_owner),
      random(std::random_device{}()),
      id_engine(std::random_device{}()) {
    std::string address;
    remote_address_of(stream, address);
    id = srv.obs().open_connection(address, stream.remote_endpoint().port(), stream.is_tls());
}

connection_state::~connection_state() {
    srv.obs().close_connection(id);
}

std::string_view connection_state::next_request_id() {
    static constexpr char digits[] = "0123456789abcdef";
    std::uint64_t a = id_engine(), b = id_engine();
    std::size_t at = 0;
    for (int i = 0; i < 32; ++i) {
        if (i == 8 || i == 12 || i == 16 || i == 20) request_id[at++] = '-';
        std::uint64_t& src = i < 16 ? a : b;
        request_id[at++] = digits[src & 15];
        src >>= 4;
    }
    return {request_id.data(), request_id.size()};
}

request_context::request_context(connection_state& c, std::shared_ptr<const server_snapshot> s,
                                 net::request_parser& p)
    : conn(c),
      srv(c.srv),
      snap(std::move(s)),
      req(c.request),
      parser(p),
      started(steady_clock::now()),
      received(std::chrono::system_clock::now()),
      res(c.response),
      res_body(c.response_body) {
    res.clear();
    res_body.clear();
}

std::string_view request_context::host() const {
    auto h = req.fields.find("Host");
    return h && !h->empty() ? *h : std::string_view(cfg().fqdn);
}

std::string request_context::url_host() const {
    return cfg().external_host.empty() ? std::string(host()) : cfg().external_host;
}

void request_context::mark_proxied(std::string_view identity) {
    auto m = srv.farm().users.lookup(identity);
    backend_netbios = m->backend_netbios;
    backend_fqdn = m->backend_fqdn;
}

void request_context::reply(unsigned status, std::string_view content_type, std::string body) {
    res.status = status;
    if (!content_type.empty()) res.fields.add("Content-Type", content_type);
    res_body = std::move(body);
}

void request_context::reply_error(unsigned status) {
    std::string body =
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Strict//EN\" "
        "\"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd\">\r\n<html xmlns=\"http://www.w3.org/"
        "1999/xhtml\">\r\n<head>\r\n<meta http-equiv=\"Content-Type\" content=\"text/html; "
        "charset=iso-8859-1\"/>\r\n<title>" +
        std::string(iis_title(status)) +
        "</title>\r\n</head>\r\n<body>\r\n<div id=\"header\"><h1>Server Error</h1></div>\r\n<div "
        "id=\"content\">\r\n <div class=\"content-container\"><fieldset>\r\n  <h2>" +
        std::string(iis_title(status)) +
        "</h2>\r\n </fieldset></div>\r\n</div>\r\n</body>\r\n</html>\r\n";
    reply(status, "text/html", std::move(body));
}

// --- I/O -------------------------------------------------------------------------------------

awaitable<error_code> send_continue(request_context& ctx) {
    if (ctx.continue_sent) co_return error_code{};
    ctx.continue_sent = true;
    static constexpr std::string_view line = "HTTP/1.1 100 Continue\r\n\r\n";
    auto [ec, n] = co_await ctx.conn.stream.write(asio::buffer(line.data(), line.size()));
    co_return ec;
}

awaitable<bool> read_body(request_context& ctx, std::uint64_t limit) {
    auto& body = ctx.conn.body;
    body.clear();
    auto& p = ctx.parser;
    if (p.is_done()) co_return true;
    if (auto len = p.content_length(); len && limit != 0 && *len > limit) {
        ctx.reply_error(413);
        ctx.close = true;
        co_return false;
    }
    if (auto expect = ctx.header("Expect"); expect && net::iequals(*expect, "100-continue")) {
        if (auto ec_ = co_await send_continue(ctx); ec_) {
            ctx.close = true;
            co_return false;
        }
    }
    ctx.conn.stream.expires_after(ctx.snap->idle());
    std::array<char, 16 * 1024> chunk;
    while (!p.is_done()) {
        auto [ec, n] =
            co_await net::read_body(ctx.conn.stream, ctx.conn.buffer, p, asio::buffer(chunk));
        if (ec) {
            ctx.close = true;
            ctx.responded = true;  // nobody to answer
            co_return false;
        }
        ctx.body_bytes_in += n;
        if (limit != 0 && body.size() + n > limit) {
            ctx.reply_error(413);
            ctx.close = true;
            co_return false;
        }
        body.append(chunk.data(), n);
    }
    ctx.conn.stream.expires_never();
    co_return true;
}

awaitable<std::tuple<error_code, std::size_t>> read_body_some(request_context& ctx,
                                                              asio::mutable_buffer out) {
    if (ctx.parser.is_done()) co_return std::tuple{error_code{}, std::size_t{0}};
    auto [ec, n] = co_await net::read_body(ctx.conn.stream, ctx.conn.buffer, ctx.parser, out);
    ctx.body_bytes_in += n;
    co_return std::tuple{ec, n};
}

namespace {

// Serialises ctx.res into conn.out (framing with Content-Length).
void prepare_response(request_context& ctx) {
    ctx.responded = true;
    std::uint64_t length = ctx.res_body.size();
    finalize_head(ctx, length, false);
    ctx.conn.out.clear();
    ctx.res.write_response(ctx.conn.out);
    std::size_t body_bytes = ctx.head_only ? 0 : ctx.res_body.size();
    if (ctx.faults.close_mid_body)
        ctx.cut_at = ctx.conn.out.size() + std::max<std::uint64_t>(1, body_bytes / 2);
}

awaitable<error_code> write_prepared(request_context& ctx) {
    std::size_t body_bytes = ctx.head_only ? 0 : ctx.res_body.size();
    std::array<asio::const_buffer, 2> bufs = {
        asio::const_buffer(ctx.conn.out.data(), ctx.conn.out.size()),
        asio::const_buffer(ctx.res_body.data(), body_bytes)};
    co_return co_await write_out(ctx, bufs);
}

}  // namespace

awaitable<error_code> send_response(request_context& ctx) {
    prepare_response(ctx);
    co_return co_await write_prepared(ctx);
}

awaitable<error_code> send_head(request_context& ctx, std::optional<std::uint64_t> content_length) {
    ctx.responded = true;
    ctx.streamed = true;
    ctx.chunked = !content_length;
    finalize_head(ctx, content_length, ctx.chunked);
    ctx.conn.out.clear();
    ctx.res.write_response(ctx.conn.out);
    if (ctx.faults.close_mid_body) {
        std::uint64_t half = content_length ? std::max<std::uint64_t>(1, *content_length / 2) : 1;
        ctx.cut_at = ctx.conn.out.size() + half;
    }
    asio::const_buffer b(ctx.conn.out.data(), ctx.conn.out.size());
    co_return co_await write_out(ctx, std::span<const asio::const_buffer>(&b, 1));
}

awaitable<error_code> send_body(request_context& ctx, std::string_view data) {
    if (data.empty()) co_return error_code{};
    if (!ctx.chunked) {
        asio::const_buffer b(data.data(), data.size());
        co_return co_await write_out(ctx, std::span<const asio::const_buffer>(&b, 1));
    }
    auto header = net::chunk_header(data.size());
    std::array<asio::const_buffer, 3> bufs = {
        asio::buffer(header), asio::const_buffer(data.data(), data.size()),
        asio::const_buffer(net::chunk_end.data(), net::chunk_end.size())};
    co_return co_await write_out(ctx, bufs);
}

awaitable<error_code> send_last_chunk(request_context& ctx) {
    if (!ctx.chunked) co_return error_code{};
    asio::const_buffer b(net::last_chunk.data(), net::last_chunk.size());
    co_return co_await write_out(ctx, std::span<const asio::const_buffer>(&b, 1));
}

awaitable<error_code> send_raw(request_context& ctx, std::string_view data) {
    ctx.responded = true;
    asio::const_buffer b(data.data(), data.size());
    co_return co_await write_out(ctx, std::span<const asio::const_buffer>(&b, 1));
}

awaitable<bool> pause(request_context& ctx, std::chrono::steady_clock::duration d) {
    if (d <= std::chrono::steady_clock::duration::zero()) co_return true;
    wakeup w(co_await asio::this_coro::executor);
    auto why = co_await w.wait(steady_clock::now() + d, &ctx.conn.stream.socket());
    co_return why != wake_reason::peer_closed;
}

// --- routing ---------------------------------------------------------------------------------

namespace {
awaitable<bool> drain(request_context& ctx);
}

awaitable<bool> drain_body(request_context& ctx) {
    return drain(ctx);
}

awaitable<void> hang(request_context& ctx) {
    ctx.responded = true;
    co_await stall_connection(ctx);
}

awaitable<bool> require_auth(request_context& ctx, const std::vector<auth_scheme>& schemes) {
    bool ok = authenticate(ctx, schemes);
    if (!ok) {
        bool drained = co_await drain(ctx);
        if (!drained) ctx.close = true;
    }
    co_return ok;
}

namespace {

awaitable<void> dispatch(request_context& ctx) {
    const auto& cfg = ctx.cfg();
    auto v = ctx.where.dir;
    switch (v) {
        case vdir::owa:
            co_await handle_owa(ctx);
            break;
        case vdir::ecp:
            co_await handle_ecp(ctx);
            break;
        case vdir::ews:
            co_await handle_ews(ctx);
            break;
        case vdir::autodiscover:
            co_await handle_autodiscover(ctx);
            break;
        case vdir::rpc:
            co_await handle_rpc(ctx);
            break;
        case vdir::mapi:
            co_await handle_mapi(ctx);
            break;
        case vdir::activesync:
            co_await handle_activesync(ctx);
            break;
        case vdir::oab:
            co_await handle_oab(ctx);
            break;
        case vdir::powershell:
            co_await handle_powershell(ctx);
            break;
    }
    (void)cfg;
}

// Consumes what is left of a small request body so that the connection stays usable; false
// when it is too large (the connection must close).
awaitable<bool> drain(request_context& ctx) {
    auto& p = ctx.parser;
    if (p.is_done()) co_return true;
    auto len = p.content_length();
    if (!len || *len > 64 * 1024 || ctx.header("Expect")) co_return false;
    ctx.conn.stream.expires_after(std::chrono::seconds(10));
    auto [ec, n] = co_await net::skip_body(ctx.conn.stream, ctx.conn.buffer, p);
    ctx.body_bytes_in += n;
    ctx.conn.stream.expires_never();
    co_return !ec;
}

awaitable<void> serve(request_context& ctx) {
    const auto& cfg = ctx.cfg();
    ctx.path = target_path(ctx.req.target);
    ctx.query = target_query(ctx.req.target);
    ctx.where = classify(ctx.req.target);
    ctx.head_only = ctx.req.method == "HEAD";
    ctx.slot = ctx.where.kind == route::vdir   ? static_cast<std::size_t>(ctx.where.dir)
               : ctx.where.kind == route::root ? root_slot
                                               : other_slot;
    bool is_vdir = ctx.where.kind == route::vdir;
    bool vdir_enabled = is_vdir && cfg.at(ctx.where.dir).enabled;
    ctx.health_probe = vdir_enabled && iequals_path(ctx.where.rest, "/HealthCheck.htm");
    if (ctx.req.version == 10) {
        auto c = ctx.header("Connection");
        if (!c || !net::has_token(*c, "keep-alive")) ctx.close = true;
    } else if (auto c = ctx.header("Connection"); c && net::has_token(*c, "close")) {
        ctx.close = true;
    }

    const fault_knobs none{};
    auto knobs = combine(cfg.faults, vdir_enabled ? cfg.at(ctx.where.dir).faults : none);
    ctx.faults = decide_faults(knobs, ctx.conn.requests, ctx.conn.random);
    if (ctx.faults.latency.count() > 0) {
        if (bool ok_ = co_await pause(
                ctx, ctx.snap->ms(static_cast<std::uint64_t>(ctx.faults.latency.count())));
            !ok_) {
            ctx.close = true;
            ctx.responded = true;
            co_return;
        }
    }
    if (ctx.faults.reset) {
        // Recorded first, so a client that sees the RST finds the request counted.
        ctx.reset_after_record = true;
        ctx.close = true;
        ctx.responded = true;
        co_return;
    }
    if (ctx.faults.malformed) {
        std::string garbage = "HTTP/1.1 2OO Okay\r\nX-FEServer: " + cfg.netbios +
                              "\r\nContent-Length: banana\r\n\r\n\x01\x02garbage";
        co_await send_raw(ctx, garbage);
        ctx.close = true;
        co_return;
    }
    if (ctx.faults.error_status != 0) {
        if (bool ok_ = co_await drain(ctx); !ok_) ctx.close = true;
        ctx.reply_error(ctx.faults.error_status);
        if (ctx.faults.error_status == 503) ctx.res.fields.add("Retry-After", "30");
        co_return;
    }
    if (ctx.where.kind == route::root) {
        if (bool ok_ = co_await drain(ctx); !ok_) ctx.close = true;
        if (cfg.root_status >= 300 && cfg.root_status < 400) {
            ctx.res.status = cfg.root_status;
            ctx.res.fields.add("Location", cfg.root_location);
            ctx.reply(cfg.root_status, "text/html; charset=UTF-8",
                      "<head><title>Document Moved</title></head>\n<body><h1>Object Moved</h1>"
                      "This document may be found <a HREF=\"" +
                          cfg.root_location + "\">here</a></body>");
        } else {
            ctx.reply(cfg.root_status, "text/html", "<html><body>IIS Windows Server</body></html>");
        }
        co_return;
    }
    if (!vdir_enabled) {
        if (bool ok_ = co_await drain(ctx); !ok_) ctx.close = true;
        ctx.reply_error(404);
        co_return;
    }
    if (ctx.health_probe) {
        co_await handle_health_check(ctx);
        co_return;
    }
    const auto& health = cfg.at(ctx.where.dir).health;
    if (health.inactive_blocks_traffic && !ctx.srv.component_active(ctx.where.dir)) {
        if (bool ok_ = co_await drain(ctx); !ok_) ctx.close = true;
        ctx.reply_error(503);
        co_return;
    }
    co_await dispatch(ctx);
}

void record(request_context& ctx, connection_state& conn) {
    auto header = [&](std::string_view name) {
        auto v = ctx.req.fields.find(name);
        return v ? *v : std::string_view{};
    };
    request_event e;
    e.time = ctx.received;
    e.connection_id = conn.id;
    e.method = ctx.req.method;
    e.target = ctx.req.target;
    e.slot = ctx.slot;
    e.status = ctx.responded ? ctx.res.status : 0;
    e.user = ctx.user;
    e.duration = steady_clock::now() - ctx.started;
    e.bytes_in = ctx.parser.body_total();
    e.bytes_out = ctx.written;
    e.x_forwarded_for = header("X-Forwarded-For");
    e.x_arr_log_id = header("X-ARR-LOG-ID");
    e.host = header("Host");
    e.health_probe = ctx.health_probe;
    e.identity_mismatch = ctx.identity_mismatch;
    conn.srv.obs().record(e);
}

}  // namespace

awaitable<void> run_connection(server& srv, tcp::socket socket) {
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    connection_state conn(srv, std::move(socket));
    auto snap = srv.snapshot();
    if (conn.stream.is_tls()) {
        conn.stream.expires_after(std::chrono::seconds(10));
        if (auto ec = co_await conn.stream.handshake(asio::ssl::stream_base::server)) {
            GATEHOUSE_LOG(debug, "fake-cas") << srv.name() << ": TLS handshake: " << ec.message();
            co_return;
        }
    }
    for (;;) {
        snap = srv.snapshot();
        const auto& cfg = snap->config;
        conn.stream.expires_after(snap->idle());
        net::parser_limits limits;
        limits.field_bytes = cfg.max_header_bytes;
        net::request_parser parser(conn.request, limits);
        auto ec = co_await net::read_head(conn.stream, conn.buffer, parser);
        if (ec) {
            if (!is_disconnect(ec)) {
                auto status = net::status_for_parse_error(ec);
                co_await reject_unparsable(conn, status == 431 ? 400 : status);
                request_event e;
                e.time = std::chrono::system_clock::now();
                e.connection_id = conn.id;
                e.method = conn.request.method;
                e.target = conn.request.target;
                e.status = status == 431 ? 400 : status;
                srv.obs().record(e);
            }
            break;
        }
        conn.stream.expires_never();
        ++conn.requests;
        // Knobs changed while the connection waited apply to this request.
        snap = srv.snapshot();
        request_context ctx(conn, snap, parser);
        bool failed = false;
        try {
            co_await serve(ctx);
        } catch (const std::exception& e) {
            // A handler bug must not take the server down: answer 500 if nothing was written.
            GATEHOUSE_LOG(error, "fake-cas") << srv.name() << ": " << ctx.req.method << ' '
                                             << ctx.req.target << ": " << e.what();
            failed = true;
        }
        if (failed) {
            ctx.close = true;
            if (!ctx.streamed && conn.stream.is_open()) {
                ctx.res.clear();
                ctx.res_body.clear();
                ctx.responded = false;
                ctx.reply_error(500);
            } else {
                ctx.responded = true;
            }
        }
        if (!ctx.responded && conn.stream.is_open()) {
            // The observation is recorded before the answer leaves, so a client that has its
            // response also finds it counted; with write faults (whose outcome matters) after.
            prepare_response(ctx);
            bool planned = !ctx.faults.any_write_fault();
            if (planned) {
                ctx.written = conn.out.size() + (ctx.head_only ? 0 : ctx.res_body.size());
                record(ctx, conn);
                auto written = ctx.written;
                co_await write_prepared(ctx);
                ctx.written = written;
            } else {
                co_await write_prepared(ctx);
                record(ctx, conn);
            }
        } else {
            record(ctx, conn);
        }
        if (ctx.reset_after_record) conn.stream.reset();
        if (ctx.close || !conn.stream.is_open()) break;
        if (!parser.is_done()) {
            // The handler left body bytes unread: skip them if few, else give up the connection.
            auto len = parser.content_length_remaining();
            if (!len || *len > 64 * 1024) break;
            conn.stream.expires_after(std::chrono::seconds(10));
            auto [skip_ec, n] = co_await net::skip_body(conn.stream, conn.buffer, parser);
            if (skip_ec) break;
        }
    }
    if (conn.stream.is_open()) co_await conn.stream.shutdown(std::chrono::milliseconds(200));
}

}  // namespace gatehouse::fake_cas
