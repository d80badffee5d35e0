// Outlook Anywhere, RPC over HTTP v2 (exchange-protocols.md §4): autodiscover for the RPC
// server (mailbox GUID@domain), the echo request proxies answer, then the virtual connection:
// RPC_OUT_DATA (Content-Length 76, CONN/A1) and RPC_IN_DATA (Content-Length 1 GiB, CONN/B1
// then a stream of PDUs never reaching that length), each on its own NTLM-authenticated
// connection. The pair is established when CONN/C2 arrives on the OUT channel; it is then held
// open with RTS pings on the IN channel while RPC request PDUs go up the IN channel and their
// responses, echoed by the server, come down the OUT channel.
#include "load/exchange_client.hpp"
#include "load/rts.hpp"
#include "net/http_io.hpp"

#include <array>

#include <boost/asio/experimental/awaitable_operators.hpp>

namespace gatehouse::load {

namespace {

constexpr std::uint32_t receive_window = 262144;
constexpr std::uint32_t in_channel_length = 1073741824;  // 1 GiB, as Outlook declares

std::uint64_t micros_since(steady_clock::time_point t) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(steady_clock::now() - t).count());
}

class outlook_anywhere_client final : public exchange_client {
public:
    explicit outlook_anywhere_client(vu& v) : exchange_client(v, "outlook-anywhere") {
        exchange::default_auth(v, auth_scheme::ntlm);
        server_ = v.mailbox_guid() + "@" + v.email().substr(v.email().find('@') + 1);
    }

    awaitable<bool> logon(vu& v) override {
        if (!co_await exchange::autodiscover(v, profile_, key(v, "oa.autodiscover"), false))
            co_return false;
        if (auto s = exchange::rpc_server(v.last().body); !s.empty()) server_ = s;
        target_ = "/rpc/rpcproxy.dll?" + server_ + ":6001";

        // Proxy discovery: an RPC_IN_DATA with no body is answered with an Echo RTS PDU.
        http_request echo = rpc_request("RPC_IN_DATA");
        echo.capture = 64;
        if (!co_await v.step(profile_, key(v, "oa.echo"), echo, {200})) co_return false;
        co_return co_await open_channels(v);
    }

    // One RPC through the pair: a request PDU up the IN channel, its response down the OUT.
    awaitable<bool> task(vu& v) override {
        if (!in_ || !out_) co_return false;
        if (steady_clock::now() - last_in_write_ >= keepalive(v) && !co_await send_ping(v))
            co_return false;
        auto call_id = ++call_id_;
        std::string stub(64, '\x5a');
        auto started = steady_clock::now();
        if (!co_await write_in(v, rts::request(call_id, 0x0A, stub))) {
            fail(v, "oa.rpc", started);
            co_return false;
        }
        for (;;) {
            auto h = co_await next_out_pdu(v);
            if (!h) {
                fail(v, "oa.rpc", started);
                co_return false;
            }
            if (h->type == rts::ptype_response && h->call_id == call_id) break;
        }
        v.record(profile_, key(v, "oa.rpc"), 0, std::nullopt, micros_since(started), false);
        co_return true;
    }

    awaitable<bool> logoff(vu& v) override {
        // The hold, as a long poll: how long the pair survived, status 200 when to the end.
        if (in_ && out_)
            v.record(profile_, key(v, "oa.hold"), 200, std::nullopt, micros_since(opened_), false,
                     true);
        in_.reset();
        out_.reset();
        co_return true;
    }

    // Logon, then hold the pair for the configured time with an RPC every interval.
    awaitable<bool> session(vu& v) override {
        if (!co_await logon(v)) {
            co_await close(v);
            co_return false;
        }
        auto until = steady_clock::now() + v.scaled(v.options().rpc_hold);
        auto interval = v.options().rpc_interval;
        while (steady_clock::now() < until) {
            auto next = steady_clock::now() + (interval.count() > 0 ? interval : keepalive(v));
            if (next > until) next = until;
            if (!co_await v.pause_until(next)) {
                co_await close(v);
                co_return false;
            }
            bool ok = true;
            if (interval.count() > 0)
                ok = co_await task(v);
            else if (steady_clock::now() - last_in_write_ >= keepalive(v))
                ok = co_await send_ping(v);
            if (!ok) {
                co_await close(v);
                co_return false;
            }
        }
        co_return co_await logoff(v);
    }

private:
    steady_clock::duration keepalive(vu& v) const { return v.scaled(v.options().rpc_keepalive); }

    http_request rpc_request(std::string_view method) const {
        http_request r;
        r.method = method;
        r.target = target_;
        r.headers = {{"Accept", "application/rpc"},
                     {"User-Agent", "MSRPC"},
                     {"Cache-Control", "no-cache"},
                     {"Pragma", "no-cache"},
                     {"Connection", "Keep-Alive"}};
        return r;
    }

    // Records a failure of `step` measured from `started` (the kind from the last I/O error).
    void fail(vu& v, std::string_view step, steady_clock::time_point started) {
        if (v.stopping()) {
            v.rec().record_interrupted();
            return;
        }
        v.record(profile_, key(v, step), status_, failure_, micros_since(started),
                 !failure_.has_value());
    }

    awaitable<bool> open_channels(vu& v) {
        auto& http = v.http();
        auto& rng = v.random();
        vc_ = rts::make_cookie(rng(), rng());
        out_cookie_ = rts::make_cookie(rng(), rng());
        in_cookie_ = rts::make_cookie(rng(), rng());
        group_ = rts::make_cookie(rng(), rng());
        auto started = steady_clock::now();
        status_ = 0;
        failure_.reset();

        // OUT channel: the CONN/A1 is the whole request body.
        http_response res;
        out_ = co_await http.open(res);
        if (!out_) co_return channel_failed(v, "oa.out_channel", res, started);
        auto a1 = rts::conn_a1(vc_, out_cookie_, receive_window);
        http_request out_req = rpc_request("RPC_OUT_DATA");
        out_req.body = a1;
        auto auth = co_await http.authorize(*out_, out_req, res);
        if (!auth) co_return channel_failed(v, "oa.out_channel", res, started);
        std::string head;
        http.write_head(head, out_req, *auth, false);
        head += a1;
        out_->stream().expires_after(http.options().request_timeout);
        if (auto [ec, n] = co_await out_->stream().write(asio::buffer(head)); ec) {
            res.failed = failure::write;
            co_return channel_failed(v, "oa.out_channel", res, started);
        }
        if (auto ec = co_await out_->read_head(false); ec) {
            res.failed = ec == asio::error::timed_out ? failure::timeout : failure::read;
            co_return channel_failed(v, "oa.out_channel", res, started);
        }
        http.store_cookies(out_->head(), target_);
        unsigned out_status = out_->head().status;
        v.record(profile_, key(v, "oa.out_channel"), out_status, std::nullopt,
                 micros_since(started), out_status != 200);
        if (out_status != 200) {
            out_.reset();
            co_return false;
        }
        pdus_.clear();

        // IN channel: declares 1 GiB, sends CONN/B1 and then only what the session needs.
        in_ = co_await http.open(res);
        if (!in_) co_return channel_failed(v, "oa.in_channel", res, started);
        http_request in_req = rpc_request("RPC_IN_DATA");
        in_req.generated_body = in_channel_length;
        auth = co_await http.authorize(*in_, in_req, res);
        if (!auth) co_return channel_failed(v, "oa.in_channel", res, started);
        http.write_head(head, in_req, *auth, false);
        auto keepalive_ms = std::chrono::duration_cast<std::chrono::milliseconds>(keepalive(v));
        head += rts::conn_b1(vc_, in_cookie_, in_channel_length,
                             static_cast<std::uint32_t>(keepalive_ms.count()), group_);
        if (!co_await write_in(v, head)) {
            failure_ = failure::write;
            fail(v, "oa.in_channel", started);
            co_return false;
        }

        // The pair is up when CONN/C2 arrives (after CONN/A3). The IN channel says nothing
        // meanwhile unless it is refused: a proxy's body limit answers the 1 GiB request at
        // once (404.13, 413), and Outlook reports that, not a connect timeout.
        using namespace asio::experimental::awaitable_operators;
        auto first = co_await (wait_conn_c2(v) || in_->read_head(false));
        if (first.index() == 1) co_return in_channel_answered(v, std::get<1>(first), started);
        if (!std::get<0>(first)) {
            fail(v, "oa.connect", started);
            co_return false;
        }
        opened_ = steady_clock::now();
        v.record(profile_, key(v, "oa.connect"), 200, std::nullopt, micros_since(started), false);
        co_return true;
    }

    awaitable<bool> wait_conn_c2(vu& v) {
        for (;;) {
            auto h = co_await next_out_pdu(v);
            if (!h) co_return false;
            if (rts::is_conn_c2(*h)) co_return true;
        }
    }

    // The IN channel ended or was answered before the pair was up: the connect failed there.
    bool in_channel_answered(vu& v, error_code ec, steady_clock::time_point started) {
        if (ec) {
            failure_ = ec == asio::error::timed_out ? failure::timeout : failure::read;
            fail(v, "oa.in_channel", started);
        } else if (v.stopping()) {
            v.rec().record_interrupted();
        } else {
            const auto& head = in_->head();
            v.record(profile_, key(v, "oa.in_channel"), head.status, std::nullopt,
                     micros_since(started), true, false,
                     head.fields.find("X-Gatehouse-Error").value_or(std::string_view{}));
        }
        in_.reset();
        out_.reset();
        return false;
    }

    bool channel_failed(vu& v, std::string_view step, const http_response& res,
                        steady_clock::time_point started) {
        if (res.interrupted || v.stopping()) {
            v.rec().record_interrupted();
        } else {
            v.record(profile_, key(v, step), res.status, res.failed, micros_since(started),
                     !res.failed.has_value());
        }
        in_.reset();
        out_.reset();
        return false;
    }

    awaitable<bool> write_in(vu& v, std::string bytes) {
        in_->stream().expires_after(v.http().options().request_timeout);
        auto [ec, n] = co_await in_->stream().write(asio::buffer(bytes));
        in_->stream().expires_never();
        if (ec) {
            failure_ = ec == asio::error::timed_out ? failure::timeout : failure::write;
            co_return false;
        }
        last_in_write_ = steady_clock::now();
        co_return true;
    }

    awaitable<bool> send_ping(vu& v) {
        auto started = steady_clock::now();
        if (!co_await write_in(v, rts::ping())) {
            fail(v, "oa.ping", started);
            co_return false;
        }
        v.record(profile_, key(v, "oa.ping"), 0, std::nullopt, micros_since(started), false);
        co_return true;
    }

    // The next PDU of the OUT channel's body; acknowledges received RPC data so the server's
    // window never closes. nullopt on failure (failure_ and status_ say why).
    awaitable<std::optional<rts::pdu_header>> next_out_pdu(vu& v) {
        for (;;) {
            if (auto h = rts::peek(pdus_);
                h && h->frag_length >= 16 && pdus_.size() >= h->frag_length) {
                pdus_.erase(0, h->frag_length);
                if (h->type != rts::ptype_rts) {
                    received_ += h->frag_length;
                    unacknowledged_ += h->frag_length;
                    if (unacknowledged_ >= receive_window / 2) {
                        unacknowledged_ = 0;
                        if (!co_await write_in(
                                v, rts::flow_control_ack(received_, receive_window, out_cookie_)))
                            co_return std::nullopt;
                    }
                }
                co_return h;
            } else if (h && h->frag_length < 16) {
                failure_ = failure::protocol;
                co_return std::nullopt;
            }
            if (out_->parser().is_done()) {
                failure_ = failure::read;  // the OUT channel's body ended
                co_return std::nullopt;
            }
            std::array<char, 4096> chunk;
            out_->stream().expires_after(v.http().options().request_timeout);
            auto [ec, n] = co_await net::read_body(out_->stream(), out_->buffer(), out_->parser(),
                                                   asio::buffer(chunk));
            if (ec) {
                failure_ = ec == asio::error::timed_out ? failure::timeout : failure::read;
                co_return std::nullopt;
            }
            pdus_.append(chunk.data(), n);
        }
    }

    awaitable<void> close(vu&) {
        in_.reset();
        out_.reset();
        co_return;
    }

    std::string server_;
    std::string target_;
    std::unique_ptr<http_connection> in_;
    std::unique_ptr<http_connection> out_;
    std::string pdus_;
    rts::cookie vc_{}, out_cookie_{}, in_cookie_{}, group_{};
    std::uint32_t call_id_ = 0;
    std::uint32_t received_ = 0;
    std::uint32_t unacknowledged_ = 0;
    steady_clock::time_point last_in_write_{};
    steady_clock::time_point opened_{};
    unsigned status_ = 0;
    std::optional<failure> failure_;
};

}  // namespace

std::unique_ptr<exchange_client> make_outlook_anywhere_client(vu& v) {
    return std::make_unique<outlook_anywhere_client>(v);
}

}  // namespace gatehouse::load
