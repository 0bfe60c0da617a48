// A backfilled row as an event: crmsync.render() writes the same message the slot streams
// for the row, with a header that belongs to no transaction ("commit_lsn":"0/0","seq":0,
// xid and commit_time null). The backfill gives it an event id of its own (docs/backfill.md):
// initial sync: (the LSN just before the slot's consistent point, row number); re-sync:
// (the watermark transaction's commit LSN, 2, 3, ...). Everything else, `record` included,
// stays byte for byte what render() wrote.
#pragma once

#include <string>
#include <string_view>

#include "core/lsn.hpp"
#include "core/result.hpp"

namespace crmsync::sender {

Result<std::string> restamp_rendered(std::string_view rendered, EventId id);

}  // namespace crmsync::sender
