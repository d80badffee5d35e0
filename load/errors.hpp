#pragma once
// Startup and input failures of a load run. Each kind has its own exit code so scripts can tell
// a typo from an unreachable target (docs/load.md lists them). Thrown before any load is sent;
// `gatehouse-load` catches them in main, prints the message and exits with the code.

#include <stdexcept>
#include <string>

namespace gatehouse::load {

enum class exit_code : int {
    ok = 0,
    internal = 1,            // a bug: an unexpected exception
    bad_option = 2,          // a command-line option or plan value is invalid
    unknown_profile = 3,     // --profile names no profile
    bad_input = 4,           // a URL list, W3C log or results file is malformed or unreadable
    unreachable = 5,         // the target cannot be resolved, connected to, or TLS fails
    cannot_write = 6,        // the results file cannot be written
    thresholds_failed = 99,  // the run finished but broke --max-error-rate (as k6 does)
    interrupted = 130,       // stopped by Ctrl-C; results were still written
};

class load_error : public std::runtime_error {
public:
    load_error(exit_code code, const std::string& message)
        : std::runtime_error(message), code_(code) {}
    exit_code code() const noexcept { return code_; }

private:
    exit_code code_;
};

// "file:line: message", the form every input error takes.
inline load_error input_error(const std::string& file, std::size_t line,
                              const std::string& message) {
    return load_error(exit_code::bad_input, file + ":" + std::to_string(line) + ": " + message);
}

}  // namespace gatehouse::load
