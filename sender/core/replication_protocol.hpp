// The streaming replication sub-protocol carried in CopyData messages (CopyBoth mode), as
// pg_recvlogical speaks it: the server sends 'w' XLogData and 'k' primary keepalive, the
// client answers with 'r' standby status updates. All integers are big-endian.
//
// Parsing never trusts the length: a truncated or unknown frame is an error value, because a
// crash here would drop unconfirmed batches on the floor (the slot keeps them, but we would
// restart in a loop).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string_view>
#include <variant>

#include "core/lsn.hpp"
#include "core/result.hpp"

namespace crmsync::sender {

// Microseconds since 2000-01-01 00:00:00 UTC: the Postgres epoch used on the wire.
using PgTimestamp = std::int64_t;

PgTimestamp to_pg_timestamp(std::chrono::system_clock::time_point time);
std::chrono::system_clock::time_point from_pg_timestamp(PgTimestamp timestamp);

// 'w': dataStart, walEnd, sendTime, then one plugin message as payload.
struct XLogData {
    Lsn data_start;
    Lsn wal_end;
    PgTimestamp send_time = 0;
    std::string_view payload;  // points into the parsed frame
};

// 'k': walEnd, sendTime, replyRequested. A requested reply must be answered at once or the
// walsender drops the connection after wal_sender_timeout.
struct PrimaryKeepalive {
    Lsn wal_end;
    PgTimestamp send_time = 0;
    bool reply_requested = false;
};

using ServerMessage = std::variant<XLogData, PrimaryKeepalive>;

Result<ServerMessage> parse_server_message(std::string_view copy_data);

// 'r': what the client has written, flushed and applied. For crmsync, "flush" is the
// FlushTracker's flushable_lsn(): the slot's confirmed_flush_lsn follows it.
struct StandbyStatusUpdate {
    Lsn write;
    Lsn flush;
    Lsn apply;
    PgTimestamp client_time = 0;
    bool reply_requested = false;

    friend bool operator==(const StandbyStatusUpdate&, const StandbyStatusUpdate&) = default;
};

inline constexpr std::size_t kStandbyStatusUpdateSize = 1 + 8 + 8 + 8 + 8 + 1;

std::array<char, kStandbyStatusUpdateSize> build_standby_status_update(const StandbyStatusUpdate& update);

// The inverse of build_standby_status_update, for tests and the mock side of the protocol.
Result<StandbyStatusUpdate> parse_standby_status_update(std::string_view copy_data);

}  // namespace crmsync::sender
