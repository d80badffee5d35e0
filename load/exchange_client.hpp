#pragma once
// The Exchange client profiles. Each protocol has a client with three actions — logon (the
// session setup a real client performs), task (one user action) and logoff — so a profile can
// run them as a session (logon, `tasks` tasks, logoff) and the user-day mix can spread tasks
// over a simulated day. What each does on the wire is in docs/load.md ("Profiles").

#include "load/workload.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace gatehouse::load {

class exchange_client {
public:
    exchange_client(vu& v, std::string_view profile);
    virtual ~exchange_client() = default;

    virtual awaitable<bool> logon(vu& v) = 0;
    virtual awaitable<bool> task(vu& v) = 0;
    virtual awaitable<bool> logoff(vu& v) = 0;
    // Logon, options().tasks tasks, logoff; stops at the first failure.
    virtual awaitable<bool> session(vu& v);

protected:
    std::uint32_t key(vu& v, std::string_view step) { return v.rec().key_id(step); }
    std::uint32_t profile_;
};

std::unique_ptr<exchange_client> make_owa_client(vu& v);
std::unique_ptr<exchange_client> make_ews_client(vu& v);
std::unique_ptr<exchange_client> make_activesync_client(vu& v);
std::unique_ptr<exchange_client> make_mapi_client(vu& v);
std::unique_ptr<exchange_client> make_outlook_anywhere_client(vu& v);

// The session profiles (owa, ews, activesync, mapi, outlook-anywhere) and the user-day mix.
std::unique_ptr<workload> make_session_workload(const std::string& profile);
std::unique_ptr<workload> make_user_day_workload(const workload_options& options);

// Shared pieces of the clients.
namespace exchange {

// application/x-www-form-urlencoded encoding of a value.
std::string form_encode(std::string_view value);
// POSTs an Outlook autodiscover request (POX) for the user's address as step `key`, asking for
// the MAPI/HTTP section when `mapi_http`. The response body is in v.last().body.
awaitable<bool> autodiscover(vu& v, std::uint32_t profile, std::uint32_t key, bool mapi_http);
// From a POX autodiscover response: the mapiHttp MailStore URL's target, or the EXCH server
// (mailbox GUID@domain) of Outlook Anywhere; empty when absent.
std::string mapi_mail_store(std::string_view xml);
std::string rpc_server(std::string_view xml);
// The auth scheme a protocol uses unless the plan names one.
void default_auth(vu& v, auth_scheme scheme);

}  // namespace exchange

}  // namespace gatehouse::load
