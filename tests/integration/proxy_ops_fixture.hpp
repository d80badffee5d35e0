#pragma once
// The proxy in-process in front of a fake CAS fleet: per-protocol farms with HealthCheck.htm
// tests, as Microsoft's "Option 2" for ARR publishes Exchange. Health intervals are short and
// the fleet runs at time scale 0.01, so a 60 s ActiveSync heartbeat lasts 600 ms.

#include "fake-cas/fleet.hpp"
#include "proxy/proxy_server.hpp"
#include "tests/integration/fake_cas_fixture.hpp"
#include "tests/support/test_client.hpp"

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>

namespace gatehouse::test {

using namespace std::chrono_literals;

// Waits until `done()` holds, polling; false when `limit` passes first.
inline bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit = 5s) {
    auto deadline = steady_clock::now() + limit;
    while (!done()) {
        if (steady_clock::now() >= deadline) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

// The front end (X-FEServer) that answered.
inline std::string answered_by(const response& r) {
    return std::string(r["X-FEServer"]);
}

class ProxyOpsTest : public ::testing::Test {
protected:
    void TearDown() override {
        for (auto& p : proxies_) p->stop(200ms);
        if (fleet_) fleet_->stop();
    }

    void start_fleet(unsigned servers = 2) {
        auto c = fake_cas::default_fleet(servers);
        c.time_scale = 0.01;
        fleet_ = std::make_unique<fake_cas::fleet>(std::move(c));
        fleet_->start();
    }

    // A farm of every fleet server with a health test on `vdir`'s HealthCheck.htm; `extra` is
    // spliced into the farm object (e.g. R"(, "affinity": { "enabled": true })").
    std::string farm(const std::string& name, const std::string& vdir,
                     const std::string& extra = "") const {
        std::string servers;
        for (std::size_t i = 0; i < fleet_->size(); ++i) {
            if (i) servers += ", ";
            servers += R"({ "address": "127.0.0.1", "port": )" +
                       std::to_string(fleet_->server(i).endpoint().port()) + " }";
        }
        return "\"" + name + R"(": { "servers": [ )" + servers + R"( ],
            "health": { "url": "http://)" +
               name + "/" + vdir + R"(/HealthCheck.htm",
                        "interval_ms": 50, "timeout_ms": 1000, "match": "200 OK" })" +
               extra + " }";
    }

    // owa, ews and eas farms routed by path; `owa_extra` goes into the owa farm.
    std::string config_json(const std::string& owa_extra = "", const std::string& top = "") const {
        return R"({ "listeners": { "http": { "address": "127.0.0.1", "port": 0 } },
            "stop_timeout_ms": 2000,
            "farms": { )" +
               farm("owa", "owa", owa_extra) + ", " + farm("ews", "EWS") + ", " +
               farm("eas", "Microsoft-Server-ActiveSync") + R"json( },
            "rules": [
              { "name": "owa", "pattern": "^owa(/|$)",
                "action": { "type": "route", "farm": "owa" } },
              { "name": "ews", "pattern": "^ews/", "action": { "type": "route", "farm": "ews" } },
              { "name": "eas", "pattern": "^Microsoft-Server-ActiveSync",
                "action": { "type": "route", "farm": "eas" }, "timeout_ms": 10000 } ])json" +
               top + " }";
    }

    // `json` without the owa farm's health test (faults injected on owa would fail it).
    static std::string without_owa_health(std::string json) {
        const std::string url = R"("url": "http://owa/owa/HealthCheck.htm")";
        json.replace(json.find(url), url.size(), R"("url": "")");
        return json;
    }

    proxy::proxy_server& start_proxy(const std::string& json, unsigned threads = 1) {
        proxy::server_options options;
        options.threads = threads;
        options.source = "test.json";
        proxies_.push_back(
            std::make_unique<proxy::proxy_server>(proxy::parse_config(json, "test.json"), options));
        proxies_.back()->start();
        return *proxies_.back();
    }

    proxy::proxy_server& proxy(std::size_t i = 0) { return *proxies_.at(i); }
    tcp::endpoint http(std::size_t i = 0) { return proxy(i).endpoint("http"); }

    const proxy::server_stats* server_stats(proxy::proxy_stats& s, const std::string& farm,
                                            std::size_t index) {
        auto* f = s.farm(farm);
        return f && index < f->servers.size() ? &f->servers[index] : nullptr;
    }
    bool healthy(const std::string& farm, std::size_t index, std::size_t proxy_index = 0) {
        auto s = proxy(proxy_index).stats();
        auto* srv = server_stats(s, farm, index);
        return srv && srv->healthy;
    }
    std::string authority(std::size_t index) {
        return "127.0.0.1:" + std::to_string(fleet_->server(index).endpoint().port());
    }

    std::unique_ptr<fake_cas::fleet> fleet_;
    std::vector<std::unique_ptr<proxy::proxy_server>> proxies_;
};

}  // namespace gatehouse::test
