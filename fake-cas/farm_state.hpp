#pragma once
// State shared by the servers of a fleet, as the Exchange farm shares it through Active
// Directory and the mailbox servers: the user directory, session tables (MAPI contexts, EWS
// subscriptions, ECP sessions) and the RPC/HTTP virtual-connection table. Each server also has
// instance-scoped tables of the same kinds; knobs choose which one a request uses (§12).
// Thread-safe.

#include "fake-cas/config.hpp"
#include "fake-cas/ews_mailbox.hpp"
#include "fake-cas/rts_pdu.hpp"
#include "fake-cas/wakeup.hpp"

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace gatehouse::fake_cas {

// A mailbox user as the front end resolves it.
struct mailbox_user {
    std::string name{};  // normalised account name ("jdoe")
    std::string display_name{};
    std::string email{};
    std::string mailbox_guid{};
    std::string backend_netbios{};  // the simulated mailbox server
    std::string backend_fqdn{};
    std::string legacy_dn{};
    bool known = false;  // configured, not synthesised in accept-any mode
};

class directory {
public:
    directory(const fleet_config& fleet);
    // Resolves any identity form ("CONTOSO\jdoe", "jdoe@contoso.com", "jdoe"). Unknown users
    // are synthesised (known = false) so accept-any mode serves anyone. Results are cached (the
    // directory never changes while a fleet runs); thread-safe.
    std::shared_ptr<const mailbox_user> lookup(std::string_view identity) const;
    // The configured password check (verify mode); false for unknown users.
    bool check_password(std::string_view identity, std::string_view password) const;
    std::optional<std::string> password_of(std::string_view identity) const;
    const std::string& ad_domain() const { return ad_domain_; }
    const std::string& dns_domain() const { return dns_domain_; }
    const std::string& email_domain() const { return email_domain_; }

private:
    mailbox_user resolve(const std::string& name) const;

    std::map<std::string, user_account> users_;
    mutable std::mutex cache_mutex_;
    mutable std::unordered_map<std::string, std::shared_ptr<const mailbox_user>> cache_;
    std::vector<std::pair<std::string, std::string>> backends_;  // netbios, fqdn
    std::string ad_domain_, dns_domain_, email_domain_;
};

// Sessions keyed by an opaque id: MAPI session contexts, EWS subscriptions, ECP sessions.
class session_table {
public:
    struct session {
        std::string user{};
        std::uint64_t sequence = 0;
        std::chrono::steady_clock::time_point expires{};
    };
    // A new session for `user`; returns its id.
    std::string create(const std::string& user, std::chrono::steady_clock::duration ttl);
    std::optional<session> find(const std::string& id, std::chrono::steady_clock::time_point now);
    // Moves the sequence from `expected` to expected + 1 and extends the lifetime; false when
    // the session is gone or the sequence does not match.
    bool advance(const std::string& id, std::uint64_t expected,
                 std::chrono::steady_clock::duration ttl);
    void touch(const std::string& id, std::chrono::steady_clock::duration ttl);
    void erase(const std::string& id);
    std::size_t size() const;

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, session> sessions_;
};

// One RPC/HTTP virtual connection: an IN and an OUT channel, possibly on different servers (farm
// scope). PDUs for the client travel from the IN channel's coroutine to the OUT channel's.
struct virtual_connection {
    std::mutex mutex;
    std::shared_ptr<wakeup> out_wakeup{};  // set while an OUT channel is attached
    std::shared_ptr<wakeup> in_wakeup{};   // set while an IN channel is attached
    std::string out_server{};
    std::string in_server{};
    std::deque<bytes> to_client{};
    std::uint32_t client_keepalive_ms = 300000;  // from CONN/B1
    bool in_closed = false;
    bool out_closed = false;
};

class rpc_table {
public:
    enum class side { in, out };
    // Attaches a channel to the virtual connection `key`, creating it if needed. Returns nullptr
    // when that side is already attached (a duplicate channel).
    std::shared_ptr<virtual_connection> attach(const std::string& key, side s,
                                               std::shared_ptr<wakeup> w,
                                               const std::string& server);
    // Detaches a side; the entry goes when both sides are gone.
    void detach(const std::string& key, side s);
    std::size_t size() const;

private:
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<virtual_connection>> table_;
};

// The tables one server uses for each scope.
struct scoped_tables {
    session_table mapi{};
    session_table ews{};
    session_table ecp{};
    rpc_table rpc{};
};

struct farm_state {
    explicit farm_state(const fleet_config& fleet)
        : time_scale(fleet.time_scale), farm_secret(fleet.farm_secret), users(fleet) {}

    double time_scale;
    std::string farm_secret;
    // Set once the fleet's threads have stopped: coroutines destroyed from then on must not
    // post to other contexts (which may already be gone).
    std::atomic<bool> stopping{false};
    directory users;
    scoped_tables shared{};
    event_hub eas_changes{};
    // The last Ping parameters per (user, device): an empty Ping reuses them (§6.4).
    std::mutex eas_mutex{};
    std::map<std::string, std::pair<std::uint32_t, std::vector<std::string>>> eas_ping_cache{};
    event_hub mapi_notifications{};
    event_hub ews_notifications{};
    // The EWS mailbox of each user, built once (it is a pure function of the user).
    std::mutex mailbox_mutex{};
    std::unordered_map<std::string, std::shared_ptr<const ews_mailbox>> mailboxes{};
};

}  // namespace gatehouse::fake_cas
