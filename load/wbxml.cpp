#include "load/wbxml.hpp"

#include <vector>

namespace gatehouse::load::wbxml {

namespace {

constexpr char header[] = {0x03, 0x01, 0x6A, 0x00};
constexpr char switch_page = 0x00;
constexpr char end = 0x01;
constexpr char str_i = 0x03;
constexpr char content = 0x40;

class writer {
public:
    writer() { out_.assign(header, sizeof header); }
    writer& page(unsigned p) {
        out_ += switch_page;
        out_ += char(p);
        return *this;
    }
    writer& open(unsigned tag) {
        out_ += char(tag | content);
        return *this;
    }
    writer& empty(unsigned tag) {
        out_ += char(tag);
        return *this;
    }
    writer& text(unsigned tag, std::string_view value) {
        open(tag);
        out_ += str_i;
        out_ += value;
        out_ += '\0';
        return close();
    }
    writer& close() {
        out_ += end;
        return *this;
    }
    std::string str() const { return out_; }

private:
    std::string out_;
};

}  // namespace

std::string ping_request(unsigned heartbeat_s, std::string_view folder_id,
                         std::string_view folder_class) {
    // Ping(05) HeartbeatInterval(08) Folders(09) Folder(0A) Id(0B) Class(0C)
    return writer()
        .page(page_ping)
        .open(0x05)
        .text(0x08, std::to_string(heartbeat_s))
        .open(0x09)
        .open(0x0A)
        .text(0x0B, folder_id)
        .text(0x0C, folder_class)
        .close()
        .close()
        .close()
        .str();
}

std::string folder_sync_request(std::string_view sync_key) {
    // FolderSync(16) SyncKey(12)
    return writer().page(page_folder_hierarchy).open(0x16).text(0x12, sync_key).close().str();
}

std::string sync_request(std::string_view sync_key, std::string_view collection_id,
                         unsigned window_size) {
    // Sync(05) Collections(1C) Collection(0F) SyncKey(0B) CollectionId(12) GetChanges(13)
    // WindowSize(15)
    writer w;
    w.page(page_airsync)
        .open(0x05)
        .open(0x1C)
        .open(0x0F)
        .text(0x0B, sync_key)
        .text(0x12, collection_id);
    if (sync_key != "0") w.empty(0x13);
    w.text(0x15, std::to_string(window_size)).close().close().close();
    return w.str();
}

std::optional<std::string> find_text(std::string_view doc, unsigned page, unsigned tag) {
    if (doc.size() < 4 || doc[0] != 0x03) return std::nullopt;
    std::size_t i = 4;  // version, public id, charset, string table length 0
    if (doc[3] != 0) return std::nullopt;
    unsigned current = 0;
    bool want_text = false;
    while (i < doc.size()) {
        auto b = std::uint8_t(doc[i++]);
        if (b == 0x00) {  // SWITCH_PAGE
            if (i >= doc.size()) return std::nullopt;
            current = std::uint8_t(doc[i++]);
            continue;
        }
        if (b == 0x01) {  // END
            want_text = false;
            continue;
        }
        if (b == 0x03) {  // STR_I
            auto zero = doc.find('\0', i);
            if (zero == std::string_view::npos) return std::nullopt;
            if (want_text) return std::string(doc.substr(i, zero - i));
            i = zero + 1;
            continue;
        }
        if (b == 0xC3) {  // OPAQUE: mb_u_int32 length, then data
            std::uint32_t length = 0;
            while (i < doc.size()) {
                auto c = std::uint8_t(doc[i++]);
                length = length << 7 | (c & 0x7F);
                if (!(c & 0x80)) break;
            }
            if (i + length > doc.size()) return std::nullopt;
            if (want_text) return std::string(doc.substr(i, length));
            i += length;
            continue;
        }
        want_text = (b & 0x3F) == tag && current == page && (b & 0x40);
    }
    return std::nullopt;
}

}  // namespace gatehouse::load::wbxml
