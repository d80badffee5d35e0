#pragma once
// Where a load run sends its requests, and how its clients behave on the wire.

#include "load/ntlm.hpp"
#include "net/tls.hpp"

#include <chrono>
#include <string>

namespace gatehouse::load {

struct target_options {
    std::string host{};  // name or address to connect to
    std::string port{};  // port or service name
    bool tls = false;
    std::string host_header{};              // Host header; empty: host[:port]
    std::string server_name{};              // TLS SNI and name to verify; empty: host
    net::client_tls_options tls_options{};  // verify, trust, session resumption

    std::string display() const { return (tls ? "https://" : "http://") + host + ":" + port; }
};

enum class auth_scheme { none, basic, ntlm, negotiate };

struct client_options {
    bool keep_alive = true;  // false: one connection per request (Connection: close)
    std::chrono::milliseconds connect_timeout{5000};
    std::chrono::milliseconds request_timeout{60000};
    // How long to wait for "100 Continue" before sending the body anyway (as .NET and curl do).
    std::chrono::milliseconds expect_wait{1000};
    std::string user_agent{"gatehouse-load/0.1"};
    auth_scheme auth = auth_scheme::none;
};

// The account a virtual user acts as. "{n}" in any field is replaced by the virtual user's
// number (1-based, zero-padded to four digits), so one option names a whole population.
struct credentials {
    std::string domain{"CONTOSO"};
    std::string user{"user{n}"};
    std::string password{"P@ssw0rd"};
    std::string email_domain{"contoso.com"};
};

}  // namespace gatehouse::load
