#pragma once
// A process the runner starts (a separate gatehouse-proxy, HAProxy, nginx): its output goes to a
// log file, and it is always stopped by its PID — SIGTERM, then SIGKILL after a grace period —
// at the latest when this object is destroyed. Nothing outlives the run.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace gatehouse::scenarios {

class child_process {
public:
    // Starts `argv` (argv[0] looked up in PATH) with standard output and error appended to
    // `log_file`. Throws std::runtime_error naming the command when it cannot be started.
    child_process(std::vector<std::string> argv, const std::filesystem::path& log_file);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    pid_t pid() const noexcept { return pid_; }
    // True while the process has not exited (reaps it when it has).
    bool running();
    // The exit status once it has exited (the negated signal number when killed by a signal).
    std::optional<int> exit_status() const noexcept { return status_; }
    // Sends `signal_number` (SIGHUP for a reload …) if it still runs.
    void signal(int signal_number);
    // SIGTERM, then SIGKILL when it has not exited within `grace`. Returns the exit status.
    int stop(std::chrono::milliseconds grace = std::chrono::seconds(5));
    // The command line, for messages.
    const std::string& command() const noexcept { return command_; }

private:
    bool reap(bool block);

    pid_t pid_ = -1;
    std::optional<int> status_;
    std::string command_;
};

// Reads the last `max_bytes` of a log file (for error messages when a process fails to start).
std::string tail_of(const std::filesystem::path& file, std::size_t max_bytes = 2000);

}  // namespace gatehouse::scenarios
