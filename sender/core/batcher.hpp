// Batcher: turns the ordered stream of plugin messages into CRM requests' worth of records.
//
// Shape (docs/operations.md, delivery rules 3-5):
// * `lanes` (= delivery.max_in_flight) independent FIFO queues; a message goes to the lane
//   chosen by a hash of (object, key), and a lane has at most one batch in flight. So a key's
//   next batch is never sent while an earlier batch containing that key is in flight, and
//   per-key commit order holds, while different keys proceed in parallel.
// * Within a lane, CRM formats batch per (object, action, id field): one Salesforce sObject
//   Collections call upserts on one external-id field, one HubSpot lookup reads by one
//   idProperty. Several such batches can be
//   open at once; a record joins its group's open batch only if no later batch of the lane
//   holds the same key, otherwise the open batch is sealed and a new one is started behind
//   (an upsert after a delete of the same key never jumps ahead of that delete). Batches
//   leave a lane in creation order.
// * A batch is due when full (the format's API limit and delivery.batch_max_records) or when
//   its first record has waited `linger`. An open batch whose lane is busy keeps filling.
// * HubSpot/Salesforce with coalesce=true: an upsert of a key whose newest record waits in a
//   batch not yet sent (open, or sealed and queued behind a busy lane) is merged into that
//   record (later properties win, omitted ones are kept). No later batch of the lane holds
//   the key, so its order is kept, and while the CRM is the bottleneck (a quota, a slow API)
//   every queued batch is a coalescing window. Since a batch must not hold a key twice (the
//   CRMs reject duplicate ids in one batch), a second record of a key that cannot be merged
//   (a delete, or coalesce=false) starts a new batch. Coalescing never crosses a delete: the
//   delete sits in another batch between the two.
// * Webhook delivers every event verbatim and never coalesces; a lane's batch mixes objects
//   and actions in stream order. Truncates and logical messages concern every key, so they
//   are barriers: sent alone, after every earlier batch of every lane has finished, and
//   before any later one starts.
//
// Every batch carries the ids of all events it stands for, including coalesced-away ones,
// so the FlushTracker is settled for each (docs/operations.md, delivery rule 2).
//
// Pure and single-threaded: the caller passes `now` and tells it when a batch has finished.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/crm_record.hpp"
#include "core/lsn.hpp"
#include "core/plugin_message.hpp"
#include "core/result.hpp"

namespace crmsync::sender {

struct BatchEntry {
    EventId event_id;                // the first event of this key in the batch
    std::vector<EventId> coalesced;  // later upserts of the same key merged into this entry
    Action action = Action::upsert;
    std::string object;
    std::optional<std::string> key;
    std::string bytes;               // the plugin message; after coalescing, the merged record alone
    std::size_t record_offset = 0;
    std::size_t record_size = 0;
    bool whole_message = true;       // false once coalescing replaced `bytes` by a merged record

    std::string_view record() const { return std::string_view(bytes).substr(record_offset, record_size); }
    // The plugin message verbatim (what webhook sends); empty after coalescing.
    std::string_view message() const { return whole_message ? std::string_view(bytes) : std::string_view(); }
};

struct Batch {
    std::uint64_t sequence = 0;  // unique per Batcher, increasing in creation order
    std::size_t lane = 0;
    bool barrier = false;        // a webhook truncate/message batch, sent alone
    Action action = Action::upsert;  // CRM formats: every entry's action; webhook: the first entry's
    std::string object;              // CRM formats: every entry's object; webhook: empty (mixed)
    std::string id_field;            // CRM formats: every entry's id field (see record_id_field)
    std::vector<BatchEntry> entries;
    std::chrono::steady_clock::time_point opened_at;

    std::size_t event_count() const;
    std::vector<EventId> event_ids() const;  // every event carried, in (commit_lsn, seq) order
    EventId first_event() const;             // smallest event id carried
    EventId last_event() const;              // largest event id carried
};

struct BatcherOptions {
    Format format = Format::webhook;
    std::size_t max_records = kDefaultWebhookBatch;  // delivery.batch_max_records
    std::size_t lanes = 4;                           // delivery.max_in_flight
    std::chrono::milliseconds linger{5};
    bool coalesce = true;                            // ignored for webhook
};

class Batcher {
public:
    using Clock = std::chrono::steady_clock;

    explicit Batcher(BatcherOptions options);

    // Queues one message. `bytes` is the message `parsed` was parsed from. Messages the format
    // cannot deliver (see undeliverable_reason) and commit markers are refused with an error;
    // the caller dead-letters or settles them itself.
    Status add(std::string bytes, const PluginMessage& parsed, Clock::time_point now);

    // The next batch that may be sent at `now`, if any. Its lane is busy until finished().
    std::optional<Batch> take_ready(Clock::time_point now);

    // The batch was settled (every event accepted or dead-lettered) or given up on: its lane
    // may send its next batch.
    Status finished(std::uint64_t batch_sequence);

    // When take_ready should be called again without new input: a time <= now means
    // "already"; nullopt means only add() or finished() can make a batch due.
    std::optional<Clock::time_point> next_deadline() const;

    // Drain (SIGTERM): every queued batch is due now, regardless of linger.
    void seal_all();

    std::size_t queued_events() const { return queued_events_; }   // added, not yet taken
    std::size_t queued_records() const { return queued_records_; }  // the same after coalescing: what is kept
    std::size_t in_flight_batches() const;
    bool empty() const;  // nothing queued, nothing in flight

private:
    struct QueuedBatch {
        Batch batch;
        std::string group;
        bool sealed = false;
        std::unordered_map<std::string, std::size_t> entry_by_key;  // CRM formats: key -> entry index (until sent)
    };
    struct Lane {
        std::deque<QueuedBatch> queue;  // sealed batches first, then open ones
        std::optional<std::uint64_t> in_flight;
        // (object, key) -> the newest batch not yet sent that holds it.
        std::unordered_map<std::string, std::uint64_t> newest_queued_batch;
    };
    struct Segment {
        bool barrier = false;
        std::vector<Lane> lanes;
    };

    Status add_barrier(std::string bytes, const PluginMessage& parsed, Clock::time_point now);
    Segment& normal_segment();
    void seal_segment(Segment& segment);
    void seal_through(Lane& lane, std::size_t index);
    QueuedBatch& open_batch(Lane& lane, std::size_t lane_index, bool barrier, std::string group, const PluginMessage& parsed,
                            std::string id_field, Clock::time_point now);
    bool due(const QueuedBatch& head, Clock::time_point now) const;
    // Merges an upsert into its key's newest record if that waits in a batch not yet sent.
    bool coalesce_into_queued(Lane& lane, const std::string& group, const std::string& order_id,
                              const std::string& entry_key, const PluginMessage& parsed);
    std::size_t limit_for(Action action) const;

    BatcherOptions options_;
    std::deque<Segment> segments_;  // only the front segment sends; the others wait behind it
    std::uint64_t next_sequence_ = 1;
    std::size_t queued_events_ = 0;
    std::size_t queued_records_ = 0;
    std::size_t cursor_ = 0;  // round-robin start among lanes
    bool draining_ = false;
};

}  // namespace crmsync::sender
