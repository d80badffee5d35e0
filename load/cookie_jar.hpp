#pragma once
// One virtual user's cookies (RFC 6265, the parts a load generator talking to one site needs):
// Set-Cookie values are stored by (name, path); Path is honoured on the way out (default path
// from the request, path-match rule, longer paths first); Max-Age and Expires delete or age a
// cookie; Secure cookies go only over TLS or to a loopback target, which browsers also treat as
// a secure context. Domain is recorded but not matched: a virtual user talks to one site.
// Pure: time is passed in. Not thread-safe (one jar per virtual user).

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::load {

class cookie_jar {
public:
    using time_point = std::chrono::system_clock::time_point;

    struct cookie {
        std::string name{};
        std::string value{};
        std::string path{};
        std::string domain{};
        std::optional<time_point> expires{};
        bool secure = false;
        bool http_only = false;
        std::uint64_t created = 0;  // order of creation, for the header's order
    };

    // Stores the cookie of one Set-Cookie field value, received in answer to a request for
    // `request_path` (the path part of its target). Ignores a value without a name=value pair.
    void store(std::string_view set_cookie, std::string_view request_path, time_point now);

    // Appends the Cookie field value for a request to `request_path` to `out` ("a=1; b=2"),
    // nothing when no cookie applies. `secure_channel`: TLS or a loopback target.
    void append_header(std::string& out, std::string_view request_path, bool secure_channel,
                       time_point now) const;
    std::string header(std::string_view request_path, bool secure_channel, time_point now) const;

    // The value of the cookie called `name` with the longest path, if any.
    std::optional<std::string_view> find(std::string_view name) const;
    std::size_t size() const noexcept { return cookies_.size(); }
    bool empty() const noexcept { return cookies_.empty(); }
    void clear() noexcept { cookies_.clear(); }

    // RFC 6265 5.1.4: does `request_path` path-match `cookie_path`?
    static bool path_matches(std::string_view request_path, std::string_view cookie_path);
    // RFC 6265 5.1.4: the default path of a cookie set by a request for `request_path`.
    static std::string default_path(std::string_view request_path);
    // An HTTP date (IMF-fixdate, or the RFC 850 / Netscape "dd-Mon-yy" forms cookies use).
    static std::optional<time_point> parse_date(std::string_view text);

private:
    std::vector<cookie> cookies_;
    std::uint64_t next_ = 0;
};

}  // namespace gatehouse::load
