// /EWS/Exchange.asmx (§8): SOAP over the small in-memory mailbox (GetFolder, FindFolder,
// FindItem, GetItem, ResolveNames), subscriptions with GetStreamingEvents (a chunked stream of
// complete envelopes, keep-alives, Closed at ConnectionTimeout) and GetEvents, and the
// throttling and fault answers EWS clients must survive.

#include "fake-cas/encoding.hpp"
#include "fake-cas/ews_mailbox.hpp"
#include "fake-cas/fba.hpp"

#include <algorithm>
#include <charconv>

#include <pugixml.hpp>

namespace gatehouse::fake_cas {

namespace {

constexpr std::string_view types_ns = "http://schemas.microsoft.com/exchange/services/2006/types";
constexpr std::string_view messages_ns =
    "http://schemas.microsoft.com/exchange/services/2006/messages";

std::string_view local_name(const char* name) {
    std::string_view n(name);
    auto colon = n.find(':');
    return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

pugi::xml_node child_named(pugi::xml_node parent, std::string_view name) {
    for (auto c : parent.children())
        if (c.type() == pugi::node_element && local_name(c.name()) == name) return c;
    return {};
}

std::vector<pugi::xml_node> children_named(pugi::xml_node parent, std::string_view name) {
    std::vector<pugi::xml_node> out;
    for (auto c : parent.children())
        if (c.type() == pugi::node_element && local_name(c.name()) == name) out.push_back(c);
    return out;
}

pugi::xml_node first_element(pugi::xml_node parent) {
    for (auto c : parent.children())
        if (c.type() == pugi::node_element) return c;
    return {};
}

std::string version_header(const server_config& c) {
    unsigned parts[4] = {15, 2, 0, 0};
    std::string_view b = c.build;
    for (int i = 0; i < 4 && !b.empty(); ++i) {
        auto dot = b.find('.');
        auto piece = b.substr(0, dot);
        std::from_chars(piece.data(), piece.data() + piece.size(), parts[i]);
        b = dot == std::string_view::npos ? std::string_view{} : b.substr(dot + 1);
    }
    return "<h:ServerVersionInfo MajorVersion=\"" + std::to_string(parts[0]) +
           "\" MinorVersion=\"" + std::to_string(parts[1]) + "\" MajorBuildNumber=\"" +
           std::to_string(parts[2]) + "\" MinorBuildNumber=\"" + std::to_string(parts[3]) +
           "\" Version=\"V2017_07_11\" xmlns:h=\"" + std::string(types_ns) + "\" xmlns=\"" +
           std::string(types_ns) +
           "\" xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" "
           "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"/>";
}

std::string envelope(const server_config& c, std::string_view body) {
    return "<?xml version=\"1.0\" encoding=\"utf-8\"?><s:Envelope xmlns:s=\"http://schemas."
           "xmlsoap.org/soap/envelope/\"><s:Header>" +
           version_header(c) +
           "</s:Header><s:Body xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
           "xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">" +
           std::string(body) + "</s:Body></s:Envelope>";
}

// <m:OpResponse><m:ResponseMessages>messages</m:ResponseMessages></m:OpResponse>
std::string response(std::string_view op, std::string_view messages) {
    return "<m:" + std::string(op) + "Response xmlns:m=\"" + std::string(messages_ns) +
           "\" xmlns:t=\"" + std::string(types_ns) + "\"><m:ResponseMessages>" +
           std::string(messages) + "</m:ResponseMessages></m:" + std::string(op) + "Response>";
}

std::string message(std::string_view op, std::string_view content) {
    return "<m:" + std::string(op) +
           "ResponseMessage ResponseClass=\"Success\"><m:ResponseCode>"
           "NoError</m:ResponseCode>" +
           std::string(content) + "</m:" + std::string(op) + "ResponseMessage>";
}

std::string error_message(std::string_view op, std::string_view code, std::string_view text) {
    return "<m:" + std::string(op) + "ResponseMessage ResponseClass=\"Error\"><m:MessageText>" +
           xml_escape(text) + "</m:MessageText><m:ResponseCode>" + std::string(code) +
           "</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:" + std::string(op) +
           "ResponseMessage>";
}

std::string folder_xml(const ews_folder& f) {
    std::string x =
        "<t:" + f.element + "><t:FolderId Id=\"" + f.id + "\" ChangeKey=\"" + f.change_key + "\"/>";
    if (!f.parent_id.empty())
        x += "<t:ParentFolderId Id=\"" + f.parent_id + "\" ChangeKey=\"AQAAAA==\"/>";
    if (!f.folder_class.empty()) x += "<t:FolderClass>" + f.folder_class + "</t:FolderClass>";
    x += "<t:DisplayName>" + xml_escape(f.display_name) + "</t:DisplayName><t:TotalCount>" +
         std::to_string(f.total) + "</t:TotalCount><t:ChildFolderCount>" +
         std::to_string(f.children) + "</t:ChildFolderCount>";
    if (f.element == "Folder")
        x += "<t:UnreadCount>" + std::to_string(f.unread) + "</t:UnreadCount>";
    x += "</t:" + f.element + ">";
    return x;
}

std::string item_xml(const ews_item& i, bool with_body) {
    std::string x = "<t:Message><t:ItemId Id=\"" + i.id + "\" ChangeKey=\"" + i.change_key +
                    "\"/><t:ParentFolderId Id=\"" + i.folder_id +
                    "\" ChangeKey=\"AQAAAA==\"/><t:ItemClass>IPM.Note</t:ItemClass><t:Subject>" +
                    xml_escape(i.subject) + "</t:Subject><t:Sensitivity>Normal</t:Sensitivity>";
    if (with_body) x += "<t:Body BodyType=\"Text\">" + xml_escape(i.body) + "</t:Body>";
    x += "<t:DateTimeReceived>" + i.received + "</t:DateTimeReceived><t:Size>" +
         std::to_string(i.size) + "</t:Size><t:Importance>Normal</t:Importance><t:DateTimeSent>" +
         i.received + "</t:DateTimeSent><t:DateTimeCreated>" + i.received +
         "</t:DateTimeCreated><t:HasAttachments>false</t:HasAttachments><t:From><t:Mailbox>"
         "<t:Name>" +
         xml_escape(i.from_name) + "</t:Name><t:EmailAddress>" + xml_escape(i.from_email) +
         "</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Mailbox"
         "</t:MailboxType></t:Mailbox></t:From><t:IsRead>" +
         (i.is_read ? "true" : "false") + "</t:IsRead></t:Message>";
    return x;
}

// The folder a FolderId/DistinguishedFolderId element names.
const ews_folder* resolve_folder(const ews_mailbox& box, pugi::xml_node id) {
    auto name = local_name(id.name());
    if (name == "DistinguishedFolderId")
        return box.by_distinguished(id.attribute("Id").as_string());
    if (name == "FolderId") return box.by_id(id.attribute("Id").as_string());
    return nullptr;
}

std::vector<pugi::xml_node> id_elements(pugi::xml_node op, std::string_view container) {
    std::vector<pugi::xml_node> out;
    for (auto c : child_named(op, container).children())
        if (c.type() == pugi::node_element) out.push_back(c);
    return out;
}

std::string get_folder(const ews_mailbox& box, pugi::xml_node op) {
    std::string messages;
    for (auto id : id_elements(op, "FolderIds")) {
        if (auto* f = resolve_folder(box, id))
            messages += message("GetFolder", "<m:Folders>" + folder_xml(*f) + "</m:Folders>");
        else
            messages += error_message("GetFolder", "ErrorFolderNotFound",
                                      "The specified folder could not be found in the store.");
    }
    return response("GetFolder", messages);
}

std::string find_folder(const ews_mailbox& box, pugi::xml_node op) {
    bool deep = std::string_view(op.attribute("Traversal").as_string()) == "Deep";
    std::string messages;
    for (auto id : id_elements(op, "ParentFolderIds")) {
        auto* f = resolve_folder(box, id);
        if (!f) {
            messages += error_message("FindFolder", "ErrorFolderNotFound",
                                      "The specified folder could not be found in the store.");
            continue;
        }
        auto children = box.children(*f, deep);
        std::string folders;
        for (auto* c : children) folders += folder_xml(*c);
        messages += message(
            "FindFolder", "<m:RootFolder IndexedPagingOffset=\"" + std::to_string(children.size()) +
                              "\" TotalItemsInView=\"" + std::to_string(children.size()) +
                              "\" IncludesLastItemInRange=\"true\"><t:Folders>" + folders +
                              "</t:Folders></m:RootFolder>");
    }
    return response("FindFolder", messages);
}

std::string find_item(const ews_mailbox& box, pugi::xml_node op) {
    std::size_t offset = 0, max = 1000;
    if (auto view = child_named(op, "IndexedPageItemView")) {
        offset = view.attribute("Offset").as_uint(0);
        max = view.attribute("MaxEntriesReturned").as_uint(1000);
    }
    std::string messages;
    for (auto id : id_elements(op, "ParentFolderIds")) {
        auto* f = resolve_folder(box, id);
        if (!f) {
            messages += error_message("FindItem", "ErrorFolderNotFound",
                                      "The specified folder could not be found in the store.");
            continue;
        }
        auto items = box.items(*f);
        std::string list;
        std::size_t end = std::min(items.size(), offset + max);
        for (std::size_t i = offset; i < end; ++i) list += item_xml(*items[i], false);
        messages +=
            message("FindItem", "<m:RootFolder IndexedPagingOffset=\"" + std::to_string(end) +
                                    "\" TotalItemsInView=\"" + std::to_string(items.size()) +
                                    "\" IncludesLastItemInRange=\"" +
                                    (end >= items.size() ? "true" : "false") + "\"><t:Items>" +
                                    list + "</t:Items></m:RootFolder>");
    }
    return response("FindItem", messages);
}

std::string get_item(const ews_mailbox& box, pugi::xml_node op) {
    std::string messages;
    for (auto id : id_elements(op, "ItemIds")) {
        if (auto* i = box.item(id.attribute("Id").as_string()))
            messages += message("GetItem", "<m:Items>" + item_xml(*i, true) + "</m:Items>");
        else
            messages += error_message("GetItem", "ErrorItemNotFound",
                                      "The specified object was not found in the store.");
    }
    return response("GetItem", messages);
}

std::string resolve_names(const request_context& ctx, pugi::xml_node op) {
    std::string entry = child_named(op, "UnresolvedEntry").text().as_string();
    auto needle = to_lower(entry);
    auto at = needle.find('@');
    if (at != std::string::npos) needle.resize(at);
    if (needle.rfind("smtp:", 0) == 0) needle = needle.substr(5);
    // Every user of the directory whose name or display name starts with the entry.
    std::string resolutions;
    unsigned count = 0;
    for (const auto& name : {std::string("jdoe"), std::string("asmith"), std::string("bwayne"),
                             std::string("ckent"), needle}) {
        const auto& m = *ctx.srv.farm().users.lookup(name);
        if (!m.known || needle.empty()) continue;
        if (m.name.rfind(needle, 0) != 0 && to_lower(m.display_name).rfind(needle, 0) != 0)
            continue;
        if (resolutions.find(">" + m.email + "<") != std::string::npos) continue;
        resolutions += "<t:Resolution><t:Mailbox><t:Name>" + xml_escape(m.display_name) +
                       "</t:Name><t:EmailAddress>" + xml_escape(m.email) +
                       "</t:EmailAddress><t:RoutingType>SMTP</t:RoutingType><t:MailboxType>Mailbox"
                       "</t:MailboxType></t:Mailbox></t:Resolution>";
        ++count;
    }
    if (count == 0)
        return response("ResolveNames",
                        error_message("ResolveNames", "ErrorNameResolutionNoResults",
                                      "No results were found."));
    return response(
        "ResolveNames",
        message("ResolveNames", "<m:ResolutionSet TotalItemsInView=\"" + std::to_string(count) +
                                    "\" IncludesLastItemInRange=\"true\">" + resolutions +
                                    "</m:ResolutionSet>"));
}

std::string notification_xml(std::string_view subscription, const std::string& user,
                             const std::vector<std::string>& events) {
    std::string x =
        "<m:Notification><t:SubscriptionId>" + std::string(subscription) + "</t:SubscriptionId>";
    unsigned n = 0;
    for (const auto& e : events) {
        auto item_id =
            base64_encode("AAMk|item|" + user + "|notification|" + e + "|" + std::to_string(n++));
        x += "<t:NewMailEvent><t:Watermark>AQAAAA" + std::to_string(n) +
             "</t:Watermark><t:TimeStamp>2025-07-01T10:00:00Z</t:TimeStamp><t:ItemId Id=\"" +
             item_id + "\" ChangeKey=\"CQAAAA==\"/><t:ParentFolderId Id=\"" +
             base64_encode("AAMk|folder|" + user + "|inbox") +
             "\" ChangeKey=\"AQAAAA==\"/></t:NewMailEvent>";
    }
    return x + "</m:Notification>";
}

std::string streaming_envelope(const server_config& c, std::string_view status,
                               std::string_view notifications) {
    return envelope(
        c, response("GetStreamingEvents",
                    "<m:GetStreamingEventsResponseMessage ResponseClass=\"Success\">"
                    "<m:ResponseCode>NoError</m:ResponseCode>" +
                        (notifications.empty() ? std::string()
                                               : "<m:Notifications>" + std::string(notifications) +
                                                     "</m:Notifications>") +
                        "<m:ConnectionStatus>" + std::string(status) +
                        "</m:ConnectionStatus></m:GetStreamingEventsResponseMessage>"));
}

std::string soap_fault(const server_config& c, std::string_view code, std::string_view text,
                       std::string_view extra_xml = {}) {
    return envelope(
        c, "<s:Fault><faultcode xmlns:a=\"" + std::string(types_ns) + "\">a:" + std::string(code) +
               "</faultcode><faultstring xml:lang=\"en-US\">" + xml_escape(text) +
               "</faultstring><detail><e:ResponseCode xmlns:e=\"" +
               "http://schemas.microsoft.com/exchange/services/2006/errors\">" + std::string(code) +
               "</e:ResponseCode><e:Message xmlns:e=\"" +
               "http://schemas.microsoft.com/exchange/services/2006/errors\">" + xml_escape(text) +
               "</e:Message>" + std::string(extra_xml) + "</detail></s:Fault>");
}

awaitable<void> streaming(request_context& ctx, pugi::xml_node op, const std::string& user) {
    const auto& c = ctx.cfg();
    auto& table = ctx.srv.tables(c.ews.subscription_scope).ews;
    auto now = steady_clock::now();
    std::vector<std::string> ids;
    for (auto id : children_named(child_named(op, "SubscriptionIds"), "SubscriptionId"))
        ids.push_back(id.text().as_string());
    for (const auto& id : ids) {
        auto s = table.find(id, now);
        if (!s) {
            ctx.reply(200, "text/xml; charset=utf-8",
                      envelope(c, response("GetStreamingEvents",
                                           error_message("GetStreamingEvents",
                                                         "ErrorSubscriptionNotFound",
                                                         "The specified subscription was not "
                                                         "found."))));
            co_return;
        }
    }
    if (ids.empty()) {
        ctx.reply(500, "text/xml; charset=utf-8",
                  soap_fault(c, "ErrorSchemaValidation", "SubscriptionIds is required."));
        co_return;
    }
    unsigned minutes = child_named(op, "ConnectionTimeout").text().as_uint(30);
    minutes = std::clamp(minutes, 1u, 30u);
    auto end = now + ctx.snap->s(minutes * 60ull);
    auto keepalive = ctx.snap->s(c.ews.stream_keepalive_s);

    long_poll_guard guard(ctx.srv.obs(), long_poll::ews_streaming);
    auto w = std::make_shared<wakeup>(co_await asio::this_coro::executor);
    auto& hub = ctx.srv.farm().ews_notifications;
    event_hub::registration reg(hub, user, w);
    ctx.res.status = 200;
    ctx.res.fields.add("Cache-Control", "private");
    ctx.res.fields.add("Content-Type", "text/xml; charset=utf-8");
    if (auto ec_ = co_await send_head(ctx, std::nullopt); ec_) co_return;
    auto next_keepalive = steady_clock::now() + keepalive;
    for (;;) {
        auto events = hub.take(user);
        if (!events.empty()) {
            std::string notes;
            for (const auto& id : ids) notes += notification_xml(id, normalize_user(user), events);
            if (auto ec_ = co_await send_body(ctx, streaming_envelope(c, "OK", notes)); ec_)
                co_return;
            next_keepalive = steady_clock::now() + keepalive;
        }
        auto deadline = std::min(next_keepalive, end);
        auto why = co_await w->wait(deadline, &ctx.conn.stream.socket());
        if (why == wake_reason::peer_closed) {
            ctx.close = true;
            co_return;
        }
        if (why == wake_reason::notified) continue;
        if (steady_clock::now() >= end) break;
        if (auto ec_ = co_await send_body(ctx, streaming_envelope(c, "OK", {})); ec_) co_return;
        next_keepalive = steady_clock::now() + keepalive;
    }
    for (const auto& id : ids) table.touch(id, ctx.snap->s(30 * 60));
    if (auto ec_ = co_await send_body(ctx, streaming_envelope(c, "Closed", {})); ec_) co_return;
    co_await send_last_chunk(ctx);
}

std::string subscribe(request_context& ctx, pugi::xml_node op, const std::string& user) {
    const auto& c = ctx.cfg();
    auto& table = ctx.srv.tables(c.ews.subscription_scope).ews;
    auto id = table.create(normalize_user(user), ctx.snap->s(30 * 60));
    bool pull = static_cast<bool>(child_named(op, "PullSubscriptionRequest"));
    std::string content = "<m:SubscriptionId>" + id + "</m:SubscriptionId>";
    if (pull) content += "<m:Watermark>AQAAAA==</m:Watermark>";
    return response("Subscribe", message("Subscribe", content));
}

std::string get_events(request_context& ctx, pugi::xml_node op, const std::string& user) {
    const auto& c = ctx.cfg();
    auto& table = ctx.srv.tables(c.ews.subscription_scope).ews;
    std::string id = child_named(op, "SubscriptionId").text().as_string();
    if (!table.find(id, steady_clock::now()))
        return response("GetEvents", error_message("GetEvents", "ErrorSubscriptionNotFound",
                                                   "The specified subscription was not found."));
    auto events = ctx.srv.farm().ews_notifications.take(user);
    auto notes = notification_xml(id, normalize_user(user), events);
    notes.insert(notes.find("</t:SubscriptionId>") + 19,
                 "<t:PreviousWatermark>AQAAAA==</t:PreviousWatermark><t:MoreEvents>false"
                 "</t:MoreEvents>");
    return response("GetEvents", message("GetEvents", notes));
}

std::string unsubscribe(request_context& ctx, pugi::xml_node op) {
    auto& table = ctx.srv.tables(ctx.cfg().ews.subscription_scope).ews;
    table.erase(child_named(op, "SubscriptionId").text().as_string());
    return response("Unsubscribe", message("Unsubscribe", ""));
}

}  // namespace

awaitable<void> handle_ews(request_context& ctx) {
    const auto& c = ctx.cfg();
    const auto& k = c.ews;
    auto rest = ctx.where.rest;
    bool asmx = iequals_path(rest, "/Exchange.asmx");
    bool wsdl = iequals_path(rest, "/Services.wsdl");
    if (k.expect_100 == expect_mode::reject && ctx.header("Expect")) {
        ctx.reply_error(417);
        ctx.close = true;
        co_return;
    }
    if (k.expect_100 == expect_mode::ignore) ctx.continue_sent = true;  // never send 100
    if (bool ok_ = co_await require_auth(ctx, c.at(vdir::ews).auth); !ok_) co_return;
    if (bool ok_ = co_await read_body(ctx, c.at(vdir::ews).max_request_bytes); !ok_) co_return;
    ctx.mark_proxied(ctx.user);
    if (k.generic_error_redirect) {
        ctx.res.status = 302;
        ctx.res.fields.add("Location",
                           "/ews/genericerrorpage.htm?aspxerrorpath=/ews/exchange.asmx");
        co_return;
    }
    if (!asmx && !wsdl) {
        ctx.reply_error(404);
        co_return;
    }
    if (ctx.is("GET") || ctx.is("HEAD") || wsdl) {
        ctx.res.fields.add("Cache-Control", "private");
        if (wsdl)
            ctx.reply(200, "text/xml; charset=utf-8",
                      "<?xml version=\"1.0\" encoding=\"utf-8\"?><wsdl:definitions xmlns:wsdl="
                      "\"http://schemas.xmlsoap.org/wsdl/\" targetNamespace=\"" +
                          std::string(messages_ns) + "\"/>");
        else
            ctx.reply(200, "text/html; charset=utf-8",
                      "<html><head><title>Service</title></head><body><h1>Service</h1>"
                      "<p>You have created a service.</p></body></html>");
        co_return;
    }
    if (!ctx.is("POST")) {
        ctx.reply_error(405);
        co_return;
    }
    switch (k.throttle) {
        case throttle_mode::none:
            break;
        case throttle_mode::soap_busy:
            ctx.reply(500, "text/xml; charset=utf-8",
                      soap_fault(c, "ErrorServerBusy",
                                 "The server cannot service this request "
                                 "right now. Try again later.",
                                 "<t:MessageXml xmlns:t=\"" + std::string(types_ns) +
                                     "\"><t:Value Name=\"BackOffMilliseconds\">" +
                                     std::to_string(k.throttle_backoff_ms) +
                                     "</t:Value></t:MessageXml>"));
            co_return;
        case throttle_mode::unavailable:
            ctx.reply_error(503);
            ctx.res.fields.add("Retry-After", std::to_string((k.throttle_backoff_ms + 999) / 1000));
            co_return;
        case throttle_mode::unauthorized:
            challenge(ctx, c.at(vdir::ews).auth);
            co_return;
    }
    if (k.soap_fault_500) {
        ctx.reply(500, "text/xml; charset=utf-8",
                  soap_fault(c, "ErrorInternalServerTransientError",
                             "An internal server error occurred. Try again later."));
        co_return;
    }
    pugi::xml_document doc;
    auto parsed = doc.load_buffer(ctx.conn.body.data(), ctx.conn.body.size());
    auto envelope_node = doc.document_element();
    auto body = child_named(envelope_node, "Body");
    auto op = first_element(body);
    if (!parsed || local_name(envelope_node.name()) != "Envelope" || !op) {
        ctx.reply(500, "text/xml; charset=utf-8",
                  soap_fault(c, "ErrorSchemaValidation",
                             "The request failed schema validation: the SOAP envelope is "
                             "malformed."));
        co_return;
    }
    if (auto affinity = ctx.header("X-PreferServerAffinity");
        k.affinity_cookie && affinity && net::iequals(*affinity, "true"))
        ctx.res.fields.add("Set-Cookie", "X-BackEndOverrideCookie=" + ctx.backend_fqdn + "~" +
                                             std::to_string(ctx.cfg().port) +
                                             "; path=/; secure; HttpOnly");
    // The mailbox: the anchor when given (delegate access), else the authenticated user.
    auto m = ctx.srv.farm().users.lookup(ctx.user);
    auto& farm = ctx.srv.farm();
    std::shared_ptr<const ews_mailbox> mailbox;
    {
        std::lock_guard lock(farm.mailbox_mutex);
        if (farm.mailboxes.size() > 100000) farm.mailboxes.clear();
        auto& slot = farm.mailboxes[m->name];
        if (!slot) slot = std::make_shared<const ews_mailbox>(m->name, m->email, m->display_name);
        mailbox = slot;
    }
    const auto& box = *mailbox;
    auto name = local_name(op.name());
    std::string result;
    if (name == "GetFolder")
        result = get_folder(box, op);
    else if (name == "FindFolder")
        result = find_folder(box, op);
    else if (name == "FindItem")
        result = find_item(box, op);
    else if (name == "GetItem")
        result = get_item(box, op);
    else if (name == "ResolveNames")
        result = resolve_names(ctx, op);
    else if (name == "Subscribe")
        result = subscribe(ctx, op, m->name);
    else if (name == "Unsubscribe")
        result = unsubscribe(ctx, op);
    else if (name == "GetEvents")
        result = get_events(ctx, op, m->name);
    else if (name == "GetStreamingEvents") {
        co_await streaming(ctx, op, m->name);
        co_return;
    } else {
        auto op_name = std::string(name);
        result = response(op_name, error_message(op_name, "ErrorInvalidOperation",
                                                 "The operation is not supported by this "
                                                 "server."));
    }
    ctx.res.fields.add("Cache-Control", "private");
    ctx.reply(200, "text/xml; charset=utf-8", envelope(c, result));
}

}  // namespace gatehouse::fake_cas
