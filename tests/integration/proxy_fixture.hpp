#pragma once
// Runs gatehouse::proxy in-process (one worker thread unless asked) in front of scripted back
// ends on loopback. Configurations are written as JSON, the way an admin writes them, with
// ${NAME} placeholders for the back ends' ports.

#include "proxy/proxy_server.hpp"
#include "tests/support/fake_backend.hpp"
#include "tests/support/test_client.hpp"

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace gatehouse::test {

class ProxyTest : public ::testing::Test {
protected:
    void TearDown() override {
        if (proxy_) proxy_->stop(std::chrono::milliseconds(200));
    }

    // Replaces each ${NAME} by the value given.
    static std::string substitute(std::string json,
                                  const std::map<std::string, std::string>& values) {
        for (const auto& [name, value] : values) {
            std::string key = "${" + name + "}";
            for (auto at = json.find(key); at != std::string::npos; at = json.find(key, at))
                json.replace(at, key.size(), value);
        }
        return json;
    }

    // Starts the proxy on `json` (after substitution). Listeners are named "http" / "https".
    void start(const std::string& json, const std::map<std::string, std::string>& values = {},
               unsigned threads = 1) {
        auto c = proxy::parse_config(substitute(json, values), "test.json");
        start(std::move(c), threads);
    }

    void start(proxy::config c, unsigned threads = 1) {
        proxy::server_options options;
        options.threads = threads;
        options.source = "test.json";
        options.access_log = [this](std::string_view lines) {
            std::lock_guard lock(log_mutex_);
            log_ += lines;
        };
        proxy_ = std::make_unique<proxy::proxy_server>(std::move(c), options);
        proxy_->start();
    }

    tcp::endpoint http() const { return proxy_->endpoint("http"); }
    tcp::endpoint https() const { return proxy_->endpoint("https"); }

    // Stops the proxy (flushing the access log) and returns the log's request lines.
    std::vector<std::string> stop_and_read_log() {
        proxy_->stop(std::chrono::milliseconds(200));
        std::lock_guard lock(log_mutex_);
        std::vector<std::string> lines;
        std::size_t pos = 0;
        while (pos < log_.size()) {
            auto end = log_.find("\r\n", pos);
            auto line = log_.substr(pos, end - pos);
            if (!line.starts_with("#")) lines.push_back(line);
            pos = end + 2;
        }
        return lines;
    }

    std::unique_ptr<proxy::proxy_server> proxy_;
    std::mutex log_mutex_;
    std::string log_;
};

// A back end that answers every request with 200 and `body` (keep-alive).
inline fake_backend::script answer(std::string body,
                                   std::vector<std::pair<std::string, std::string>> headers = {}) {
    return [body = std::move(body), headers = std::move(headers)](backend_connection& c) {
        while (auto req = c.read_request()) c.respond(200, body, headers);
    };
}

// Splits a W3C log line into its fields.
inline std::vector<std::string> fields_of(const std::string& line) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos <= line.size()) {
        auto end = line.find(' ', pos);
        if (end == std::string::npos) end = line.size();
        out.push_back(line.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

// Field positions in our #Fields line.
namespace log_field {
inline constexpr std::size_t method = 3, stem = 4, query = 5, status = 10, substatus = 11,
                             win32 = 12, farm = 16, server = 17, request_id = 18;
}

}  // namespace gatehouse::test
