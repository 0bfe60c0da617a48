// BackfillDriver: copies the existing rows of mapped tables into the delivery path, in step
// with the replication stream (docs/backfill.md has the argument for each rule here).
//
// Initial sync (the sender created the slot with an exported snapshot): every requested
// table is read in that snapshot, chunk by chunk, and each row becomes an event of one
// synthetic transaction that sits just before the slot's consistent point; the session
// reads nothing from the stream until all of them are queued. Rows and streamed changes
// then reach each key in order: the snapshot holds exactly the transactions before the
// consistent point, the stream exactly those after it.
//
// Re-sync while streaming (a request in crmsync.backfills, or an initial sync resumed after
// a crash): each chunk is read in its own REPEATABLE READ transaction that records its
// snapshot and emits a watermark message. Where the watermark appears in the stream, the
// chunk's rows are injected as further events of the watermark's transaction, except rows
// whose key the stream changed, before the watermark, in a transaction the chunk's snapshot
// did not see: those rows are older than what the CRM already has. They are read again with
// the next chunk (a streamed update omits unchanged TOASTed values, so only a full row
// completes a record the CRM lost), up to kMaxRereads times.
//
// Progress (the last id of each chunk) is saved only once every event of the chunk is
// accepted by the CRM or dead-lettered, so a crash resumes after the last accepted chunk.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "backfill/backfill_store.hpp"
#include "backfill/progress_display.hpp"
#include "backfill/table_reader.hpp"
#include "core/config.hpp"
#include "core/flush_tracker.hpp"
#include "core/plugin_message.hpp"
#include "core/unseen_changes.hpp"
#include "core/metrics.hpp"

namespace crmsync::sender {

class BackfillDriver {
public:
    using Clock = std::chrono::steady_clock;

    BackfillDriver(const Config& config, Metrics& metrics, ProgressDisplay& display);

    // Before creating a slot for an initial sync: every mapped table is requested first, so
    // a crash between the slot's creation and the first chunk still finds the requests.
    Status request_initial_sync();
    // The slot was just created with `snapshot_name`; nothing has been streamed yet.
    Status begin_initial(const std::string& snapshot_name, Lsn consistent_point);
    // The initial sync still has rows to queue: the session must not read the stream.
    bool holds_stream() const { return phase_ == Phase::initial; }
    // The initial sync's synthetic transaction: its commit_lsn (the LSN just before the
    // consistent point) and, once every row is queued, how many events it has.
    Lsn initial_commit_lsn() const { return initial_commit_; }

    struct Step {
        std::vector<std::string> events;             // restamped messages to queue, in order
        std::optional<std::uint64_t> close_initial;  // all initial rows queued: close the transaction with this count
    };
    // One turn of the session's loop. `room`: the session can take a chunk's worth of events.
    Result<Step> step(const FlushTracker& tracker, bool room, Clock::time_point now);

    // Every streamed change, before it is delivered (records what a re-sync must not undo).
    void observe(const PluginMessage& message);
    bool is_watermark(const PluginMessage& message) const;
    // The watermark `message` arrived: the chunk's surviving rows, restamped as events
    // (commit_lsn, first_seq), (commit_lsn, first_seq + 1), ... of its transaction.
    Result<std::vector<std::string>> on_watermark(const PluginMessage& message, std::uint64_t first_seq);

    // When step() has work again without new input (nullopt: only input can give it work).
    std::optional<Clock::time_point> next_deadline(bool room, Clock::time_point now) const;

    // Nothing running and, at the last look at crmsync.backfills, nothing requested.
    bool idle() const { return phase_ == Phase::idle && nothing_requested_ && outstanding_.empty(); }

private:
    enum class Phase { idle, initial, waiting_horizon, reading, awaiting_watermark, draining };
    struct TableRun {
        BackfillTable table;
        std::optional<std::string> last_read_id;  // where the next chunk's keyset range starts
        bool keyset_done = false;                  // the keyset range is exhausted
        std::vector<std::string> reread_ids;       // to be read again with the next chunk
        std::unordered_map<std::string, int> reads;  // id -> times read again so far
        std::int64_t sent = 0, reread = 0;         // queued so far (saved counts trail these)
    };
    struct Outstanding {  // a queued chunk whose progress is saved once its events settle
        std::string source;
        EventId last_event;
        std::string last_id;
        std::vector<std::string> reread_ids;
        std::int64_t sent = 0, reread = 0;  // the table's totals including this chunk
        bool table_end = false;
    };

    Status start_table(const BackfillProgress& progress, const std::string& method, Clock::time_point now);
    Result<Step> step_initial(bool room, Clock::time_point now);
    Result<Step> step_watermark(bool room, Clock::time_point now);
    Status save_settled(const FlushTracker& tracker, Clock::time_point now);
    void pause(const std::string& why, Clock::time_point now);
    Status finish_table(const std::string& source, std::int64_t sent, std::int64_t reread, Clock::time_point now);

    const Config& config_;
    Metrics& metrics_;
    ProgressDisplay& display_;
    BackfillStore store_;
    TableReader reader_;

    Phase phase_ = Phase::idle;
    std::deque<BackfillProgress> queue_;  // tables still to do, in order
    std::optional<TableRun> run_;
    std::deque<Outstanding> outstanding_;
    bool nothing_requested_ = false;
    Clock::time_point next_poll_{};

    // initial sync
    Lsn initial_commit_;
    std::uint64_t initial_seq_ = 0;

    // re-sync
    UnseenChanges unseen_;
    std::uint64_t horizon_xid_ = 0;
    Clock::time_point horizon_since_{}, next_horizon_check_{};
    bool horizon_warned_ = false;
    std::optional<Chunk> pending_;  // read, waiting for its watermark in the stream
    std::string watermark_prefix_;
    std::string nonce_;
    std::uint64_t chunk_counter_ = 0;
};

}  // namespace crmsync::sender
