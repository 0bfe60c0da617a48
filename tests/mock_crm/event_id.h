// Event identity as the plugin defines it (docs/mapping.md, "Output messages"): commit_lsn + seq. Delivery order
// per key is (commit_lsn, seq), so the mock compares positions to find order violations and
// remembers applied ids to find duplicates.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::mock_crm {

struct EventPosition {
    uint64_t lsn = 0;
    uint64_t seq = 0;  // 1-based; 0 only in the "before everything" position
    auto operator<=>(const EventPosition&) const = default;
};

// Parses Postgres' "X/Y" LSN text (two hex numbers of up to 8 digits each).
std::optional<uint64_t> parse_lsn(std::string_view text);

// The event id a receiver dedupes on: "<commit_lsn>/<seq>", e.g. "0/16B37A0/1".
std::string event_id_text(std::string_view commit_lsn, uint64_t seq);

// A position as event id text, the LSN in Postgres' upper-case form: {0x16B37A0, 1} ->
// "0/16B37A0/1". The state file writes positions this way.
std::string position_text(EventPosition pos);
// Back from event id text; nullopt unless "<hex>/<hex>/<seq>" with seq 1..4294967295.
std::optional<EventPosition> parse_position(std::string_view text);

// Exact set of applied event ids. Open addressing over 16-byte slots: a few million events
// cost tens of megabytes, where a node-based set would cost several times that.
class EventIdSet {
public:
    // Returns false if the id was already present.
    bool insert(EventPosition id);
    bool contains(EventPosition id) const;
    size_t size() const { return size_; }
    void clear();
    // Calls f(EventPosition) for each id, in no particular order.
    template <class F>
    void for_each(F&& f) const {
        for (const Slot& s : slots_)
            if (s.seq_plus_one != 0) f(EventPosition{s.lsn, s.seq_plus_one - 1});
    }

private:
    struct Slot {
        uint64_t lsn = 0;
        uint64_t seq_plus_one = 0;  // 0 marks an empty slot
    };
    size_t slot_of(EventPosition id) const;
    void grow();

    std::vector<Slot> slots_;
    size_t size_ = 0;
};

}  // namespace crmsync::mock_crm
