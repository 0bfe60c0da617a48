#include "core/metrics.hpp"

#include <iomanip>
#include <sstream>

namespace crmsync::sender {

void Metrics::observe_latency(std::chrono::microseconds latency) {
    double ms = static_cast<double>(latency.count()) / 1000.0;
    size_t bucket = 0;
    while (bucket < kLatencyBucketsMs.size() && ms > kLatencyBucketsMs[bucket]) ++bucket;
    latency_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    latency_count.fetch_add(1, std::memory_order_relaxed);
    latency_sum_us.fetch_add(static_cast<uint64_t>(std::max<int64_t>(0, latency.count())), std::memory_order_relaxed);
}

void Metrics::set_configuration_error(const std::string& error) {
    std::lock_guard lock(configuration_error_mutex_);
    if (error.empty()) {
        held_since_unix_ms = 0;
    } else if (configuration_error_.empty()) {
        held_since_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
    }
    configuration_error_ = error;
}

std::string Metrics::configuration_error() const {
    std::lock_guard lock(configuration_error_mutex_);
    return configuration_error_;
}

void Metrics::set_quota_wait(const std::string& why, std::chrono::milliseconds wait) {
    std::lock_guard lock(configuration_error_mutex_);
    quota_wait_ = why;
    quota_wait_until_unix_ms =
        why.empty() ? 0
                    : std::chrono::duration_cast<std::chrono::milliseconds>(
                          (std::chrono::system_clock::now() + wait).time_since_epoch())
                          .count();
}

std::string Metrics::quota_wait() const {
    std::lock_guard lock(configuration_error_mutex_);
    return quota_wait_;
}

void Metrics::count_status(long status) {
    if (status == 0) http_transport_errors++;
    else if (status == 429) http_429++;
    else if (status >= 500) http_5xx++;
    else if (status >= 400) http_4xx++;
    else if (status >= 200 && status < 300) http_2xx++;
}

std::string Metrics::render_prometheus() const {
    std::ostringstream out;
    // Integers print as integers: an LSN or a byte count in %g notation is useless.
    out << std::fixed << std::setprecision(0);
    auto counter = [&](const char* name, const char* help, uint64_t value, const char* labels = "") {
        out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n"
            << name << labels << ' ' << value << '\n';
    };
    auto gauge = [&](const char* name, const char* help, double value) {
        out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " gauge\n" << name << ' ' << value << '\n';
    };
    out << "# HELP crmsync_records_total Records by outcome.\n# TYPE crmsync_records_total counter\n";
    out << "crmsync_records_total{outcome=\"received\"} " << records_received.load() << '\n';
    out << "crmsync_records_total{outcome=\"accepted\"} " << records_accepted.load() << '\n';
    out << "crmsync_records_total{outcome=\"dead_lettered\"} " << records_dead_lettered.load() << '\n';
    out << "# HELP crmsync_batches_total Batches by outcome.\n# TYPE crmsync_batches_total counter\n";
    out << "crmsync_batches_total{outcome=\"accepted\"} " << batches_accepted.load() << '\n';
    out << "crmsync_batches_total{outcome=\"split\"} " << batches_split.load() << '\n';
    out << "# HELP crmsync_http_responses_total CRM answers by status class.\n"
           "# TYPE crmsync_http_responses_total counter\n";
    out << "crmsync_http_responses_total{status=\"2xx\"} " << http_2xx.load() << '\n';
    out << "crmsync_http_responses_total{status=\"4xx\"} " << http_4xx.load() << '\n';
    out << "crmsync_http_responses_total{status=\"429\"} " << http_429.load() << '\n';
    out << "crmsync_http_responses_total{status=\"5xx\"} " << http_5xx.load() << '\n';
    out << "crmsync_http_responses_total{status=\"transport_error\"} " << http_transport_errors.load() << '\n';
    counter("crmsync_retries_total", "Requests sent again after 429, 5xx, timeouts or connection errors.",
            requests_retried.load());
    counter("crmsync_record_retries_total", "Records sent again after a transient per-record error (lock contention).",
            records_retried.load());
    counter("crmsync_token_renewals_total", "Tokens renewed after the CRM refused one.", token_renewals.load());
    gauge("crmsync_delivery_held", "1 while delivery waits for a configuration error to be fixed (see /healthz).",
          held_since_unix_ms.load() != 0 ? 1 : 0);
    out << "# HELP crmsync_quota_remaining What the CRM last said is left of its request budget (-1: not said).\n"
           "# TYPE crmsync_quota_remaining gauge\n";
    out << "crmsync_quota_remaining{window=\"interval\"} " << quota_window_remaining.load() << '\n';
    out << "crmsync_quota_remaining{window=\"daily\"} " << quota_daily_remaining.load() << '\n';
    gauge("crmsync_quota_wait_until_seconds",
          "While the CRM's daily budget is used up: when the next request probes it (Unix time); 0 otherwise.",
          static_cast<double>(quota_wait_until_unix_ms.load() / 1000));
    counter("crmsync_dead_letters_total", "Records written to crmsync.dead_letters.", records_dead_lettered.load());
    counter("crmsync_reconnects_total", "Replication connections re-established.", reconnects.load());
    out << "# HELP crmsync_backfill_rows_total Existing rows read by a backfill, by outcome.\n"
           "# TYPE crmsync_backfill_rows_total counter\n";
    out << "crmsync_backfill_rows_total{outcome=\"sent\"} " << backfill_rows_sent.load() << '\n';
    out << "crmsync_backfill_rows_total{outcome=\"reread\"} " << backfill_rows_reread.load() << '\n';
    gauge("crmsync_slot_lag_bytes", "WAL between the server's end of WAL and the confirmed flush position.",
          static_cast<double>(slot_lag_bytes.load()));
    gauge("crmsync_flushed_lsn", "The LSN confirmed to Postgres, as a number.", static_cast<double>(flushed_lsn.load()));
    gauge("crmsync_queued_records", "Records read from the slot and not yet settled.",
          static_cast<double>(queued_records.load()));
    gauge("crmsync_streaming", "1 while the replication stream is up.", streaming.load() ? 1 : 0);
    out << "# HELP crmsync_commit_to_accepted_seconds Time from a transaction's commit to the CRM's 2xx.\n"
           "# TYPE crmsync_commit_to_accepted_seconds histogram\n";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < kLatencyBucketsMs.size(); ++i) {
        cumulative += latency_buckets[i].load();
        out << std::setprecision(3) << "crmsync_commit_to_accepted_seconds_bucket{le=\""
            << kLatencyBucketsMs[i] / 1000.0 << std::setprecision(0) << "\"} " << cumulative << '\n';
    }
    cumulative += latency_buckets[kLatencyBucketsMs.size()].load();
    out << "crmsync_commit_to_accepted_seconds_bucket{le=\"+Inf\"} " << cumulative << '\n';
    out << std::setprecision(6) << "crmsync_commit_to_accepted_seconds_sum "
        << static_cast<double>(latency_sum_us.load()) / 1e6 << std::setprecision(0) << '\n';
    out << "crmsync_commit_to_accepted_seconds_count " << latency_count.load() << '\n';
    return out.str();
}

}  // namespace crmsync::sender
