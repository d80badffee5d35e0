// The fake-cas executable: it starts, says where it listens, serves, stops on SIGTERM with exit
// code 0, and refuses a bad configuration with exit code 2 and the JSON path.

#include "net/tls.hpp"
#include "tests/integration/fake_cas_fixture.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>

#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace gatehouse::fake_cas::testing {
namespace {

// A child process with its stdout and stderr on one pipe.
class child {
public:
    explicit child(std::vector<std::string> args) {
        int fds[2];
        if (::pipe(fds) != 0) throw std::runtime_error("pipe");
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
        posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
        posix_spawn_file_actions_addclose(&actions, fds[0]);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        if (posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ) != 0)
            throw std::runtime_error("posix_spawn");
        posix_spawn_file_actions_destroy(&actions);
        ::close(fds[1]);
        fd_ = fds[0];
    }
    ~child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
        ::close(fd_);
    }
    // Reads output until `marker` appears or `limit` passes; returns everything read.
    std::string read_until(std::string_view marker, std::chrono::milliseconds limit) {
        auto deadline = steady_clock::now() + limit;
        while (output_.find(marker) == std::string::npos && steady_clock::now() < deadline) {
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0) continue;
            char buf[4096];
            auto n = ::read(fd_, buf, sizeof buf);
            if (n <= 0) break;
            output_.append(buf, static_cast<std::size_t>(n));
        }
        return output_;
    }
    // Waits for the exit (bounded); returns the exit code or -1.
    int wait(std::chrono::milliseconds limit) {
        auto deadline = steady_clock::now() + limit;
        while (steady_clock::now() < deadline) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            }
            read_until("\x01", std::chrono::milliseconds(20));  // drain output meanwhile
        }
        return -1;
    }
    void signal(int sig) { ::kill(pid_, sig); }

private:
    pid_t pid_ = -1;
    int fd_ = -1;
    std::string output_;
};

std::filesystem::path temp_file(std::string_view name, std::string_view content) {
    auto path = std::filesystem::temp_directory_path() /
                (std::string(name) + "-" + std::to_string(::getpid()));
    std::ofstream(path) << content;
    return path;
}

TEST(FakeCasExecutable, StartsServesAndStopsOnSigterm) {
    child p({GATEHOUSE_FAKE_CAS_EXE, "--servers", "2", "--time-scale", "0.5"});
    auto out = p.read_until("Press Ctrl-C", std::chrono::seconds(10));
    ASSERT_NE(out.find("Press Ctrl-C"), std::string::npos) << out;
    EXPECT_NE(out.find("cas2  EX02  ex02.contoso.local  http://127.0.0.1:"), std::string::npos);
    EXPECT_NE(out.find("control API  http://127.0.0.1:"), std::string::npos);
    auto line = out.substr(out.find("cas1  EX01"));
    auto port = std::stoi(line.substr(line.rfind(':', line.find('\n')) + 1));
    auto res = test::get({asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)},
                         "/owa/HealthCheck.htm");
    EXPECT_EQ(res.body(), "200 OK<br/>EX01.CONTOSO.LOCAL");
    p.signal(SIGTERM);
    EXPECT_EQ(p.wait(std::chrono::seconds(10)), 0);
}

TEST(FakeCasExecutable, BadConfigurationExitsWithTwoAndNamesThePath) {
    auto config = temp_file("fake-cas-bad.json", R"({"servers": [{"faults": {"latency": 5}}]})");
    child p({GATEHOUSE_FAKE_CAS_EXE, "--config", config.string()});
    EXPECT_EQ(p.wait(std::chrono::seconds(10)), 2);
    auto out = p.read_until("\n", std::chrono::seconds(1));
    EXPECT_NE(out.find(config.string() + ": servers[0].faults.latency: unknown key"),
              std::string::npos)
        << out;
    std::filesystem::remove(config);
}

TEST(FakeCasExecutable, PortInUseExitsWithOne) {
    asio::io_context ioc;
    tcp::acceptor taken(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    auto config =
        temp_file("fake-cas-port.json", R"({"servers": [{"port": )" +
                                            std::to_string(taken.local_endpoint().port()) + "}]}");
    child p({GATEHOUSE_FAKE_CAS_EXE, "--config", config.string()});
    EXPECT_EQ(p.wait(std::chrono::seconds(10)), 1);
    std::filesystem::remove(config);
}

TEST(FakeCasFleet, ServesTlsFromCertificateFiles) {
    auto authority = net::make_authority("test authority");
    auto cert = net::issue_certificate(authority, {"mail.contoso.com"});
    auto chain = temp_file("fake-cas-chain.pem", cert.chain_pem);
    auto key = temp_file("fake-cas-key.pem", cert.key_pem);
    auto config = default_fleet(1);
    config.servers[0].tls = {
        .enabled = true, .cert_file = chain.string(), .key_file = key.string()};
    fleet f(std::move(config));
    f.start();
    auto ctx = net::make_client_context(
        {.verify = true, .trusted_pem = authority.chain_pem, .system_trust = false});
    SSL_CTX_set_verify(ctx->native_handle(), SSL_VERIFY_PEER, nullptr);
    test::test_client c(f.server(0).endpoint(), *ctx, "mail.contoso.com");
    EXPECT_EQ(c.roundtrip(test::make_request("GET", "/owa/HealthCheck.htm")).result_int(), 200);
    f.stop();
    std::filesystem::remove(chain);
    std::filesystem::remove(key);
}

}  // namespace
}  // namespace gatehouse::fake_cas::testing
