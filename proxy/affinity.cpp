#include "proxy/affinity.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace gatehouse::proxy {

std::string affinity_token(std::string_view key, std::string_view farm,
                           std::string_view authority) {
    std::string message;
    message.reserve(farm.size() + 1 + authority.size());
    message.append(farm).append(1, '\n').append(authority);
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    // HMAC with an empty key is well defined (the key is zero-padded).
    static const char empty = 0;
    HMAC(EVP_sha256(), key.empty() ? &empty : key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(length * 2);
    for (unsigned i = 0; i < length; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 0xf]);
    }
    return out;
}

std::optional<std::string_view> find_cookie(const net::http_fields& fields,
                                            std::string_view name) {
    for (auto [field, value] : fields) {
        if (!net::iequals(field, "Cookie")) continue;
        std::string_view rest = value;
        while (!rest.empty()) {
            auto semi = rest.find(';');
            auto pair = rest.substr(0, semi);
            rest = semi == std::string_view::npos ? std::string_view{} : rest.substr(semi + 1);
            while (!pair.empty() && (pair.front() == ' ' || pair.front() == '\t'))
                pair.remove_prefix(1);
            auto eq = pair.find('=');
            if (eq == std::string_view::npos) continue;
            auto n = pair.substr(0, eq);
            while (!n.empty() && (n.back() == ' ' || n.back() == '\t')) n.remove_suffix(1);
            if (n != name) continue;  // cookie names are case-sensitive
            auto v = pair.substr(eq + 1);
            while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
            if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
            return v;
        }
    }
    return std::nullopt;
}

std::string affinity_set_cookie(std::string_view name, std::string_view token, bool secure) {
    std::string out;
    out.append(name).append(1, '=').append(token).append("; Path=/; HttpOnly");
    if (secure) out.append("; Secure");
    return out;
}

}  // namespace gatehouse::proxy
