#include "proxy/access_log.hpp"

#include <array>
#include <charconv>
#include <ctime>
#include <stdexcept>

namespace gatehouse::proxy {

namespace {

void append_number(std::string& out, std::uint64_t value) {
    std::array<char, 24> digits;
    auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), value);
    out.append(digits.data(), end);
}

void append_value(std::string& out, std::string_view value) {
    if (value.empty()) {
        out.push_back('-');
        return;
    }
    for (char c : value) out.push_back(c == ' ' ? '+' : (c == '\t' ? '+' : c));
}

// "YYYY-MM-DD hh:mm:ss" of the current second, formatted once per second per thread.
std::string_view date_time(std::chrono::system_clock::time_point when) {
    thread_local std::time_t cached_second = -1;
    thread_local std::array<char, 20> text{};
    std::time_t t = std::chrono::system_clock::to_time_t(when);
    if (t != cached_second) {
        std::tm tm{};
        gmtime_r(&t, &tm);
        std::strftime(text.data(), text.size(), "%Y-%m-%d %H:%M:%S", &tm);
        cached_second = t;
    }
    return {text.data(), 19};
}

}  // namespace

std::string w3c_header(std::chrono::system_clock::time_point started) {
    std::string out;
    out.append("#Software: Gatehouse proxy\r\n#Version: 1.0\r\n#Date: ");
    out.append(date_time(started));
    out.append(
        "\r\n#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip "
        "cs(User-Agent) sc-status sc-substatus sc-win32-status sc-bytes cs-bytes time-taken "
        "x-farm x-server x-request-id\r\n");
    return out;
}

void append_w3c_line(const access_record& r, std::string& out) {
    out.append(date_time(r.when));  // "date time": one space between, as the fields
    out.push_back(' ');
    append_value(out, r.server_ip);
    out.push_back(' ');
    append_value(out, r.method);
    out.push_back(' ');
    auto q = r.target.find('?');
    append_value(out, r.target.substr(0, q));
    out.push_back(' ');
    append_value(out, q == std::string_view::npos ? std::string_view{} : r.target.substr(q + 1));
    out.push_back(' ');
    append_number(out, r.server_port);
    out.push_back(' ');
    append_value(out, r.username);
    out.push_back(' ');
    append_value(out, r.client_ip);
    out.push_back(' ');
    append_value(out, r.user_agent);
    out.push_back(' ');
    append_number(out, r.status);
    out.push_back(' ');
    append_number(out, r.substatus);
    out.push_back(' ');
    append_number(out, r.win32);
    out.push_back(' ');
    append_number(out, r.sc_bytes);
    out.push_back(' ');
    append_number(out, r.cs_bytes);
    out.push_back(' ');
    append_number(out, r.time_taken_ms);
    out.push_back(' ');
    append_value(out, r.farm);
    out.push_back(' ');
    append_value(out, r.server);
    out.push_back(' ');
    append_value(out, r.request_id);
    out.append("\r\n");
}

std::unique_ptr<access_log_sink> access_log_sink::open(const std::string& path) {
    std::unique_ptr<access_log_sink> sink(new access_log_sink());
    if (path == "-") {
        sink->file_ = stdout;
    } else {
        sink->file_ = std::fopen(path.c_str(), "ab");
        if (!sink->file_) throw std::runtime_error("cannot open the access log " + path);
        sink->owns_file_ = true;
    }
    sink->write(w3c_header(std::chrono::system_clock::now()));
    return sink;
}

std::unique_ptr<access_log_sink> access_log_sink::to_callback(
    std::function<void(std::string_view)> f) {
    std::unique_ptr<access_log_sink> sink(new access_log_sink());
    sink->callback_ = std::move(f);
    sink->write(w3c_header(std::chrono::system_clock::now()));
    return sink;
}

access_log_sink::~access_log_sink() {
    if (file_) std::fflush(file_);
    if (owns_file_) std::fclose(file_);
}

void access_log_sink::write(std::string_view lines) {
    std::lock_guard lock(mutex_);
    if (callback_) {
        callback_(lines);
    } else if (file_) {
        std::fwrite(lines.data(), 1, lines.size(), file_);
    }
}

void access_log_sink::flush() {
    std::lock_guard lock(mutex_);
    if (file_) std::fflush(file_);
}

}  // namespace gatehouse::proxy
