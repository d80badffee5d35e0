#include "scenarios/reliability_cases.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace gatehouse::scenarios {

namespace {

using nlohmann::json;

std::string lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Standard base64 (RFC 4648 §4), padding optional. Empty when `in` is not base64.
std::optional<std::string> base64_decode(std::string_view in) {
    auto value = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '+') return 62;
        if (c == '/') return 63;
        return -1;
    };
    while (!in.empty() && in.back() == '=') in.remove_suffix(1);
    std::string out;
    unsigned bits = 0;
    int count = 0;
    for (char c : in) {
        int v = value(c);
        if (v < 0) return std::nullopt;
        bits = (bits << 6) | static_cast<unsigned>(v);
        count += 6;
        if (count >= 8) {
            count -= 8;
            out.push_back(static_cast<char>((bits >> count) & 0xff));
        }
    }
    return out;
}

// What the client got, in words: "400 (Connection: close), closed", "no response, open".
std::string describe_client(const std::vector<parsed_response>& responses, bool closed) {
    std::ostringstream out;
    if (responses.empty()) out << "no response";
    for (std::size_t i = 0; i < responses.size(); ++i) {
        out << (i ? " + " : "") << responses[i].status;
        if (responses[i].close) out << " (close)";
    }
    out << (closed ? ", closed" : ", left open");
    return out.str();
}

class reader {
public:
    explicit reader(const std::string& source) : source_(source) {}

    [[noreturn]] void fail(const std::string& path, const std::string& what) const {
        throw case_table_error(source_ + ": " + path + ": " + what);
    }

    void only_keys(const json& object, const std::string& path,
                   std::initializer_list<const char*> allowed) const {
        if (!object.is_object()) fail(path, "must be an object");
        for (const auto& [key, value] : object.items())
            if (std::none_of(allowed.begin(), allowed.end(),
                             [&](const char* a) { return key == a; }))
                fail(path + "." + key, "unknown key");
    }

    std::string string(const json& object, const std::string& path, const char* key,
                       bool required) const {
        auto it = object.find(key);
        if (it == object.end()) {
            if (required) fail(path + "." + key, "is required");
            return {};
        }
        if (!it->is_string()) fail(path + "." + key, "must be a string");
        return it->get<std::string>();
    }

    std::vector<std::string> strings(const json& object, const std::string& path,
                                     const char* key) const {
        std::vector<std::string> out;
        auto it = object.find(key);
        if (it == object.end()) return out;
        if (!it->is_array()) fail(path + "." + key, "must be an array of strings");
        for (const auto& v : *it) {
            if (!v.is_string()) fail(path + "." + key, "must be an array of strings");
            out.push_back(v.get<std::string>());
        }
        return out;
    }

    case_expectation expectation(const json& e, const std::string& path) const {
        only_keys(e, path,
                  {"status", "status_class", "or_close", "responses", "backend_requests",
                   "backend_must_not_see", "backend_must_see"});
        case_expectation out;
        if (e.contains("status")) {
            const auto& s = e["status"];
            if (!s.is_array() || s.empty()) fail(path + ".status", "must be a non-empty array");
            for (const auto& v : s) {
                if (!v.is_number_unsigned() || v.get<unsigned>() < 100 || v.get<unsigned>() > 599)
                    fail(path + ".status", "must hold status codes (100 to 599)");
                out.statuses.push_back(v.get<unsigned>());
            }
        }
        if (e.contains("status_class")) {
            auto text = string(e, path, "status_class", true);
            if (text.size() != 3 || text[0] < '1' || text[0] > '5' || lower(text.substr(1)) != "xx")
                fail(path + ".status_class", "must be 1xx, 2xx, 3xx, 4xx or 5xx");
            out.status_class = static_cast<unsigned>(text[0] - '0');
        }
        if (out.statuses.empty() && !out.status_class)
            fail(path, "needs status or status_class");
        if (e.contains("or_close")) {
            if (!e["or_close"].is_boolean()) fail(path + ".or_close", "must be true or false");
            out.or_close = e["or_close"].get<bool>();
        }
        for (auto [key, target] : {std::pair{"responses", 0}, {"backend_requests", 1}}) {
            if (!e.contains(key)) continue;
            if (!e[key].is_number_unsigned()) fail(path + "." + key, "must be a count");
            if (target == 0) out.responses = e[key].get<std::size_t>();
            else out.backend_requests = e[key].get<std::uint64_t>();
        }
        out.backend_must_not_see = strings(e, path, "backend_must_not_see");
        out.backend_must_see = strings(e, path, "backend_must_see");
        return out;
    }

private:
    const std::string& source_;
};

}  // namespace

std::vector<reliability_case> parse_reliability_cases(std::string_view text,
                                                      const std::string& source) {
    reader r(source);
    json doc;
    try {
        doc = json::parse(text, nullptr, true, true);
    } catch (const json::parse_error& e) {
        throw case_table_error(source + ": not valid JSON: " + e.what());
    }
    r.only_keys(doc, "$", {"format", "cases"});
    if (r.string(doc, "$", "format", true) != "gatehouse reliability cases 1")
        r.fail("$.format", "must be \"gatehouse reliability cases 1\"");
    if (!doc.contains("cases") || !doc["cases"].is_array()) r.fail("$.cases", "must be an array");
    std::vector<reliability_case> out;
    std::set<std::string> ids;
    for (std::size_t i = 0; i < doc["cases"].size(); ++i) {
        const auto& c = doc["cases"][i];
        std::string path = "$.cases[" + std::to_string(i) + "]";
        r.only_keys(c, path, {"id", "title", "profile", "request", "request_base64", "expect"});
        reliability_case rc;
        rc.id = r.string(c, path, "id", true);
        if (!ids.insert(rc.id).second) r.fail(path + ".id", "duplicate id '" + rc.id + "'");
        rc.title = r.string(c, path, "title", true);
        rc.profile = r.string(c, path, "profile", false);
        if (!rc.profile.empty() && rc.profile != "exchange")
            r.fail(path + ".profile", "must be absent or \"exchange\"");
        if (c.contains("request") == c.contains("request_base64"))
            r.fail(path, "needs exactly one of request and request_base64");
        if (c.contains("request")) {
            rc.request = r.string(c, path, "request", true);
        } else {
            auto decoded = base64_decode(r.string(c, path, "request_base64", true));
            if (!decoded) r.fail(path + ".request_base64", "is not base64");
            rc.request = std::move(*decoded);
        }
        if (rc.request.empty()) r.fail(path, "sends no bytes");
        if (!c.contains("expect")) r.fail(path + ".expect", "is required");
        rc.expect = r.expectation(c["expect"], path + ".expect");
        out.push_back(std::move(rc));
    }
    return out;
}

std::vector<reliability_case> load_reliability_cases(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw case_table_error(file.string() + ": cannot be read");
    std::ostringstream text;
    text << in.rdbuf();
    return parse_reliability_cases(text.str(), file.string());
}

std::vector<parsed_response> parse_responses(std::string_view bytes) {
    std::vector<parsed_response> out;
    while (bytes.starts_with("HTTP/1.")) {
        auto end = bytes.find("\r\n\r\n");
        if (end == std::string_view::npos || bytes.size() < 12) break;
        std::string head = lower(bytes.substr(0, end + 2));
        parsed_response r;
        for (char c : bytes.substr(9, 3)) {
            if (!std::isdigit(static_cast<unsigned char>(c))) return out;
            r.status = r.status * 10 + static_cast<unsigned>(c - '0');
        }
        r.close = head.find("\r\nconnection: close\r\n") != std::string::npos;
        bytes.remove_prefix(end + 4);
        if (auto cl = head.find("\r\ncontent-length:"); cl != std::string::npos) {
            std::uint64_t n = 0;
            for (auto at = head.find_first_not_of(" \t", cl + 17);
                 at < head.size() && std::isdigit(static_cast<unsigned char>(head[at])); ++at)
                n = n * 10 + static_cast<std::uint64_t>(head[at] - '0');
            bytes.remove_prefix(static_cast<std::size_t>(std::min<std::uint64_t>(n, bytes.size())));
        } else if (head.find("\r\ntransfer-encoding: chunked\r\n") != std::string::npos) {
            auto last = bytes.find("\r\n0\r\n\r\n");
            bytes.remove_prefix(last == std::string_view::npos ? bytes.size() : last + 7);
        }
        out.push_back(r);
    }
    return out;
}

std::string describe_expectation(const case_expectation& e) {
    std::ostringstream out;
    for (std::size_t i = 0; i < e.statuses.size(); ++i) out << (i ? "/" : "") << e.statuses[i];
    if (e.status_class) out << (e.statuses.empty() ? "" : "/") << *e.status_class << "xx";
    if (e.or_close) out << " or a close without response";
    if (e.responses) out << ", " << *e.responses << " response(s)";
    if (e.backend_requests) out << "; back end: " << *e.backend_requests << " request(s)";
    for (const auto& s : e.backend_must_not_see) out << "; back end never sees \"" << s << '"';
    for (const auto& s : e.backend_must_see) out << "; on 2xx the back end sees \"" << s << '"';
    return out.str();
}

case_verdict judge(const reliability_case& c, const case_observation& o) {
    const auto& e = c.expect;
    case_verdict v;
    auto problem = [&](std::string text) { v.problems.push_back(std::move(text)); };
    auto responses = parse_responses(o.received);

    if (responses.empty()) {
        if (!e.or_close) problem("no response (closing without one is not acceptable here)");
        else if (!o.closed) problem("no response, and the connection was left open");
    } else {
        auto status = responses[0].status;
        bool listed = std::find(e.statuses.begin(), e.statuses.end(), status) != e.statuses.end();
        bool allowed = listed || (e.status_class && status / 100 == *e.status_class);
        if (!allowed) problem("status " + std::to_string(status));
        if (status >= 400) {
            if (!responses[0].close) problem("the error response lacks Connection: close");
            if (!o.closed) problem("the connection stayed open after the error response");
        }
    }
    auto wanted = e.responses.value_or(responses.empty() ? 0 : 1);
    if (responses.size() != wanted)
        problem(std::to_string(responses.size()) + " responses, expected " +
                std::to_string(wanted));
    if (e.backend_requests && o.backend_requests != *e.backend_requests)
        problem("the back end got " + std::to_string(o.backend_requests) +
                " complete request(s), expected " + std::to_string(*e.backend_requests));
    auto seen = lower(o.backend_bytes);
    for (const auto& s : e.backend_must_not_see)
        if (seen.find(lower(s)) != std::string::npos)
            problem("the back end received \"" + s + "\"");
    if (!responses.empty() && responses[0].status / 100 == 2)
        for (const auto& s : e.backend_must_see)
            if (seen.find(lower(s)) == std::string::npos)
                problem("the back end never received \"" + s + "\"");

    v.passed = v.problems.empty();
    v.observed = describe_client(responses, o.closed) + "; back end: " +
                 std::to_string(o.backend_requests) + " request(s), " +
                 std::to_string(o.backend_bytes.size()) + " bytes";
    return v;
}

}  // namespace gatehouse::scenarios
