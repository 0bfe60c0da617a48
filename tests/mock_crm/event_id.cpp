#include "event_id.h"

#include <charconv>
#include <cstdio>

namespace crmsync::mock_crm {
namespace {

std::optional<uint32_t> parse_hex32(std::string_view s) {
    if (s.empty() || s.size() > 8) return std::nullopt;
    uint32_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
    if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
    return v;
}

uint64_t mix(uint64_t x) {  // splitmix64 finaliser: LSNs are clustered, slots must not be
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

}  // namespace

std::optional<uint64_t> parse_lsn(std::string_view text) {
    size_t slash = text.find('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto hi = parse_hex32(text.substr(0, slash));
    auto lo = parse_hex32(text.substr(slash + 1));
    if (!hi || !lo) return std::nullopt;
    return (uint64_t{*hi} << 32) | *lo;
}

std::string event_id_text(std::string_view commit_lsn, uint64_t seq) {
    std::string id(commit_lsn);
    id += '/';
    id += std::to_string(seq);
    return id;
}

std::string position_text(EventPosition pos) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%X/%X/%llu", static_cast<unsigned>(pos.lsn >> 32),
                  static_cast<unsigned>(pos.lsn & 0xFFFFFFFFu), static_cast<unsigned long long>(pos.seq));
    return buf;
}

std::optional<EventPosition> parse_position(std::string_view text) {
    size_t slash = text.rfind('/');
    if (slash == std::string_view::npos) return std::nullopt;
    auto lsn = parse_lsn(text.substr(0, slash));
    std::string_view digits = text.substr(slash + 1);
    uint64_t seq = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), seq);
    if (!lsn || digits.empty() || ec != std::errc() || end != digits.data() + digits.size() || seq == 0 ||
        seq > UINT32_MAX)
        return std::nullopt;
    return EventPosition{*lsn, seq};
}

size_t EventIdSet::slot_of(EventPosition id) const {
    return mix(id.lsn * 31 + mix(id.seq)) & (slots_.size() - 1);
}

bool EventIdSet::contains(EventPosition id) const {
    if (slots_.empty()) return false;
    for (size_t i = slot_of(id);; i = (i + 1) & (slots_.size() - 1)) {
        const Slot& s = slots_[i];
        if (s.seq_plus_one == 0) return false;
        if (s.lsn == id.lsn && s.seq_plus_one == id.seq + 1) return true;
    }
}

bool EventIdSet::insert(EventPosition id) {
    // Load factor stays under 3/4 so probe chains stay short.
    if ((size_ + 1) * 4 > slots_.size() * 3) grow();
    for (size_t i = slot_of(id);; i = (i + 1) & (slots_.size() - 1)) {
        Slot& s = slots_[i];
        if (s.seq_plus_one == 0) {
            s.lsn = id.lsn;
            s.seq_plus_one = id.seq + 1;
            ++size_;
            return true;
        }
        if (s.lsn == id.lsn && s.seq_plus_one == id.seq + 1) return false;
    }
}

void EventIdSet::grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(old.empty() ? 1024 : old.size() * 2, Slot{});
    size_ = 0;
    for (const Slot& s : old) {
        if (s.seq_plus_one != 0) insert({s.lsn, s.seq_plus_one - 1});
    }
}

void EventIdSet::clear() {
    slots_.clear();
    slots_.shrink_to_fit();
    size_ = 0;
}

}  // namespace crmsync::mock_crm
