#include "proxy/stats.hpp"

namespace gatehouse::proxy {

generated_response classify(const error_triple& e) noexcept {
    if (e == errors::timeout) return generated_response::timeout;
    if (e == errors::name_not_resolved) return generated_response::name_not_resolved;
    if (e == errors::cannot_connect) return generated_response::cannot_connect;
    if (e == errors::connection_error) return generated_response::connection_error;
    if (e == errors::invalid_response) return generated_response::invalid_response;
    if (e == errors::secure_failure) return generated_response::secure_failure;
    if (e == errors::no_server) return generated_response::no_server;
    if (e == errors::not_found) return generated_response::not_found;
    if (e == errors::body_too_large) return generated_response::body_too_large;
    if (e == errors::bad_request) return generated_response::bad_request;
    if (e == errors::request_timeout) return generated_response::request_timeout;
    if (e == errors::uri_too_long) return generated_response::uri_too_long;
    if (e == errors::header_too_large) return generated_response::header_too_large;
    return generated_response::other;
}

const server_stats* farm_stats::server(std::string_view address, std::uint16_t port) const {
    for (const auto& s : servers)
        if (s.address == address && s.port == port) return &s;
    return nullptr;
}

const farm_stats* proxy_stats::farm(std::string_view name) const {
    for (const auto& f : farms)
        if (f.name == name) return &f;
    return nullptr;
}

}  // namespace gatehouse::proxy
