// UnseenChanges: which keys of a table being re-synced were changed in the stream by
// transactions a chunk's snapshot did not see. Such a chunk row is older than a change the
// CRM already has (or is about to get) and must not be sent (docs/backfill.md, "re-sync
// while streaming").
//
// The sender records every change of the table it reads from the stream, with its xid,
// from the moment the re-sync starts. When a chunk's watermark arrives, a chunk row is
// dropped if some recorded change of its key came from a transaction its snapshot does not
// see. Xids every later snapshot sees (they precede a snapshot's xmin; snapshot xmins only
// grow) are forgotten, so memory holds the changes of still-running or recent transactions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/pg_snapshot.hpp"

namespace crmsync::sender {

class UnseenChanges {
public:
    // An upsert or delete of `key` by transaction `xid`.
    void record(std::string_view key, std::uint32_t xid);
    // A truncate of the table: every key changed.
    void record_truncate(std::uint32_t xid);
    // A change of `key` (or a truncate) recorded so far that `snapshot` does not see.
    bool changed_after(std::string_view key, const PgSnapshot& snapshot) const;
    // Forgets xids that precede snapshot.xmin: every snapshot taken from now on sees them.
    void forget_seen_by_all(const PgSnapshot& snapshot);
    void clear();
    std::size_t recorded_keys() const { return xids_by_key_.size(); }

private:
    std::unordered_map<std::string, std::vector<std::uint32_t>> xids_by_key_;
    std::vector<std::uint32_t> truncate_xids_;
};

}  // namespace crmsync::sender
