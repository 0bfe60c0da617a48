// `crmsync-sender run`: the one event loop. curl_multi_poll waits on the CRM's sockets,
// the replication socket and a signalfd together; nothing else blocks.
//   WAL stream -> parse -> FlushTracker + Batcher -> DeliveryEngine -> HTTP -> settle
//   -> status update (flush = the contiguous settled prefix) -> slot advances.
// Backpressure: when the records read but not settled reach the budget, the loop stops
// reading the replication socket; the slot keeps the WAL and memory stays flat.
#pragma once

#include "core/config.hpp"

namespace crmsync::sender {

// Runs until SIGTERM/SIGINT (drains, exits 0), a fatal error (1) or on_reject = "stop" (3).
// Lost Postgres connections are re-established with backoff.
int run_sender(const Config& config);

}  // namespace crmsync::sender
