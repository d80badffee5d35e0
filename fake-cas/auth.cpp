// HTTP authentication as IIS runs it for Exchange's vdirs (§3): NTLM and Negotiate bound to the
// TCP connection, Basic on every request, and the per-request fallback when a `Via` header shows
// that a proxy is in the path.

#include "fake-cas/encoding.hpp"
#include "fake-cas/request_context.hpp"
#include "net/http_date.hpp"

#include <chrono>

namespace gatehouse::fake_cas {

namespace {

std::string realm_of(const request_context& ctx) {
    const auto& c = ctx.cfg();
    return c.basic_realm.empty() ? std::string(ctx.host()) : c.basic_realm;
}

std::string_view scheme_name(auth_scheme s) {
    switch (s) {
        case auth_scheme::negotiate:
            return "Negotiate";
        case auth_scheme::ntlm:
            return "NTLM";
        case auth_scheme::basic:
            return "Basic";
    }
    return "";
}

bool allows(const std::vector<auth_scheme>& schemes, auth_scheme s) {
    return std::find(schemes.begin(), schemes.end(), s) != schemes.end();
}

// Notes the identity a request carried; flags the request when it reveals sharing.
void carried(request_context& ctx, std::string_view identity) {
    if (ctx.srv.obs().identity_seen(ctx.conn.id, identity)) ctx.identity_mismatch = true;
}

bool verify_password(const request_context& ctx, std::string_view user, std::string_view password) {
    if (ctx.cfg().auth == auth_mode::accept_any) return !normalize_user(user).empty();
    return ctx.srv.farm().users.check_password(user, password);
}

// A per-request challenge on a connection-bound scheme: IIS does this when a proxy announces
// itself with Via, and with authPersistSingleRequest (ntlm_binding = request).
bool per_request(const request_context& ctx) {
    const auto& c = ctx.cfg();
    if (c.binding == ntlm_binding::request) return true;
    return c.via_forces_per_request && ctx.header("Via").has_value();
}

}  // namespace

std::optional<std::pair<std::string, std::string>> basic_credentials(const request_context& ctx) {
    auto h = ctx.header("Authorization");
    if (!h || h->size() < 6 || !net::iequals(h->substr(0, 6), "Basic ")) return std::nullopt;
    auto decoded = base64_decode(h->substr(6));
    if (!decoded) return std::nullopt;
    std::string pair(decoded->begin(), decoded->end());
    auto colon = pair.find(':');
    if (colon == std::string::npos) return std::nullopt;
    return std::pair{pair.substr(0, colon), pair.substr(colon + 1)};
}

void challenge(request_context& ctx, const std::vector<auth_scheme>& schemes) {
    ctx.res.status = 401;
    for (auto s : schemes) {
        if (s == auth_scheme::basic)
            ctx.res.fields.add("WWW-Authenticate", "Basic realm=\"" + realm_of(ctx) + "\"");
        else
            ctx.res.fields.add("WWW-Authenticate", scheme_name(s));
    }
    ctx.res_body.clear();
}

bool authenticate(request_context& ctx, const std::vector<auth_scheme>& schemes) {
    auto& conn = ctx.conn;
    if (schemes.empty()) return true;
    if (auto identity = ctx.header("X-User-Identity")) carried(ctx, *identity);
    auto header = ctx.header("Authorization");
    if (!header) {
        if (!conn.user.empty() && !per_request(ctx)) {
            ctx.user = conn.user;
            ctx.scheme = conn.scheme;
            return true;
        }
        challenge(ctx, schemes);
        return false;
    }
    auto space = header->find(' ');
    auto scheme = header->substr(0, space);
    auto token = space == std::string_view::npos ? std::string_view{} : header->substr(space + 1);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);

    if (net::iequals(scheme, "Basic") && allows(schemes, auth_scheme::basic)) {
        // Basic is checked on every request; the last good header is remembered so a keep-alive
        // client does not pay for decoding each time.
        if (*header == conn.basic_header && !conn.basic_user.empty()) {
            ctx.user = conn.basic_user;
        } else {
            auto creds = basic_credentials(ctx);
            if (!creds || !verify_password(ctx, creds->first, creds->second)) {
                challenge(ctx, schemes);
                return false;
            }
            conn.basic_header.assign(*header);
            conn.basic_user = creds->first;
            ctx.user = creds->first;
            carried(ctx, ctx.user);
            // Basic authenticates each request, but the connection record shows who used it
            // (unless NTLM bound the connection to someone).
            if (conn.user.empty() && conn.recorded_user != ctx.user) {
                conn.recorded_user = ctx.user;
                ctx.srv.obs().authenticated(conn.id, ctx.user, "Basic");
            }
        }
        ctx.scheme = "Basic";
        return true;
    }

    bool ntlm = net::iequals(scheme, "NTLM") && allows(schemes, auth_scheme::ntlm);
    bool negotiate = net::iequals(scheme, "Negotiate") && allows(schemes, auth_scheme::negotiate);
    if (!ntlm && !negotiate) {
        challenge(ctx, schemes);
        return false;
    }
    auto raw = base64_decode(token);
    if (!raw) {
        challenge(ctx, schemes);
        return false;
    }
    bool spnego = false;
    bytes message = std::move(*raw);
    if (negotiate && ntlm_message_type(message) == 0) {
        // SPNEGO: NTLMSSP inside is accepted like NTLM; a Kerberos ticket ("YII…") is not,
        // since the fake has no KDC.
        auto inner = unwrap_spnego_ntlm(message);
        if (!inner) {
            challenge(ctx, schemes);
            return false;
        }
        message = std::move(*inner);
        spnego = true;
    }
    const auto& c = ctx.cfg();
    const auto& users = ctx.srv.farm().users;
    ntlm_challenge_params params;
    random_bytes(params.server_challenge);
    params.nb_domain = users.ad_domain();
    params.nb_computer = c.netbios;
    params.dns_domain = users.dns_domain();
    params.dns_computer = c.fqdn;
    params.filetime = to_filetime(std::chrono::system_clock::now());
    auto result = conn.ntlm.on_token(message, params, std::chrono::steady_clock::now(),
                                     ctx.snap->s(c.challenge_ttl_s));
    auto name = negotiate ? std::string("Negotiate") : std::string("NTLM");
    switch (result.kind) {
        case ntlm_handshake::outcome::challenge: {
            ctx.res.status = 401;
            auto token_out = spnego ? spnego_response(result.token) : result.token;
            ctx.res.fields.add("WWW-Authenticate", name + " " + base64_encode(token_out));
            ctx.srv.obs().ntlm_handshake(conn.id);
            // The handshake restarts the connection's identity.
            return false;
        }
        case ntlm_handshake::outcome::authenticate: {
            const auto& a = result.auth;
            bool ok = !a.user.empty();
            if (ok && c.auth == auth_mode::verify) {
                auto password = users.password_of(a.user);
                ok = password && verify_ntlm_v2(a, *password, result.server_challenge);
            }
            if (!ok) {
                challenge(ctx, schemes);
                return false;
            }
            std::string identity = a.domain.empty() ? a.user : a.domain + "\\" + a.user;
            ctx.user = identity;
            ctx.scheme = name;
            carried(ctx, identity);
            if (!per_request(ctx)) {
                conn.user = identity;
                conn.scheme = name;
                ctx.srv.obs().authenticated(conn.id, identity, name);
            }
            if (spnego)
                ctx.www_authenticate_final =
                    "Negotiate " + base64_encode(spnego_accept_completed());
            return true;
        }
        case ntlm_handshake::outcome::reject:
            break;
    }
    challenge(ctx, schemes);
    return false;
}

}  // namespace gatehouse::fake_cas
