#include "load/exchange_client.hpp"

#include "load/errors.hpp"

#include <pugixml.hpp>

namespace gatehouse::load {

exchange_client::exchange_client(vu& v, std::string_view profile)
    : profile_(v.rec().profile_id(profile)) {}

awaitable<bool> exchange_client::session(vu& v) {
    if (!co_await logon(v)) co_return false;
    for (unsigned i = 0; i < v.options().tasks; ++i)
        if (!co_await task(v)) co_return false;
    co_return co_await logoff(v);
}

namespace exchange {

std::string form_encode(std::string_view value) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : value) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~') {
            out += char(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

awaitable<bool> autodiscover(vu& v, std::uint32_t profile, std::uint32_t key, bool mapi_http) {
    std::string body =
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
        "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/outlook/"
        "requestschema/2006\">\r\n"
        "  <Request>\r\n"
        "    <EMailAddress>" +
        v.email() +
        "</EMailAddress>\r\n"
        "    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/"
        "outlook/responseschema/2006a</AcceptableResponseSchema>\r\n"
        "  </Request>\r\n"
        "</Autodiscover>\r\n";
    http_request r;
    r.method = "POST";
    r.target = "/autodiscover/autodiscover.xml";
    r.body = body;
    r.capture = 64 * 1024;
    r.headers = {{"Content-Type", "text/xml"},
                 {"X-AnchorMailbox", v.email()},
                 {"X-ClientCanHandle", "Negotiate,ExHttpInfo"},
                 {"User-Agent",
                  "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook "
                  "16.0.17928; Pro)"}};
    if (mapi_http) r.headers.push_back({"X-MapiHttpCapability", "1"});
    co_return co_await v.step(profile, key, r, {200});
}

namespace {

// Child element text by local name (namespaces vary between response schemas).
pugi::xml_node child_named(pugi::xml_node parent, std::string_view name) {
    for (auto c : parent.children()) {
        std::string_view n = c.name();
        auto colon = n.find(':');
        if (colon != std::string_view::npos) n.remove_prefix(colon + 1);
        if (n == name) return c;
    }
    return {};
}

template <class F>
void for_each_protocol(std::string_view xml, F f) {
    pugi::xml_document doc;
    if (!doc.load_buffer(xml.data(), xml.size())) return;
    auto account =
        child_named(child_named(child_named(doc, "Autodiscover"), "Response"), "Account");
    for (auto p : account.children()) {
        std::string_view n = p.name();
        if (auto colon = n.find(':'); colon != std::string_view::npos) n.remove_prefix(colon + 1);
        if (n == "Protocol") f(p);
    }
}

std::string target_of(std::string_view url) {
    auto scheme = url.find("://");
    if (scheme == std::string_view::npos) return std::string(url);
    auto slash = url.find('/', scheme + 3);
    return slash == std::string_view::npos ? "/" : std::string(url.substr(slash));
}

}  // namespace

std::string mapi_mail_store(std::string_view xml) {
    std::string found;
    for_each_protocol(xml, [&](pugi::xml_node p) {
        if (std::string_view(p.attribute("Type").value()) != "mapiHttp" || !found.empty()) return;
        auto store = child_named(p, "MailStore");
        auto url = child_named(store, "ExternalUrl");
        if (!url) url = child_named(store, "InternalUrl");
        if (url) found = target_of(url.text().get());
    });
    return found;
}

std::string rpc_server(std::string_view xml) {
    std::string exch, expr;
    for_each_protocol(xml, [&](pugi::xml_node p) {
        std::string_view type = child_named(p, "Type").text().get();
        auto server = std::string(child_named(p, "Server").text().get());
        if (type == "EXCH" && exch.empty()) exch = server;
        if (type == "EXPR" && expr.empty()) expr = server;
    });
    // Exchange 2013+ puts the mailbox GUID@domain in EXCH; EXPR names the proxy host.
    return exch.empty() ? expr : exch;
}

void default_auth(vu& v, auth_scheme scheme) {
    if (v.http().options().auth == auth_scheme::none) v.http().set_auth(scheme);
}

}  // namespace exchange

namespace {

class session_user final : public user {
public:
    explicit session_user(std::unique_ptr<exchange_client> c) : client_(std::move(c)) {}
    awaitable<bool> iteration(vu& v) override { return client_->session(v); }

private:
    std::unique_ptr<exchange_client> client_;
};

class session_workload final : public workload {
public:
    using factory = std::unique_ptr<exchange_client> (*)(vu&);
    session_workload(std::string name, factory f) : name_(std::move(name)), make_(f) {}
    std::string name() const override { return name_; }
    std::unique_ptr<user> make_user(vu& v) const override {
        return std::make_unique<session_user>(make_(v));
    }

private:
    std::string name_;
    factory make_;
};

}  // namespace

std::unique_ptr<workload> make_session_workload(const std::string& profile) {
    session_workload::factory f = nullptr;
    if (profile == "owa")
        f = make_owa_client;
    else if (profile == "ews")
        f = make_ews_client;
    else if (profile == "activesync")
        f = make_activesync_client;
    else if (profile == "mapi")
        f = make_mapi_client;
    else if (profile == "outlook-anywhere")
        f = make_outlook_anywhere_client;
    if (!f) return nullptr;
    return std::make_unique<session_workload>(profile, f);
}

}  // namespace gatehouse::load
