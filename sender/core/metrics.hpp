// The sender's counters and the commit-to-accepted latency histogram, shared between the
// event loop (writer) and the /metrics endpoint's thread (reader): relaxed atomics, and one
// mutex for the text of a configuration error.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace crmsync::sender {

struct Metrics {
    // Upper bounds of the latency buckets, in milliseconds (Prometheus "le").
    static constexpr std::array<double, 14> kLatencyBucketsMs = {1, 2, 5, 10, 20, 50, 100, 200, 500,
                                                                  1000, 2000, 5000, 10000, 60000};
    std::atomic<uint64_t> records_accepted{0};
    std::atomic<uint64_t> records_dead_lettered{0};
    std::atomic<uint64_t> records_received{0};
    std::atomic<uint64_t> batches_accepted{0};
    std::atomic<uint64_t> batches_split{0};
    std::atomic<uint64_t> requests_retried{0};
    std::atomic<uint64_t> records_retried{0};   // sent again after a transient per-record error
    std::atomic<uint64_t> token_renewals{0};    // a 401 renewed the token
    std::atomic<uint64_t> http_2xx{0}, http_4xx{0}, http_429{0}, http_5xx{0}, http_transport_errors{0};
    std::atomic<uint64_t> reconnects{0};
    std::atomic<uint64_t> backfill_rows_sent{0};     // queued for delivery by a backfill
    std::atomic<uint64_t> backfill_rows_reread{0};   // read again: a change of the key was streamed meanwhile
    std::atomic<int64_t> slot_lag_bytes{0};
    std::atomic<uint64_t> flushed_lsn{0};
    std::atomic<uint64_t> received_lsn{0};
    std::atomic<uint64_t> queued_records{0};
    std::atomic<bool> streaming{false};
    std::atomic<int64_t> last_progress_unix_ms{0};  // the event loop turned
    std::atomic<int64_t> last_settled_unix_ms{0};   // a record was accepted or dead-lettered
    std::atomic<int64_t> waiting_since_unix_ms{0};  // records became queued after none were
    std::array<std::atomic<uint64_t>, kLatencyBucketsMs.size() + 1> latency_buckets{};  // last: +Inf
    std::atomic<uint64_t> latency_count{0};
    std::atomic<uint64_t> latency_sum_us{0};

    // Delivery is held for a configuration error (docs/troubleshooting.md); "" clears it.
    void set_configuration_error(const std::string& error);
    std::string configuration_error() const;
    std::atomic<int64_t> held_since_unix_ms{0};  // 0: not held
    // The CRM's daily budget is gone: every request waits (docs/operations.md, "Quota").
    void set_quota_wait(const std::string& why, std::chrono::milliseconds wait);
    std::string quota_wait() const;
    std::atomic<int64_t> quota_wait_until_unix_ms{0};  // 0: not waiting
    std::atomic<int64_t> quota_window_remaining{-1};   // -1: the CRM has not said
    std::atomic<int64_t> quota_daily_remaining{-1};

    void observe_latency(std::chrono::microseconds latency);
    void count_status(long status);
    std::string render_prometheus() const;

private:
    mutable std::mutex configuration_error_mutex_;
    std::string configuration_error_;
    std::string quota_wait_;
};

}  // namespace crmsync::sender
