#include "load/worker_services.hpp"
#include "load/workload.hpp"

#include <cstdio>
#include <functional>

#include <boost/asio/steady_timer.hpp>

namespace gatehouse::load {

namespace {

std::string substitute(std::string text, std::size_t index) {
    char number[16];
    std::snprintf(number, sizeof number, "%04zu", index);
    for (auto at = text.find("{n}"); at != std::string::npos; at = text.find("{n}", at))
        text.replace(at, 3, number);
    return text;
}

std::string lower(std::string s) {
    for (auto& c : s)
        if (c >= 'A' && c <= 'Z') c = char(c - 'A' + 'a');
    return s;
}

// 128 bits derived from `seed` (two FNV-1a passes), as hex.
std::string derived_hex(const std::string& seed, std::size_t bytes) {
    std::string out;
    std::uint64_t h = 1469598103934665603ull;
    for (std::size_t round = 0; out.size() < bytes * 2; ++round) {
        for (char c : seed + char('0' + round)) {
            h ^= std::uint8_t(c);
            h *= 1099511628211ull;
        }
        char part[17];
        std::snprintf(part, sizeof part, "%016llx", static_cast<unsigned long long>(h));
        out += part;
    }
    out.resize(bytes * 2);
    return out;
}

}  // namespace

vu::vu(std::size_t index, worker_services& services)
    : index_(index), services_(services), random_(std::random_device{}() ^ index) {
    user_ = substitute(services.creds.user, index);
    domain_ = substitute(services.creds.domain, index);
    password_ = substitute(services.creds.password, index);
    email_ = user_.find('@') == std::string::npos
                 ? lower(user_) + "@" + substitute(services.creds.email_domain, index)
                 : user_;
    auto g = derived_hex("mailbox:" + email_, 16);
    mailbox_guid_ = g.substr(0, 8) + "-" + g.substr(8, 4) + "-" + g.substr(12, 4) + "-" +
                    g.substr(16, 4) + "-" + g.substr(20, 12);
    device_id_ = derived_hex("device:" + email_, 16);
    for (auto& c : device_id_)
        if (c >= 'a' && c <= 'f') c = char(c - 'a' + 'A');
    http_ = std::make_unique<http_client>(services.conn, services.client, jar_, &services.registry,
                                          &services.rec);
    http_->set_identity(
        {.domain = domain_, .user = user_, .password = password_, .workstation = "LOADGEN"});
}

vu::~vu() = default;

recorder& vu::rec() noexcept {
    return services_.rec;
}
const workload_options& vu::options() const noexcept {
    return services_.options;
}
const asio::any_io_executor& vu::executor() const noexcept {
    return services_.executor;
}

bool vu::stopping() const noexcept {
    return services_.soft_stopped || services_.registry.closed();
}

steady_clock::duration vu::scaled(steady_clock::duration d) const noexcept {
    return std::chrono::duration_cast<steady_clock::duration>(d * services_.options.time_scale);
}

awaitable<bool> vu::step(std::uint32_t profile, std::uint32_t key, const http_request& req,
                         expected_status expected, bool long_poll, response_check check) {
    if (stopping()) {
        interrupted_ = true;
        intended_.reset();
        co_return false;
    }
    auto start = intended_.value_or(steady_clock::now());
    intended_.reset();
    co_await http_->exchange(req, response_);
    auto end = steady_clock::now();
    if (response_.interrupted) {
        interrupted_ = true;
        services_.rec.record_interrupted();
        co_return false;
    }
    bool ok = !response_.failed;
    bool unexpected = false;
    if (ok) {
        unexpected = !expected.accepts(response_.status);
        if (!unexpected && check) unexpected = !check(response_, *this);
        ok = !unexpected;
    }
    recorder::request r;
    r.profile = profile;
    r.key = key;
    r.status = response_.status;
    r.failed = response_.failed;
    r.unexpected = unexpected;
    r.long_poll = long_poll;
    if (auto e = response_.field("X-Gatehouse-Error")) r.proxy_error = *e;
    if (auto fe = response_.field("X-FEServer")) r.server = *fe;
    r.latency_us = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(end - start).count());
    r.bytes_sent = response_.bytes_sent;
    r.bytes_received = response_.bytes_received;
    r.finished = end;
    services_.rec.record(r);
    co_return ok;
}

void vu::record(std::uint32_t profile, std::uint32_t key, unsigned status,
                std::optional<failure> failed, std::uint64_t latency_us, bool unexpected,
                bool long_poll, std::string_view proxy_error) {
    recorder::request r;
    r.proxy_error = proxy_error;
    r.profile = profile;
    r.key = key;
    r.status = status;
    r.failed = failed;
    r.unexpected = unexpected;
    r.long_poll = long_poll;
    r.latency_us = latency_us;
    r.finished = steady_clock::now();
    services_.rec.record(r);
}

awaitable<bool> vu::pause_until(time_point t) {
    if (services_.registry.closed()) co_return false;
    asio::steady_timer timer(services_.executor, t);
    services_.registry.add(&timer);
    auto [ec] = co_await timer.async_wait(use_nothrow);
    services_.registry.remove(&timer);
    co_return !ec && !services_.registry.closed();
}

awaitable<bool> vu::pause(steady_clock::duration d) {
    return pause_until(steady_clock::now() + d);
}

}  // namespace gatehouse::load
