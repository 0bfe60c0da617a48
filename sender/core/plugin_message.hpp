// One message of the crmsync output plugin, parsed strictly and without copying its record.
//
// The plugin fixes the field order and always writes `record` last (docs/mapping.md, the messages), so the
// record's bytes are everything between `"record":` and the message's final `}`. The parser
// reads the small leading fields and hands out that span untouched: request bodies splice it,
// nothing re-serialises it. The record itself is not validated here (it came from our own
// renderer; the CRM rejects it loudly if it were broken).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/lsn.hpp"
#include "core/result.hpp"

namespace crmsync::sender {

enum class Action { upsert, delete_, truncate, message, commit };

std::string_view action_name(Action action);  // the wire name: "upsert", "delete", ...

struct PluginMessage {
    Action action = Action::upsert;
    std::optional<std::string> object;  // null for messages (and absent in commit markers)
    std::optional<std::string> key;     // null for truncate, message, and a delete or upsert with "error"
    std::optional<std::string> table;
    Lsn commit_lsn;
    std::uint64_t seq = 0;  // 1-based within the transaction; 0 in commit markers
    std::optional<std::uint64_t> xid;
    std::optional<std::string> commit_time;       // as sent, e.g. "2026-11-24T10:00:00.123456Z"
    std::optional<std::int64_t> commit_time_us;   // the same, microseconds since 1970-01-01 UTC
    std::optional<Lsn> end_lsn;                   // commit markers only
    std::optional<std::uint64_t> count;           // commit markers only
    std::optional<std::string> error;             // e.g. a delete whose old tuple lacks the key
    std::optional<std::string> prefix;            // action "message" only
    std::optional<bool> transactional;            // action "message" only

    // The raw bytes of `record`, a view into the parsed input ("null" when the record is
    // null; empty for commit markers, which have none). Valid as long as the input is.
    std::string_view record;

    EventId event_id() const { return EventId{commit_lsn, seq}; }
    // A non-transactional logical message: sent as soon as decoded, outside any transaction,
    // with no commit marker after it; commit_lsn is the message's own LSN and seq is 1.
    bool standalone() const { return action == Action::message && transactional == false; }
    bool record_is_null() const { return record == "null"; }
};

// The input must outlive the returned message's `record`.
Result<PluginMessage> parse_plugin_message(std::string_view json);

// RFC 3339 as the plugin writes timestamptz ("2026-11-24T10:00:00.123456Z"; an explicit
// "+HH:MM" offset is accepted too), to microseconds since the Unix epoch.
Result<std::int64_t> parse_commit_time(std::string_view text);

}  // namespace crmsync::sender
