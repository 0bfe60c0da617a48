#include "delivery/delivery_engine.hpp"

#include "core/request_body.hpp"
#include "log.hpp"

namespace crmsync::sender {
namespace {

// Request ids are unique for the whole process: responses to requests of an abandoned
// session (the replication stream was lost) must never match a new session's requests.
uint64_t g_next_request_id = 1;

std::string iso_utc_from_unix_us(int64_t us) {
    std::time_t seconds = static_cast<std::time_t>(us / 1000000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char text[64];
    std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(us % 1000000));
    return text;
}

// Transient failures: capped at 10 s, so after an outage a batch is back within seconds of
// the CRM. Configuration holds: an operator is fixing something; look again every minute.
constexpr auto kRetryBase = std::chrono::milliseconds(100);
constexpr auto kRetryCap = std::chrono::milliseconds(10'000);
constexpr auto kHoldBase = std::chrono::milliseconds(1'000);
constexpr auto kHoldCap = std::chrono::milliseconds(60'000);

}  // namespace

DeliveryEngine::DeliveryEngine(const Config& config, CrmAdapter& adapter, HttpTransport& http, FlushTracker& tracker,
                               DeadLetterWriter dead_letters, CommitTimeLookup commit_time, Metrics& metrics,
                               TokenRenewal renew_token)
    : DeliveryEngine(config, adapter, http, tracker, std::move(dead_letters), std::move(commit_time), metrics,
                     std::move(renew_token), Backoff::seeded_random_source()) {}

DeliveryEngine::DeliveryEngine(const Config& config, CrmAdapter& adapter, HttpTransport& http, FlushTracker& tracker,
                               DeadLetterWriter dead_letters, CommitTimeLookup commit_time, Metrics& metrics,
                               TokenRenewal renew_token, Backoff::RandomSource random)
    : config_(config),
      adapter_(adapter),
      http_(http),
      tracker_(tracker),
      dead_letters_(std::move(dead_letters)),
      commit_time_(std::move(commit_time)),
      metrics_(metrics),
      renew_token_(std::move(renew_token)),
      base_url_(config.target.url),
      backoff_(kRetryBase, kRetryCap, random),
      hold_backoff_(kHoldBase, kHoldCap, random),
      pacer_(config.delivery.rate_limit, config.delivery.max_in_flight) {}

void DeliveryEngine::start(Batch batch, Clock::time_point now) {
    uint64_t sequence = batch.sequence;
    ActiveBatch active;
    active.events = batch.event_count();
    active.records = batch.entries.size();
    Part part;
    part.indices.resize(batch.entries.size());
    for (std::size_t i = 0; i < part.indices.size(); ++i) part.indices[i] = i;
    part.stage = adapter_.first_stage(batch);
    active.parts.push_back(std::move(part));
    active.batch = std::move(batch);
    active.send_at = now;
    active_events_ += active.events;
    active_records_ += active.records;
    auto [it, inserted] = active_.emplace(sequence, std::move(active));
    send_front(it->second, now);
}

Batch DeliveryEngine::sub_batch(const ActiveBatch& active, const Part& part) const {
    Batch sub;
    sub.sequence = active.batch.sequence;
    sub.lane = active.batch.lane;
    sub.barrier = active.batch.barrier;
    sub.action = active.batch.action;
    sub.object = active.batch.object;
    sub.id_field = active.batch.id_field;
    sub.opened_at = active.batch.opened_at;
    sub.entries.reserve(part.indices.size());
    for (std::size_t i : part.indices) sub.entries.push_back(active.batch.entries[i]);
    return sub;
}

PartView DeliveryEngine::view(const ActiveBatch& active, const Part& part) const {
    PartView v;
    v.object = active.batch.object;
    v.id_field = active.batch.id_field;
    v.action = active.batch.action;
    v.entries.reserve(part.indices.size());
    for (std::size_t i : part.indices) v.entries.push_back(&active.batch.entries[i]);
    return v;
}

std::string DeliveryEngine::oldest_commit_time(const Batch& batch) const {
    if (batch.entries.empty()) return {};
    auto us = commit_time_(batch.first_event().commit_lsn);
    return us ? iso_utc_from_unix_us(*us) : std::string();
}

void DeliveryEngine::send_front(ActiveBatch& active, Clock::time_point now) {
    if (active.parts.empty() || active.request_id) return;
    Part& part = active.parts.front();
    if (part.not_before > active.send_at) active.send_at = part.not_before;
    if (now < active.send_at) return;
    if (part.stage == Stage::send && adapter_.needs_schema(active.batch)) {
        Part schema;
        schema.stage = Stage::schema;
        schema.indices = part.indices;
        active.parts.push_front(std::move(schema));
    }
    if (!pacer_.try_acquire(now)) {
        active.send_at = pacer_.next_available(now);
        return;
    }
    Part& front = active.parts.front();
    Batch sub = sub_batch(active, front);
    if (front.stage == Stage::send && !convert_or_dead_letter(active, sub, now)) return;
    auto built = adapter_.build(front.stage, sub, front.crm_ids);
    if (!built) {
        // Cannot happen for messages the Batcher accepted; dead-letter rather than spin.
        Outcomes all;
        for (std::size_t i : front.indices) all.emplace_back(i, "could not build the request: " + built.error());
        if (dead_letter(active, all, 0)) {
            active.parts.pop_front();
            finish_part(active, now);
        }
        return;
    }
    CrmRequest& request = *built;
    HttpRequest http;
    http.id = g_next_request_id++;
    http.method = std::string(method_name(request.method));
    http.url = join_url(base_url_, request.path);
    http.body = std::move(request.body);
    if (!request.idempotency_key.empty()) http.headers.push_back("Idempotency-Key: " + request.idempotency_key);
    if (front.stage != Stage::verify && front.stage != Stage::schema)
        if (std::string oldest = oldest_commit_time(sub); !oldest.empty())
            http.headers.push_back("X-Crmsync-Commit-Time: " + oldest);
    active.request_id = http.id;
    batch_by_request_[http.id] = active.batch.sequence;
    http_.submit(std::move(http));
}

bool DeliveryEngine::convert_or_dead_letter(ActiveBatch& active, Batch& sub, Clock::time_point now) {
    std::vector<RecordOutcome> refused = adapter_.convert(sub);
    if (refused.empty()) return true;
    Part& part = active.parts.front();
    Outcomes rejected;
    std::vector<bool> drop(part.indices.size(), false);
    for (const RecordOutcome& r : refused) {
        if (r.index >= part.indices.size() || drop[r.index]) continue;
        drop[r.index] = true;
        rejected.emplace_back(part.indices[r.index], r.error);
    }
    if (!dead_letter(active, rejected, 0)) {
        if (stop_reason_) return false;
        active.send_at = now + std::chrono::seconds(1);  // crmsync.dead_letters could not be written
        return false;
    }
    Part kept = part;
    kept.indices.clear();
    kept.crm_ids.clear();
    std::vector<BatchEntry> entries;
    for (std::size_t k = 0; k < part.indices.size(); ++k) {
        if (drop[k]) continue;
        kept.indices.push_back(part.indices[k]);
        entries.push_back(std::move(sub.entries[k]));
    }
    sub.entries = std::move(entries);
    part = std::move(kept);
    if (!part.indices.empty()) return true;
    active.parts.pop_front();
    finish_part(active, now);
    return false;
}

void DeliveryEngine::settle(const BatchEntry& entry, std::chrono::system_clock::time_point now, bool accepted) {
    auto settle_one = [&](EventId id) {
        if (auto status = tracker_.settle(id); !status) log_error("flush tracker: " + status.error());
        if (!accepted) return;
        if (auto us = commit_time_(id.commit_lsn)) {
            auto now_us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
            metrics_.observe_latency(std::chrono::microseconds(now_us - *us));
        }
    };
    settle_one(entry.event_id);
    for (const EventId& id : entry.coalesced) settle_one(id);
    metrics_.last_settled_unix_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    (accepted ? metrics_.records_accepted : metrics_.records_dead_lettered) += 1 + entry.coalesced.size();
}

bool DeliveryEngine::dead_letter(ActiveBatch& active, const Outcomes& rejected, long status) {
    if (rejected.empty()) return true;
    if (config_.delivery.on_reject == OnReject::stop) {
        const BatchEntry& first = active.batch.entries[rejected.front().first];
        stop_reason_ = "the CRM rejected event " + format_event_id(first.event_id) + " (object " + first.object +
                       ", key " + first.key.value_or("null") + "): " + rejected.front().second +
                       "; on_reject = \"stop\", so the sender stops here without confirming it. Fix the record "
                       "or the mapping, or set delivery.on_reject = \"dead_letter\", then restart.";
        return false;
    }
    std::vector<DeadLetter> letters;
    for (const auto& [index, error] : rejected) {
        const BatchEntry& entry = active.batch.entries[index];
        DeadLetter letter;
        letter.event = entry.event_id;
        letter.object = entry.object;
        letter.key = entry.key;
        letter.payload = std::string(entry.whole_message ? entry.message() : entry.record());
        letter.http_status = status;
        letter.error = error;
        letters.push_back(std::move(letter));
    }
    if (auto written = dead_letters_(letters); !written) {
        log_error("could not write " + std::to_string(letters.size()) +
                  " rejected records to crmsync.dead_letters: " + written.error() + "; will try again");
        return false;
    }
    auto now = std::chrono::system_clock::now();
    for (const auto& [index, error] : rejected) {
        const BatchEntry& entry = active.batch.entries[index];
        log_warning("dead-lettered event " + format_event_id(entry.event_id) + " (" + entry.object + " " +
                    entry.key.value_or("null") + "): " + error);
        settle(entry, now, false);
    }
    return true;
}

void DeliveryEngine::schedule_retry(ActiveBatch& active, const ResponseVerdict& verdict, Clock::time_point now) {
    Part& part = active.parts.front();
    auto delay = backoff_.delay(part.attempt, verdict.retry_after);
    ++part.attempt;
    active.send_at = now + delay;
    metrics_.requests_retried++;
    // One line per second at most: an outage must not flood the journal.
    if (now - last_retry_log_ >= std::chrono::seconds(1)) {
        last_retry_log_ = now;
        log_warning("CRM request for " + std::to_string(part.indices.size()) + " records failed (" + verdict.error +
                    "); retry " + std::to_string(part.attempt) + " in " + std::to_string(delay.count()) + " ms");
    }
}

void DeliveryEngine::hold(ActiveBatch& active, const std::string& why, Clock::time_point now) {
    Part& part = active.parts.front();
    auto delay = hold_backoff_.ceiling(part.holds);
    ++part.holds;
    active.send_at = now + delay;
    held_.insert(active.batch.sequence);
    metrics_.set_configuration_error(why);
    if (last_hold_log_ == Clock::time_point{} || now - last_hold_log_ >= std::chrono::seconds(30)) {
        last_hold_log_ = now;
        log_error("delivery of " + (active.batch.object.empty() ? std::string("events") : active.batch.object) +
                  " is held: " + why + " (tried again in " + std::to_string(delay.count() / 1000) +
                  " s; nothing after it is confirmed to Postgres until then)");
    }
}

void DeliveryEngine::release(ActiveBatch& active) {
    if (held_.erase(active.batch.sequence) && held_.empty()) {
        metrics_.set_configuration_error("");
        log_info("delivery resumed: the CRM accepts " +
                 (active.batch.object.empty() ? std::string("events") : active.batch.object) + " again");
    }
    if (!active.parts.empty()) active.parts.front().holds = 0;
}

void DeliveryEngine::finish_part(ActiveBatch& active, Clock::time_point now) {
    if (!active.parts.empty()) {
        active.send_at = now;
        send_front(active, now);
        return;
    }
    uint64_t sequence = active.batch.sequence;
    active_events_ -= active.events;
    active_records_ -= active.records;
    metrics_.batches_accepted++;
    finished_.push_back(sequence);
    active_.erase(sequence);
}

void DeliveryEngine::on_accepted(ActiveBatch& active, const ResponseVerdict& verdict, Clock::time_point now) {
    Part part = std::move(active.parts.front());
    active.parts.pop_front();
    auto wall_now = std::chrono::system_clock::now();
    if (part.stage == Stage::lookup) {
        Part act;
        act.stage = Stage::by_crm_id;
        for (std::size_t k = 0; k < part.indices.size(); ++k) {
            if (k < verdict.crm_ids.size() && verdict.crm_ids[k]) {
                act.indices.push_back(part.indices[k]);
                act.crm_ids.push_back(*verdict.crm_ids[k]);
            } else {
                settle(active.batch.entries[part.indices[k]], wall_now, true);  // not there: already gone
            }
        }
        if (!act.indices.empty()) active.parts.push_front(std::move(act));
    } else if (part.stage == Stage::schema) {
        if (!verdict.error.empty()) log_warning(verdict.error);
    } else if (part.stage != Stage::verify) {
        for (std::size_t i : part.indices) settle(active.batch.entries[i], wall_now, true);
    }
    // Stage::verify and Stage::schema: the part that asked for it is next in line and is sent again.
    finish_part(active, now);
}

void DeliveryEngine::on_per_record(ActiveBatch& active, const ResponseVerdict& verdict, long status,
                                   Clock::time_point now) {
    Part& part = active.parts.front();
    using Outcome = RecordOutcome::Kind;
    std::vector<const RecordOutcome*> outcome_of(part.indices.size(), nullptr);
    Outcomes rejected;
    for (const auto& r : verdict.records) {
        if (r.index >= part.indices.size() || outcome_of[r.index]) continue;
        outcome_of[r.index] = &r;
        if (r.kind == Outcome::rejected) rejected.emplace_back(part.indices[r.index], r.error);
    }
    if (!dead_letter(active, rejected, status)) {
        if (stop_reason_) return;
        schedule_retry(active, verdict, now);
        return;
    }
    auto wall_now = std::chrono::system_clock::now();
    Part rest, later, act;
    rest.stage = later.stage = part.stage;
    act.stage = Stage::by_crm_id;
    later.attempt = part.attempt + 1;
    later.not_before = now + backoff_.delay(part.attempt);
    std::string retry_error;
    for (std::size_t k = 0; k < part.indices.size(); ++k) {
        const std::size_t index = part.indices[k];
        auto keep = [&](Part& into) {
            into.indices.push_back(index);
            if (part.stage == Stage::by_crm_id) into.crm_ids.push_back(part.crm_ids[k]);
        };
        if (const RecordOutcome* outcome = outcome_of[k]) {
            if (outcome->kind == Outcome::done) settle(active.batch.entries[index], wall_now, true);
            if (outcome->kind == Outcome::retry) {
                keep(later);
                if (retry_error.empty()) retry_error = outcome->error;
            }
            continue;
        }
        if (part.stage == Stage::lookup) {
            if (k < verdict.crm_ids.size() && verdict.crm_ids[k]) {
                act.indices.push_back(index);
                act.crm_ids.push_back(*verdict.crm_ids[k]);
            } else {
                settle(active.batch.entries[index], wall_now, true);  // not there: already gone
            }
        } else if (verdict.others_applied) {
            settle(active.batch.entries[index], wall_now, true);
        } else {
            keep(rest);
        }
    }
    active.parts.pop_front();
    // Each key is in a batch once (CRM formats), so these parts may go in any order.
    if (!later.indices.empty()) {
        metrics_.records_retried += later.indices.size();
        if (now - last_retry_log_ >= std::chrono::seconds(1)) {
            last_retry_log_ = now;
            log_warning(std::to_string(later.indices.size()) + " records failed for a passing reason (" + retry_error +
                        "); sending them again");
        }
        active.parts.push_front(std::move(later));
    }
    if (!act.indices.empty()) active.parts.push_front(std::move(act));
    if (!rest.indices.empty()) active.parts.push_front(std::move(rest));
    finish_part(active, now);
}

void DeliveryEngine::on_unnamed(ActiveBatch& active, const ResponseVerdict& verdict, long status,
                                Clock::time_point now) {
    Part& part = active.parts.front();
    if (part.indices.size() == 1) {
        if (!dead_letter(active, {{part.indices.front(), verdict.error}}, status)) {
            if (stop_reason_) return;
            schedule_retry(active, verdict, now);
            return;
        }
        active.parts.pop_front();
        finish_part(active, now);
        return;
    }
    // Split in halves, sent one after the other so a key's events keep their order.
    metrics_.batches_split++;
    Part first, second;
    std::size_t half = part.indices.size() / 2;
    first.stage = second.stage = part.stage;
    first.indices.assign(part.indices.begin(), part.indices.begin() + half);
    second.indices.assign(part.indices.begin() + half, part.indices.end());
    if (part.stage == Stage::by_crm_id) {
        first.crm_ids.assign(part.crm_ids.begin(), part.crm_ids.begin() + half);
        second.crm_ids.assign(part.crm_ids.begin() + half, part.crm_ids.end());
    }
    active.parts.pop_front();
    active.parts.push_front(std::move(second));
    active.parts.push_front(std::move(first));
    finish_part(active, now);
}

void DeliveryEngine::on_response(HttpResponse response, Clock::time_point now) {
    auto request = batch_by_request_.find(response.id);
    if (request == batch_by_request_.end()) return;  // abandoned
    uint64_t sequence = request->second;
    batch_by_request_.erase(request);
    auto it = active_.find(sequence);
    if (it == active_.end()) return;
    ActiveBatch& active = it->second;
    active.request_id.reset();
    metrics_.count_status(response.status);
    Part& part = active.parts.front();

    CrmAnswer answer;
    answer.status = response.status;
    answer.body = response.body;
    if (response.retry_after) answer.retry_after_header = *response.retry_after;
    answer.transport_error = response.transport_error;
    answer.headers = response.headers;
    observe_quota(adapter_.quota(answer), now);
    ResponseVerdict verdict = adapter_.classify(part.stage, view(active, part), answer, std::chrono::system_clock::now());

    using Kind = ResponseVerdict::Kind;
    if (verdict.daily_quota_exhausted) {
        const auto wait = verdict.retry_after.value_or(std::chrono::minutes(5));
        pacer_.pause_until(now + wait, verdict.error);
        metrics_.set_quota_wait(verdict.error, std::chrono::duration_cast<std::chrono::milliseconds>(wait));
        log_warning("waiting for the CRM's daily request budget: " + verdict.error + "; every request waits " +
                    std::to_string(std::chrono::duration_cast<std::chrono::seconds>(wait).count()) +
                    " s, then one probes whether it is back");
    } else if (response.status != 0 && !metrics_.quota_wait().empty() && pacer_.pause_reason(now).empty()) {
        // Only an answer to a request sent after the pause ended says the budget is back: one
        // sent before the CRM ran out can be accepted after another lane's 429 started the pause.
        metrics_.set_quota_wait("", {});
        log_info("the CRM takes requests again after its daily budget was used up");
    }
    if (verdict.kind != Kind::configuration && verdict.kind != Kind::unauthorized) release(active);
    if (verdict.kind != Kind::unauthorized) part.resent_after_renewal = false;
    switch (verdict.kind) {
        case Kind::retry:
            schedule_retry(active, verdict, now);
            return;
        case Kind::configuration:
            hold(active, verdict.error, now);
            return;
        case Kind::unauthorized: {
            std::string why;
            if (!part.resent_after_renewal && renew_token_ && renew_token_(why)) {
                metrics_.token_renewals++;
                log_info("the CRM refused the token (" + verdict.error + "); renewed it, sending again");
                part.resent_after_renewal = true;
                active.send_at = now;
                send_front(active, now);
                return;
            }
            part.resent_after_renewal = false;
            hold(active, verdict.error + "; " +
                             (why.empty() ? std::string("write a valid token to target.token_file (it is re-read "
                                                        "after a 401 and on SIGHUP) or fix [auth]")
                                          : why),
                 now);
            return;
        }
        case Kind::verify_target: {
            Part verify;
            verify.stage = Stage::verify;
            verify.indices = part.indices;
            active.parts.push_front(std::move(verify));
            send_front(active, now);
            return;
        }
        case Kind::accepted:
            on_accepted(active, verdict, now);
            return;
        case Kind::per_record:
            on_per_record(active, verdict, response.status, now);
            return;
        case Kind::rejected_unnamed:
            on_unnamed(active, verdict, response.status, now);
            return;
    }
}

void DeliveryEngine::observe_quota(const QuotaReport& report, Clock::time_point now) {
    const auto before = pacer_.limit();
    pacer_.observe(report, now);
    if (report.window_remaining) metrics_.quota_window_remaining = *report.window_remaining;
    if (report.daily_remaining) metrics_.quota_daily_remaining = static_cast<int64_t>(*report.daily_remaining);
    const auto after = pacer_.limit();
    if (after && (!before || !(*before == *after)))
        log_info("pacing requests to " + std::to_string(after->count) + " per " +
                 std::to_string(after->period.count()) + " ms (" +
                 (report.window_max ? "the CRM's budget of " + std::to_string(*report.window_max) + " less one per lane"
                                    : std::string("delivery.rate_limit")) +
                 ")");
}

void DeliveryEngine::on_timer(Clock::time_point now) {
    for (auto& [sequence, active] : active_)
        if (!active.request_id && !active.parts.empty() && active.send_at <= now) send_front(active, now);
}

std::optional<DeliveryEngine::Clock::time_point> DeliveryEngine::next_deadline() const {
    std::optional<Clock::time_point> next;
    for (const auto& [sequence, active] : active_) {
        if (active.request_id || active.parts.empty()) continue;
        Clock::time_point at = std::max(active.send_at, active.parts.front().not_before);
        if (!next || at < *next) next = at;
    }
    return next;
}

std::vector<uint64_t> DeliveryEngine::take_finished() {
    std::vector<uint64_t> out;
    out.swap(finished_);
    return out;
}

void DeliveryEngine::abandon_all() {
    active_.clear();
    batch_by_request_.clear();
    finished_.clear();
    held_.clear();
    metrics_.set_configuration_error("");
    active_events_ = 0;
    active_records_ = 0;
}

}  // namespace crmsync::sender
