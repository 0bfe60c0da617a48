#include "core/pg_snapshot.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace crmsync::sender {
namespace {

bool parse_xid(std::string_view text, std::uint64_t& out) {
    if (text.empty()) return false;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

Result<PgSnapshot> PgSnapshot::parse(std::string_view text) {
    auto bad = [&](std::string_view why) {
        return Error{"bad snapshot \"" + std::string(text.substr(0, 80)) + "\": " + std::string(why) +
                     " (expected xmin:xmax:xip,... as pg_current_snapshot() prints it)"};
    };
    const std::size_t first = text.find(':');
    const std::size_t second = first == std::string_view::npos ? first : text.find(':', first + 1);
    if (second == std::string_view::npos) return bad("two ':' expected");
    PgSnapshot snapshot;
    if (!parse_xid(text.substr(0, first), snapshot.xmin) ||
        !parse_xid(text.substr(first + 1, second - first - 1), snapshot.xmax))
        return bad("xmin and xmax must be numbers");
    if (snapshot.xmax < snapshot.xmin) return bad("xmax before xmin");
    std::string_view list = text.substr(second + 1);
    while (!list.empty()) {
        const std::size_t comma = list.find(',');
        std::uint64_t xid = 0;
        if (!parse_xid(list.substr(0, comma), xid)) return bad("in-progress xids must be numbers");
        if (xid < snapshot.xmin || xid >= snapshot.xmax) return bad("an in-progress xid outside [xmin, xmax)");
        snapshot.xip.push_back(xid);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
    }
    std::sort(snapshot.xip.begin(), snapshot.xip.end());
    return snapshot;
}

bool PgSnapshot::sees(std::uint32_t xid) const {
    const auto xmin32 = static_cast<std::uint32_t>(xmin);
    const auto xmax32 = static_cast<std::uint32_t>(xmax);
    if (xid_precedes(xid, xmin32)) return true;
    if (!xid_precedes(xid, xmax32)) return false;
    return std::none_of(xip.begin(), xip.end(),
                        [xid](std::uint64_t running) { return static_cast<std::uint32_t>(running) == xid; });
}

}  // namespace crmsync::sender
