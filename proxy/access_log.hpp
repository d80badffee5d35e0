#pragma once
// The W3C extended access log, in IIS's field names so that a Gatehouse log can be diffed with a
// real ARR node's:
//   #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip
//            cs(User-Agent) sc-status sc-substatus sc-win32-status sc-bytes cs-bytes time-taken
//            x-farm x-server x-request-id
// Times are UTC; an empty value is written '-', spaces in the user agent as '+' (as IIS does).
// Workers format lines into their own buffer and hand whole batches to the shared sink.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

namespace gatehouse::proxy {

struct access_record {
    std::chrono::system_clock::time_point when{};  // when the response finished
    std::string_view server_ip{};
    std::uint16_t server_port = 0;
    std::string_view method{};
    std::string_view target{};  // split into cs-uri-stem and cs-uri-query
    std::string_view username{};
    std::string_view client_ip{};
    std::string_view user_agent{};
    unsigned status = 0;
    unsigned substatus = 0;
    unsigned win32 = 0;
    std::uint64_t sc_bytes = 0;  // bytes sent to the client
    std::uint64_t cs_bytes = 0;  // bytes received from the client
    std::uint64_t time_taken_ms = 0;
    std::string_view farm{};
    std::string_view server{};  // "address:port" of the chosen back end
    std::string_view request_id{};
};

// The directive lines that start a log file.
std::string w3c_header(std::chrono::system_clock::time_point started);
// Appends one log line (with its "\r\n") to `out`.
void append_w3c_line(const access_record& record, std::string& out);

// Where log lines go: a file (appended), standard output, or a callback. Thread-safe.
class access_log_sink {
public:
    // "-" is standard output. Throws std::runtime_error when the file cannot be opened.
    static std::unique_ptr<access_log_sink> open(const std::string& path);
    static std::unique_ptr<access_log_sink> to_callback(std::function<void(std::string_view)> f);
    ~access_log_sink();
    access_log_sink(const access_log_sink&) = delete;
    access_log_sink& operator=(const access_log_sink&) = delete;

    void write(std::string_view lines);
    void flush();

private:
    access_log_sink() = default;
    std::mutex mutex_;
    std::FILE* file_ = nullptr;
    bool owns_file_ = false;
    std::function<void(std::string_view)> callback_;
};

}  // namespace gatehouse::proxy
