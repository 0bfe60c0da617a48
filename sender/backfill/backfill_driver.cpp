#include "backfill/backfill_driver.hpp"

#include <unistd.h>

#include "core/backfill_record.hpp"
#include "log.hpp"

namespace crmsync::sender {
namespace {

using namespace std::chrono_literals;
constexpr auto kRequestPoll = 1s;         // how often an idle sender looks for new requests
constexpr auto kRetryPause = 30s;         // after a failed re-sync step
constexpr auto kHorizonCheck = 20ms;      // how often it looks whether older transactions ended
constexpr auto kHorizonPatience = 10s;    // then it says what it waits for
// A row changed by the stream during each of its reads is read again at most this often;
// after that its streamed changes stand (complete unless an unchanged TOASTed value was left out).
constexpr int kMaxRereads = 5;

}  // namespace

BackfillDriver::BackfillDriver(const Config& config, Metrics& metrics, ProgressDisplay& display)
    : config_(config),
      metrics_(metrics),
      display_(display),
      store_(config.source.conninfo, config.source.crm),
      reader_(config.source.conninfo, config.source.crm, std::string(format_name(config.target.format)),
              config.backfill.chunk_rows),
      watermark_prefix_("crmsync-backfill:" + config.source.crm),
      nonce_(std::to_string(getpid()) + "-" +
             std::to_string(std::chrono::system_clock::now().time_since_epoch().count())) {}

Status BackfillDriver::request_initial_sync() {
    auto tables = store_.mapped_tables();
    if (!tables) return Error{tables.error()};
    if (tables->empty()) return ok_status();
    return store_.request(*tables, "snapshot");
}

Status BackfillDriver::begin_initial(const std::string& snapshot_name, Lsn consistent_point) {
    if (auto begun = reader_.begin_snapshot(snapshot_name); !begun) return begun;
    auto requested = store_.unfinished();
    if (!requested) return Error{requested.error()};
    queue_.assign(requested->begin(), requested->end());
    initial_commit_ = Lsn{consistent_point.value - 1};
    initial_seq_ = 0;
    phase_ = Phase::initial;
    log_info("initial sync of " + std::to_string(queue_.size()) + " table(s) in the slot's snapshot, before streaming from " +
             format_lsn(consistent_point));
    return ok_status();
}

Status BackfillDriver::start_table(const BackfillProgress& progress, const std::string& method, Clock::time_point now) {
    auto table = reader_.describe(progress.source);
    if (!table) return Error{table.error()};
    if (!table->unusable.empty()) {
        // Not retried: the request would fail the same way on every turn.
        log_error("backfill of " + progress.source + " skipped: " + table->unusable);
        return store_.finish(progress.source, progress.rows_sent, progress.rows_reread);
    }
    if (auto started = store_.start(progress.source, method, table->estimate); !started) return started;
    if (auto without_id = reader_.rows_without_id(*table); without_id && *without_id > 0)
        log_warning("backfill of " + progress.source + ": " + std::to_string(*without_id) +
                    " rows have a NULL id column " + table->id_column +
                    " and are not sent (a CRM record needs a key); give them one, or they stay out of the CRM");
    run_ = TableRun{};
    run_->table = *table;
    run_->last_read_id = progress.last_key;
    run_->reread_ids = progress.pending_ids;
    run_->sent = progress.rows_sent;
    run_->reread = progress.rows_reread;
    display_.start_table(progress.source, progress.rows_sent, table->estimate, now);
    return ok_status();
}

Result<BackfillDriver::Step> BackfillDriver::step(const FlushTracker& tracker, bool room, Clock::time_point now) {
    if (auto saved = save_settled(tracker, now); !saved) return Error{saved.error()};
    if (phase_ == Phase::initial) return step_initial(room, now);
    auto step = step_watermark(room, now);
    if (!step) {
        pause(step.error(), now);
        return Step{};
    }
    return step;
}

// A re-sync that fails (a lost privilege, a dropped table, a lost connection) must not stop
// streaming: the table waits and is tried again from its last saved chunk.
void BackfillDriver::pause(const std::string& why, Clock::time_point now) {
    log_error("backfill" + (run_ ? " of " + run_->table.source : std::string()) + " paused: " + why +
              "; trying again in " + std::to_string(kRetryPause.count()) + " s");
    run_.reset();
    pending_.reset();
    queue_.clear();
    phase_ = Phase::idle;
    next_poll_ = now + kRetryPause;
}

Result<BackfillDriver::Step> BackfillDriver::step_initial(bool room, Clock::time_point now) {
    Step out;
    if (!room) return out;
    while (!run_) {
        if (queue_.empty()) {
            if (auto ended = reader_.end_snapshot(); !ended) return Error{ended.error()};
            out.close_initial = initial_seq_;
            phase_ = Phase::idle;
            next_poll_ = now;
            log_info("initial sync: all " + std::to_string(initial_seq_) + " rows queued; streaming starts");
            return out;
        }
        BackfillProgress next = queue_.front();
        queue_.pop_front();
        if (auto started = start_table(next, "snapshot", now); !started) return Error{started.error()};
    }
    auto chunk = reader_.read_in_snapshot(run_->table, run_->last_read_id);
    if (!chunk) return Error{chunk.error()};
    for (ChunkRow& row : chunk->rows) {
        auto event = restamp_rendered(row.message, EventId{initial_commit_, ++initial_seq_});
        if (!event) return Error{event.error()};
        out.events.push_back(std::move(*event));
    }
    run_->sent += static_cast<std::int64_t>(chunk->rows.size());
    metrics_.backfill_rows_sent += chunk->rows.size();
    // The last row read, also when the row filter left it out.
    if (chunk->last_id) run_->last_read_id = chunk->last_id;
    outstanding_.push_back(Outstanding{run_->table.source, EventId{initial_commit_, initial_seq_},
                                       run_->last_read_id.value_or(""), {}, run_->sent, run_->reread, chunk->last});
    if (chunk->last) run_.reset();
    return out;
}

Result<BackfillDriver::Step> BackfillDriver::step_watermark(bool room, Clock::time_point now) {
    switch (phase_) {
        case Phase::idle: {
            // Chunks still unsettled belong to a table this session has not finished; a
            // poll now would find it "running" and start it a second time.
            if (now < next_poll_ || !outstanding_.empty()) break;
            next_poll_ = now + kRequestPoll;
            if (queue_.empty()) {
                auto requested = store_.unfinished();
                if (!requested) return Error{requested.error()};
                queue_.assign(requested->begin(), requested->end());
                nothing_requested_ = queue_.empty();
            }
            if (queue_.empty()) break;
            BackfillProgress next = queue_.front();
            queue_.pop_front();
            if (auto started = start_table(next, "watermark", now); !started) return Error{started.error()};
            if (!run_) break;  // skipped
            // Changes are recorded from here on; then wait until every transaction that
            // may have committed before this point is visible to new snapshots.
            unseen_.clear();
            phase_ = Phase::waiting_horizon;
            auto xid = reader_.new_xid();
            if (!xid) return Error{xid.error()};
            horizon_xid_ = *xid;
            horizon_since_ = now;
            horizon_warned_ = false;
            next_horizon_check_ = now;
            break;
        }
        case Phase::waiting_horizon: {
            if (now < next_horizon_check_) break;
            next_horizon_check_ = now + kHorizonCheck;
            auto past = reader_.all_snapshots_past(horizon_xid_);
            if (!past) return Error{past.error()};
            if (*past) {
                phase_ = Phase::reading;
            } else if (!horizon_warned_ && now - horizon_since_ > kHorizonPatience) {
                horizon_warned_ = true;
                log_warning("re-sync of " + run_->table.source + " waits for transactions older than it to end "
                            "(xid < " + std::to_string(horizon_xid_) + "); look for long-running or idle-in-transaction "
                            "sessions in pg_stat_activity (backend_xid)");
            }
            break;
        }
        case Phase::reading: {
            if (!room) break;
            std::string watermark = "{\"chunk\":\"" + nonce_ + "-" + std::to_string(++chunk_counter_) + "\"}";
            auto chunk = reader_.read_with_watermark(run_->table, run_->last_read_id, run_->reread_ids,
                                                     run_->keyset_done, watermark);
            if (!chunk) return Error{chunk.error()};
            if (chunk->rows.empty()) {  // the range is done and nothing to read again still exists
                outstanding_.push_back(Outstanding{run_->table.source, EventId{}, run_->last_read_id.value_or(""), {},
                                                   run_->sent, run_->reread, true});
                phase_ = Phase::draining;
            } else {
                pending_ = std::move(*chunk);
                phase_ = Phase::awaiting_watermark;
            }
            break;
        }
        case Phase::draining:
            if (outstanding_.empty()) {
                run_.reset();
                phase_ = Phase::idle;
                next_poll_ = now;
            }
            break;
        case Phase::awaiting_watermark:
        case Phase::initial:
            break;
    }
    return Step{};
}

std::optional<BackfillDriver::Clock::time_point> BackfillDriver::next_deadline(bool room, Clock::time_point now) const {
    switch (phase_) {
        case Phase::initial:
        case Phase::reading: return room ? std::optional(now) : std::nullopt;
        case Phase::waiting_horizon: return next_horizon_check_;
        case Phase::idle: return outstanding_.empty() ? std::optional(next_poll_) : std::nullopt;
        case Phase::draining: return outstanding_.empty() ? std::optional(now) : std::nullopt;
        case Phase::awaiting_watermark: return std::nullopt;
    }
    return std::nullopt;
}

void BackfillDriver::observe(const PluginMessage& message) {
    if (!run_ || (phase_ != Phase::waiting_horizon && phase_ != Phase::reading && phase_ != Phase::awaiting_watermark))
        return;
    if (!message.xid || !message.table || *message.table != run_->table.qualified_name) return;
    const auto xid = static_cast<std::uint32_t>(*message.xid);
    if (message.action == Action::truncate)
        unseen_.record_truncate(xid);
    else if ((message.action == Action::upsert || message.action == Action::delete_) && message.key)
        unseen_.record(*message.key, xid);
}

bool BackfillDriver::is_watermark(const PluginMessage& message) const {
    return message.action == Action::message && message.prefix == watermark_prefix_;
}

Result<std::vector<std::string>> BackfillDriver::on_watermark(const PluginMessage& message, std::uint64_t first_seq) {
    std::vector<std::string> events;
    // A watermark of an earlier run (replayed after a restart) or of a chunk given up on.
    if (phase_ != Phase::awaiting_watermark || !pending_ || message.record != pending_->watermark) return events;
    std::vector<std::string> read_again;
    for (ChunkRow& row : pending_->rows) {
        auto event = restamp_rendered(row.message, EventId{message.commit_lsn, first_seq + events.size()});
        if (!event) return Error{event.error()};
        auto parsed = parse_plugin_message(*event);
        if (!parsed) return Error{"crmsync.render() returned a message the sender cannot read: " + parsed.error()};
        if (parsed->key && unseen_.changed_after(*parsed->key, *pending_->snapshot)) {
            // Older than a change the stream already carries: not sent, read again.
            if (++run_->reads[row.id_text] <= kMaxRereads) {
                read_again.push_back(row.id_text);
                ++run_->reread;
            } else {
                log_warning("backfill of " + run_->table.source + ": the row with id " + row.id_text +
                            " changed during each of its " + std::to_string(kMaxRereads + 1) +
                            " reads; its streamed changes stand (an unchanged TOASTed value may be missing in the "
                            "CRM until the row changes again)");
            }
            continue;
        }
        events.push_back(std::move(*event));
    }
    run_->sent += static_cast<std::int64_t>(events.size());
    metrics_.backfill_rows_sent += events.size();
    metrics_.backfill_rows_reread += read_again.size();
    if (pending_->last_id) run_->last_read_id = pending_->last_id;
    run_->keyset_done = pending_->last;
    run_->reread_ids = std::move(read_again);
    const bool table_end = run_->keyset_done && run_->reread_ids.empty();
    // The chunk is settled once its last event is; with no event, once the watermark is.
    outstanding_.push_back(Outstanding{run_->table.source, EventId{message.commit_lsn, first_seq - 1 + events.size()},
                                       run_->last_read_id.value_or(""), run_->reread_ids, run_->sent, run_->reread,
                                       table_end});
    unseen_.forget_seen_by_all(*pending_->snapshot);
    phase_ = table_end ? Phase::draining : Phase::reading;
    pending_.reset();
    return events;
}

Status BackfillDriver::save_settled(const FlushTracker& tracker, Clock::time_point now) {
    while (!outstanding_.empty()) {
        const Outstanding& chunk = outstanding_.front();
        if (chunk.last_event.seq != 0 && !tracker.settled_through(chunk.last_event)) break;
        if (chunk.table_end) {
            if (auto finished = finish_table(chunk.source, chunk.sent, chunk.reread, now); !finished) return finished;
        } else {
            if (auto saved = store_.save_progress(chunk.source, chunk.last_id, chunk.reread_ids, chunk.sent, chunk.reread);
                !saved)
                return saved;
            if (run_ && run_->table.source == chunk.source) display_.update(chunk.sent, now);
        }
        outstanding_.pop_front();
    }
    return ok_status();
}

Status BackfillDriver::finish_table(const std::string& source, std::int64_t sent, std::int64_t reread,
                                   Clock::time_point now) {
    if (auto finished = store_.finish(source, sent, reread); !finished) return finished;
    display_.finish_table(source, sent, reread, now);
    return ok_status();
}

}  // namespace crmsync::sender
