#include "fake-cas/farm_state.hpp"

#include "fake-cas/encoding.hpp"
#include "fake-cas/fba_cookie.hpp"

namespace gatehouse::fake_cas {

directory::directory(const fleet_config& fleet)
    : ad_domain_(fleet.ad_domain),
      dns_domain_(fleet.dns_domain),
      email_domain_(fleet.email_domain) {
    for (const auto& u : fleet.users) users_[to_lower(u.name)] = u;
    for (const auto& s : fleet.servers)
        backends_.emplace_back(to_upper(s.netbios), to_lower(s.fqdn));
    if (backends_.empty()) backends_.emplace_back("EX01", "ex01." + dns_domain_);
}

std::shared_ptr<const mailbox_user> directory::lookup(std::string_view identity) const {
    auto name = normalize_user(identity);
    {
        std::lock_guard lock(cache_mutex_);
        if (auto it = cache_.find(name); it != cache_.end()) return it->second;
    }
    auto m = std::make_shared<const mailbox_user>(resolve(name));
    std::lock_guard lock(cache_mutex_);
    if (cache_.size() > 100000) cache_.clear();  // accept-any mode meets unbounded names
    cache_.emplace(name, m);
    return m;
}

mailbox_user directory::resolve(const std::string& name) const {
    mailbox_user m;
    m.name = name;
    auto it = users_.find(m.name);
    const user_account* account = it == users_.end() ? nullptr : &it->second;
    m.known = account != nullptr;
    auto hash = hmac_sha256("gatehouse-directory", m.name);
    m.display_name = account && !account->display_name.empty() ? account->display_name : m.name;
    m.email = account && !account->email.empty() ? account->email : m.name + "@" + email_domain_;
    if (account && !account->mailbox_guid.empty()) {
        m.mailbox_guid = account->mailbox_guid;
    } else {
        std::array<std::uint8_t, 16> g{};
        std::copy(hash.begin(), hash.begin() + 16, g.begin());
        g[6] = static_cast<std::uint8_t>((g[6] & 0x0f) | 0x40);
        g[8] = static_cast<std::uint8_t>((g[8] & 0x3f) | 0x80);
        m.mailbox_guid = format_guid(g);
    }
    std::string backend = account ? to_upper(account->backend) : std::string();
    const std::pair<std::string, std::string>* chosen = nullptr;
    for (const auto& b : backends_)
        if (b.first == backend) chosen = &b;
    if (!chosen) chosen = &backends_[hash[20] % backends_.size()];
    m.backend_netbios = chosen->first;
    m.backend_fqdn = chosen->second;
    if (!backend.empty() && backend != chosen->first) {
        // A back end outside the fleet: named as configured.
        m.backend_netbios = backend;
        m.backend_fqdn = to_lower(backend) + "." + dns_domain_;
    }
    m.legacy_dn =
        "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=" + m.name;
    return m;
}

std::optional<std::string> directory::password_of(std::string_view identity) const {
    auto it = users_.find(normalize_user(identity));
    if (it == users_.end()) return std::nullopt;
    return it->second.password;
}

bool directory::check_password(std::string_view identity, std::string_view password) const {
    auto p = password_of(identity);
    return p && *p == password;
}

std::string session_table::create(const std::string& user,
                                  std::chrono::steady_clock::duration ttl) {
    std::array<std::uint8_t, 18> raw{};
    random_bytes(raw);
    auto id = base64url_encode(raw);
    std::lock_guard lock(mutex_);
    sessions_[id] = session{user, 0, std::chrono::steady_clock::now() + ttl};
    return id;
}

std::optional<session_table::session> session_table::find(
    const std::string& id, std::chrono::steady_clock::time_point now) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end()) return std::nullopt;
    if (now >= it->second.expires) {
        sessions_.erase(it);
        return std::nullopt;
    }
    return it->second;
}

bool session_table::advance(const std::string& id, std::uint64_t expected,
                            std::chrono::steady_clock::duration ttl) {
    std::lock_guard lock(mutex_);
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second.sequence != expected) return false;
    ++it->second.sequence;
    it->second.expires = std::chrono::steady_clock::now() + ttl;
    return true;
}

void session_table::touch(const std::string& id, std::chrono::steady_clock::duration ttl) {
    std::lock_guard lock(mutex_);
    if (auto it = sessions_.find(id); it != sessions_.end())
        it->second.expires = std::chrono::steady_clock::now() + ttl;
}

void session_table::erase(const std::string& id) {
    std::lock_guard lock(mutex_);
    sessions_.erase(id);
}

std::size_t session_table::size() const {
    std::lock_guard lock(mutex_);
    return sessions_.size();
}

std::shared_ptr<virtual_connection> rpc_table::attach(const std::string& key, side s,
                                                      std::shared_ptr<wakeup> w,
                                                      const std::string& server) {
    std::lock_guard lock(mutex_);
    auto& vc = table_[key];
    if (!vc) vc = std::make_shared<virtual_connection>();
    std::lock_guard vc_lock(vc->mutex);
    auto& slot = s == side::in ? vc->in_wakeup : vc->out_wakeup;
    if (slot) return nullptr;
    slot = std::move(w);
    (s == side::in ? vc->in_server : vc->out_server) = server;
    (s == side::in ? vc->in_closed : vc->out_closed) = false;
    return vc;
}

void rpc_table::detach(const std::string& key, side s) {
    std::lock_guard lock(mutex_);
    auto it = table_.find(key);
    if (it == table_.end()) return;
    auto vc = it->second;
    bool gone = false;
    {
        std::lock_guard vc_lock(vc->mutex);
        if (s == side::in) {
            vc->in_wakeup.reset();
            vc->in_closed = true;
        } else {
            vc->out_wakeup.reset();
            vc->out_closed = true;
        }
        gone = !vc->in_wakeup && !vc->out_wakeup;
    }
    if (gone) table_.erase(it);
}

std::size_t rpc_table::size() const {
    std::lock_guard lock(mutex_);
    return table_.size();
}

}  // namespace gatehouse::fake_cas
