#include "scenarios/recording_backend.hpp"

#include "scenarios/request_framer.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/asio/post.hpp>
#include <mutex>
#include <set>

namespace gatehouse::scenarios {

// Shared between the back end's thread and its readers.
struct recording_backend::state {
    explicit state(asio::io_context& context)
        : acceptor(context, {asio::ip::make_address("127.0.0.1"), 0}) {}

    tcp::acceptor acceptor;
    mutable std::mutex mutex;
    std::string log;              // every byte received, all connections, in arrival order
    std::size_t log_dropped = 0;  // bytes before log[0] (the log keeps its last 64 MiB)
    std::uint64_t requests = 0;
    std::size_t busy = 0;         // connections holding part of a request
    std::size_t connections = 0;
    std::set<tcp::socket*> sockets;  // open connections (the back end's thread only)

    static constexpr std::size_t log_capacity = 64u << 20;

    void append(std::string_view bytes) {
        log.append(bytes);
        if (log.size() > log_capacity) {
            auto drop = log.size() - log_capacity / 2;
            log.erase(0, drop);
            log_dropped += drop;
        }
    }
};

namespace {

constexpr std::string_view answer =
    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok";

awaitable<void> serve(std::shared_ptr<recording_backend::state> s, tcp::socket socket) {
    s->sockets.insert(&socket);
    request_framer framer;
    bool was_busy = false;
    std::array<char, 16 * 1024> buffer;
    for (;;) {
        auto [ec, n] = co_await socket.async_read_some(asio::buffer(buffer), use_nothrow);
        if (ec) break;
        unsigned completed = framer.feed({buffer.data(), n});
        {
            std::lock_guard lock(s->mutex);
            s->append({buffer.data(), n});
            s->requests += completed;
            bool busy = !framer.idle() && !framer.broken();
            if (busy != was_busy) {
                if (busy) ++s->busy;
                else --s->busy;
                was_busy = busy;
            }
        }
        for (unsigned i = 0; i < completed; ++i) {
            auto [wec, written] = co_await asio::async_write(socket, asio::buffer(answer),
                                                             use_nothrow);
            if (wec) break;
        }
        if (framer.broken()) break;
    }
    s->sockets.erase(&socket);
    std::lock_guard lock(s->mutex);
    if (was_busy) --s->busy;
    --s->connections;
}

awaitable<void> accept_loop(std::shared_ptr<recording_backend::state> s) {
    for (;;) {
        auto [ec, socket] = co_await s->acceptor.async_accept(use_nothrow);
        if (ec == asio::error::operation_aborted || !s->acceptor.is_open()) co_return;
        if (ec) continue;  // a connection that died in the queue
        {
            std::lock_guard lock(s->mutex);
            ++s->connections;
        }
        asio::co_spawn(s->acceptor.get_executor(), serve(s, std::move(socket)), asio::detached);
    }
}

}  // namespace

recording_backend::recording_backend()
    : context_(std::make_unique<asio::io_context>()),
      state_(std::make_shared<state>(*context_)) {}

recording_backend::~recording_backend() { stop(); }

void recording_backend::start() {
    asio::co_spawn(*context_, accept_loop(state_), asio::detached);
    thread_ = std::thread([context = context_.get()] { context->run(); });
}

void recording_backend::stop() {
    if (!thread_.joinable()) return;
    // Closing everything on the back end's thread lets every coroutine end; run() then returns.
    asio::post(*context_, [s = state_] {
        error_code ignored;
        s->acceptor.close(ignored);
        for (auto* socket : s->sockets) socket->close(ignored);
    });
    thread_.join();
}

tcp::endpoint recording_backend::endpoint() const { return state_->acceptor.local_endpoint(); }

recording_backend::mark recording_backend::now() const {
    std::lock_guard lock(state_->mutex);
    return {state_->log_dropped + state_->log.size(), state_->requests};
}

recording_backend::received recording_backend::since(mark m) const {
    std::lock_guard lock(state_->mutex);
    received r;
    auto from = m.bytes > state_->log_dropped ? m.bytes - state_->log_dropped : 0;
    if (from < state_->log.size()) r.bytes = state_->log.substr(from);
    r.requests = state_->requests - m.requests;
    return r;
}

bool recording_backend::idle() const {
    std::lock_guard lock(state_->mutex);
    return state_->busy == 0;
}

std::size_t recording_backend::connections() const {
    std::lock_guard lock(state_->mutex);
    return state_->connections;
}

}  // namespace gatehouse::scenarios
