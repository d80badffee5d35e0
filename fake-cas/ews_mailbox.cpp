#include "fake-cas/ews_mailbox.hpp"

#include "fake-cas/encoding.hpp"

#include <cstdio>

namespace gatehouse::fake_cas {

namespace {

std::string make_id(std::string_view kind, std::string_view user, std::string_view name) {
    // EWS ids are opaque base64; these decode to something readable for debugging.
    return base64_encode("AAMk|" + std::string(kind) + "|" + std::string(user) + "|" +
                         std::string(name));
}

}  // namespace

ews_mailbox::ews_mailbox(std::string user, std::string email, std::string display_name)
    : user_(std::move(user)), email_(std::move(email)), display_name_(std::move(display_name)) {
    struct spec {
        const char* name;
        const char* display;
        const char* parent;
        const char* klass;
        const char* element;
    };
    static constexpr spec specs[] = {
        {"root", "Top of Information Store", "", "", "Folder"},
        {"msgfolderroot", "Top of Information Store", "root", "IPF.Note", "Folder"},
        {"inbox", "Inbox", "msgfolderroot", "IPF.Note", "Folder"},
        {"sentitems", "Sent Items", "msgfolderroot", "IPF.Note", "Folder"},
        {"drafts", "Drafts", "msgfolderroot", "IPF.Note", "Folder"},
        {"deleteditems", "Deleted Items", "msgfolderroot", "IPF.Note", "Folder"},
        {"calendar", "Calendar", "msgfolderroot", "IPF.Appointment", "CalendarFolder"},
        {"contacts", "Contacts", "msgfolderroot", "IPF.Contact", "ContactsFolder"},
    };
    for (const auto& s : specs) {
        ews_folder f;
        f.distinguished = s.name;
        f.id = make_id("folder", user_, s.name);
        f.change_key = "AQAAABYAAAB" + std::string(s.name).substr(0, 4);
        f.parent_id = *s.parent ? make_id("folder", user_, s.parent) : std::string();
        f.display_name = s.display;
        f.folder_class = s.klass;
        f.element = s.element;
        folders_.push_back(std::move(f));
    }
    static constexpr struct {
        const char* folder;
        const char* subject;
        const char* from;
        bool read;
    } messages[] = {
        {"inbox", "Quarterly numbers", "Alex Smith", true},
        {"inbox", "Lunch on Friday?", "Bruce Wayne", false},
        {"inbox", "Server maintenance window", "IT Operations", false},
        {"inbox", "Re: Project Gatehouse", "Clark Kent", true},
        {"inbox", "Welcome to Exchange", "Administrator", true},
        {"sentitems", "Re: Lunch on Friday?", "", true},
        {"sentitems", "Status report", "", true},
    };
    unsigned n = 0;
    for (const auto& m : messages) {
        ews_item item;
        item.id = make_id("item", user_, std::string(m.folder) + "|" + std::to_string(n));
        item.change_key = "CQAAABYAAAA" + std::to_string(n);
        item.folder_id = make_id("folder", user_, m.folder);
        item.subject = m.subject;
        item.body = "Hello " + display_name_ + ",\r\n\r\nThis is message " + std::to_string(n) +
                    " of the simulated mailbox.\r\n";
        item.from_name = *m.from ? m.from : display_name_;
        item.from_email =
            *m.from ? to_lower(std::string(m.from).substr(0, std::string(m.from).find(' '))) +
                          "@contoso.com"
                    : email_;
        char stamp[32];
        std::snprintf(stamp, sizeof stamp, "2025-07-01T%02u:%02u:00Z", 8 + n, (n * 7) % 60);
        item.received = stamp;
        item.is_read = m.read;
        item.size = static_cast<unsigned>(1024 + item.body.size() + 97 * n);
        items_.push_back(std::move(item));
        ++n;
    }
    for (auto& f : folders_) {
        for (const auto& i : items_)
            if (i.folder_id == f.id) {
                ++f.total;
                if (!i.is_read) ++f.unread;
            }
        for (const auto& g : folders_)
            if (g.parent_id == f.id) ++f.children;
    }
}

const ews_folder* ews_mailbox::by_distinguished(std::string_view name) const {
    for (const auto& f : folders_)
        if (to_lower(name) == f.distinguished) return &f;
    return nullptr;
}

const ews_folder* ews_mailbox::by_id(std::string_view id) const {
    for (const auto& f : folders_)
        if (f.id == id) return &f;
    return nullptr;
}

std::vector<const ews_folder*> ews_mailbox::children(const ews_folder& parent, bool deep) const {
    std::vector<const ews_folder*> out;
    for (const auto& f : folders_) {
        if (f.parent_id != parent.id) continue;
        out.push_back(&f);
        if (deep) {
            auto sub = children(f, true);
            out.insert(out.end(), sub.begin(), sub.end());
        }
    }
    return out;
}

std::vector<const ews_item*> ews_mailbox::items(const ews_folder& folder) const {
    std::vector<const ews_item*> out;
    for (const auto& i : items_)
        if (i.folder_id == folder.id) out.push_back(&i);
    return out;
}

const ews_item* ews_mailbox::item(std::string_view id) const {
    for (const auto& i : items_)
        if (i.id == id) return &i;
    return nullptr;
}

}  // namespace gatehouse::fake_cas
