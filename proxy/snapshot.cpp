#include "proxy/snapshot.hpp"

#include "net/log.hpp"
#include "proxy/affinity.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

namespace gatehouse::proxy {

namespace {

std::optional<tcp::endpoint> resolve(const std::string& address, std::uint16_t port,
                                     bool allow_lookup) {
    error_code ec;
    auto ip = asio::ip::make_address(address, ec);
    if (!ec) return tcp::endpoint(ip, port);
    if (!allow_lookup) return std::nullopt;
    asio::io_context ioc;
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(address, std::to_string(port), ec);
    if (ec || results.empty()) {
        GATEHOUSE_LOG(warning, "proxy") << "cannot resolve " << address << ": " << ec.message()
                                        << " (requests to it answer 502.3.12007)";
        return std::nullopt;
    }
    return results.begin()->endpoint();
}

// The certificate's OCSP response when it has one that may be stapled now. One that is not a
// response for this certificate is a configuration error; one out of its validity period is
// only logged (the handshake goes on without a staple, as it would with none configured).
std::optional<net::ocsp_staple> ocsp_staple_for(const certificate_config& cert,
                                                const std::string& source,
                                                const std::string& path) {
    if (cert.ocsp_response.empty() && cert.ocsp_response_file.empty()) return std::nullopt;
    net::ocsp_staple staple;
    try {
        staple = net::check_ocsp_response(cert.ocsp_response, cert.pem.chain_pem);
    } catch (const std::exception& e) {
        throw config_error(source, path + ".ocsp_response_file", e.what());
    }
    if (!staple.current(std::chrono::system_clock::now())) {
        GATEHOUSE_LOG(warning, "proxy")
            << source << ": " << path << ".ocsp_response_file: the OCSP response is out of its "
            << "validity period (expired or not yet valid): not stapled";
        return std::nullopt;
    }
    if (staple.status != "good") {
        GATEHOUSE_LOG(warning, "proxy")
            << source << ": " << path << ".ocsp_response_file: the OCSP response says the "
            << "certificate is " << staple.status;
    }
    return staple;
}

}  // namespace

snapshot::snapshot(config c, unsigned threads, runtime_registry& registry,
                   const std::string& source, bool resolve_names)
    : config_(std::move(c)) {
    validate(config_, source);
    rules_ = rule_set(config_, source);

    for (const auto& l : config_.listeners) {
        listener_snapshot ls;
        ls.config = &l;
        if (l.tls) {
            ls.tls = std::make_unique<net::sni_server_contexts>();
            for (std::size_t i = 0; i < l.certificates.size(); ++i) {
                const auto& cert = l.certificates[i];
                const auto path =
                    "listeners." + l.name + ".tls.certificates[" + std::to_string(i) + "]";
                auto staple = ocsp_staple_for(cert, source, path);
                try {
                    ls.tls->add(cert.pem, cert.names, std::move(staple));
                } catch (const std::exception& e) {
                    throw config_error(source, path, e.what());
                }
            }
        }
        listeners_.push_back(std::move(ls));
    }

    for (const auto& f : config_.farms) {
        farm_snapshot fs;
        fs.config = &f;
        fs.settings = f.proxy.apply(config_.proxy);
        fs.runtime = registry.farm(f.name);
        const bool https = f.protocol == upstream_protocol::https;
        for (const auto& s : f.servers) {
            std::uint16_t port = s.port ? s.port : (https ? 443 : 80);
            server_slot slot;
            slot.runtime = registry.server(f.name, s, port);
            slot.endpoint = resolve(s.address, port, resolve_names);
            slot.authority = s.address.find(':') != std::string::npos
                                 ? "[" + s.address + "]:" + std::to_string(port)
                                 : s.address + ":" + std::to_string(port);
            slot.tls_name = s.host_name.empty() ? s.address : s.host_name;
            slot.weight = s.weight;
            slot.id = stable_hash(slot.authority);
            slot.affinity_token = affinity_token(f.affinity.key, slot.authority);
            {
                std::lock_guard lock(slot.runtime->policy_mutex);
                slot.runtime->live_traffic.configure(f.live_traffic);
                slot.runtime->outlier.configure(f.outlier);
            }
            fs.servers.push_back(std::move(slot));
        }
        if (https) {
            net::client_tls_options options;
            options.verify = f.tls.verify;
            options.trusted_pem = f.tls.trusted_ca_pem;
            options.system_trust = f.tls.system_trust;
            options.session_resumption = f.tls.session_resumption;
            try {
                fs.tls = net::make_client_context(options);
            } catch (const std::exception& e) {
                throw config_error(source, "farms." + f.name + ".tls.trusted_ca_file", e.what());
            }
            if (f.tls.session_resumption)
                fs.tls_sessions = std::make_unique<net::tls_session_cache>(*fs.tls);
        }
        fs.balancers.reserve(threads);
        for (unsigned t = 0; t < threads; ++t) fs.balancers.emplace_back(f.load_balancing);
        farms_.push_back(std::move(fs));
    }
}

}  // namespace gatehouse::proxy
