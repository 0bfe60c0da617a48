#include "delivery/delivery_engine.hpp"

#include <iostream>

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

}  // namespace

DeliveryEngine::DeliveryEngine(const Config& config, HttpClient& http, FlushTracker& tracker,
                               DeadLetterWriter dead_letters, CommitTimeLookup commit_time, Metrics& metrics)
    : config_(config),
      http_(http),
      tracker_(tracker),
      dead_letters_(std::move(dead_letters)),
      commit_time_(std::move(commit_time)),
      metrics_(metrics),
      // Capped at 10 s: after an outage a batch is back within seconds of the CRM.
      backoff_(std::chrono::milliseconds(100), std::chrono::milliseconds(10000)) {
    if (config_.delivery.rate_limit) rate_limiter_.emplace(*config_.delivery.rate_limit);
}

void DeliveryEngine::start(Batch batch, Clock::time_point now) {
    uint64_t sequence = batch.sequence;
    ActiveBatch active;
    active.events = batch.event_count();
    Part part;
    part.indices.resize(batch.entries.size());
    for (std::size_t i = 0; i < part.indices.size(); ++i) part.indices[i] = i;
    active.parts.push_back(std::move(part));
    active.batch = std::move(batch);
    active.send_at = now;
    active_events_ += active.events;
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

std::string DeliveryEngine::oldest_commit_time(const Batch& batch) const {
    if (batch.entries.empty()) return {};
    auto us = commit_time_(batch.first_event().commit_lsn);
    return us ? iso_utc_from_unix_us(*us) : std::string();
}

void DeliveryEngine::send_front(ActiveBatch& active, Clock::time_point now) {
    if (active.parts.empty() || active.request_id) return;
    if (now < active.send_at) return;
    if (rate_limiter_ && !rate_limiter_->try_acquire(now)) {
        active.send_at = rate_limiter_->next_available(now);
        return;
    }
    Part& part = active.parts.front();
    Batch sub = sub_batch(active, part);
    CrmRequest request;
    if (part.step == Step::hubspot_archive) {
        request = build_hubspot_archive(sub, part.hubspot_ids);
    } else {
        auto built = build_request(config_.target.format, sub);
        if (!built) {
            // Cannot happen for messages the Batcher accepted; dead-letter rather than spin.
            std::vector<std::pair<std::size_t, std::string>> all;
            for (std::size_t i : part.indices) all.emplace_back(i, "could not build the request: " + built.error());
            if (dead_letter(active, all, 0)) {
                active.parts.pop_front();
                finish_part(active, now);
            }
            return;
        }
        request = std::move(*built);
        if (request.hubspot_lookup_then_archive) part.step = Step::hubspot_lookup;
    }
    HttpRequest http;
    http.id = g_next_request_id++;
    http.method = std::string(method_name(request.method));
    http.url = join_url(config_.target.url, request.path);
    http.body = std::move(request.body);
    http.headers.push_back("Idempotency-Key: " + request.idempotency_key);
    if (std::string oldest = oldest_commit_time(sub); !oldest.empty())
        http.headers.push_back("X-Crmsync-Commit-Time: " + oldest);
    active.request_id = http.id;
    batch_by_request_[http.id] = active.batch.sequence;
    http_.submit(std::move(http));
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

bool DeliveryEngine::dead_letter(ActiveBatch& active, const std::vector<std::pair<std::size_t, std::string>>& rejected,
                                 long status) {
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

void DeliveryEngine::schedule_retry(ActiveBatch& active, const ResponseVerdict& verdict, long status,
                                    Clock::time_point now) {
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
    (void)status;
}

void DeliveryEngine::finish_part(ActiveBatch& active, Clock::time_point now) {
    if (!active.parts.empty()) {
        active.send_at = now;
        send_front(active, now);
        return;
    }
    uint64_t sequence = active.batch.sequence;
    active_events_ -= active.events;
    metrics_.batches_accepted++;
    finished_.push_back(sequence);
    active_.erase(sequence);
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

    std::vector<const BatchEntry*> entries;
    entries.reserve(part.indices.size());
    for (std::size_t i : part.indices) entries.push_back(&active.batch.entries[i]);
    CrmAnswer answer;
    answer.status = response.status;
    answer.body = response.body;
    if (response.retry_after) answer.retry_after_header = *response.retry_after;
    answer.transport_error = response.transport_error;
    RequestKind kind = part.step == Step::hubspot_lookup ? RequestKind::hubspot_lookup : RequestKind::send;
    ResponseVerdict verdict =
        classify_response(config_.target.format, kind, entries, answer, std::chrono::system_clock::now());
    auto wall_now = std::chrono::system_clock::now();

    using Kind = ResponseVerdict::Kind;
    switch (verdict.kind) {
        case Kind::retry:
            schedule_retry(active, verdict, response.status, now);
            return;
        case Kind::accepted:
            if (part.step == Step::hubspot_lookup) {
                Part archive;
                archive.step = Step::hubspot_archive;
                for (std::size_t k = 0; k < part.indices.size(); ++k) {
                    if (verdict.hubspot_ids[k]) {
                        archive.indices.push_back(part.indices[k]);
                        archive.hubspot_ids.push_back(*verdict.hubspot_ids[k]);
                    } else {
                        settle(active.batch.entries[part.indices[k]], wall_now, true);  // already gone
                    }
                }
                active.parts.pop_front();
                if (!archive.indices.empty()) active.parts.push_front(std::move(archive));
            } else {
                for (std::size_t i : part.indices) settle(active.batch.entries[i], wall_now, true);
                active.parts.pop_front();
            }
            finish_part(active, now);
            return;
        case Kind::partially_rejected: {
            std::vector<std::pair<std::size_t, std::string>> rejected;
            std::vector<bool> is_rejected(part.indices.size(), false);
            for (const auto& r : verdict.rejections) {
                if (r.index >= part.indices.size() || is_rejected[r.index]) continue;
                is_rejected[r.index] = true;
                rejected.emplace_back(part.indices[r.index], r.error);
            }
            if (!dead_letter(active, rejected, response.status)) {
                if (stop_reason_) return;
                schedule_retry(active, verdict, response.status, now);
                return;
            }
            // A 2xx applied the others; a 4xx applied none of the request: send them again.
            bool others_applied = response.status >= 200 && response.status < 300;
            Part rest;
            for (std::size_t k = 0; k < part.indices.size(); ++k) {
                if (is_rejected[k]) continue;
                if (others_applied)
                    settle(active.batch.entries[part.indices[k]], wall_now, true);
                else
                    rest.indices.push_back(part.indices[k]);
            }
            rest.step = part.step == Step::hubspot_archive ? Step::hubspot_archive : Step::send;
            if (rest.step == Step::hubspot_archive)
                for (std::size_t k = 0; k < part.indices.size(); ++k)
                    if (!is_rejected[k] && !others_applied) rest.hubspot_ids.push_back(part.hubspot_ids[k]);
            active.parts.pop_front();
            if (!rest.indices.empty()) active.parts.push_front(std::move(rest));
            finish_part(active, now);
            return;
        }
        case Kind::rejected_unnamed: {
            if (part.indices.size() == 1) {
                if (!dead_letter(active, {{part.indices.front(), verdict.error}}, response.status)) {
                    if (stop_reason_) return;
                    schedule_retry(active, verdict, response.status, now);
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
            first.step = second.step = part.step == Step::hubspot_archive ? Step::hubspot_archive : Step::send;
            first.indices.assign(part.indices.begin(), part.indices.begin() + half);
            second.indices.assign(part.indices.begin() + half, part.indices.end());
            if (part.step == Step::hubspot_archive) {
                first.hubspot_ids.assign(part.hubspot_ids.begin(), part.hubspot_ids.begin() + half);
                second.hubspot_ids.assign(part.hubspot_ids.begin() + half, part.hubspot_ids.end());
            }
            active.parts.pop_front();
            active.parts.push_front(std::move(second));
            active.parts.push_front(std::move(first));
            finish_part(active, now);
            return;
        }
    }
}

void DeliveryEngine::on_timer(Clock::time_point now) {
    for (auto& [sequence, active] : active_)
        if (!active.request_id && !active.parts.empty() && active.send_at <= now) send_front(active, now);
}

std::optional<DeliveryEngine::Clock::time_point> DeliveryEngine::next_deadline() const {
    std::optional<Clock::time_point> next;
    for (const auto& [sequence, active] : active_)
        if (!active.request_id && !active.parts.empty() && (!next || active.send_at < *next)) next = active.send_at;
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
    active_events_ = 0;
}

}  // namespace crmsync::sender
