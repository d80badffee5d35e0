#include "scenarios/request_framer.hpp"

#include <cctype>

namespace gatehouse::scenarios {

namespace {

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) !=
            std::tolower(static_cast<unsigned char>(b[i])))
            return false;
    return true;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
    return s;
}

// Digits in `base` only (at least one, no sign, no prefix), without overflow.
bool parse_number(std::string_view s, unsigned base, std::uint64_t& out) {
    if (s.empty() || s.size() > (base == 16 ? 16u : 19u)) return false;
    out = 0;
    for (char c : s) {
        unsigned digit;
        if (c >= '0' && c <= '9') digit = static_cast<unsigned>(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f') digit = static_cast<unsigned>(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F') digit = static_cast<unsigned>(c - 'A' + 10);
        else return false;
        out = out * base + digit;
    }
    return true;
}

}  // namespace

unsigned request_framer::feed(std::string_view bytes) {
    if (state_ == state::broken) return 0;
    buffer_.append(bytes);
    unsigned completed = 0;
    for (;;) {
        bool progressed = false;
        if (step(progressed)) ++completed;
        if (!progressed || state_ == state::broken) return completed;
    }
}

bool request_framer::step(bool& progressed) {
    switch (state_) {
        case state::head: {
            auto end = buffer_.find("\r\n\r\n");
            if (end == std::string::npos) return false;
            std::string_view head(buffer_.data(), end + 2);
            auto line_end = head.find("\r\n");
            auto line = head.substr(0, line_end);
            if (line.find(' ') == std::string_view::npos) {
                state_ = state::broken;
                return false;
            }
            bool chunked = false;
            std::string_view length;
            for (auto rest = head.substr(line_end + 2); !rest.empty();) {
                auto eol = rest.find("\r\n");
                auto field = rest.substr(0, eol);
                rest.remove_prefix(eol + 2);
                auto colon = field.find(':');
                if (colon == std::string_view::npos) continue;
                auto name = field.substr(0, colon);
                auto value = trim(field.substr(colon + 1));
                if (iequals(name, "Transfer-Encoding") && iequals(value, "chunked"))
                    chunked = true;
                else if (iequals(name, "Content-Length") && length.empty())
                    length = value;
            }
            buffer_.erase(0, end + 4);
            progressed = true;
            if (chunked) {
                state_ = state::chunk_size;
                return false;
            }
            remaining_ = 0;
            if (!length.empty() && !parse_number(length, 10, remaining_)) {
                state_ = state::broken;
                return false;
            }
            if (remaining_ == 0) return true;
            state_ = state::length_body;
            return false;
        }
        case state::length_body: {
            if (buffer_.empty()) return false;
            auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, buffer_.size()));
            buffer_.erase(0, n);
            remaining_ -= n;
            progressed = true;
            if (remaining_ > 0) return false;
            state_ = state::head;
            return true;
        }
        case state::chunk_size: {
            auto eol = buffer_.find("\r\n");
            if (eol == std::string::npos) return false;
            std::string_view line(buffer_.data(), eol);
            line = line.substr(0, line.find(';'));  // extensions are ignored
            std::uint64_t size = 0;
            if (!parse_number(trim(line), 16, size)) {
                state_ = state::broken;
                return false;
            }
            buffer_.erase(0, eol + 2);
            progressed = true;
            if (size == 0) {
                state_ = state::trailer;
            } else {
                remaining_ = size + 2;
                state_ = state::chunk_data;
            }
            return false;
        }
        case state::chunk_data: {
            if (buffer_.empty()) return false;
            auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, buffer_.size()));
            buffer_.erase(0, n);
            remaining_ -= n;
            progressed = true;
            if (remaining_ == 0) state_ = state::chunk_size;
            return false;
        }
        case state::trailer: {
            auto eol = buffer_.find("\r\n");
            if (eol == std::string::npos) return false;
            buffer_.erase(0, eol + 2);
            progressed = true;
            if (eol != 0) return false;  // a trailer field
            state_ = state::head;
            return true;
        }
        case state::broken: return false;
    }
    return false;
}

}  // namespace gatehouse::scenarios
