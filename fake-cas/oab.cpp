// /OAB/<guid>/ (§11): the manifest oab.xml and the .lzx files it lists, for GET and HEAD, with
// byte ranges, as BITS downloads them.

#include "fake-cas/encoding.hpp"
#include "fake-cas/request_context.hpp"

#include <charconv>

namespace gatehouse::fake_cas {

namespace {

// The OAB generation this server serves. seq_per_instance gives each server its own, like
// Exchange 2010 CAS servers that pulled the OAB on their own schedules.
unsigned generation(const server_config& c) {
    if (!c.oab.seq_per_instance) return 7;
    unsigned h = 0;
    for (char ch : to_upper(c.netbios)) h = h * 31 + static_cast<unsigned char>(ch);
    return 10 + h % 90;
}

std::string manifest(const server_config& c) {
    auto seq = std::to_string(generation(c));
    auto size = std::to_string(c.oab.file_bytes);
    const auto& guid = c.oab.oab_guid;
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<OAB>\r\n <OAL id=\"/o=Contoso/"
           "cn=addrlists/cn=oabs/cn=Default Offline Address Book\" dn=\"/o=Contoso/cn=addrlists/"
           "cn=oabs/cn=Default Offline Address Book\" name=\"\\Default Global Address List\">\r\n"
           "  <Full seq=\"" +
           seq + "\" ver=\"32\" size=\"" + size + "\" uncompressedsize=\"" + size + "\">" + guid +
           "-data-" + seq + ".lzx</Full>\r\n  <Template seq=\"" + seq + "\" ver=\"7\" size=\"" +
           size + "\" uncompressedsize=\"" + size + "\" langid=\"0409\" type=\"windows\">" + guid +
           "-lng0409-" + seq + ".lzx</Template>\r\n  <Diff seq=\"" + seq + "\" ver=\"32\" size=\"" +
           size + "\" uncompressedsize=\"" + size + "\">" + guid + "-binpatch-" + seq +
           ".lzx</Diff>\r\n </OAL>\r\n</OAB>\r\n";
}

struct byte_range {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
};

// One "bytes=a-b", "bytes=a-" or "bytes=-n" range; nullopt when unsatisfiable or malformed
// (`malformed` tells the two apart: a malformed header is ignored, RFC 9110 §14.2).
std::optional<byte_range> parse_range(std::string_view h, std::uint64_t size, bool& malformed) {
    malformed = true;
    if (!istarts_with(h, "bytes=")) return std::nullopt;
    h.remove_prefix(6);
    if (h.find(',') != std::string_view::npos) return std::nullopt;  // one range only
    auto dash = h.find('-');
    if (dash == std::string_view::npos) return std::nullopt;
    auto a = h.substr(0, dash), b = h.substr(dash + 1);
    auto num = [](std::string_view s, std::uint64_t& out) {
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return ec == std::errc{} && p == s.data() + s.size() && !s.empty();
    };
    std::uint64_t x = 0, y = 0;
    byte_range r;
    if (a.empty()) {
        if (!num(b, y)) return std::nullopt;
        malformed = false;
        if (y == 0 || size == 0) return std::nullopt;
        r.first = y >= size ? 0 : size - y;
        r.last = size - 1;
        return r;
    }
    if (!num(a, x)) return std::nullopt;
    if (!b.empty() && (!num(b, y) || y < x)) return std::nullopt;
    malformed = false;
    if (x >= size) return std::nullopt;
    r.first = x;
    r.last = b.empty() ? size - 1 : std::min(y, size - 1);
    return r;
}

}  // namespace

awaitable<void> handle_oab(request_context& ctx) {
    const auto& c = ctx.cfg();
    bool head = ctx.is("HEAD");
    if (bool ok_ = co_await require_auth(ctx, c.at(vdir::oab).auth); !ok_) co_return;
    if (!ctx.is("GET") && !(head && c.oab.support_head)) {
        if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
        ctx.reply_error(405);
        ctx.res.fields.add("Allow", c.oab.support_head ? "GET, HEAD" : "GET");
        co_return;
    }
    if (bool ok_ = co_await drain_body(ctx); !ok_) ctx.close = true;
    ctx.mark_proxied(ctx.user);

    auto rest = ctx.where.rest;  // "/<guid>/<file>"
    std::string_view guid, file;
    if (rest.size() > 1) {
        auto slash = rest.find('/', 1);
        guid = rest.substr(1, slash == std::string_view::npos ? std::string_view::npos : slash - 1);
        if (slash != std::string_view::npos) file = rest.substr(slash + 1);
    }
    if (!net::iequals(guid, c.oab.oab_guid) || file.empty()) {
        ctx.reply_error(404);
        co_return;
    }
    std::shared_ptr<const std::string> content;
    std::string content_type;
    if (net::iequals(file, "oab.xml")) {
        content = std::make_shared<const std::string>(manifest(c));
        content_type = "text/xml";
    } else {
        auto seq = std::to_string(generation(c));
        for (const char* kind : {"-data-", "-lng0409-", "-binpatch-"}) {
            if (net::iequals(file, c.oab.oab_guid + kind + seq + ".lzx"))
                content = ctx.srv.oab_file(to_lower(file), c.oab.file_bytes);
        }
        content_type = "application/octet-stream";
    }
    if (!content) {
        ctx.reply_error(404);
        co_return;
    }
    auto& res = ctx.res;
    res.fields.add("Content-Type", content_type);
    res.fields.add("Last-Modified", "Tue, 01 Jul 2025 02:00:00 GMT");
    res.fields.add("ETag",
                   "\"" + std::to_string(std::hash<std::string>{}(*content) % 100000000) + "\"");
    if (c.oab.support_range) res.fields.add("Accept-Ranges", "bytes");
    std::string_view body = *content;
    if (auto range = ctx.header("Range"); range && c.oab.support_range) {
        bool malformed = false;
        auto r = parse_range(*range, content->size(), malformed);
        if (r) {
            res.status = 206;
            res.fields.add("Content-Range", "bytes " + std::to_string(r->first) + "-" +
                                                std::to_string(r->last) + "/" +
                                                std::to_string(content->size()));
            body = body.substr(r->first, r->last - r->first + 1);
        } else if (!malformed) {
            ctx.reply_error(416);
            res.fields.add("Content-Range", "bytes */" + std::to_string(content->size()));
            co_return;
        }
    }
    if (res.status == 0) res.status = 200;
    if (c.oab.force_chunked && !head) {
        co_await send_head(ctx, std::nullopt);
        constexpr std::size_t piece = 16 * 1024;
        for (std::size_t at = 0; at < body.size(); at += piece)
            if (auto ec_ = co_await send_body(ctx, body.substr(at, piece)); ec_) co_return;
        co_await send_last_chunk(ctx);
        co_return;
    }
    ctx.res_body.assign(body);
}

}  // namespace gatehouse::fake_cas
