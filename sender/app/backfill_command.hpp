// `crmsync-sender backfill --config F [--table T ...]`: re-sync tables into the CRM.
//
// The request goes into crmsync.backfills. If a sender is streaming the slot, it picks the
// request up (within two seconds) and this command follows its progress; otherwise this
// command runs the sender itself until the requested tables are delivered, then exits 0.
#pragma once

#include <string>
#include <vector>

#include "core/config.hpp"

namespace crmsync::sender {

// Exit status: 0 done, 1 error, 2 bad usage (a table that is not mapped).
int run_backfill(const Config& config, const std::vector<std::string>& tables);

}  // namespace crmsync::sender
