#pragma once
// Shared configuration: ARR nodes read one applicationHost.config from a file share and apply
// its changes as they appear; gatehouse-proxy watches its configuration file the same way.
// Every `interval` the file is read; when its bytes differ from the last ones seen, it is
// loaded and applied. A configuration that fails (config_error: parse, validation, a
// certificate) is refused and logged with its JSON path, and the last good one stays; so does a
// file that cannot be read (a share that went away). The same bytes are never tried twice.
//
//   proxy::config_watcher watcher("gatehouse.json", 2s,
//       [](const std::string& p) { return proxy::load_config(p); },
//       [&](proxy::config c) { server.reload(std::move(c)); });
//   watcher.start();

#include "proxy/config.hpp"

#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace gatehouse::proxy {

class config_watcher {
public:
    using load_fn = std::function<config(const std::string& path)>;
    using apply_fn = std::function<void(config)>;  // throws config_error to refuse

    enum class outcome { unchanged, applied, refused, unreadable };

    // The file's current bytes count as seen (the running configuration came from them).
    config_watcher(std::string path, milliseconds interval, load_fn load, apply_fn apply);
    ~config_watcher();
    config_watcher(const config_watcher&) = delete;
    config_watcher& operator=(const config_watcher&) = delete;

    void start();
    void stop();
    // One check, now (also what SIGHUP does with `force`: the file is applied even if its bytes
    // were seen before).
    outcome poll(bool force = false);

    std::uint64_t applied() const;
    std::uint64_t refused() const;

private:
    std::optional<std::string> read() const;

    std::string path_;
    milliseconds interval_;
    load_fn load_;
    apply_fn apply_;
    mutable std::mutex mutex_;  // one poll at a time; guards the fields below
    std::optional<std::string> seen_;
    bool unreadable_logged_ = false;
    std::uint64_t applied_ = 0;
    std::uint64_t refused_ = 0;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace gatehouse::proxy
