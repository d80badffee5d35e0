// Shared configuration against the fake CAS fleet: a watched file changed under continuous
// traffic without one failed request, a bad change refused without effect, an unreadable file
// keeping the last good configuration, and NTLM-pinned connections surviving a reload.

#include "proxy/config_watcher.hpp"
#include "tests/integration/proxy_ops_fixture.hpp"

#include <atomic>
#include <filesystem>
#include <fstream>

namespace gatehouse::test {
namespace {

using fake_cas::testing::ntlm_roundtrip;

class ProxyReload : public ProxyOpsTest {
protected:
    void TearDown() override {
        if (watcher_) watcher_->stop();
        ProxyOpsTest::TearDown();
        std::filesystem::remove_all(dir_);
    }

    // Writes the file whole (a rename), as a deployment tool would.
    void write(const std::string& text) {
        auto tmp = dir_ / "gatehouse.json.tmp";
        std::ofstream(tmp) << text;
        std::filesystem::rename(tmp, path_);
    }

    void watch(const std::string& initial) {
        std::filesystem::create_directories(dir_);
        write(initial);
        start_proxy(initial);
        watcher_ = std::make_unique<proxy::config_watcher>(
            path_.string(), 10ms, [](const std::string& p) { return proxy::load_config(p); },
            [this](proxy::config c) { proxy().reload(std::move(c)); });
        watcher_->start();
    }

    std::filesystem::path dir_ = std::filesystem::temp_directory_path() /
                                 ("gatehouse-reload-" + std::to_string(::getpid()) + "-" +
                                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::path path_ = dir_ / "gatehouse.json";
    std::unique_ptr<proxy::config_watcher> watcher_;
};

// Sends requests until `stop`, on new and kept-alive connections; counts responses the proxy
// failed (502/503) and transport failures.
void traffic(tcp::endpoint ep, std::atomic<bool>* stop, std::atomic<int>* sent,
             std::atomic<int>* failed) {
    while (!stop->load()) {
        try {
            test_client c(ep);
            for (int i = 0; i < 5 && !stop->load(); ++i) {
                auto r = c.roundtrip(make_request("GET", i % 2 ? "/owa/" : "/ews/HealthCheck.htm"));
                ++*sent;
                if (r.result_int() == 502 || r.result_int() == 503) ++*failed;
            }
        } catch (const std::exception&) {
            ++*failed;
        }
    }
}

TEST_F(ProxyReload, WatchedFileChangesUnderTrafficFailNoRequest) {
    start_fleet(2);
    watch(config_json());
    std::atomic<bool> stop{false};
    std::atomic<int> sent{0}, failed{0};
    std::thread a(traffic, http(), &stop, &sent, &failed);
    std::thread b(traffic, http(), &stop, &sent, &failed);
    for (int round = 1; round <= 5; ++round) {
        // Each change moves weight between the servers and changes the owa farm's algorithm.
        std::string owa = round % 2 ? R"(, "load_balancing": { "algorithm": "least_requests" })"
                                    : "";
        auto text = config_json(owa, ", \"stop_timeout_ms\": " + std::to_string(1000 + round));
        text.replace(text.find("\"stop_timeout_ms\": 2000,"), 24, "");
        write(text);
        ASSERT_TRUE(eventually([&] { return watcher_->applied() == static_cast<unsigned>(round); }))
            << "round " << round;
        auto before = sent.load();
        ASSERT_TRUE(eventually([&] { return sent.load() > before + 5; }));
    }
    stop = true;
    a.join();
    b.join();
    EXPECT_EQ(watcher_->refused(), 0u);
    EXPECT_GT(sent.load(), 50);
    EXPECT_EQ(failed.load(), 0);
}

TEST_F(ProxyReload, BadChangeIsRefusedWithoutEffectAndAnUnreadableFileKeepsTheLastGood) {
    start_fleet(2);
    watch(config_json());
    // A drained server and a typo: the whole change is refused, the drain included.
    auto bad = config_json();
    auto first_server = bad.find("[ { \"address\"");  // the owa farm's first server
    bad.insert(first_server + 3, " \"state\": \"drain\", \"wieght\": 5,");
    write(bad);
    ASSERT_TRUE(eventually([&] { return watcher_->refused() == 1; }));
    EXPECT_EQ(watcher_->poll(), proxy::config_watcher::outcome::unchanged);  // tried once only
    auto s = proxy().stats();
    EXPECT_EQ(s.farm("owa")->servers[0].state, proxy::availability::available);
    EXPECT_EQ(get(http(), "/owa/").result_int(), 302);

    std::filesystem::remove(path_);
    EXPECT_EQ(watcher_->poll(), proxy::config_watcher::outcome::unreadable);
    EXPECT_EQ(get(http(), "/owa/").result_int(), 302);

    // A good change after all that is applied.
    auto good = config_json();
    good.insert(good.find("[ { \"address\"") + 3, " \"state\": \"drain\",");
    write(good);
    ASSERT_TRUE(eventually([&] { return watcher_->applied() == 1; }));
    EXPECT_EQ(proxy().stats().farm("owa")->servers[0].state, proxy::availability::drain);
}

TEST_F(ProxyReload, NtlmPinnedConnectionSurvivesAReload) {
    start_fleet(2);
    start_proxy(config_json());
    test_client c(http());
    auto first = ntlm_roundtrip(c, make_request("GET", "/EWS/Exchange.asmx"), "jdoe", "CONTOSO",
                                "P@ssw0rd");
    ASSERT_EQ(first.result_int(), 200);
    const auto server = answered_by(first);
    // A new configuration: other weights, another algorithm for the ews farm.
    auto changed = config_json();
    auto ews = changed.find("\"ews\": {");
    changed.insert(ews + 8, R"( "load_balancing": { "algorithm": "least_requests" },)");
    proxy().reload(proxy::parse_config(changed, "test.json"));
    for (int i = 0; i < 3; ++i) {
        // No Authorization: the back-end connection is still the authenticated one.
        auto r = c.roundtrip(make_request("GET", "/EWS/Exchange.asmx"));
        EXPECT_EQ(r.result_int(), 200);
        EXPECT_EQ(answered_by(r), server);
    }
    std::size_t index = server == "EX01" ? 0 : 1;
    EXPECT_EQ(fleet_->server(index).observations().identity_mismatches, 0u);
}

}  // namespace
}  // namespace gatehouse::test
