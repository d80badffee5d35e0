#pragma once
// What a vdir handler sees of one request, and the I/O it may use: read the body, answer, stream
// a response piece by piece, hold a long poll. Everything written goes through the fault plan
// (bandwidth, stall, close mid-body). One context per request, on the connection's coroutine.

#include "fake-cas/faults.hpp"
#include "fake-cas/ntlm.hpp"
#include "fake-cas/server.hpp"
#include "fake-cas/wakeup.hpp"
#include "net/http_io.hpp"
#include "net/http_message.hpp"
#include "net/http_parser.hpp"
#include "net/stream.hpp"

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <boost/beast/core/flat_buffer.hpp>

namespace gatehouse::fake_cas {

// Per TCP connection: buffers reused by every request, and the connection-bound auth state.
struct connection_state {
    connection_state(server& s, tcp::socket socket);
    ~connection_state();
    connection_state(const connection_state&) = delete;
    connection_state& operator=(const connection_state&) = delete;

    server& srv;
    std::unique_ptr<net::stream> stream_owner;  // a stream never moves
    net::stream& stream;
    std::uint64_t id = 0;
    beast::flat_buffer buffer;
    net::http_head request;
    net::http_head response;
    std::string out;            // serialised response head
    std::string body;           // request body (small bodies)
    std::string response_body;  // response body (small responses)
    ntlm_handshake ntlm;
    std::string user;          // identity the connection is authenticated as (NTLM/Negotiate)
    std::string scheme;        // its scheme
    std::string basic_header;  // last accepted Basic Authorization value and its user
    std::string basic_user;
    std::string recorded_user;  // the per-request identity last written to the connection record
    std::uint64_t requests = 0;
    default_random random;
    std::mt19937_64 id_engine;
    std::array<char, 36> request_id{};
    // A fresh request-id (GUID form) in request_id.
    std::string_view next_request_id();
};

struct request_context {
    request_context(connection_state& c, std::shared_ptr<const server_snapshot> s,
                    net::request_parser& p);

    connection_state& conn;
    server& srv;
    std::shared_ptr<const server_snapshot> snap;
    net::http_head& req;
    net::request_parser& parser;
    classified_path where{};
    std::string_view path{};   // target path, no query
    std::string_view query{};  // after '?', raw
    std::size_t slot = other_slot;
    std::chrono::steady_clock::time_point started{};
    std::chrono::system_clock::time_point received{};

    // Identity for this request ("" anonymous), as the client gave it.
    std::string user{};
    std::string scheme{};
    bool identity_mismatch = false;
    // Set by mark_proxied(): the request was "routed to a back end" (BE headers are emitted).
    std::string backend_netbios{};
    std::string backend_fqdn{};

    // The response: handlers fill `res` (status, reason, specific fields) and `res_body`.
    net::http_head& res;
    std::string& res_body;
    std::optional<std::string> www_authenticate_final{};  // SPNEGO completion token
    bool head_only = false;                               // a HEAD request: no body bytes
    bool close = false;     // close the connection after this response
    bool streamed = false;  // the handler wrote the head itself
    bool chunked = false;   // the streamed body is chunked
    bool health_probe = false;
    bool responded = false;           // a final response was written (or deliberately none)
    bool reset_after_record = false;  // send RST once the observation is recorded
    fault_plan faults{};
    std::uint64_t written = 0;                           // response bytes written
    std::chrono::steady_clock::time_point pace_start{};  // bandwidth pacing
    std::uint64_t paced = 0;
    std::optional<std::uint64_t> cut_at{};  // close-mid-body point
    std::uint64_t body_bytes_in = 0;
    bool continue_sent = false;

    const server_config& cfg() const { return snap->config; }
    std::optional<std::string_view> header(std::string_view name) const {
        return req.fields.find(name);
    }
    bool is(std::string_view method) const { return req.method == method; }
    // The Host the client used (or the FQDN), and the host for generated URLs.
    std::string_view host() const;
    std::string url_host() const;
    std::string_view scheme_prefix() const { return conn.stream.is_tls() ? "https://" : "http://"; }
    // Marks the response as proxied to `user`'s mailbox server (adds X-BEServer & co).
    void mark_proxied(std::string_view identity);

    // Fills a complete small response.
    void reply(unsigned status, std::string_view content_type, std::string body);
    // The IIS-style error page for `status`.
    void reply_error(unsigned status);
};

// --- I/O for handlers (session.cpp) ---------------------------------------------------------

// Reads the whole request body into conn.body (at most `limit` bytes; a larger body answers 413
// and closes). Answers Expect: 100-continue first when the request asks for it.
awaitable<bool> read_body(request_context& ctx, std::uint64_t limit);
// Reads some body bytes into `out` (streamed bodies: RPC IN channel). 0 bytes and no error at
// the end of the body.
awaitable<std::tuple<error_code, std::size_t>> read_body_some(request_context& ctx,
                                                              asio::mutable_buffer out);
awaitable<error_code> send_continue(request_context& ctx);
// Writes ctx.res with ctx.res_body (Content-Length framing).
awaitable<error_code> send_response(request_context& ctx);
// Writes ctx.res as the head of a streamed response: with `content_length` when given,
// chunked otherwise.
awaitable<error_code> send_head(request_context& ctx, std::optional<std::uint64_t> content_length);
// Writes body bytes of a streamed response (one chunk when chunked).
awaitable<error_code> send_body(request_context& ctx, std::string_view data);
awaitable<error_code> send_last_chunk(request_context& ctx);
// Raw bytes, no framing (malformed responses, RPC error status lines).
awaitable<error_code> send_raw(request_context& ctx, std::string_view data);
// Authenticates with `schemes`; when that fails, consumes the request body (or marks the
// connection for closing) and leaves the 401 in ctx.res. True when the request may proceed.
awaitable<bool> require_auth(request_context& ctx, const std::vector<auth_scheme>& schemes);
// Consumes a small unread request body; false when it is too large to skip.
awaitable<bool> drain_body(request_context& ctx);
// Holds the connection without answering until the client leaves or the idle timeout passes,
// then closes it (the "hang" fault).
awaitable<void> hang(request_context& ctx);
// Sleeps for `d` (already scaled); false when the client went away meanwhile.
awaitable<bool> pause(request_context& ctx, std::chrono::steady_clock::duration d);

// Vdir handlers. Each answers the request (or streams it) and returns.
awaitable<void> handle_health_check(request_context& ctx);
awaitable<void> handle_owa(request_context& ctx);
awaitable<void> handle_ecp(request_context& ctx);
awaitable<void> handle_ews(request_context& ctx);
awaitable<void> handle_autodiscover(request_context& ctx);
awaitable<void> handle_rpc(request_context& ctx);
awaitable<void> handle_mapi(request_context& ctx);
awaitable<void> handle_activesync(request_context& ctx);
awaitable<void> handle_oab(request_context& ctx);
awaitable<void> handle_powershell(request_context& ctx);

// Authentication with the vdir's schemes (auth.cpp). True when the request may proceed
// (ctx.user set, possibly empty for anonymous); false when ctx.res holds a 401 to send.
bool authenticate(request_context& ctx, const std::vector<auth_scheme>& schemes);
// The 401 with every scheme's challenge line.
void challenge(request_context& ctx, const std::vector<auth_scheme>& schemes);
// Basic credentials of the request, if any: (user, password).
std::optional<std::pair<std::string, std::string>> basic_credentials(const request_context& ctx);

}  // namespace gatehouse::fake_cas
