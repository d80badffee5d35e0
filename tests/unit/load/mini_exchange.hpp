#pragma once
// A small loopback Exchange front end for the load generator's tests, so the client profiles
// run against real sockets: NTLM (connection-bound, NTLMv2 verified), Basic, OWA forms logon
// with cadata cookies and the canary, EWS SOAP with 100-continue, autodiscover, ActiveSync
// (OPTIONS, FolderSync, Sync, Ping held to its time-scaled heartbeat), MAPI/HTTP with its
// cookies and meta-tags, and an RPC over HTTP proxy pairing IN and OUT channels by their
// virtual-connection cookie and echoing RPC PDUs. It runs on a thread of its own.

#include "net/awaitable.hpp"
#include "net/certificate.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>

namespace gatehouse::test {

class mini_exchange {
public:
    struct options {
        std::string password = "P@ssw0rd";   // every user's
        double time_scale = 0.01;            // Ping heartbeats and MAPI waits are scaled
        std::chrono::milliseconds delay{0};  // added before every response
        bool tls = false;                    // serve HTTPS with a certificate from authority()
        bool send_continue = true;           // answer Expect: 100-continue (IIS does)
    };

    mini_exchange();
    explicit mini_exchange(options o);
    ~mini_exchange();

    tcp::endpoint endpoint() const { return endpoint_; }
    // "METHOD target" of every request, in arrival order (auth legs included).
    std::vector<std::string> requests() const;
    // How many connections completed NTLM, and how many Type 3 messages failed verification.
    unsigned ntlm_authenticated() const { return ntlm_ok_; }
    unsigned ntlm_failed() const { return ntlm_failed_; }
    unsigned rpc_pairs() const { return rpc_pairs_; }
    unsigned rpc_echoes() const { return rpc_echoes_; }
    unsigned continues_sent() const { return continues_; }
    unsigned tls_handshakes() const { return tls_handshakes_; }
    unsigned tls_resumed() const { return tls_resumed_; }
    // The authority that signed the TLS certificate (for mail.contoso.com and 127.0.0.1).
    const net::certificate& authority() const { return authority_; }

    struct connection;  // one client connection (defined in the .cpp)

private:
    awaitable<void> accept_loop();
    awaitable<void> serve(std::shared_ptr<connection> c);
    void log(std::string line);

    options options_;
    asio::io_context ioc_;
    tcp::acceptor acceptor_;
    tcp::endpoint endpoint_;
    std::thread thread_;
    mutable std::mutex mutex_;
    std::vector<std::string> log_;
    std::map<std::string, std::shared_ptr<connection>> waiting_out_;  // by VC cookie
    std::atomic<unsigned> ntlm_ok_{0}, ntlm_failed_{0}, rpc_pairs_{0}, rpc_echoes_{0};
    std::atomic<unsigned> continues_{0}, tls_handshakes_{0}, tls_resumed_{0};
    net::certificate authority_;
    std::unique_ptr<asio::ssl::context> tls_;

    friend struct handler;
};

}  // namespace gatehouse::test
