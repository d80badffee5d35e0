#include "scenarios/child_process.hpp"

#include <csignal>
#include <gtest/gtest.h>
#include <thread>

namespace gatehouse::scenarios {
namespace {

std::filesystem::path log_path(const char* name) {
    auto dir = std::filesystem::temp_directory_path() / "gatehouse-child-process-test";
    std::filesystem::create_directories(dir);
    auto path = dir / name;
    std::filesystem::remove(path);
    return path;
}

// Waits (bounded) for the process to exit by itself.
bool wait_exit(child_process& p) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (std::chrono::steady_clock::now() < deadline) {
        if (!p.running()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

TEST(ChildProcess, StopTerminatesALongRunningProcess) {
    child_process p({"sleep", "30"}, log_path("sleep.log"));
    EXPECT_TRUE(p.running());
    EXPECT_EQ(p.stop(std::chrono::seconds(2)), -SIGTERM);
    EXPECT_FALSE(p.running());
}

TEST(ChildProcess, CapturesOutputAndExitStatus) {
    auto log = log_path("echo.log");
    child_process p({"sh", "-c", "echo started; echo oops >&2; exit 3"}, log);
    ASSERT_TRUE(wait_exit(p));
    EXPECT_EQ(p.exit_status(), 3);
    EXPECT_EQ(tail_of(log), "started\noops\n");
}

TEST(ChildProcess, UnknownCommandIsAClearError) {
    try {
        child_process p({"/nonexistent/haproxy", "-f", "x"}, log_path("none.log"));
        FAIL();
    } catch (const std::runtime_error& e) {
        EXPECT_NE(std::string(e.what()).find("cannot start `/nonexistent/haproxy -f x`"),
                  std::string::npos);
    }
}

TEST(ChildProcess, DestructorStopsWhatIsStillRunning) {
    pid_t pid;
    {
        child_process p({"sleep", "30"}, log_path("scoped.log"));
        pid = p.pid();
    }
    EXPECT_NE(::kill(pid, 0), 0);  // gone (and reaped)
}

}  // namespace
}  // namespace gatehouse::scenarios
