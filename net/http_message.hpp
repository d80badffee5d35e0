#pragma once
// The head of an HTTP/1.x message (start line and header fields) as Gatehouse stores it: names
// and values live in one arena string that keeps its capacity across the requests of a
// keep-alive connection, so a connection in steady state parses without allocating. Bodies are
// never stored here; they are streamed (see http_io.hpp).

#include <array>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::net {

// ASCII case-insensitive equality, as HTTP field names and methods compare. Inline: the proxy
// compares every field name against a handful of names per request, and most differ in length.
inline bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        char x = a[i], y = b[i];
        if (x >= 'A' && x <= 'Z') x = static_cast<char>(x + ('a' - 'A'));
        if (y >= 'A' && y <= 'Z') y = static_cast<char>(y + ('a' - 'A'));
        if (x != y) return false;
    }
    return true;
}
// `a` == `b`, ignoring ASCII case when `ignore_case` (as std::regex's icase in the "C" locale).
inline bool equals(std::string_view a, std::string_view b, bool ignore_case) noexcept {
    return ignore_case ? iequals(a, b) : a == b;
}
// RFC 9110 §5.6.2 tchar: the bytes of a token (a method, a field name). A table: the head
// parser tests every byte of every field name with it.
inline constexpr std::array<bool, 256> token_chars = [] {
    std::array<bool, 256> t{};
    for (int c = '0'; c <= '9'; ++c) t[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) t[c] = t[c - 'a' + 'A'] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
    return t;
}();
constexpr bool is_token_char(char c) noexcept {
    return token_chars[static_cast<unsigned char>(c)];
}
// True when `list` (a comma-separated header value) holds `token`, ignoring case and spaces.
bool has_token(std::string_view list, std::string_view token) noexcept;
// Appends "name: value" and CRLF to `out` (one growth step: it runs for every field of every
// head the proxy writes).
void append_field(std::string& out, std::string_view name, std::string_view value);

// The header fields of one message, in the order received. Names keep their case.
class http_fields {
public:
    struct field {
        std::string_view name;
        std::string_view value;
    };

    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = field;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = field;

        iterator() = default;
        iterator(const http_fields* owner, std::size_t index) : owner_(owner), index_(index) {
            skip();
        }
        field operator*() const { return owner_->at(index_); }
        iterator& operator++() {
            ++index_;
            skip();
            return *this;
        }
        iterator operator++(int) {
            auto copy = *this;
            ++*this;
            return copy;
        }
        bool operator==(const iterator& other) const { return index_ == other.index_; }
        std::size_t index() const noexcept { return index_; }

    private:
        void skip() {
            while (owner_ && index_ < owner_->entries_.size() && owner_->entries_[index_].erased)
                ++index_;
        }
        const http_fields* owner_ = nullptr;
        std::size_t index_ = 0;
    };

    iterator begin() const { return {this, 0}; }
    iterator end() const { return {this, entries_.size()}; }

    // Appends a field (duplicates allowed: Set-Cookie and WWW-Authenticate repeat).
    void add(std::string_view name, std::string_view value);
    // A head's field lines taken in one copy, on empty fields: add_held() records each field by
    // its place in the lines, then hold(lines) keeps the copy they are read from.
    void add_held(std::size_t name_offset, std::size_t name_size, std::size_t value_offset,
                  std::size_t value_size);
    void hold(std::string_view lines);
    // The line a field arrived in, as received (its own spacing, CRLF included), for a field
    // taken by add_held() and hold(); empty for one added otherwise. The lines of neighbouring
    // held fields are neighbours in memory, so a writer may copy a run of them at once.
    std::string_view received_line(const iterator& at) const noexcept;
    // Replaces every field called `name` by one with `value`.
    void set(std::string_view name, std::string_view value);
    // Removes every field called `name`; returns how many.
    std::size_t erase(std::string_view name);
    // The value of the first field called `name`.
    std::optional<std::string_view> find(std::string_view name) const;
    std::size_t count(std::string_view name) const;
    bool contains(std::string_view name) const { return find(name).has_value(); }
    // Number of fields present (erased ones excluded).
    std::size_t size() const noexcept { return live_; }
    bool empty() const noexcept { return live_ == 0; }
    // Forgets every field but keeps the memory for the next message.
    void clear() noexcept;
    // Bytes of the names and values present.
    std::size_t bytes() const noexcept { return text_bytes_; }

private:
    struct entry {
        std::uint32_t name_offset;
        std::uint32_t name_size;
        std::uint32_t value_offset;
        std::uint32_t value_size;
        bool erased;
    };
    field at(std::size_t index) const noexcept {
        const auto& e = entries_[index];
        const char* base = arena_.data();
        return {{base + e.name_offset, e.name_size}, {base + e.value_offset, e.value_size}};
    }

    std::string arena_;
    std::vector<entry> entries_;
    std::size_t live_ = 0;
    std::size_t text_bytes_ = 0;
    std::size_t held_bytes_ = 0;  // the arena's first bytes: the lines given to hold()
};

// The request line or status line plus fields. `version` is 10 or 11.
struct http_head {
    // request line
    std::string method;  // token as received (RPC_IN_DATA and other extension methods kept)
    std::string target;  // request-target, byte-exact
    // status line
    unsigned status = 0;
    std::string reason;

    unsigned version = 11;
    http_fields fields;

    void clear() noexcept;

    // Appends the request head (request line, fields, empty line) to `out`.
    void write_request(std::string& out) const;
    // Appends the response head (status line, fields, empty line) to `out`. An empty `reason`
    // is written as the standard phrase of `status`.
    void write_response(std::string& out) const;
};

// The standard reason phrase of `status` ("Unknown" when there is none), including the
// non-IANA codes Exchange and IIS use (440 Login Timeout, 449 Retry With, 451 Redirect).
std::string_view reason_phrase(unsigned status) noexcept;

// Chunked transfer coding (RFC 9112 §7.1): the line before a chunk of `size` bytes, the CRLF
// that follows its data, and the last chunk with an empty trailer section.
std::string chunk_header(std::size_t size);
inline constexpr std::string_view chunk_end = "\r\n";
inline constexpr std::string_view last_chunk = "0\r\n\r\n";

}  // namespace gatehouse::net
