#include "load/connector.hpp"

#include "load/errors.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <openssl/ssl.h>

namespace gatehouse::load {

std::vector<tcp::endpoint> resolve_target(const target_options& target) {
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    error_code ec;
    auto results = resolver.resolve(target.host, target.port, ec);
    if (ec || results.empty())
        throw load_error(exit_code::unreachable,
                         "cannot resolve " + target.host + ":" + target.port + ": " +
                             (ec ? ec.message() : std::string("no addresses")));
    std::vector<tcp::endpoint> out;
    for (const auto& r : results) out.push_back(r.endpoint());
    return out;
}

connector::connector(const target_options& target, std::vector<tcp::endpoint> endpoints)
    : target_(target), endpoints_(std::move(endpoints)) {
    if (target_.server_name.empty()) target_.server_name = target_.host;
    peer_key_ = target_.server_name + ":" + target_.port;
    if (target_.tls) {
        context_ = net::make_client_context(target_.tls_options);
        if (target_.tls_options.session_resumption)
            sessions_ = std::make_unique<net::tls_session_cache>(*context_);
    }
    secure_ = target_.tls;
    if (!secure_ && !endpoints_.empty()) secure_ = endpoints_.front().address().is_loopback();
}

connector::~connector() = default;

namespace {

// The socket and its connect deadline, shared with the timer's handler so a handler that runs
// late finds the state alive.
struct connect_attempt {
    explicit connect_attempt(const asio::any_io_executor& ex) : socket(ex), timer(ex) {}
    tcp::socket socket;
    asio::steady_timer timer;
    bool timed_out = false;
};

}  // namespace

awaitable<connect_result> connector::connect(steady_clock::duration timeout) {
    auto executor = co_await asio::this_coro::executor;
    auto deadline = steady_clock::now() + timeout;
    connect_result result;
    error_code last = asio::error::host_not_found;
    std::shared_ptr<connect_attempt> attempt;
    for (const auto& endpoint : endpoints_) {
        attempt = std::make_shared<connect_attempt>(executor);
        attempt->timer.expires_at(deadline);
        attempt->timer.async_wait([a = attempt](error_code ec) {
            if (ec) return;
            a->timed_out = true;
            error_code ignored;
            a->socket.close(ignored);
        });
        auto [ec] = co_await attempt->socket.async_connect(endpoint, use_nothrow);
        attempt->timer.cancel();
        if (!ec && !attempt->timed_out) {
            last = {};
            break;
        }
        last = attempt->timed_out ? error_code(asio::error::timed_out) : ec;
        if (attempt->timed_out) break;
    }
    if (last) {
        result.failed = last == asio::error::timed_out ? failure::timeout : failure::connect;
        result.ec = last;
        co_return result;
    }
    error_code ignored;
    attempt->socket.set_option(tcp::no_delay(true), ignored);
    if (!target_.tls) {
        result.stream = std::make_unique<net::stream>(std::move(attempt->socket));
        co_return result;
    }
    auto s = std::make_unique<net::stream>(std::move(attempt->socket), *context_);
    s->set_server_name(target_.server_name, target_.tls_options.verify);
    if (sessions_) sessions_->prepare(s->ssl(), peer_key_);
    s->expires_at(deadline);
    auto ec = co_await s->handshake(asio::ssl::stream_base::client);
    s->expires_never();
    if (ec) {
        result.failed = ec == asio::error::timed_out ? failure::timeout : failure::tls;
        result.ec = ec;
        co_return result;
    }
    result.tls_resumed = SSL_session_reused(s->ssl()) == 1;
    result.stream = std::move(s);
    co_return result;
}

}  // namespace gatehouse::load
