// DeliveryEngine: takes the Batcher's batches to the CRM and settles every event they carry
// (SPEC delivery rules 2, 6, 7). One batch per lane is in flight; a batch is worked on until
// each of its records is either accepted or dead-lettered:
//   2xx                       settle all (per-record errors inside a 2xx are dead-lettered)
//   4xx naming records        dead-letter those; resend the others if the CRM applied none
//   4xx naming nothing        split the request in halves and send them one after the other,
//                             down to the single poison record
//   429, 5xx, timeouts, ...   retry the same request with backoff, honouring Retry-After
// HubSpot deletes by a non-id property take two steps: a batch read finds the HubSpot ids,
// then an archive removes them (records that do not exist are already gone).
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/backoff.hpp"
#include "core/batcher.hpp"
#include "core/config.hpp"
#include "core/flush_tracker.hpp"
#include "core/rate_limiter.hpp"
#include "delivery/crm_response.hpp"
#include "delivery/metrics.hpp"
#include "io/http_client.hpp"

namespace crmsync::sender {

struct DeadLetter {
    EventId event;
    std::string object;
    std::optional<std::string> key;
    std::string payload;  // the plugin message (webhook) or the record
    long http_status = 0;
    std::string error;
};

// Where rejected records go; false when the write failed (nothing is settled then).
using DeadLetterWriter = std::function<Status(const std::vector<DeadLetter>&)>;

// Commit time of a transaction by its commit LSN, for latency.
using CommitTimeLookup = std::function<std::optional<int64_t>(Lsn commit_lsn)>;

class DeliveryEngine {
public:
    using Clock = std::chrono::steady_clock;

    DeliveryEngine(const Config& config, HttpClient& http, FlushTracker& tracker, DeadLetterWriter dead_letters,
                   CommitTimeLookup commit_time, Metrics& metrics);

    void start(Batch batch, Clock::time_point now);
    void on_response(HttpResponse response, Clock::time_point now);
    // Sends what waited for a retry time or the rate limit.
    void on_timer(Clock::time_point now);
    std::optional<Clock::time_point> next_deadline() const;

    std::size_t active_batches() const { return active_.size(); }
    std::size_t active_events() const { return active_events_; }
    // Sequences of batches whose every event is settled: tell the Batcher.
    std::vector<uint64_t> take_finished();

    // Set when on_reject = "stop" met a rejected record: nothing after it is settled.
    const std::optional<std::string>& stop_reason() const { return stop_reason_; }
    // Forget everything in flight (the replication stream is gone: it will be redelivered).
    void abandon_all();

private:
    enum class Step { send, hubspot_lookup, hubspot_archive };
    struct Part {
        std::vector<std::size_t> indices;  // into the batch's entries
        Step step = Step::send;
        std::vector<std::string> hubspot_ids;  // archive step: parallel to indices
        unsigned attempt = 0;
    };
    struct ActiveBatch {
        Batch batch;
        std::deque<Part> parts;  // front is the one being sent or waiting to be
        std::optional<uint64_t> request_id;
        Clock::time_point send_at;
        std::size_t events = 0;
    };

    void send_front(ActiveBatch& active, Clock::time_point now);
    void finish_part(ActiveBatch& active, Clock::time_point now);
    void settle(const BatchEntry& entry, std::chrono::system_clock::time_point now, bool accepted);
    bool dead_letter(ActiveBatch& active, const std::vector<std::pair<std::size_t, std::string>>& rejected,
                     long status);
    void schedule_retry(ActiveBatch& active, const ResponseVerdict& verdict, long status, Clock::time_point now);
    Batch sub_batch(const ActiveBatch& active, const Part& part) const;
    std::string oldest_commit_time(const Batch& batch) const;

    const Config& config_;
    HttpClient& http_;
    FlushTracker& tracker_;
    DeadLetterWriter dead_letters_;
    CommitTimeLookup commit_time_;
    Metrics& metrics_;
    Backoff backoff_;
    std::optional<RateLimiter> rate_limiter_;
    std::map<uint64_t, ActiveBatch> active_;               // by batch sequence
    std::unordered_map<uint64_t, uint64_t> batch_by_request_;  // request id -> batch sequence
    std::size_t active_events_ = 0;
    std::vector<uint64_t> finished_;
    std::optional<std::string> stop_reason_;
    Clock::time_point last_retry_log_{};
};

}  // namespace crmsync::sender
