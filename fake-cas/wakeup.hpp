#pragma once
// Parking a long poll (EAS Ping, MAPI NotificationWait, EWS streaming, the RPC OUT channel) until
// something happens: an event injected from any thread, a deadline, or the client going away.

#include "net/awaitable.hpp"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace gatehouse::fake_cas {

enum class wake_reason { notified, deadline, peer_closed };

// Created on the waiting coroutine's executor; notify() may be called from any thread, before or
// during a wait (a notification is never lost: it stays pending until the next wait takes it).
class wakeup {
public:
    explicit wakeup(asio::any_io_executor executor);
    void notify();
    // Waits until notified, `deadline`, or, when `watch` is given, until the peer closes or
    // resets that socket. Data arriving on `watch` is left unread and stops the watching.
    awaitable<wake_reason> wait(steady_clock::time_point deadline, tcp::socket* watch = nullptr);

private:
    struct state {
        explicit state(asio::any_io_executor ex) : executor(ex), timer(ex) {}
        asio::any_io_executor executor;
        asio::steady_timer timer;
        std::atomic<bool> pending{false};
    };
    std::shared_ptr<state> state_;
};

// Events injected by user ("jdoe") for one protocol: payloads queue per user until a waiter of
// that user takes them; every waiter of the user is woken. Thread-safe.
class event_hub {
public:
    // Queues `payload` for `user` ("*": every user with a waiter) and wakes their waiters.
    // Returns how many waiters were woken.
    std::size_t inject(const std::string& user, const std::string& payload);
    // Takes every payload queued for `user`.
    std::vector<std::string> take(const std::string& user);
    bool has_pending(const std::string& user) const;

    // Keeps `w` registered for `user` while the returned token lives.
    class registration {
    public:
        registration(event_hub& hub, std::string user, std::shared_ptr<wakeup> w);
        ~registration();
        registration(const registration&) = delete;
        registration& operator=(const registration&) = delete;

    private:
        event_hub& hub_;
        std::string user_;
        std::shared_ptr<wakeup> wakeup_;
    };
    std::size_t waiters() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::vector<std::string>> pending_;
    std::map<std::string, std::set<std::shared_ptr<wakeup>>> waiters_;
};

}  // namespace gatehouse::fake_cas
