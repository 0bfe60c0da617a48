// Lsn: a WAL position (Postgres XLogRecPtr), and EventId: a plugin message's identity.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace crmsync::sender {

struct Lsn {
    std::uint64_t value = 0;

    friend auto operator<=>(Lsn, Lsn) = default;
};

// "16/B374D848" as Postgres prints and reads it (pg_lsn): two groups of 1 to 8 hex digits.
std::optional<Lsn> parse_lsn(std::string_view text);
std::string format_lsn(Lsn lsn);

// (commit_lsn, seq) identifies a plugin message uniquely across restarts and redeliveries;
// delivery order is this order (docs/mapping.md, the messages).
struct EventId {
    Lsn commit_lsn;
    std::uint64_t seq = 0;

    friend auto operator<=>(const EventId&, const EventId&) = default;
};

std::string format_event_id(const EventId& id);  // "0/16B37A0#3", for logs and messages

}  // namespace crmsync::sender
