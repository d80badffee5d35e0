// An EWS client (exchange-protocols.md §8): autodiscover, then SOAP GetFolder, FindItem and
// GetItem on /EWS/Exchange.asmx over a connection authenticated with NTLM, sending
// Expect: 100-continue as .NET clients do. A response counts as good when it is 200 and its
// ResponseClass is Success.
#include "load/exchange_client.hpp"

namespace gatehouse::load {

namespace {

constexpr std::string_view envelope_start =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n"
    "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\" "
    "xmlns:t=\"http://schemas.microsoft.com/exchange/services/2006/types\" "
    "xmlns:m=\"http://schemas.microsoft.com/exchange/services/2006/messages\">\r\n"
    "  <soap:Header><t:RequestServerVersion Version=\"Exchange2013_SP1\"/></soap:Header>\r\n"
    "  <soap:Body>\r\n";
constexpr std::string_view envelope_end = "  </soap:Body>\r\n</soap:Envelope>\r\n";

bool soap_success(const http_response& r, const vu&) {
    return r.body.find("ResponseClass=\"Success\"") != std::string::npos;
}

class ews_client final : public exchange_client {
public:
    explicit ews_client(vu& v) : exchange_client(v, "ews") {
        exchange::default_auth(v, auth_scheme::ntlm);
    }

    awaitable<bool> logon(vu& v) override {
        co_return co_await exchange::autodiscover(v, profile_, key(v, "ews.autodiscover"), false);
    }

    // GetFolder, FindItem, GetItem in turn. The request is built before the co_await: GCC 12
    // mishandles temporaries of a conditional expression inside one.
    awaitable<bool> task(vu& v) override {
        auto which = next_++ % 3;
        std::string operation;
        std::string body;
        if (which == 0) {
            operation = "GetFolder";
            body =
                "<m:GetFolder><m:FolderShape><t:BaseShape>Default</t:BaseShape>"
                "</m:FolderShape><m:FolderIds><t:DistinguishedFolderId Id=\"inbox\"/>"
                "</m:FolderIds></m:GetFolder>";
        } else if (which == 1) {
            operation = "FindItem";
            body =
                "<m:FindItem Traversal=\"Shallow\"><m:ItemShape><t:BaseShape>IdOnly"
                "</t:BaseShape></m:ItemShape><m:IndexedPageItemView MaxEntriesReturned=\"20\" "
                "Offset=\"0\" BasePoint=\"Beginning\"/><m:ParentFolderIds>"
                "<t:DistinguishedFolderId Id=\"inbox\"/></m:ParentFolderIds></m:FindItem>";
        } else {
            operation = "GetItem";
            std::string id = item_id_;
            if (id.empty()) id = "AAMkAGI2";
            body =
                "<m:GetItem><m:ItemShape><t:BaseShape>Default</t:BaseShape></m:ItemShape>"
                "<m:ItemIds><t:ItemId Id=\"" +
                id + "\"/></m:ItemIds></m:GetItem>";
        }
        bool ok = co_await call(v, std::move(operation), std::move(body));
        if (ok && which == 1) {
            // Remember an item to read next.
            const auto& response = v.last().body;
            if (auto at = response.find("ItemId Id=\""); at != std::string::npos) {
                at += 11;
                item_id_ = response.substr(at, response.find('"', at) - at);
            }
        }
        co_return ok;
    }

    awaitable<bool> logoff(vu&) override { co_return true; }

private:
    awaitable<bool> call(vu& v, std::string operation, std::string body) {
        std::string soap;
        soap.reserve(envelope_start.size() + body.size() + envelope_end.size());
        soap.append(envelope_start).append(body).append(envelope_end);
        http_request r;
        r.method = "POST";
        r.target = "/EWS/Exchange.asmx";
        r.body = soap;
        r.expect_continue = true;
        r.capture = 64 * 1024;
        r.headers = {{"Content-Type", "text/xml; charset=utf-8"},
                     {"Accept", "text/xml"},
                     {"User-Agent", "ExchangeServicesClient/15.00.0913.015"},
                     {"X-AnchorMailbox", v.email()}};
        co_return co_await v.step(profile_, key(v, "ews." + operation), r, {200}, false,
                                  soap_success);
    }

    unsigned next_ = 0;
    std::string item_id_;
};

}  // namespace

std::unique_ptr<exchange_client> make_ews_client(vu& v) {
    return std::make_unique<ews_client>(v);
}

}  // namespace gatehouse::load
