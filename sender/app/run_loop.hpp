// `crmsync-sender run`: the one event loop. curl_multi_poll waits on the CRM's sockets,
// the replication socket and a signalfd together.
//   WAL stream -> parse -> FlushTracker + Batcher -> DeliveryEngine -> HTTP -> settle
//   -> status update (flush = the contiguous settled prefix) -> slot advances.
// A backfill (initial sync, re-sync) feeds the same Batcher from short SQL reads of one
// chunk each, the only blocking calls in the loop (backfill/backfill_driver.hpp).
// Backpressure: when the records read but not settled reach the budget, the loop stops
// reading the replication socket (and the backfill stops reading chunks); the slot keeps the
// WAL and memory stays flat.
#pragma once

#include "core/config.hpp"

namespace crmsync::sender {

struct RunOptions {
    bool stop_when_backfilled = false;  // `backfill`: exit 0 once no backfill is left and all is delivered
    bool progress_bar = false;          // draw backfill progress on stderr (a terminal)
};

// Runs until SIGTERM/SIGINT (drains, exits 0), a fatal error (1) or on_reject = "stop" (3).
// Lost Postgres connections are re-established with backoff.
int run_sender(const Config& config, const RunOptions& options = {});

}  // namespace crmsync::sender
