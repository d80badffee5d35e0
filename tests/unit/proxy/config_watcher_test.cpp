#include "proxy/config_watcher.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>

namespace gatehouse::proxy {
namespace {

namespace fs = std::filesystem;
using outcome = config_watcher::outcome;

class ConfigWatcher : public ::testing::Test {
protected:
    void SetUp() override {
        fs::create_directories(dir_);
        write(good(1000));
    }
    void TearDown() override { fs::remove_all(dir_); }

    static std::string good(int stop_timeout_ms) {
        return R"({ "listeners": { "http": { "port": 8080 } }, "stop_timeout_ms": )" +
               std::to_string(stop_timeout_ms) + " }";
    }
    void write(const std::string& text) { std::ofstream(path_) << text; }

    // A watcher whose "apply" records the stop timeouts of the configurations it gets.
    std::unique_ptr<config_watcher> watcher() {
        return std::make_unique<config_watcher>(
            path_.string(), std::chrono::hours(1),
            [](const std::string& p) { return load_config(p); },
            [this](config c) { applied_.push_back(c.stop_timeout.count()); });
    }

    fs::path dir_ = fs::temp_directory_path() /
                    ("gatehouse-watch-" + std::to_string(::getpid()) + "-" +
                     ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::path path_ = dir_ / "gatehouse.json";
    std::vector<long> applied_;
};

TEST_F(ConfigWatcher, TheRunningFileCountsAsSeen) {
    auto w = watcher();
    EXPECT_EQ(w->poll(), outcome::unchanged);
    EXPECT_TRUE(applied_.empty());
}

TEST_F(ConfigWatcher, AppliesAChangedFileOnce) {
    auto w = watcher();
    write(good(2000));
    EXPECT_EQ(w->poll(), outcome::applied);
    EXPECT_EQ(w->poll(), outcome::unchanged);
    EXPECT_EQ(applied_, std::vector<long>{2000});
    EXPECT_EQ(w->applied(), 1u);
}

TEST_F(ConfigWatcher, RefusesABadFileOnceAndAppliesTheNextGoodOne) {
    auto w = watcher();
    write(R"({ "listeners": { "http": { "port": 8080 } }, "stop_timeot_ms": 5 })");
    EXPECT_EQ(w->poll(), outcome::refused);
    EXPECT_EQ(w->poll(), outcome::unchanged);  // the same bytes are not tried again
    EXPECT_EQ(w->refused(), 1u);
    write(good(3000));
    EXPECT_EQ(w->poll(), outcome::applied);
    EXPECT_EQ(applied_, std::vector<long>{3000});
}

TEST_F(ConfigWatcher, AnUnreadableFileKeepsTheLastGoodOne) {
    auto w = watcher();
    fs::remove(path_);
    EXPECT_EQ(w->poll(), outcome::unreadable);
    EXPECT_TRUE(applied_.empty());
    write(good(1000));  // back as it was: nothing to apply
    EXPECT_EQ(w->poll(), outcome::unchanged);
}

TEST_F(ConfigWatcher, ForceAppliesEvenUnchangedBytes) {
    auto w = watcher();
    EXPECT_EQ(w->poll(true), outcome::applied);
    EXPECT_EQ(applied_, std::vector<long>{1000});
}

}  // namespace
}  // namespace gatehouse::proxy
