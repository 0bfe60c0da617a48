#include "app/run_loop.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "app/credentials.hpp"
#include "backfill/backfill_driver.hpp"
#include "backfill/progress_display.hpp"
#include "core/batcher.hpp"
#include "core/flush_tracker.hpp"
#include "core/plugin_message.hpp"
#include "core/replication_protocol.hpp"
#include "crm/crm_adapter.hpp"
#include "delivery/delivery_engine.hpp"
#include "core/metrics.hpp"
#include "io/dead_letter_store.hpp"
#include "io/deadline_timer.hpp"
#include "io/http_client.hpp"
#include "io/mapping_columns.hpp"
#include "io/metrics_server.hpp"
#include "io/replication_stream.hpp"
#include "io/sender_state_store.hpp"
#include "log.hpp"

namespace crmsync::sender {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// How many frames one turn of the loop reads before it looks at HTTP again.
constexpr int kFramesPerTurn = 2000;
constexpr auto kStatusInterval = 1s;
// The walsender sends each message on its own, so a loop that reads whenever the socket is
// readable wakes once per record. After a turn that found only a trickle, it leaves the
// records in the socket until a batch can go (its linger deadline, or a finished request
// freeing its lane), but no longer than this: read then, they join the same batches as if
// read one by one, at a fraction of the wakeups. Only a record that opens a new batch
// waits, at most this long.
constexpr auto kMaxReadPause = 2ms;
constexpr int kTrickleFrames = 32;

enum class StreamEnd { stopped, connection_lost, fatal, rejected_stop };

struct StreamResult {
    StreamEnd end;
    std::string message;
};

class SignalWatch {
public:
    SignalWatch() {
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        fd_ = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    }
    ~SignalWatch() {
        if (fd_ >= 0) close(fd_);
    }
    int fd() const { return fd_; }
    // True once a termination signal arrived (reads what waits on the fd).
    bool received() {
        drain();
        return terminate_;
    }
    // True once for each SIGHUP (or several that arrived together): re-read the token.
    bool take_hangup() {
        drain();
        return std::exchange(hangup_, false);
    }

private:
    void drain() {
        signalfd_siginfo info;
        while (read(fd_, &info, sizeof info) == sizeof info) {
            if (info.ssi_signo == SIGHUP) hangup_ = true;
            else terminate_ = true;
        }
    }

    int fd_ = -1;
    bool terminate_ = false;
    bool hangup_ = false;
};

int64_t unix_ms_now() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

class Session {
public:
    Session(const Config& config, const RunOptions& options, CrmAdapter& adapter, HttpClient& http,
            Credentials& credentials, DeadLetterStore& dead_letters, SenderStateStore& sender_state,
            Metrics& metrics, SignalWatch& signals, ProgressDisplay& display)
        : config_(config),
          options_(options),
          adapter_(adapter),
          http_(http),
          credentials_(credentials),
          dead_letter_store_(dead_letters),
          sender_state_(sender_state),
          metrics_(metrics),
          signals_(signals),
          display_(display) {}

    StreamResult run();

private:
    StreamResult connect_and_start();
    std::optional<StreamResult> read_stream(Clock::time_point now);
    std::optional<StreamResult> handle_payload(std::string_view payload, Clock::time_point now);
    std::optional<StreamResult> handle_watermark(const PluginMessage& message, Clock::time_point now);
    // Registers an event with the flush tracker and queues it (or dead-letters it at once).
    // `message` was parsed from `bytes`; `payload` is the same text, kept for a dead letter.
    std::optional<StreamResult> queue_event(std::string_view payload, std::string bytes, const PluginMessage& message,
                                            Clock::time_point now);
    std::optional<StreamResult> step_backfill(Clock::time_point now);
    std::optional<StreamResult> queue_backfill_events(const std::vector<std::string>& events, Clock::time_point now);
    std::size_t read_budget() const;  // records
    bool budget_reached() const;
    Status send_status(bool reply_requested = false);
    Status dead_letter_now(const PluginMessage& message, std::string bytes, const std::string& reason);
    void keep_credentials_current(bool signalled);
    // What crmsync.status shows: from the engine's quota wait and configuration hold.
    SenderState current_state() const;

    const Config& config_;
    const RunOptions& options_;
    CrmAdapter& adapter_;
    HttpClient& http_;
    Credentials& credentials_;
    std::string last_credentials_error_;  // logged once, not every turn
    bool hangup_pending_ = false;
    DeadLetterStore& dead_letter_store_;
    SenderStateStore& sender_state_;
    Metrics& metrics_;
    SignalWatch& signals_;
    ProgressDisplay& display_;
    std::unique_ptr<BackfillDriver> backfill_;
    // Backfill rows injected into the open transaction (after its watermark): its commit
    // marker counts only what the plugin sent.
    std::optional<std::pair<Lsn, std::uint64_t>> injected_;

    std::unique_ptr<ReplicationStream> stream_;
    std::unique_ptr<FlushTracker> tracker_;
    std::unique_ptr<Batcher> batcher_;
    std::unique_ptr<DeliveryEngine> engine_;
    std::map<uint64_t, int64_t> commit_times_;  // commit_lsn -> commit time (Unix µs), unflushed only
    Lsn received_;
    Lsn server_wal_end_;
    Lsn last_sent_flush_;
    Clock::time_point last_status_{};
    bool more_buffered_ = false;
    bool budget_full_ = false;  // not reading the socket now: do not wake up for it either
    int frames_read_ = 0;
    Clock::time_point read_pause_until_{};
    DeadlineTimer deadline_timer_;
    std::vector<curl_waitfd> poll_fds_ = std::vector<curl_waitfd>(3);  // replication, signals, deadline; reused every turn
};

StreamResult Session::connect_and_start() {
    hangup_pending_ = signals_.take_hangup();  // one that came while reconnecting
    if (auto current = credentials_.keep_current(); !current)
        return {StreamEnd::connection_lost, "no token for the CRM: " + current.error()};
    auto stream = ReplicationStream::connect(config_.source.conninfo);
    if (!stream) return {StreamEnd::connection_lost, stream.error()};
    stream_ = std::move(*stream);

    backfill_ = std::make_unique<BackfillDriver>(config_, metrics_, display_);
    auto slot = stream_->slot_info(config_.source.slot);
    if (!slot) return {StreamEnd::connection_lost, slot.error()};
    if (!slot->exists) {
        if (!config_.source.create_slot)
            return {StreamEnd::fatal, "replication slot \"" + config_.source.slot +
                                          "\" does not exist and source.create_slot is false: create it with "
                                          "SELECT crmsync.create_slot('" + config_.source.crm +
                                          "'), or set create_slot = true"};
        const bool initial_sync = config_.backfill.initial_sync;
        if (initial_sync)
            if (auto requested = backfill_->request_initial_sync(); !requested)
                return {StreamEnd::connection_lost, "initial sync: " + requested.error()};
        auto failover = resolve_failover(config_.source.failover, stream_->server_version());
        if (!failover) return {StreamEnd::fatal, failover.error()};
        auto created = stream_->create_slot(config_.source.slot, initial_sync, *failover);
        if (!created) return {StreamEnd::fatal, created.error()};
        log_info("created replication slot " + config_.source.slot + (*failover ? " (failover)" : "") + " at " +
                 format_lsn(created->consistent_point));
        // The exported snapshot lives until the replication connection's next command.
        if (initial_sync)
            if (auto begun = backfill_->begin_initial(created->snapshot_name, created->consistent_point); !begun)
                return {StreamEnd::connection_lost, "initial sync: " + begun.error() +
                                                        " (the tables stay requested in crmsync.backfills and are "
                                                        "re-synced after the restart)"};
        slot = stream_->slot_info(config_.source.slot);
        if (!slot) return {StreamEnd::connection_lost, slot.error()};
    }
    if (slot->plugin != "crmsync")
        return {StreamEnd::fatal, "replication slot \"" + config_.source.slot + "\" uses output plugin \"" +
                                      slot->plugin + "\", not crmsync: drop it or set source.slot to another name"};
    if (slot->wal_status == "lost")
        return {StreamEnd::fatal, "replication slot \"" + config_.source.slot +
                                      "\" has lost WAL it needs (wal_status = lost, max_slot_wal_keep_size was "
                                      "exceeded): changes since then are gone; drop the slot, recreate it and "
                                      "re-sync the CRM (docs/operations.md, \"lost slot\")"};
    if (slot->active)
        return {StreamEnd::connection_lost, "replication slot \"" + config_.source.slot +
                                                "\" is in use by process " + std::to_string(slot->active_pid) +
                                                " (another sender for this crm?)"};

    std::vector<std::pair<std::string, std::string>> options = {
        {"crm", config_.source.crm},
        {"format", std::string(format_name(config_.target.format))},
        {"include-commits", "true"},
        {"origin", config_.source.origin},
        {"changed-only", config_.source.changed_only ? "true" : "false"},
        {"messages", config_.source.messages ? "true" : "false"},
    };
    if (auto started = stream_->start(config_.source.slot, Lsn{0}, options); !started)
        return {StreamEnd::fatal, started.error()};

    tracker_ = std::make_unique<FlushTracker>(slot->confirmed_flush);
    BatcherOptions batcher_options;
    batcher_options.format = config_.target.format;
    batcher_options.max_records = config_.delivery.batch_max_records;
    batcher_options.lanes = config_.delivery.max_in_flight;
    batcher_options.linger = config_.delivery.linger;
    batcher_options.coalesce = config_.delivery.coalesce;
    batcher_ = std::make_unique<Batcher>(batcher_options);
    engine_ = std::make_unique<DeliveryEngine>(
        config_, adapter_, http_, *tracker_,
        [this](const std::vector<DeadLetter>& letters) { return dead_letter_store_.write(letters); },
        [this](Lsn commit_lsn) -> std::optional<int64_t> {
            auto it = commit_times_.find(commit_lsn.value);
            if (it == commit_times_.end()) return std::nullopt;
            return it->second;
        },
        metrics_,
        [this](std::string& why) {
            const bool renewed = credentials_.renew("the CRM refused the token", why);
            if (renewed) engine_->set_base_url(credentials_.base_url());
            return renewed;
        });
    engine_->set_base_url(credentials_.base_url());
    received_ = last_sent_flush_ = slot->confirmed_flush;
    log_info("streaming slot " + config_.source.slot + " from " + format_lsn(slot->confirmed_flush) + " to " +
             std::string(format_name(config_.target.format)) + " at " + config_.target.url);
    metrics_.streaming = true;
    sd_notify(0, "READY=1\nSTATUS=streaming");
    return {StreamEnd::stopped, ""};
}

SenderState Session::current_state() const {
    if (std::string why = metrics_.quota_wait(); !why.empty()) {
        SenderState state{"waiting_for_quota", std::move(why), std::nullopt};
        if (int64_t until = metrics_.quota_wait_until_unix_ms.load(); until > 0) state.until_unix_ms = until;
        return state;
    }
    if (std::string why = metrics_.configuration_error(); !why.empty()) return {"held", std::move(why), std::nullopt};
    return {"streaming", {}, std::nullopt};
}

void Session::keep_credentials_current(bool signalled) {
    if (std::exchange(hangup_pending_, false) || (signalled && signals_.take_hangup())) {
        std::string why;
        if (credentials_.renew("SIGHUP", why))
            log_info("SIGHUP: token renewed (" + credentials_.describe() + ")");
        else
            log_warning("SIGHUP: the token could not be renewed, the current one stays in use: " + why);
    }
    if (auto current = credentials_.keep_current(); !current) {
        if (current.error() != last_credentials_error_)
            log_warning("no usable token for the CRM (delivery waits for one): " + current.error());
        last_credentials_error_ = current.error();
    } else {
        last_credentials_error_.clear();
    }
    engine_->set_base_url(credentials_.base_url());
}

Status Session::dead_letter_now(const PluginMessage& message, std::string bytes, const std::string& reason) {
    if (config_.delivery.on_reject == OnReject::stop)
        return Error{"event " + format_event_id(message.event_id()) + " cannot be delivered: " + reason};
    DeadLetter letter;
    letter.event = message.event_id();
    letter.object = message.object.value_or("");
    letter.key = message.key;
    letter.payload = std::move(bytes);
    letter.error = reason;
    if (auto written = dead_letter_store_.write({letter}); !written) return written;
    log_warning("dead-lettered event " + format_event_id(letter.event) + ": " + reason);
    metrics_.records_dead_lettered++;
    return tracker_->settle(message.event_id());
}

std::optional<StreamResult> Session::handle_payload(std::string_view payload, Clock::time_point now) {
    std::string bytes(payload);
    auto parsed = parse_plugin_message(bytes);
    if (!parsed)
        return StreamResult{StreamEnd::fatal, "the plugin sent a message this sender cannot read (" + parsed.error() +
                                                  "); are crmsync.so and crmsync-sender the same version?"};
    const PluginMessage& message = *parsed;
    if (message.action == Action::commit) {
        std::optional<std::uint64_t> count = message.count;
        if (injected_ && injected_->first == message.commit_lsn) {
            if (count) *count += injected_->second;
            injected_.reset();
        }
        auto committed = tracker_->on_commit(message.commit_lsn, message.end_lsn.value_or(message.commit_lsn), count);
        if (!committed) return StreamResult{StreamEnd::fatal, "flush tracking: " + committed.error()};
        return std::nullopt;
    }
    if (message.commit_time_us) commit_times_.try_emplace(message.commit_lsn.value, *message.commit_time_us);
    if (backfill_->is_watermark(message)) return handle_watermark(message, now);
    backfill_->observe(message);
    metrics_.records_received++;
    return queue_event(payload, std::move(bytes), message, now);
}

std::optional<StreamResult> Session::queue_event(std::string_view payload, std::string bytes,
                                                 const PluginMessage& message, Clock::time_point now) {
    if (auto registered = tracker_->on_message(message.event_id()); !registered)
        return StreamResult{StreamEnd::fatal, "flush tracking: " + registered.error()};
    std::optional<std::string> problem = undeliverable_reason(config_.target.format, message);
    if (!problem) {
        // `message.record` views `bytes`' buffer, which moves along with it (no copy).
        if (auto added = batcher_->add(std::move(bytes), message, now); !added) problem = added.error();
        else return std::nullopt;
    }
    if (auto settled = dead_letter_now(message, std::string(payload), *problem); !settled) {
        if (config_.delivery.on_reject == OnReject::stop) return StreamResult{StreamEnd::rejected_stop, settled.error()};
        return StreamResult{StreamEnd::connection_lost, settled.error()};
    }
    return std::nullopt;
}

// A backfill watermark is the sender's own bookkeeping, never delivered: it settles at once,
// and the chunk it stands for is queued right behind it, in its transaction.
std::optional<StreamResult> Session::handle_watermark(const PluginMessage& message, Clock::time_point now) {
    if (auto registered = tracker_->on_message(message.event_id()); !registered)
        return StreamResult{StreamEnd::fatal, "flush tracking: " + registered.error()};
    if (auto settled = tracker_->settle(message.event_id()); !settled)
        return StreamResult{StreamEnd::fatal, "flush tracking: " + settled.error()};
    auto events = backfill_->on_watermark(message, message.seq + 1);
    if (!events) return StreamResult{StreamEnd::connection_lost, "backfill: " + events.error()};
    if (events->empty()) return std::nullopt;
    if (injected_ && injected_->first == message.commit_lsn)
        injected_->second += events->size();
    else
        injected_ = std::make_pair(message.commit_lsn, std::uint64_t{events->size()});
    return queue_backfill_events(*events, now);
}

std::optional<StreamResult> Session::queue_backfill_events(const std::vector<std::string>& events,
                                                           Clock::time_point now) {
    for (const std::string& event : events) {
        std::string bytes = event;
        auto parsed = parse_plugin_message(bytes);
        if (!parsed) return StreamResult{StreamEnd::fatal, "backfill: a rendered row cannot be read: " + parsed.error()};
        if (auto end = queue_event(event, std::move(bytes), *parsed, now)) return end;
    }
    return std::nullopt;
}

std::optional<StreamResult> Session::step_backfill(Clock::time_point now) {
    const std::size_t queued = batcher_->queued_events() + engine_->active_events();
    const bool room = queued + config_.backfill.chunk_rows <= read_budget();
    auto step = backfill_->step(*tracker_, room, now);
    if (!step) return StreamResult{StreamEnd::connection_lost, "backfill: " + step.error()};
    const Lsn initial = backfill_->initial_commit_lsn();
    if (auto end = queue_backfill_events(step->events, now)) return end;
    if (step->close_initial) {
        auto closed = tracker_->on_commit(initial, initial, *step->close_initial);
        if (!closed) return StreamResult{StreamEnd::fatal, "flush tracking: " + closed.error()};
    }
    return std::nullopt;
}

std::size_t Session::read_budget() const {
    return std::max<std::size_t>(10000, config_.delivery.batch_max_records * config_.delivery.max_in_flight * 20);
}

// Records kept in memory are what costs: changes coalesced into them add only an event id
// each (and a FlushTracker entry), so up to kEventsPerRecord times as many changes may wait.
// While the CRM is the bottleneck that lets the queue coalesce over seconds of changes
// instead of stopping to read (docs/operations.md, delivery rule 5).
constexpr std::size_t kEventsPerRecord = 10;

bool Session::budget_reached() const {
    const std::size_t budget = read_budget();
    return batcher_->queued_records() + engine_->active_records() >= budget ||
           batcher_->queued_events() + engine_->active_events() >= budget * kEventsPerRecord;
}

std::optional<StreamResult> Session::read_stream(Clock::time_point now) {
    // Backpressure: leave the WAL in the slot rather than records in memory.
    more_buffered_ = false;
    budget_full_ = false;
    frames_read_ = 0;
    for (int frames = 0; frames < kFramesPerTurn; ++frames) {
        if (budget_reached()) {
            budget_full_ = true;
            return std::nullopt;
        }
        std::string_view frame;
        auto status = stream_->read_frame(frame);
        if (status == ReplicationStream::ReadStatus::WouldBlock) return std::nullopt;
        if (status != ReplicationStream::ReadStatus::Frame) {
            std::string why = stream_->last_error();
            if (why.empty()) why = "the server closed the connection";
            return StreamResult{StreamEnd::connection_lost, "replication stream ended: " + why};
        }
        ++frames_read_;
        auto message = parse_server_message(frame);
        if (!message) return StreamResult{StreamEnd::connection_lost, "bad replication frame: " + message.error()};
        if (auto* data = std::get_if<XLogData>(&*message)) {
            if (data->data_start > received_) received_ = data->data_start;
            if (auto end = handle_payload(data->payload, now)) return end;
        } else if (auto* keepalive = std::get_if<PrimaryKeepalive>(&*message)) {
            server_wal_end_ = keepalive->wal_end;
            tracker_->on_keepalive(keepalive->wal_end);
            if (keepalive->reply_requested)
                if (auto sent = send_status(true); !sent) return StreamResult{StreamEnd::connection_lost, sent.error()};
        }
    }
    more_buffered_ = true;
    return std::nullopt;
}

Status Session::send_status(bool) {
    Lsn flush = tracker_->flushable_lsn();
    StandbyStatusUpdate update;
    update.write = std::max(received_, flush);
    update.flush = flush;
    update.apply = flush;
    update.client_time = to_pg_timestamp(std::chrono::system_clock::now());
    last_sent_flush_ = flush;
    last_status_ = Clock::now();
    metrics_.flushed_lsn = flush.value;
    if (server_wal_end_ > flush) metrics_.slot_lag_bytes = static_cast<int64_t>(server_wal_end_.value - flush.value);
    else metrics_.slot_lag_bytes = 0;
    // Transactions before the flushed position need no commit time any more.
    commit_times_.erase(commit_times_.begin(), commit_times_.lower_bound(flush.value));
    return stream_->send_status(update);
}

StreamResult Session::run() {
    if (auto started = connect_and_start(); !stream_ || started.end != StreamEnd::stopped || !engine_)
        return started;

    bool draining = false;
    Clock::time_point drain_deadline{};
    uint64_t watchdog_usec = 0;
    bool watchdog = sd_watchdog_enabled(0, &watchdog_usec) > 0;
    Clock::time_point last_watchdog{};

    while (true) {
        Clock::time_point now = Clock::now();
        if (!draining) {
            if (auto end = step_backfill(now)) {
                engine_->abandon_all();
                return *end;
            }
            // Every backfilled row is accepted (idle() waits for that): stop as on SIGTERM,
            // delivering the streamed changes in hand, so a steady write load cannot keep
            // the command running.
            if (options_.stop_when_backfilled && backfill_->idle()) {
                draining = true;
                drain_deadline = now + config_.delivery.drain_timeout;
                batcher_->seal_all();
                log_info("backfill finished and delivered; stopping");
            }
        }
        // The initial sync's rows go first: the stream waits until all of them are queued.
        if (!draining && now >= read_pause_until_ && !backfill_->holds_stream()) {
            if (auto end = read_stream(now)) {
                engine_->abandon_all();
                return *end;
            }
            if (frames_read_ > 0 && frames_read_ < kTrickleFrames && !more_buffered_) {
                read_pause_until_ = now + kMaxReadPause;
                if (auto due = batcher_->next_deadline(); due && *due < read_pause_until_) read_pause_until_ = *due;
            }
        }
        while (engine_->active_batches() < config_.delivery.max_in_flight) {
            auto batch = batcher_->take_ready(now);
            if (!batch) break;
            engine_->start(std::move(*batch), now);
        }

        // Sleep until the next thing that can happen without input.
        Clock::time_point wake = now + kStatusInterval;
        if (auto next = batcher_->next_deadline(); next && *next < wake) wake = *next;
        if (auto next = engine_->next_deadline(); next && *next < wake) wake = *next;
        const bool paused = now < read_pause_until_;
        if (paused && read_pause_until_ < wake) wake = read_pause_until_;
        if (more_buffered_) wake = now;
        if (!draining) {
            const bool room = batcher_->queued_events() + engine_->active_events() + config_.backfill.chunk_rows <=
                              read_budget();
            if (auto next = backfill_->next_deadline(room, now); next && *next < wake) wake = *next;
        }
        // Rounded up, never down (that would spin through the last fraction of a millisecond);
        // the deadline timer wakes the loop at the deadline itself.
        auto timeout = std::chrono::ceil<std::chrono::milliseconds>(wake - now);
        if (timeout <= 0ms) timeout = 0ms;
        else deadline_timer_.arm(wake);

        std::vector<curl_waitfd>& fds = poll_fds_;
        fds[0].fd = stream_->socket();
        // While the budget is full (or draining) the socket stays unread: waking up for it
        // would spin. Status updates still go out every second.
        const bool reading = !draining && !budget_full_ && !paused && !backfill_->holds_stream();
        fds[0].events = (reading ? CURL_WAIT_POLLIN : 0) | (stream_->wants_write() ? CURL_WAIT_POLLOUT : 0);
        fds[1].fd = signals_.fd();
        fds[1].events = CURL_WAIT_POLLIN;
        fds[2].fd = deadline_timer_.fd();
        fds[2].events = CURL_WAIT_POLLIN;
        http_.poll(fds, timeout);
        now = Clock::now();
        if (fds[2].revents & CURL_WAIT_POLLIN) deadline_timer_.acknowledge();

        if (stream_->wants_write())
            if (auto flushed = stream_->flush(); !flushed) {
                engine_->abandon_all();
                return {StreamEnd::connection_lost, flushed.error()};
            }
        keep_credentials_current(fds[1].revents & CURL_WAIT_POLLIN);
        for (auto& response : http_.take_completed()) engine_->on_response(std::move(response), now);
        engine_->on_timer(now);
        for (uint64_t sequence : engine_->take_finished()) {
            (void)batcher_->finished(sequence);
            read_pause_until_ = now;  // a lane is free: read what waits before its next batch goes
        }
        sender_state_.publish(current_state());
        if (engine_->stop_reason()) {
            (void)send_status();
            return {StreamEnd::rejected_stop, *engine_->stop_reason()};
        }

        const uint64_t queued = batcher_->queued_events() + engine_->active_events();
        if (queued > 0 && metrics_.queued_records.load() == 0) metrics_.waiting_since_unix_ms = unix_ms_now();
        metrics_.queued_records = queued;
        metrics_.last_progress_unix_ms = unix_ms_now();
        if (tracker_->flushable_lsn() != last_sent_flush_ || now - last_status_ >= kStatusInterval)
            if (auto sent = send_status(); !sent) {
                engine_->abandon_all();
                return {StreamEnd::connection_lost, sent.error()};
            }
        if (watchdog && now - last_watchdog >= std::chrono::microseconds(watchdog_usec / 2)) {
            sd_notify(0, "WATCHDOG=1");
            last_watchdog = now;
        }

        if (!draining && (fds[1].revents & CURL_WAIT_POLLIN) && signals_.received()) {
            draining = true;
            drain_deadline = now + config_.delivery.drain_timeout;
            batcher_->seal_all();
            sd_notify(0, "STOPPING=1");
            log_info("stopping: delivering " + std::to_string(batcher_->queued_events() + engine_->active_events()) +
                     " records still in hand (at most " + std::to_string(config_.delivery.drain_timeout.count()) +
                     " ms)");
        }
        if (draining) {
            bool done = batcher_->empty() && engine_->active_batches() == 0;
            if (done || now >= drain_deadline) {
                if (!done)
                    log_warning("drain deadline passed: " +
                                std::to_string(batcher_->queued_events() + engine_->active_events()) +
                                " records not confirmed; Postgres will send them again on restart");
                (void)send_status();
                (void)stream_->flush();
                log_info("stopped; confirmed up to " + format_lsn(tracker_->flushable_lsn()));
                return {StreamEnd::stopped, ""};
            }
        }
    }
}

}  // namespace

int run_sender(const Config& config, const RunOptions& options) {
    Metrics metrics;
    std::unique_ptr<MetricsServer> metrics_server;
    if (!config.metrics.listen.empty()) {
        metrics_server = std::make_unique<MetricsServer>(metrics);
        if (auto started = metrics_server->start(config.metrics.listen); !started) {
            log_error(started.error());
            return 1;
        }
        log_info("metrics on http://" + config.metrics.listen + "/metrics");
    }
    HttpClientOptions http_options;
    http_options.timeout = config.target.timeout;
    http_options.max_connections = static_cast<long>(config.delivery.max_in_flight);
    HttpClient http(http_options);
    Credentials credentials(config, http);
    log_info("token: " + credentials.describe());
    // Outlives sessions: what it verified about the CRM stays known across reconnections.
    MappingColumns mapping_columns(config.source.conninfo, config.source.crm);
    std::unique_ptr<CrmAdapter> adapter = make_adapter(
        config.target.format,
        AdapterOptions{config.target.api_version, config.target.time_zone,
                       [&mapping_columns](std::string_view object, std::string_view property) {
                           return mapping_columns.source_of(object, property);
                       }});
    DeadLetterStore dead_letters(config.source.conninfo, config.source.crm);
    SenderStateStore sender_state(config.source.conninfo, config.source.crm);
    SignalWatch signals;
    ProgressDisplay display(options.progress_bar);

    Backoff reconnect(1000ms, 30000ms);
    unsigned attempt = 0;
    while (true) {
        Session session(config, options, *adapter, http, credentials, dead_letters, sender_state, metrics, signals,
                        display);
        StreamResult result = session.run();
        if (metrics.streaming) attempt = 0;  // it had worked: start the backoff over
        metrics.streaming = false;
        switch (result.end) {
            case StreamEnd::stopped: return 0;
            case StreamEnd::fatal: log_error(result.message); return 1;
            case StreamEnd::rejected_stop: log_error(result.message); return 3;
            case StreamEnd::connection_lost: break;
        }
        auto delay = reconnect.delay(std::min(attempt++, 5u));
        log_warning(result.message + "; reconnecting in " + std::to_string(delay.count()) + " ms");
        sd_notify(0, "STATUS=reconnecting to Postgres");
        metrics.reconnects++;
        // Wait, but stay responsive to SIGTERM.
        auto until = Clock::now() + delay;
        while (Clock::now() < until) {
            // Waiting to reconnect is not hanging: keep systemd's watchdog fed.
            sd_notify(0, "WATCHDOG=1");
            pollfd fd{signals.fd(), POLLIN, 0};
            auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
            int wait_ms = static_cast<int>(std::clamp<int64_t>(left, 0, 1000));
            if (::poll(&fd, 1, wait_ms) > 0 && signals.received()) return 0;
        }
    }
}

}  // namespace crmsync::sender
