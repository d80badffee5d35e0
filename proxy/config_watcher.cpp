#include "proxy/config_watcher.hpp"

#include "net/log.hpp"

#include <fstream>
#include <sstream>

namespace gatehouse::proxy {

config_watcher::config_watcher(std::string path, milliseconds interval, load_fn load,
                               apply_fn apply)
    : path_(std::move(path)),
      interval_(interval),
      load_(std::move(load)),
      apply_(std::move(apply)) {
    seen_ = read();
}

config_watcher::~config_watcher() {
    stop();
}

std::optional<std::string> config_watcher::read() const {
    std::ifstream in(path_, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream out;
    out << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return std::move(out).str();
}

config_watcher::outcome config_watcher::poll(bool force) {
    std::lock_guard lock(mutex_);
    auto bytes = read();
    if (!bytes) {
        if (!unreadable_logged_) {
            GATEHOUSE_LOG(warning, "proxy")
                << path_ << ": cannot be read; the last good configuration stays";
        }
        unreadable_logged_ = true;
        return outcome::unreadable;
    }
    unreadable_logged_ = false;
    if (!force && seen_ && *seen_ == *bytes) return outcome::unchanged;
    seen_ = std::move(bytes);
    try {
        apply_(load_(path_));
    } catch (const std::exception& e) {
        // config_error names the file and the JSON path; anything else is a failure to load.
        ++refused_;
        GATEHOUSE_LOG(error, "proxy") << "configuration change refused: " << e.what();
        return outcome::refused;
    }
    ++applied_;
    GATEHOUSE_LOG(info, "proxy") << path_ << ": configuration change applied";
    return outcome::applied;
}

void config_watcher::start() {
    thread_ = std::thread([this] {
        std::unique_lock lock(mutex_);
        while (!stopping_) {
            wake_.wait_for(lock, interval_, [this] { return stopping_; });
            if (stopping_) break;
            lock.unlock();
            poll();
            lock.lock();
        }
    });
}

void config_watcher::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

std::uint64_t config_watcher::applied() const {
    std::lock_guard lock(mutex_);
    return applied_;
}

std::uint64_t config_watcher::refused() const {
    std::lock_guard lock(mutex_);
    return refused_;
}

}  // namespace gatehouse::proxy
