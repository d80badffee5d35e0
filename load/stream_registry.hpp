#pragma once
// The open streams and pending pauses of one worker, so that the end of a run can close every
// connection at once (long polls and held channels included), wake every pause, and let the
// coroutines waiting on them finish. Used on the worker's thread only.

#include "net/stream.hpp"

#include <unordered_set>

#include <boost/asio/steady_timer.hpp>

namespace gatehouse::load {

class stream_registry {
public:
    // After close_all(), a stream added is closed at once: nothing outlives the run.
    void add(net::stream* s) {
        if (closed_) s->close();
        streams_.insert(s);
    }
    void remove(net::stream* s) { streams_.erase(s); }
    void add(asio::steady_timer* t) {
        if (closed_) t->cancel();
        timers_.insert(t);
    }
    void remove(asio::steady_timer* t) { timers_.erase(t); }
    void close_all() {
        closed_ = true;
        for (auto* s : streams_) s->close();
        for (auto* t : timers_) t->cancel();
    }
    bool closed() const noexcept { return closed_; }
    std::size_t size() const noexcept { return streams_.size(); }

private:
    std::unordered_set<net::stream*> streams_;
    std::unordered_set<asio::steady_timer*> timers_;
    bool closed_ = false;
};

}  // namespace gatehouse::load
