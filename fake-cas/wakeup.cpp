#include "fake-cas/wakeup.hpp"

#include "fake-cas/encoding.hpp"

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>

namespace gatehouse::fake_cas {

wakeup::wakeup(asio::any_io_executor executor) : state_(std::make_shared<state>(executor)) {}

void wakeup::notify() {
    state_->pending.store(true);
    // The timer belongs to the waiter's executor: cancel it there.
    asio::post(state_->executor, [s = state_] { s->timer.cancel(); });
}

awaitable<wake_reason> wakeup::wait(steady_clock::time_point deadline, tcp::socket* watch) {
    using namespace asio::experimental::awaitable_operators;
    auto s = state_;  // the frame keeps the state alive
    for (;;) {
        if (s->pending.exchange(false)) co_return wake_reason::notified;
        if (steady_clock::now() >= deadline) co_return wake_reason::deadline;
        s->timer.expires_at(deadline);
        if (watch && watch->is_open()) {
            auto which = co_await (s->timer.async_wait(use_nothrow) ||
                                   watch->async_wait(tcp::socket::wait_read, use_nothrow));
            if (which.index() == 1) {
                char c;
                error_code ec;
                auto n = watch->receive(asio::buffer(&c, 1), tcp::socket::message_peek, ec);
                if (ec || n == 0) co_return wake_reason::peer_closed;
                watch = nullptr;  // the client sent data: stop watching, keep waiting
            }
        } else {
            co_await s->timer.async_wait(use_nothrow);
        }
    }
}

std::size_t event_hub::inject(const std::string& user, const std::string& payload) {
    std::vector<std::shared_ptr<wakeup>> wake;
    {
        std::lock_guard lock(mutex_);
        if (user == "*") {
            for (auto& [name, set] : waiters_) {
                if (set.empty()) continue;
                pending_[name].push_back(payload);
                wake.insert(wake.end(), set.begin(), set.end());
            }
        } else {
            auto key = normalize_user(user);
            pending_[key].push_back(payload);
            if (auto it = waiters_.find(key); it != waiters_.end())
                wake.assign(it->second.begin(), it->second.end());
        }
    }
    for (auto& w : wake) w->notify();
    return wake.size();
}

std::vector<std::string> event_hub::take(const std::string& user) {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(normalize_user(user));
    if (it == pending_.end()) return {};
    auto out = std::move(it->second);
    pending_.erase(it);
    return out;
}

bool event_hub::has_pending(const std::string& user) const {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(normalize_user(user));
    return it != pending_.end() && !it->second.empty();
}

std::size_t event_hub::waiters() const {
    std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (auto& [name, set] : waiters_) n += set.size();
    return n;
}

event_hub::registration::registration(event_hub& hub, std::string user, std::shared_ptr<wakeup> w)
    : hub_(hub), user_(normalize_user(user)), wakeup_(std::move(w)) {
    std::lock_guard lock(hub_.mutex_);
    hub_.waiters_[user_].insert(wakeup_);
}

event_hub::registration::~registration() {
    std::lock_guard lock(hub_.mutex_);
    auto it = hub_.waiters_.find(user_);
    if (it == hub_.waiters_.end()) return;
    it->second.erase(wakeup_);
    if (it->second.empty()) hub_.waiters_.erase(it);
}

}  // namespace gatehouse::fake_cas
