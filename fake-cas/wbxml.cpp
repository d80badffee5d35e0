#include "fake-cas/wbxml.hpp"

namespace gatehouse::fake_cas {

namespace {

constexpr std::uint8_t switch_page_token = 0x00, end_token = 0x01, str_i = 0x03, opaque = 0xc3;

class decoder {
public:
    explicit decoder(std::span<const std::uint8_t> d) : d_(d) {}

    std::optional<std::uint32_t> mb_uint() {
        std::uint32_t v = 0;
        for (int i = 0; i < 5; ++i) {
            if (at_ >= d_.size()) return std::nullopt;
            auto b = d_[at_++];
            v = (v << 7) | (b & 0x7f);
            if ((b & 0x80) == 0) return v;
        }
        return std::nullopt;
    }

    bool header() {
        if (d_.size() < 4) return false;
        ++at_;                                       // version
        if (!mb_uint() || !mb_uint()) return false;  // public id, charset
        auto table = mb_uint();
        if (!table || *table > d_.size() - at_) return false;
        at_ += *table;
        return true;
    }

    // Parses the content of an element until its END (or the document's end at depth 0).
    bool content(wbxml_element& parent, int depth) {
        if (depth > 64) return false;
        while (at_ < d_.size()) {
            auto t = d_[at_++];
            if (t == switch_page_token) {
                if (at_ >= d_.size()) return false;
                page_ = d_[at_++];
            } else if (t == end_token) {
                return depth > 0;
            } else if (t == str_i) {
                auto start = at_;
                while (at_ < d_.size() && d_[at_] != 0) ++at_;
                if (at_ >= d_.size()) return false;
                parent.text.append(reinterpret_cast<const char*>(d_.data() + start), at_ - start);
                ++at_;
            } else if (t == opaque) {
                auto len = mb_uint();
                if (!len || *len > d_.size() - at_) return false;
                parent.text.append(reinterpret_cast<const char*>(d_.data() + at_), *len);
                at_ += *len;
            } else {
                if (t & 0x80) return false;  // attributes are not used by ActiveSync
                wbxml_element e;
                e.page = page_;
                e.token = t & 0x3f;
                if (t & 0x40) {
                    if (!content(e, depth + 1)) return false;
                }
                parent.children.push_back(std::move(e));
            }
        }
        return depth == 0;
    }

private:
    std::span<const std::uint8_t> d_;
    std::size_t at_ = 0;
    std::uint8_t page_ = 0;
};

const wbxml_element* find_in(const wbxml_element& e, std::uint8_t page, std::uint8_t token) {
    for (const auto& c : e.children) {
        if (c.page == page && c.token == token) return &c;
        if (auto* f = find_in(c, page, token)) return f;
    }
    return nullptr;
}

}  // namespace

const wbxml_element* wbxml_element::child(std::uint8_t p, std::uint8_t t) const {
    for (const auto& c : children)
        if (c.page == p && c.token == t) return &c;
    return nullptr;
}

const wbxml_element* wbxml_element::find(std::uint8_t p, std::uint8_t t) const {
    if (page == p && token == t) return this;
    return find_in(*this, p, t);
}

std::optional<wbxml_element> wbxml_decode(std::span<const std::uint8_t> data) {
    decoder d(data);
    if (!d.header()) return std::nullopt;
    wbxml_element root;  // a synthetic document node; the real root is its only child
    if (!d.content(root, 0) || root.children.size() != 1) return std::nullopt;
    return std::move(root.children.front());
}

wbxml_writer::wbxml_writer() : out_{0x03, 0x01, 0x6a, 0x00} {}

void wbxml_writer::switch_page(std::uint8_t page) {
    if (page == page_) return;
    out_.push_back(switch_page_token);
    out_.push_back(page);
    page_ = page;
}

wbxml_writer& wbxml_writer::open(std::uint8_t page, std::uint8_t token) {
    switch_page(page);
    out_.push_back(static_cast<std::uint8_t>(token | 0x40));
    return *this;
}

wbxml_writer& wbxml_writer::leaf(std::uint8_t page, std::uint8_t token, std::string_view text) {
    open(page, token);
    out_.push_back(str_i);
    out_.insert(out_.end(), text.begin(), text.end());
    out_.push_back(0);
    return close();
}

wbxml_writer& wbxml_writer::close() {
    out_.push_back(end_token);
    return *this;
}

}  // namespace gatehouse::fake_cas
