// DeliveryEngine: takes the Batcher's batches to the CRM and settles every event they carry
// (docs/operations.md, "Delivery rules"). It knows no CRM: a CrmAdapter builds each request and
// says what each answer means; the engine acts on that verdict. One batch per lane is in
// flight; a batch is worked on until each of its records is accepted, gone or dead-lettered:
//   accepted            settle the records
//   per_record          dead-letter the rejected, settle the done, send the transient ones
//                       again after a backoff, and the rest again at once if not applied
//   rejected_unnamed    split the request in halves, sent one after the other, down to the
//                       single poison record
//   retry               the same request again with backoff, honouring Retry-After
//   unauthorized        renew the token (re-read the file, or a new OAuth session) and send
//                       again at once; a refused renewal holds the batch like a configuration
//                       error
//   configuration       hold: nothing is dead-lettered and nothing confirmed past the batch;
//                       tried again every 1 s to 60 s until the operator has fixed it; the
//                       error is in the log, /metrics and /healthz
//   verify_target       confirm the target (adapter Stage::verify), then send the part again
// Before an upsert goes out, the adapter converts its values to the target's property types,
// reading the object's schema first when it needs it (Stage::schema); a record with a value
// its property cannot take is dead-lettered without a request.
// Every request first passes the QuotaPacer: delivery.rate_limit, the budget the CRM reports in
// its headers, and a pause of every lane while the CRM's daily budget is gone.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/backoff.hpp"
#include "core/batcher.hpp"
#include "core/config.hpp"
#include "core/dead_letter.hpp"
#include "core/flush_tracker.hpp"
#include "core/http_exchange.hpp"
#include "core/metrics.hpp"
#include "core/quota_pacer.hpp"
#include "crm/crm_adapter.hpp"

namespace crmsync::sender {

// Commit time of a transaction by its commit LSN, for latency.
using CommitTimeLookup = std::function<std::optional<int64_t>(Lsn commit_lsn)>;

// After a 401: renews the credentials the transport sends (re-reads a token file, starts a new
// OAuth session). True when a different token is now in effect; false (with `why`) when there
// is nothing new to try.
using TokenRenewal = std::function<bool(std::string& why)>;

class DeliveryEngine {
public:
    using Clock = std::chrono::steady_clock;

    DeliveryEngine(const Config& config, CrmAdapter& adapter, HttpTransport& http, FlushTracker& tracker,
                   DeadLetterWriter dead_letters, CommitTimeLookup commit_time, Metrics& metrics,
                   TokenRenewal renew_token = {});
    // For tests: backoff without jitter.
    DeliveryEngine(const Config& config, CrmAdapter& adapter, HttpTransport& http, FlushTracker& tracker,
                   DeadLetterWriter dead_letters, CommitTimeLookup commit_time, Metrics& metrics,
                   TokenRenewal renew_token, Backoff::RandomSource random);

    void start(Batch batch, Clock::time_point now);
    void on_response(HttpResponse response, Clock::time_point now);
    // Sends what waited for a retry time or the rate limit.
    void on_timer(Clock::time_point now);
    std::optional<Clock::time_point> next_deadline() const;

    // The CRM's base URL changed (a Salesforce session names its instance_url).
    void set_base_url(std::string url) { base_url_ = std::move(url); }

    std::size_t active_batches() const { return active_.size(); }
    std::size_t active_events() const { return active_events_; }
    std::size_t active_records() const { return active_records_; }  // the batches' entries
    // Sequences of batches whose every event is settled: tell the Batcher.
    std::vector<uint64_t> take_finished();

    // Set when on_reject = "stop" met a rejected record: nothing after it is settled.
    const std::optional<std::string>& stop_reason() const { return stop_reason_; }
    // Forget everything in flight (the replication stream is gone: it will be redelivered).
    void abandon_all();

private:
    struct Part {
        std::vector<std::size_t> indices;  // into the batch's entries
        Stage stage = Stage::send;
        std::vector<std::string> crm_ids;  // Stage::by_crm_id: parallel to indices
        unsigned attempt = 0;              // transient failures in a row
        unsigned holds = 0;                // configuration holds in a row
        bool resent_after_renewal = false;
        Clock::time_point not_before{};
    };
    struct ActiveBatch {
        Batch batch;
        std::deque<Part> parts;  // front is the one being sent or waiting to be
        std::optional<uint64_t> request_id;
        Clock::time_point send_at;
        std::size_t events = 0;
        std::size_t records = 0;
    };
    using Outcomes = std::vector<std::pair<std::size_t, std::string>>;  // batch entry index, error

    void send_front(ActiveBatch& active, Clock::time_point now);
    // Converts a Stage::send part's records to the target's property types (CrmAdapter::convert)
    // and dead-letters those refused; false when nothing is left to send now.
    bool convert_or_dead_letter(ActiveBatch& active, Batch& sub, Clock::time_point now);
    void finish_part(ActiveBatch& active, Clock::time_point now);
    void settle(const BatchEntry& entry, std::chrono::system_clock::time_point now, bool accepted);
    bool dead_letter(ActiveBatch& active, const Outcomes& rejected, long status);
    void schedule_retry(ActiveBatch& active, const ResponseVerdict& verdict, Clock::time_point now);
    void hold(ActiveBatch& active, const std::string& why, Clock::time_point now);
    void release(ActiveBatch& active);
    void observe_quota(const QuotaReport& report, Clock::time_point now);
    void on_per_record(ActiveBatch& active, const ResponseVerdict& verdict, long status, Clock::time_point now);
    void on_accepted(ActiveBatch& active, const ResponseVerdict& verdict, Clock::time_point now);
    void on_unnamed(ActiveBatch& active, const ResponseVerdict& verdict, long status, Clock::time_point now);
    Batch sub_batch(const ActiveBatch& active, const Part& part) const;
    PartView view(const ActiveBatch& active, const Part& part) const;
    std::string oldest_commit_time(const Batch& batch) const;

    const Config& config_;
    CrmAdapter& adapter_;
    HttpTransport& http_;
    FlushTracker& tracker_;
    DeadLetterWriter dead_letters_;
    CommitTimeLookup commit_time_;
    Metrics& metrics_;
    TokenRenewal renew_token_;
    std::string base_url_;
    Backoff backoff_;
    Backoff hold_backoff_;
    QuotaPacer pacer_;
    std::map<uint64_t, ActiveBatch> active_;                   // by batch sequence
    std::unordered_map<uint64_t, uint64_t> batch_by_request_;  // request id -> batch sequence
    std::set<uint64_t> held_;                                   // batches held for a configuration error
    std::size_t active_events_ = 0;
    std::size_t active_records_ = 0;
    std::vector<uint64_t> finished_;
    std::optional<std::string> stop_reason_;
    Clock::time_point last_retry_log_{};
    Clock::time_point last_hold_log_{};
};

}  // namespace crmsync::sender
