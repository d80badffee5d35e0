#include "fake-cas/server.hpp"

#include "fake-cas/encoding.hpp"
#include "net/log.hpp"
#include "net/tls.hpp"

#include <future>
#include <random>

#include <boost/asio/post.hpp>

namespace gatehouse::fake_cas {

namespace {

std::shared_ptr<const server_snapshot> make_snapshot(const farm_state& farm, server_config c) {
    auto s = std::make_shared<server_snapshot>();
    s->time_scale = farm.time_scale;
    s->fba = fba_key::derive(farm.farm_secret, c.owa.fba_key_id);
    s->canary_secret = c.owa.canary_scope == scope::farm
                           ? farm.farm_secret + "|canary"
                           : farm.farm_secret + "|canary|" + to_upper(c.netbios);
    s->cookie_secret = farm.farm_secret + "|cookies";
    s->health_body =
        "200 OK<br/>" + (c.at(vdir::owa).health.fqdn_upper ? to_upper(c.fqdn) : to_lower(c.fqdn));
    s->config = std::move(c);
    return s;
}

awaitable<void> accept_loop(server* srv, std::shared_ptr<tcp::acceptor> acceptor) {
    for (;;) {
        auto& worker = srv->next_worker();
        auto [ec, socket] = co_await acceptor->async_accept(worker, use_nothrow);
        if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
        if (ec) {
            // EMFILE and friends: back off briefly rather than spin.
            GATEHOUSE_LOG(warning, "fake-cas") << srv->name() << ": accept: " << ec.message();
            asio::steady_timer pause(acceptor->get_executor(), std::chrono::milliseconds(50));
            co_await pause.async_wait(use_nothrow);
            continue;
        }
        asio::co_spawn(worker, run_connection(*srv, std::move(socket)), asio::detached);
    }
}

}  // namespace

server::server(farm_state& farm, server_config config, const fleet_config& fleet,
               asio::io_context& acceptor_context, std::vector<asio::io_context*> workers,
               const net::certificate* certificate)
    : farm_(farm),
      name_(config.name),
      acceptor_context_(acceptor_context),
      workers_(std::move(workers)),
      obs_(fleet.request_log_capacity, fleet.closed_connections_kept) {
    BOOST_ASSERT(!workers_.empty());
    for (const auto& [component, requesters] : config.inactive_components)
        for (const auto& r : requesters) components_.set(component, r, false);
    if (config.tls.enabled) {
        BOOST_ASSERT(certificate != nullptr);
        certificate_ = std::make_unique<net::certificate>(*certificate);
        tls_context_ = net::make_server_context(*certificate_);
    }
    snapshot_.store(make_snapshot(farm_, std::move(config)));
}

server::~server() = default;

void server::set_config(server_config config) {
    snapshot_.store(make_snapshot(farm_, std::move(config)));
}

bool server::set_component(std::string_view component, std::string_view requester, bool active) {
    std::lock_guard lock(components_mutex_);
    return components_.set(component, requester, active);
}

bool server::component_active(vdir v) const {
    std::lock_guard lock(components_mutex_);
    return components_.is_active(v);
}

component_states server::components() const {
    std::lock_guard lock(components_mutex_);
    return components_;
}

std::uint64_t server::next_probe(vdir v) {
    return probes_[static_cast<std::size_t>(v)].fetch_add(1, std::memory_order_relaxed) + 1;
}

asio::io_context& server::next_worker() {
    return *workers_[next_worker_.fetch_add(1, std::memory_order_relaxed) % workers_.size()];
}

void server::open_acceptor() {
    auto cfg = snapshot();
    tcp::endpoint ep =
        endpoint_.port() != 0
            ? endpoint_
            : tcp::endpoint(asio::ip::make_address(cfg->config.address), cfg->config.port);
    auto acceptor = std::make_shared<tcp::acceptor>(acceptor_context_);
    acceptor->open(ep.protocol());
    acceptor->set_option(asio::socket_base::reuse_address(true));
    acceptor->bind(ep);
    acceptor->listen(asio::socket_base::max_listen_connections);
    endpoint_ = acceptor->local_endpoint();
    acceptor_ = std::move(acceptor);
}

void server::bind() {
    open_acceptor();
    listening_.store(true);
}

void server::start_accepting() {
    asio::co_spawn(acceptor_context_, accept_loop(this, acceptor_), asio::detached);
}

void server::run_on_acceptor(std::function<void()> f) {
    std::promise<void> done;
    auto result = done.get_future();
    asio::post(acceptor_context_, [&] {
        try {
            f();
            done.set_value();
        } catch (...) {
            done.set_exception(std::current_exception());
        }
    });
    if (result.wait_for(std::chrono::seconds(5)) != std::future_status::ready)
        throw std::runtime_error("fake-cas: " + name_ + ": the listener did not respond");
    result.get();
}

void server::stop_listening() {
    run_on_acceptor([this] {
        if (acceptor_) {
            error_code ignored;
            acceptor_->close(ignored);
        }
        listening_.store(false);
    });
}

void server::start_listening() {
    run_on_acceptor([this] {
        if (listening_.load()) return;
        open_acceptor();
        listening_.store(true);
        asio::co_spawn(acceptor_context_, accept_loop(this, acceptor_), asio::detached);
    });
}

void server::release_listener() {
    acceptor_.reset();
    listening_.store(false);
}

std::shared_ptr<const std::string> server::oab_file(const std::string& name, std::size_t size) {
    std::lock_guard lock(oab_mutex_);
    auto key = name + "|" + std::to_string(size);
    auto& slot = oab_files_[key];
    if (!slot) {
        std::string data(size, '\0');
        std::mt19937 engine(static_cast<unsigned>(std::hash<std::string>{}(key)));
        for (auto& c : data) c = static_cast<char>(engine() & 0xff);
        slot = std::make_shared<const std::string>(std::move(data));
    }
    return slot;
}

}  // namespace gatehouse::fake_cas
