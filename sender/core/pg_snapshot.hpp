// PgSnapshot: an MVCC snapshot as pg_current_snapshot() prints it ("xmin:xmax:xip,xip,...")
// and the question a backfill asks of it: did the transaction that made a streamed change
// commit before the snapshot, so that rows read under it already show that change?
//
// The plugin's events carry 32-bit top-level xids; the snapshot's are 64-bit (epoch and
// xid). Visibility is decided on the low 32 bits with wraparound-aware comparison, as
// Postgres's own TransactionIdPrecedes does: valid while the xids compared are less than
// 2^31 apart, which the server guarantees for anything not yet frozen.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace crmsync::sender {

// a precedes b in the circular 32-bit xid space.
inline bool xid_precedes(std::uint32_t a, std::uint32_t b) { return static_cast<std::int32_t>(a - b) < 0; }

struct PgSnapshot {
    std::uint64_t xmin = 0;  // every xid before it had ended
    std::uint64_t xmax = 0;  // every xid at or after it had not
    std::vector<std::uint64_t> xip;  // in progress, between xmin and xmax

    static Result<PgSnapshot> parse(std::string_view text);
    // True when the transaction `xid` had committed when the snapshot was taken, so its
    // changes are in what was read under the snapshot (an aborted one has no changes to see).
    bool sees(std::uint32_t xid) const;
};

}  // namespace crmsync::sender
