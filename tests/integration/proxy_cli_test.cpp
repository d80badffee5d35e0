// The gatehouse-proxy executable: --check, exit codes, serving and a graceful stop on SIGTERM,
// the watched configuration file and SIGHUP.

#include "tests/integration/proxy_fixture.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>

#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef GATEHOUSE_PROXY_EXE
#error "GATEHOUSE_PROXY_EXE must name the gatehouse-proxy executable"
#endif

namespace gatehouse::test {
namespace {

namespace fs = std::filesystem;

// A child process with its standard error captured.
class process {
public:
    explicit process(std::vector<std::string> args) {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe");
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(fds[1], STDERR_FILENO);
            ::dup2(fds[1], STDOUT_FILENO);
            ::close(fds[0]);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(fds[1]);
        out_ = fds[0];
    }
    ~process() {
        if (pid_ > 0 && !exited_) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(out_);
    }

    // Reads output until `text` appears; false after `limit`.
    bool wait_for_output(const std::string& text, std::chrono::milliseconds limit) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (output_.find(text) == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                            deadline - std::chrono::steady_clock::now())
                            .count();
            if (left <= 0) return false;
            pollfd p{out_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left)) <= 0) return false;
            char buf[4096];
            auto n = ::read(out_, buf, sizeof buf);
            if (n <= 0) return output_.find(text) != std::string::npos;
            output_.append(buf, static_cast<std::size_t>(n));
        }
        return true;
    }

    // The exit code, waiting up to `limit`; -1 when it did not exit.
    int wait_exit(std::chrono::milliseconds limit) {
        wait_for_output("\x01never", limit);  // drains output until EOF (the process ended)
        int status = 0;
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (::waitpid(pid_, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) return -1;
            std::this_thread::yield();
        }
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }

    void signal(int number) { ::kill(pid_, number); }
    const std::string& output() const { return output_; }

private:
    pid_t pid_ = -1;
    int out_ = -1;
    bool exited_ = false;
    std::string output_;
};

class Cli : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("gatehouse-cli-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::create_directories(dir_);
    }
    void TearDown() override { fs::remove_all(dir_); }

    std::string write(const std::string& name, const std::string& text) {
        auto path = (dir_ / name).string();
        std::ofstream(path) << text;
        return path;
    }

    fs::path dir_;
};

TEST_F(Cli, CheckAcceptsAValidFile) {
    auto path = write("ok.json", R"({ "listeners": { "http": { "port": 80 } },
        "farms": { "owa": { "servers": [ { "address": "10.0.0.1" } ] } },
        "rules": [ { "name": "owa", "pattern": "^owa", "action": { "type": "route",
          "farm": "owa" } } ] })");
    process p({GATEHOUSE_PROXY_EXE, "--check", path});
    EXPECT_EQ(p.wait_exit(std::chrono::seconds(10)), 0) << p.output();
    EXPECT_NE(p.output().find("OK"), std::string::npos);
}

TEST_F(Cli, CheckRejectsABadFileNamingTheJsonPath) {
    auto path = write("bad.json", R"({ "listeners": { "http": { "port": 80 } },
        "farms": { "owa": { "servers": [ { "address": "10.0.0.1" } ],
                            "health": { "url": "http://owa/owa/HealthCheck.htm",
                              "interval_ms": 0 } } } })");
    process p({GATEHOUSE_PROXY_EXE, "--check", path});
    EXPECT_EQ(p.wait_exit(std::chrono::seconds(10)), 2);
    EXPECT_NE(p.output().find(path + ": farms.owa.health.interval_ms: must be > 0"),
              std::string::npos)
        << p.output();
}

TEST_F(Cli, ServesAndStopsGracefullyOnSigterm) {
    fake_backend cas(answer("from cas"));
    auto port = closed_port();
    auto path = write("serve.json", R"({
        "listeners": { "http": { "address": "127.0.0.1", "port": )" +
                                        std::to_string(port) + R"( } },
        "farms": { "cas": { "servers": [ { "address": "127.0.0.1", "port": )" +
                                        std::to_string(cas.port()) + R"( } ] } },
        "rules": [ { "name": "all", "pattern": ".*", "action": { "type": "route",
          "farm": "cas" } } ],
        "access_log": { "path": "-" } })");
    process p({GATEHOUSE_PROXY_EXE, "--config", path, "--threads", "2"});
    ASSERT_TRUE(p.wait_for_output("serving with 2 thread(s)", std::chrono::seconds(10)))
        << p.output();
    auto res = get(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), "/owa/");
    EXPECT_EQ(res.body(), "from cas");
    p.signal(SIGTERM);
    EXPECT_EQ(p.wait_exit(std::chrono::seconds(10)), 0) << p.output();
    EXPECT_NE(p.output().find("GET /owa/ - " + std::to_string(port)), std::string::npos)
        << p.output();
}

TEST_F(Cli, AnAddressInUseIsARuntimeFailure) {
    fake_backend occupied(answer(""));
    auto path = write("busy.json", R"({ "listeners": { "http": { "address": "127.0.0.1",
        "port": )" + std::to_string(occupied.port()) +
                                       R"( } } })");
    process p({GATEHOUSE_PROXY_EXE, "--config", path});
    EXPECT_EQ(p.wait_exit(std::chrono::seconds(10)), 1);
    EXPECT_NE(p.output().find("listeners.http: cannot bind"), std::string::npos) << p.output();
}

}  // namespace
}  // namespace gatehouse::test

namespace gatehouse::test {
namespace {

std::string served_by(std::uint16_t listen, std::uint16_t backend) {
    return R"({ "listeners": { "http": { "address": "127.0.0.1", "port": )" +
           std::to_string(listen) + R"( } },
        "config_watch": { "interval_ms": 20 },
        "farms": { "cas": { "servers": [ { "address": "127.0.0.1", "port": )" +
           std::to_string(backend) + R"( } ] } },
        "rules": [ { "name": "all", "pattern": ".*", "action": { "type": "route",
          "farm": "cas" } } ] })";
}

TEST_F(Cli, WatchesItsFileAppliesGoodChangesAndRefusesBadOnes) {
    fake_backend a(answer("from a"));
    fake_backend b(answer("from b"));
    auto port = closed_port();
    tcp::endpoint proxy(asio::ip::make_address("127.0.0.1"), port);
    auto path = write("watched.json", served_by(port, a.port()));
    process p({GATEHOUSE_PROXY_EXE, "--config", path, "--threads", "1"});
    ASSERT_TRUE(p.wait_for_output("serving with 1 thread(s)", std::chrono::seconds(10)))
        << p.output();
    EXPECT_EQ(get(proxy, "/").body(), "from a");

    write("watched.json.tmp", served_by(port, b.port()));
    fs::rename(dir_ / "watched.json.tmp", path);
    ASSERT_TRUE(p.wait_for_output("configuration change applied", std::chrono::seconds(10)))
        << p.output();
    EXPECT_EQ(get(proxy, "/").body(), "from b");

    auto bad = served_by(port, a.port());
    bad.insert(bad.find("\"servers\""), "\"helth\": {}, ");
    write("watched.json.tmp", bad);
    fs::rename(dir_ / "watched.json.tmp", path);
    ASSERT_TRUE(p.wait_for_output("refused: " + path + ": farms.cas.helth: unknown key",
                                  std::chrono::seconds(10)))
        << p.output();
    EXPECT_EQ(get(proxy, "/").body(), "from b");

    // SIGHUP reads the file again even though it did not change: refused again, still serving.
    auto refusals = [&] {
        std::size_t n = 0;
        for (auto at = p.output().find("refused"); at != std::string::npos;
             at = p.output().find("refused", at + 1))
            ++n;
        return n;
    };
    ASSERT_EQ(refusals(), 1u);
    p.signal(SIGHUP);
    ASSERT_TRUE(p.wait_for_output("helth: unknown key\n", std::chrono::seconds(10)));
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (refusals() < 2 && std::chrono::steady_clock::now() < deadline)
        p.wait_for_output("\x01never", std::chrono::milliseconds(50));
    EXPECT_EQ(refusals(), 2u) << p.output();
    EXPECT_EQ(get(proxy, "/").body(), "from b");
    p.signal(SIGTERM);
    EXPECT_EQ(p.wait_exit(std::chrono::seconds(10)), 0) << p.output();
}

}  // namespace
}  // namespace gatehouse::test
