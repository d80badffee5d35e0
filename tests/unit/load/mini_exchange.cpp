#include "tests/unit/load/mini_exchange.hpp"

#include "load/base64.hpp"
#include "load/ntlm.hpp"
#include "load/rts.hpp"
#include "load/wbxml.hpp"
#include "net/http_io.hpp"
#include "net/http_message.hpp"
#include "net/stream.hpp"
#include "net/tls.hpp"

#include <optional>
#include <random>

#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <openssl/ssl.h>

namespace gatehouse::test {

namespace ntlm = load::ntlm;

struct mini_exchange::connection {
    connection(tcp::socket s, asio::ssl::context* tls)
        : stream_(tls ? std::make_unique<net::stream>(std::move(s), *tls)
                      : std::make_unique<net::stream>(std::move(s))) {}
    net::stream& stream() { return *stream_; }
    std::unique_ptr<net::stream> stream_;
    beast::flat_buffer buffer;
    net::http_head head;
    std::optional<ntlm::bytes8> challenge;
    std::string user;  // NTLM-authenticated user of this connection
};

namespace {

using headers = std::vector<std::pair<std::string, std::string>>;

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return out;
}

std::string query_param(std::string_view target, std::string_view name) {
    auto q = target.find('?');
    if (q == std::string_view::npos) return {};
    auto rest = target.substr(q + 1);
    while (!rest.empty()) {
        auto amp = rest.find('&');
        auto part = rest.substr(0, amp);
        if (part.starts_with(name) && part.size() > name.size() && part[name.size()] == '=')
            return std::string(part.substr(name.size() + 1));
        if (amp == std::string_view::npos) break;
        rest.remove_prefix(amp + 1);
    }
    return {};
}

std::string cookie_value(const net::http_head& h, std::string_view name) {
    for (const auto f : h.fields) {
        if (!net::iequals(f.name, "Cookie")) continue;
        std::string_view v = f.value;
        while (!v.empty()) {
            while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
            auto semi = v.find(';');
            auto pair = v.substr(0, semi);
            if (pair.starts_with(name) && pair.size() > name.size() && pair[name.size()] == '=')
                return std::string(pair.substr(name.size() + 1));
            if (semi == std::string_view::npos) break;
            v.remove_prefix(semi + 1);
        }
    }
    return {};
}

std::string ascii_of_utf16(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i + 1 < s.size(); i += 2) out += s[i];
    return out;
}

std::uint16_t get16(std::string_view s, std::size_t at) {
    return std::uint16_t(std::uint8_t(s[at]) | std::uint8_t(s[at + 1]) << 8);
}

std::string field_of(std::string_view m, std::size_t at) {
    std::size_t len = get16(m, at);
    std::size_t off = get16(m, at + 4);
    if (off + len > m.size()) return {};
    return std::string(m.substr(off, len));
}

void put16(std::string& out, std::uint16_t v) {
    out += char(v & 0xff);
    out += char(v >> 8);
}
void put32(std::string& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i) out += char((v >> (8 * i)) & 0xff);
}

// A CHALLENGE message naming this server "MINI" in domain CONTOSO.
std::string challenge_message(const ntlm::bytes8& challenge) {
    std::string name = ntlm::utf16le("CONTOSO");
    std::string info;
    auto av = [&](std::uint16_t id, const std::string& value) {
        put16(info, id);
        put16(info, static_cast<std::uint16_t>(value.size()));
        info += value;
    };
    av(2, ntlm::utf16le("CONTOSO"));
    av(1, ntlm::utf16le("MINI"));
    std::string ts;
    put32(ts, 0x12345678);
    put32(ts, 0x01d9abcd);
    av(7, ts);
    av(0, "");
    std::string m("NTLMSSP\0", 8);
    put32(m, 2);
    put16(m, static_cast<std::uint16_t>(name.size()));
    put16(m, static_cast<std::uint16_t>(name.size()));
    put32(m, 56);
    put32(m, 0xA2898205u);
    m.append(reinterpret_cast<const char*>(challenge.data()), 8);
    m.append(8, '\0');
    put16(m, static_cast<std::uint16_t>(info.size()));
    put16(m, static_cast<std::uint16_t>(info.size()));
    put32(m, static_cast<std::uint32_t>(56 + name.size()));
    m += std::string("\x0a\x00\x7c\x4f\x00\x00\x00\x0f", 8);
    m += name;
    m += info;
    return m;
}

}  // namespace

// The request handler: one coroutine per connection, requests answered in turn.
struct handler {
    mini_exchange& server;
    std::shared_ptr<mini_exchange::connection> conn;
    net::http_head& head;
    net::request_parser& parser;

    net::stream& stream() { return conn->stream(); }

    awaitable<bool> write(std::string bytes) {
        auto [ec, n] = co_await stream().write(asio::buffer(bytes));
        co_return !ec;
    }

    // Fields for the next response, added in statements of their own: GCC 12 cannot keep a
    // braced list alive across a co_await.
    headers pending;
    void add(std::string name, std::string value) {
        pending.emplace_back(std::move(name), std::move(value));
    }

    awaitable<bool> respond(unsigned status, std::string body, std::string reason = {}) {
        net::http_head h;
        h.status = status;
        h.reason = reason;
        for (auto& [k, v] : pending) h.fields.add(k, v);
        pending.clear();
        h.fields.set("Content-Length", std::to_string(body.size()));
        std::string out;
        h.write_response(out);
        out += body;
        co_return co_await write(std::move(out));
    }

    awaitable<std::optional<std::string>> body(std::size_t limit = 1 << 20) {
        std::string out;
        std::array<char, 8192> chunk;
        while (!parser.is_done() && out.size() < limit) {
            auto [ec, n] =
                co_await net::read_body(stream(), conn->buffer, parser, asio::buffer(chunk));
            if (ec) co_return std::nullopt;
            out.append(chunk.data(), n);
        }
        co_return out;
    }

    // Answers "100 Continue" when the client asked for it.
    awaitable<bool> maybe_continue() {
        auto expect = head.fields.find("Expect");
        if (!expect || !net::iequals(*expect, "100-continue")) co_return true;
        if (!server.options_.send_continue) co_return true;
        ++server.continues_;
        co_return co_await write("HTTP/1.1 100 Continue\r\n\r\n");
    }

    // NTLM per connection. Returns true when the request may proceed; false when a 401 was
    // sent (the loop reads the next request) or the connection failed.
    awaitable<bool> ntlm_authenticated() {
        if (!conn->user.empty()) co_return true;
        auto auth = head.fields.find("Authorization");
        std::string token;
        if (auth && auth->starts_with("NTLM ")) token = std::string(auth->substr(5));
        if (auth && auth->starts_with("Negotiate ")) token = std::string(auth->substr(10));
        auto bytes = load::base64_decode(token);
        if (!bytes || bytes->size() < 12) {
            co_await body();
            add("WWW-Authenticate", "Negotiate");
            add("WWW-Authenticate", "NTLM");
            co_await respond(401, "");
            co_return false;
        }
        auto type = std::uint8_t((*bytes)[8]);
        if (type == 1) {
            ntlm::bytes8 c;
            static std::mt19937_64 rng(1);
            auto r = rng();
            for (int i = 0; i < 8; ++i) c[i] = std::uint8_t(r >> (8 * i));
            conn->challenge = c;
            co_await body();
            add("WWW-Authenticate", "NTLM " + load::base64_encode(challenge_message(c)));
            co_await respond(401, "");
            co_return false;
        }
        // Type 3: verify the NTLMv2 proof against the challenge issued on this connection.
        const std::string& m = *bytes;
        auto nt = field_of(m, 20);
        auto domain = ascii_of_utf16(field_of(m, 28));
        auto user = ascii_of_utf16(field_of(m, 36));
        bool ok = false;
        if (conn->challenge && nt.size() > 16) {
            auto key = ntlm::ntowf_v2(server.options_.password, user, domain);
            std::string k(reinterpret_cast<const char*>(key.data()), 16);
            std::string chal(reinterpret_cast<const char*>(conn->challenge->data()), 8);
            auto proof = ntlm::hmac_md5(k, chal + nt.substr(16));
            ok = std::equal(proof.begin(), proof.end(), nt.begin(),
                            [](std::uint8_t a, char b) { return a == std::uint8_t(b); });
        }
        if (!ok) {
            ++server.ntlm_failed_;
            co_await body();
            add("WWW-Authenticate", "NTLM");
            co_await respond(401, "");
            co_return false;
        }
        ++server.ntlm_ok_;
        conn->user = user;
        co_return true;
    }

    bool basic_ok() {
        auto auth = head.fields.find("Authorization");
        if (!auth || !auth->starts_with("Basic ")) return false;
        auto decoded = load::base64_decode(auth->substr(6));
        return decoded && decoded->ends_with(":" + server.options_.password);
    }

    awaitable<void> pause(std::chrono::milliseconds d) {
        asio::steady_timer t(co_await asio::this_coro::executor, d);
        co_await t.async_wait(use_nothrow);
    }

    // ---- virtual directories ------------------------------------------------------------

    awaitable<bool> owa(const std::string& path) {
        auto host = std::string(head.fields.find("Host").value_or("mail"));
        auto logon = "/owa/auth/logon.aspx?url=http%3a%2f%2f" + host + "%2fowa%2f&reason=0";
        bool cadata = cookie_value(head, "cadata") == "ok";
        if (path == "/owa/auth/logon.aspx") co_return co_await respond(200, "<form/>");
        if (path == "/owa/auth.owa") {
            auto form = co_await body();
            if (!form) co_return false;
            if (form->find("password=" + server.options_.password) == std::string::npos &&
                form->find("password=P%40ssw0rd") == std::string::npos) {
                add("Location", logon + "&reason=2");
                co_return co_await respond(302, "");
            }
            add("Location", "http://" + host + "/owa/");
            for (auto n : {"cadata", "cadataTTL", "cadataKey", "cadataIV", "cadataSig"})
                add("Set-Cookie", std::string(n) + "=ok; path=/; HttpOnly");
            co_return co_await respond(302, "");
        }
        if (path == "/owa/logoff.owa") {
            add("Location", logon);
            add("Set-Cookie", "cadata=; expires=Thu, 01-Jan-1970 00:00:00 GMT; path=/");
            co_return co_await respond(302, "");
        }
        if (path == "/owa/service.svc") {
            co_await body();
            auto canary = head.fields.find("X-OWA-CANARY");
            if (!cadata || !canary || *canary != cookie_value(head, "X-OWA-CANARY") ||
                canary->empty())
                co_return co_await respond(440, "");
            add("Content-Type", "application/json");
            co_return co_await respond(200, "{}");
        }
        // /owa and /owa/
        if (!cadata) {
            add("Location", "http://" + host + logon);
            co_return co_await respond(302, "");
        }
        if (path == "/owa") {
            add("Location", "/owa/");
            co_return co_await respond(302, "");
        }
        add("Set-Cookie", "X-OWA-CANARY=c4n4ry; path=/");
        co_return co_await respond(200, "<html>boot</html>");
    }

    awaitable<bool> autodiscover() {
        if (!co_await ntlm_authenticated()) co_return conn->stream().is_open();
        auto request = co_await body();
        if (!request || request->find("<EMailAddress>") == std::string::npos)
            co_return co_await respond(400, "");
        bool mapi = head.fields.find("X-MapiHttpCapability").has_value();
        std::string xml =
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"http://schemas."
            "microsoft.com/exchange/autodiscover/responseschema/2006\"><Response xmlns=\"http://"
            "schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a\"><Account>";
        if (mapi)
            xml +=
                "<Protocol Type=\"mapiHttp\" Version=\"1\"><MailStore><ExternalUrl>"
                "https://mail.contoso.com/mapi/emsmdb/?MailboxId=aaaa@contoso.com"
                "</ExternalUrl></MailStore></Protocol>";
        xml +=
            "<Protocol><Type>EXCH</Type><Server>bbbb@contoso.com</Server></Protocol>"
            "</Account></Response></Autodiscover>";
        add("Content-Type", "text/xml");
        co_return co_await respond(200, xml);
    }

    awaitable<bool> ews() {
        if (!co_await ntlm_authenticated()) co_return conn->stream().is_open();
        if (!co_await maybe_continue()) co_return false;
        auto soap = co_await body();
        if (!soap) co_return false;
        std::string op = soap->find("<m:FindItem") != std::string::npos  ? "FindItem"
                         : soap->find("<m:GetItem") != std::string::npos ? "GetItem"
                                                                         : "GetFolder";
        std::string extra = op == "FindItem" ? "<t:ItemId Id=\"ITEM42\" ChangeKey=\"x\"/>" : "";
        add("Content-Type", "text/xml; charset=utf-8");
        co_return co_await respond(
            200, "<s:Envelope><s:Body><m:" + op + "Response><m:ResponseMessages><m:" + op +
                     "ResponseMessage ResponseClass=\"Success\"><m:ResponseCode>NoError"
                     "</m:ResponseCode>" +
                     extra + "</m:" + op +
                     "ResponseMessage>"
                     "</m:ResponseMessages></m:" +
                     op + "Response></s:Body></s:Envelope>");
    }

    awaitable<bool> activesync() {
        if (!basic_ok()) {
            co_await body();
            add("WWW-Authenticate", "Basic realm=\"mini\"");
            co_return co_await respond(401, "");
        }
        if (head.method == "OPTIONS") {
            add("MS-ASProtocolVersions", "14.1,16.0,16.1");
            add("MS-ASProtocolCommands", "Sync,FolderSync,Ping");
            co_return co_await respond(200, "");
        }
        auto request = co_await body();
        if (!request) co_return false;
        auto cmd = query_param(head.target, "Cmd");
        add("Content-Type", "application/vnd.ms-sync.wbxml");
        if (cmd == "FolderSync")
            co_return co_await respond(200, std::string("\x03\x01\x6a\x00\x00\x07\x56\x4c\x03"
                                                        "1\x00\x01\x52\x03"
                                                        "F1\x00\x01\x01",
                                                        17));
        if (cmd == "Sync")
            co_return co_await respond(200, std::string("\x03\x01\x6a\x00\x45\x5c\x4f\x4b\x03"
                                                        "S1\x00\x01\x52\x03"
                                                        "1\x00\x01\x4e"
                                                        "\x03"
                                                        "1\x00\x01\x01\x01\x01",
                                                        25));
        if (cmd == "Ping") {
            auto hb = load::wbxml::find_text(*request, 13, 8);
            if (!hb) co_return co_await respond(400, "");
            // Held silently for the (scaled) heartbeat, then Status 1: nothing changed.
            co_await pause(std::chrono::milliseconds(
                static_cast<long>(std::stod(*hb) * 1000 * server.options_.time_scale)));
            co_return co_await respond(200, std::string("\x03\x01\x6a\x00\x00\x0d\x45\x47"
                                                        "\x03"
                                                        "1\x00\x01\x01",
                                                        13));
        }
        co_return co_await respond(400, "");
    }

    awaitable<bool> mapi() {
        if (!co_await ntlm_authenticated()) co_return conn->stream().is_open();
        auto request = co_await body();
        if (!request) co_return false;
        auto type = std::string(head.fields.find("X-RequestType").value_or(""));
        headers h{{"Content-Type", "application/mapi-http"},
                  {"X-RequestType", type},
                  {"Transfer-Encoding", "chunked"}};
        long code = 0;
        if (type == "Connect") {
            h.emplace_back("Set-Cookie", "MapiContext=ctx1; path=/mapi/emsmdb/");
            h.emplace_back("Set-Cookie", "MapiSequence=1; path=/mapi/emsmdb/");
        } else if (cookie_value(head, "MapiContext").empty()) {
            code = 13;  // Missing Cookie
        }
        h.emplace_back("X-ResponseCode", std::to_string(code));
        net::http_head res;
        res.status = 200;
        for (auto& [k, v] : h) res.fields.add(k, v);
        std::string out;
        res.write_response(out);
        auto chunk = [](std::string_view data) {
            return net::chunk_header(data.size()) + std::string(data) + std::string(net::chunk_end);
        };
        out += chunk("PROCESSING\r\n");
        if (!co_await write(std::move(out))) co_return false;
        if (type == "NotificationWait") {
            co_await pause(
                std::chrono::milliseconds(static_cast<long>(300'000 * server.options_.time_scale)));
            if (!co_await write(chunk("PENDING\r\n"))) co_return false;
        }
        std::string tail = "DONE\r\nX-ResponseCode: " + std::to_string(code) +
                           "\r\nX-ElapsedTime: 1\r\n\r\n" + std::string(16, '\0');
        co_return co_await write(chunk(tail) + std::string(net::last_chunk));
    }

    awaitable<bool> rpc() {
        if (!co_await ntlm_authenticated()) co_return conn->stream().is_open();
        auto length = std::stoull(std::string(head.fields.find("Content-Length").value_or("0")));
        if (length <= 0x10) {
            co_await body();
            auto echo = load::rts::ping();
            echo[16] = 0x40;  // RTS flags: ECHO
            add("Content-Type", "application/rpc");
            co_return co_await respond(200, echo, "Success");
        }
        if (head.method == "RPC_OUT_DATA") {
            auto a1 = co_await body(76);
            if (!a1 || a1->size() != 76) co_return false;
            std::string vc = a1->substr(32, 16);
            std::string a3(
                "\x05\x00\x14\x03\x10\x00\x00\x00\x1c\x00\x00\x00\x00\x00\x00\x00"
                "\x00\x00\x01\x00\x02\x00\x00\x00\xc0\xd4\x01\x00",
                28);
            net::http_head res;
            res.status = 200;
            res.reason = "Success";
            res.fields.add("Content-Type", "application/rpc");
            res.fields.add("Content-Length", "1073741824");
            std::string out;
            res.write_response(out);
            if (!co_await write(out + a3)) co_return false;
            {
                std::lock_guard lock(server.mutex_);
                server.waiting_out_[vc] = conn;
            }
            // The client sends nothing more on OUT: wait for it to close.
            std::array<char, 64> scratch;
            stream().expires_never();
            co_await stream().read_some(asio::buffer(scratch));
            co_return false;
        }
        // RPC_IN_DATA: CONN/B1, then PDUs for as long as the client sends them.
        std::string pdus;
        std::shared_ptr<mini_exchange::connection> out;
        std::array<char, 4096> chunk;
        stream().expires_never();
        for (;;) {
            while (pdus.size() >= 16) {
                auto h = load::rts::peek(pdus);
                if (!h || pdus.size() < h->frag_length) break;
                auto pdu = pdus.substr(0, h->frag_length);
                pdus.erase(0, h->frag_length);
                if (!out && h->frag_length == 104) {
                    std::string vc = pdu.substr(32, 16);
                    for (int i = 0; i < 200 && !out; ++i) {
                        {
                            std::lock_guard lock(server.mutex_);
                            if (auto it = server.waiting_out_.find(vc);
                                it != server.waiting_out_.end()) {
                                out = it->second;
                                server.waiting_out_.erase(it);
                            }
                        }
                        if (!out) co_await pause(std::chrono::milliseconds(10));
                    }
                    if (!out) co_return false;
                    ++server.rpc_pairs_;
                    std::string c2(
                        "\x05\x00\x14\x03\x10\x00\x00\x00\x2c\x00\x00\x00\x00\x00\x00"
                        "\x00\x00\x00\x03\x00\x06\x00\x00\x00\x01\x00\x00\x00\x00\x00"
                        "\x00\x00\x00\x00\x01\x00\x02\x00\x00\x00\xc0\xd4\x01\x00",
                        44);
                    co_await out->stream().write(asio::buffer(c2));
                } else if (out && h->type == load::rts::ptype_request) {
                    // Echo: a response PDU with the request's call_id.
                    std::string res = pdu;
                    res[2] = char(load::rts::ptype_response);
                    ++server.rpc_echoes_;
                    co_await out->stream().write(asio::buffer(res));
                }
            }
            auto [ec, n] =
                co_await net::read_body(stream(), conn->buffer, parser, asio::buffer(chunk));
            if (ec || n == 0) break;
            pdus.append(chunk.data(), n);
        }
        if (out) out->stream().close();
        co_return false;
    }
};

mini_exchange::mini_exchange() : mini_exchange(options{}) {}

mini_exchange::mini_exchange(options o)
    : options_(std::move(o)), acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
    if (options_.tls) {
        authority_ = net::make_authority("mini exchange test authority");
        tls_ = net::make_server_context(
            net::issue_certificate(authority_, {"mail.contoso.com", "127.0.0.1"}));
    }
    endpoint_ = acceptor_.local_endpoint();
    asio::co_spawn(ioc_, accept_loop(), asio::detached);
    thread_ = std::thread([this] { ioc_.run(); });
}

mini_exchange::~mini_exchange() {
    ioc_.stop();
    thread_.join();
}

std::vector<std::string> mini_exchange::requests() const {
    std::lock_guard lock(mutex_);
    return log_;
}

void mini_exchange::log(std::string line) {
    std::lock_guard lock(mutex_);
    log_.push_back(std::move(line));
}

awaitable<void> mini_exchange::accept_loop() {
    for (;;) {
        auto [ec, socket] = co_await acceptor_.async_accept(use_nothrow);
        if (ec) co_return;
        asio::co_spawn(ioc_, serve(std::make_shared<connection>(std::move(socket), tls_.get())),
                       asio::detached);
    }
}

awaitable<void> mini_exchange::serve(std::shared_ptr<connection> c) {
    if (tls_) {
        c->stream().expires_after(std::chrono::seconds(10));
        if (co_await c->stream().handshake(asio::ssl::stream_base::server)) co_return;
        ++tls_handshakes_;
        if (SSL_session_reused(c->stream().ssl())) ++tls_resumed_;
    }
    for (;;) {
        c->stream().expires_after(std::chrono::seconds(30));
        net::request_parser parser(c->head);
        if (co_await net::read_head(c->stream(), c->buffer, parser)) co_return;
        log(c->head.method + " " + c->head.target);
        if (options_.delay.count() > 0) {
            asio::steady_timer t(ioc_, options_.delay);
            co_await t.async_wait(use_nothrow);
        }
        handler h{*this, c, c->head, parser, {}};
        auto path = lower(c->head.target.substr(0, c->head.target.find('?')));
        bool keep = false;
        if (path.starts_with("/owa"))
            keep = co_await h.owa(path);
        else if (path == "/autodiscover/autodiscover.xml")
            keep = co_await h.autodiscover();
        else if (path == "/ews/exchange.asmx")
            keep = co_await h.ews();
        else if (path == "/microsoft-server-activesync")
            keep = co_await h.activesync();
        else if (path.starts_with("/mapi/emsmdb"))
            keep = co_await h.mapi();
        else if (path == "/rpc/rpcproxy.dll")
            keep = co_await h.rpc();
        else {
            co_await h.body(std::size_t{1} << 30);
            h.add("Content-Type", "text/plain");
            keep = co_await h.respond(200, "ok");
        }
        if (!keep || !c->stream().is_open()) co_return;
    }
}

}  // namespace gatehouse::test
