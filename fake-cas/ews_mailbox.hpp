#pragma once
// The small in-memory mailbox EWS serves for every user: a fixed folder tree and a few messages,
// derived from the user's name so every server of the fleet serves the same mailbox without
// sharing state. Read-only and pure.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace gatehouse::fake_cas {

struct ews_folder {
    std::string distinguished{};  // "inbox", "msgfolderroot", ...
    std::string id{};
    std::string change_key{};
    std::string parent_id{};
    std::string display_name{};
    std::string folder_class{};  // "IPF.Note"
    std::string element{};       // "Folder", "CalendarFolder", "ContactsFolder"
    unsigned total = 0;
    unsigned unread = 0;
    unsigned children = 0;
};

struct ews_item {
    std::string id{};
    std::string change_key{};
    std::string folder_id{};
    std::string subject{};
    std::string body{};
    std::string from_name{};
    std::string from_email{};
    std::string received{};  // xs:dateTime, UTC
    bool is_read = false;
    unsigned size = 0;
};

class ews_mailbox {
public:
    // The mailbox of `user` (normalised name) with `email` and `display_name`.
    ews_mailbox(std::string user, std::string email, std::string display_name);

    const std::vector<ews_folder>& folders() const { return folders_; }
    const ews_folder* by_distinguished(std::string_view name) const;
    const ews_folder* by_id(std::string_view id) const;
    std::vector<const ews_folder*> children(const ews_folder& parent, bool deep) const;
    std::vector<const ews_item*> items(const ews_folder& folder) const;
    const ews_item* item(std::string_view id) const;
    const std::string& email() const { return email_; }
    const std::string& display_name() const { return display_name_; }

private:
    std::string user_, email_, display_name_;
    std::vector<ews_folder> folders_;
    std::vector<ews_item> items_;
};

}  // namespace gatehouse::fake_cas
