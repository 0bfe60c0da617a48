// Batcher: limits, linger, lanes and per-key order, coalescing, barriers, event-id bookkeeping.
#include "core/batcher.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

using namespace crmsync::sender;
using namespace std::chrono_literals;
using Clock = Batcher::Clock;

namespace {

const Clock::time_point t0{1h};

std::string hex(std::uint64_t v) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "0/%llX", static_cast<unsigned long long>(v));
    return buffer;
}

std::string message(std::string_view action, std::string_view object, std::string_view key, std::uint64_t lsn,
                    std::uint64_t seq, std::string_view record) {
    const std::string key_json = key == "null" ? std::string("null") : "\"" + std::string(key) + "\"";
    return R"({"action":")" + std::string(action) + R"(","object":")" + std::string(object) + R"(","key":)" + key_json +
           R"(,"table":"public.t","commit_lsn":")" + hex(lsn) + R"(","seq":)" + std::to_string(seq) +
           R"(,"xid":7,"commit_time":"2026-11-24T10:00:00Z","record":)" + std::string(record) + "}";
}

std::string hubspot_upsert(std::string_view object, std::string_view key, std::uint64_t lsn, std::uint64_t seq,
                           std::string_view properties = R"({"a":"1"})") {
    return message("upsert", object, key, lsn, seq,
                   R"({"idProperty":"email","id":")" + std::string(key) + R"(","properties":)" + std::string(properties) + "}");
}

std::string hubspot_delete(std::string_view object, std::string_view key, std::uint64_t lsn, std::uint64_t seq) {
    return message("delete", object, key, lsn, seq, R"({"idProperty":"email","id":")" + std::string(key) + R"("})");
}

std::string webhook_upsert(std::string_view key, std::uint64_t lsn, std::uint64_t seq) {
    return message("upsert", "contacts", key, lsn, seq, R"({"id":")" + std::string(key) + R"(","properties":{}})");
}

Status add(Batcher& batcher, const std::string& json, Clock::time_point now = t0) {
    auto parsed = parse_plugin_message(json);
    EXPECT_TRUE(parsed) << parsed.error() << "\n" << json;
    if (!parsed) return Error{parsed.error()};
    return batcher.add(json, *parsed, now);
}

// Takes every due batch, finishing each at once (as if the CRM accepted it immediately).
std::vector<Batch> take_all(Batcher& batcher, Clock::time_point now) {
    std::vector<Batch> batches;
    while (auto batch = batcher.take_ready(now)) {
        EXPECT_TRUE(batcher.finished(batch->sequence));
        batches.push_back(std::move(*batch));
    }
    return batches;
}

std::vector<std::string> keys_of(const Batch& batch) {
    std::vector<std::string> keys;
    for (const auto& entry : batch.entries) keys.push_back(entry.key.value_or("null"));
    return keys;
}

BatcherOptions hubspot(std::size_t lanes = 1, std::size_t max_records = 100, bool coalesce = true) {
    return BatcherOptions{Format::hubspot, max_records, lanes, 5ms, coalesce};
}

}  // namespace

TEST(Batcher, FullBatchesAreDueAtOnceTheRestAfterLinger) {
    Batcher batcher(hubspot(1, 3));
    for (int i = 0; i < 7; ++i) ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "k" + std::to_string(i), 100, i + 1)));
    EXPECT_EQ(batcher.queued_events(), 7u);

    auto first = batcher.take_ready(t0);
    ASSERT_TRUE(first);
    EXPECT_EQ(keys_of(*first), (std::vector<std::string>{"k0", "k1", "k2"}));
    EXPECT_FALSE(batcher.take_ready(t0));  // the lane is busy
    ASSERT_TRUE(batcher.finished(first->sequence));
    auto second = batcher.take_ready(t0);
    ASSERT_TRUE(second);
    EXPECT_EQ(keys_of(*second), (std::vector<std::string>{"k3", "k4", "k5"}));
    ASSERT_TRUE(batcher.finished(second->sequence));

    EXPECT_FALSE(batcher.take_ready(t0 + 4ms));  // k6 lingers
    EXPECT_EQ(batcher.next_deadline(), t0 + 5ms);
    auto third = batcher.take_ready(t0 + 5ms);
    ASSERT_TRUE(third);
    EXPECT_EQ(keys_of(*third), (std::vector<std::string>{"k6"}));
    ASSERT_TRUE(batcher.finished(third->sequence));
    EXPECT_TRUE(batcher.empty());
    EXPECT_FALSE(batcher.next_deadline());
}

TEST(Batcher, RespectsTheApiLimitBelowTheConfiguredMaximum) {
    // Salesforce deletes by external id go through Composite: 25 per request.
    Batcher batcher(BatcherOptions{Format::salesforce, 200, 1, 5ms, true});
    for (int i = 0; i < 30; ++i)
        ASSERT_TRUE(add(batcher, message("delete", "Contact", "k" + std::to_string(i), 100, i + 1,
                                         R"({"attributes":{"type":"Contact"},"Email":"x"})")));
    auto batch = batcher.take_ready(t0);
    ASSERT_TRUE(batch);
    EXPECT_EQ(batch->entries.size(), 25u);
    EXPECT_EQ(batch->id_field, "Email");
    EXPECT_EQ(batch->action, Action::delete_);
}

TEST(Batcher, LingerCountsFromTheBatchsFirstRecord) {
    Batcher batcher(hubspot());
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "a", 100, 1), t0));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "b", 100, 2), t0 + 4ms));
    EXPECT_FALSE(batcher.take_ready(t0 + 4ms));
    auto batch = batcher.take_ready(t0 + 5ms);
    ASSERT_TRUE(batch);
    EXPECT_EQ(batch->entries.size(), 2u);
}

TEST(Batcher, SealAllMakesEverythingDueForDrain) {
    Batcher batcher(hubspot());
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "a", 100, 1)));
    EXPECT_FALSE(batcher.take_ready(t0));
    batcher.seal_all();
    EXPECT_LE(*batcher.next_deadline(), t0);
    EXPECT_TRUE(batcher.take_ready(t0));
}

TEST(Batcher, SeparatesObjectsAndActions) {
    Batcher batcher(hubspot());
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "a", 100, 1)));
    ASSERT_TRUE(add(batcher, hubspot_upsert("companies", "b", 100, 2)));
    ASSERT_TRUE(add(batcher, hubspot_delete("contacts", "c", 100, 3)));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "d", 100, 4)));
    auto batches = take_all(batcher, t0 + 5ms);
    ASSERT_EQ(batches.size(), 3u);
    EXPECT_EQ(batches[0].object, "contacts");
    EXPECT_EQ(keys_of(batches[0]), (std::vector<std::string>{"a", "d"}));
    EXPECT_EQ(batches[1].object, "companies");
    EXPECT_EQ(batches[2].action, Action::delete_);
    EXPECT_EQ(keys_of(batches[2]), (std::vector<std::string>{"c"}));
}

TEST(Batcher, AKeyAlwaysUsesTheSameLaneAndWaitsForItsEarlierBatch) {
    Batcher batcher(hubspot(4, 2));
    std::map<std::string, std::set<std::size_t>> lanes_of_key;
    std::uint64_t seq = 0;
    for (int round = 0; round < 3; ++round)
        for (int k = 0; k < 40; ++k) ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "k" + std::to_string(k), 100, ++seq)));

    // Take what is due without finishing anything: at most one batch per lane.
    std::vector<Batch> in_flight;
    while (auto batch = batcher.take_ready(t0)) in_flight.push_back(std::move(*batch));
    ASSERT_EQ(in_flight.size(), 4u);
    std::set<std::size_t> lanes;
    for (const auto& b : in_flight) lanes.insert(b.lane);
    EXPECT_EQ(lanes.size(), 4u);
    EXPECT_EQ(batcher.in_flight_batches(), 4u);

    // Drain, recording for each key the sequence of batches it appeared in.
    std::map<std::string, std::vector<std::uint64_t>> events_of_key;
    auto record = [&](const Batch& b) {
        for (const auto& e : b.entries) {
            lanes_of_key[*e.key].insert(b.lane);
            events_of_key[*e.key].push_back(e.event_id.seq);
            for (const auto& c : e.coalesced) events_of_key[*e.key].push_back(c.seq);
        }
    };
    for (const auto& b : in_flight) record(b);
    std::size_t total = 0;
    while (!in_flight.empty()) {
        const Batch done = std::move(in_flight.front());
        in_flight.erase(in_flight.begin());
        total += done.event_count();
        ASSERT_TRUE(batcher.finished(done.sequence));
        // Only the finished lane may send next.
        while (auto next = batcher.take_ready(t0 + 5ms)) {
            EXPECT_EQ(next->lane, done.lane);
            record(*next);
            in_flight.push_back(std::move(*next));
        }
    }
    EXPECT_EQ(total, 120u);
    for (const auto& [key, lanes_used] : lanes_of_key) EXPECT_EQ(lanes_used.size(), 1u) << key;
    for (const auto& [key, seqs] : events_of_key) EXPECT_TRUE(std::is_sorted(seqs.begin(), seqs.end())) << key;
    EXPECT_TRUE(batcher.empty());
}

TEST(Batcher, CoalescesUpsertsOfOneKeyLaterPropertiesWin) {
    Batcher batcher(hubspot());
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "ann", 100, 1, R"({"a":"1","b":"2"})")));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "bob", 100, 2, R"({"a":"x"})")));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "ann", 200, 1, R"({"b":"3","c":""})")));
    EXPECT_EQ(batcher.queued_events(), 3u);
    auto batch = batcher.take_ready(t0 + 5ms);
    ASSERT_TRUE(batch);
    ASSERT_EQ(batch->entries.size(), 2u);
    const BatchEntry& ann = batch->entries[0];
    EXPECT_EQ(ann.record(), R"({"idProperty":"email","id":"ann","properties":{"a":"1","b":"3","c":""}})");
    EXPECT_EQ(ann.event_id, (EventId{Lsn{100}, 1}));
    EXPECT_EQ(ann.coalesced, (std::vector<EventId>{EventId{Lsn{200}, 1}}));
    EXPECT_EQ(batch->entries[1].record(), R"({"idProperty":"email","id":"bob","properties":{"a":"x"}})");
    EXPECT_EQ(batch->event_count(), 3u);
    EXPECT_EQ(batch->event_ids(), (std::vector<EventId>{{Lsn{100}, 1}, {Lsn{100}, 2}, {Lsn{200}, 1}}));
    EXPECT_EQ(batch->first_event(), (EventId{Lsn{100}, 1}));
    EXPECT_EQ(batch->last_event(), (EventId{Lsn{200}, 1}));
    EXPECT_EQ(batcher.queued_events(), 0u);
}

// While the CRM is the bottleneck batches queue up behind busy lanes; each of them is still a
// coalescing window: an upsert merges into its key's newest record in any batch not yet sent.
TEST(Batcher, CoalescesIntoASealedBatchWaitingBehindABusyLane) {
    Batcher batcher(hubspot(1, 2));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "k1", 100, 1)));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "k2", 100, 2)));
    auto first = batcher.take_ready(t0);  // full: sent, the lane is busy
    ASSERT_TRUE(first);
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "k3", 200, 1, R"({"a":"1","b":"1"})")));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "k4", 200, 2)));  // full, sealed, queued
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "k5", 200, 3)));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "k3", 300, 1, R"({"b":"2"})")));  // into the sealed batch
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "k1", 300, 2)));  // its record is in flight: a new one
    EXPECT_EQ(batcher.queued_events(), 5u);
    EXPECT_EQ(batcher.queued_records(), 4u);
    EXPECT_FALSE(batcher.take_ready(t0 + 1s));  // the lane is busy
    ASSERT_TRUE(batcher.finished(first->sequence));
    auto batches = take_all(batcher, t0 + 1s);
    ASSERT_EQ(batches.size(), 2u);
    EXPECT_EQ(keys_of(batches[0]), (std::vector<std::string>{"k3", "k4"}));
    EXPECT_EQ(batches[0].entries[0].record(), R"({"idProperty":"email","id":"k3","properties":{"a":"1","b":"2"}})");
    EXPECT_EQ(batches[0].entries[0].coalesced, (std::vector<EventId>{EventId{Lsn{300}, 1}}));
    EXPECT_EQ(keys_of(batches[1]), (std::vector<std::string>{"k5", "k1"}));
    EXPECT_EQ(batcher.queued_records(), 0u);
    EXPECT_TRUE(batcher.empty());
}

// A delete queued after the sealed batch is the key's newest record: a later upsert goes
// behind the delete, never into the earlier batch.
TEST(Batcher, NeverCoalescesIntoAQueuedBatchAcrossADelete) {
    Batcher batcher(hubspot(1, 2));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "k0", 100, 1)));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "k9", 100, 2)));
    auto first = batcher.take_ready(t0);
    ASSERT_TRUE(first);
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "k1", 200, 1, R"({"a":"1"})")));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "k2", 200, 2)));  // sealed, queued
    ASSERT_TRUE(add(batcher, hubspot_delete("contacts", "k1", 300, 1)));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "k1", 400, 1, R"({"a":"2"})")));
    ASSERT_TRUE(batcher.finished(first->sequence));
    auto batches = take_all(batcher, t0 + 1s);
    ASSERT_EQ(batches.size(), 3u);
    EXPECT_EQ(batches[0].entries[0].record(), R"({"idProperty":"email","id":"k1","properties":{"a":"1"}})");
    EXPECT_TRUE(batches[0].entries[0].coalesced.empty());
    EXPECT_EQ(batches[1].action, Action::delete_);
    EXPECT_EQ(batches[2].action, Action::upsert);
    EXPECT_EQ(batches[2].entries[0].record(), R"({"idProperty":"email","id":"k1","properties":{"a":"2"}})");
}

TEST(Batcher, CoalescingKeepsSalesforceFieldOrderAndExactValues) {
    Batcher batcher(BatcherOptions{Format::salesforce, 200, 1, 5ms, true});
    ASSERT_TRUE(add(batcher, message("upsert", "Contact", "ann@example.com", 100, 1,
                                     R"({"attributes":{"type":"Contact"},"Email":"ann@example.com","Amount__c":12345678901234567890.123456789,"Note__c":"caf\u00e9 \"x\""})")));
    ASSERT_TRUE(add(batcher, message("upsert", "Contact", "ann@example.com", 100, 2,
                                     R"({"attributes":{"type":"Contact"},"Email":"ann@example.com", "Tags__c" : ["a", 1e10],"Amount__c":-0.10})")));
    auto batch = batcher.take_ready(t0 + 5ms);
    ASSERT_TRUE(batch);
    ASSERT_EQ(batch->entries.size(), 1u);
    EXPECT_EQ(batch->entries[0].record(),
              R"({"attributes":{"type":"Contact"},"Email":"ann@example.com","Amount__c":-0.10,"Note__c":"caf\u00e9 \"x\"","Tags__c":["a", 1e10]})");
}

TEST(Batcher, RecordsRapidJsonCannotReadAreSentSeparatelyNotMangled) {
    // RapidJSON rejects numbers beyond double range (numeric can be 1000 digits): the
    // upserts cannot be merged, so the second goes into a batch of its own, bytes untouched.
    const std::string huge = "1" + std::string(400, '0');
    Batcher batcher(BatcherOptions{Format::salesforce, 200, 1, 5ms, true});
    const std::string first = R"({"attributes":{"type":"Contact"},"Email":"ann","Big__c":)" + huge + "}";
    ASSERT_TRUE(add(batcher, message("upsert", "Contact", "ann", 100, 1, first)));
    ASSERT_TRUE(add(batcher, message("upsert", "Contact", "ann", 100, 2, R"({"attributes":{"type":"Contact"},"Email":"ann","X__c":1})")));
    auto batches = take_all(batcher, t0 + 5ms);
    ASSERT_EQ(batches.size(), 2u);
    EXPECT_EQ(batches[0].entries[0].record(), first);
    EXPECT_EQ(batches[1].entries[0].record(), R"({"attributes":{"type":"Contact"},"Email":"ann","X__c":1})");
}

TEST(Batcher, NeverCoalescesAcrossADelete) {
    Batcher batcher(hubspot());
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "ann", 100, 1, R"({"a":"1"})")));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "bob", 100, 2)));
    ASSERT_TRUE(add(batcher, hubspot_delete("contacts", "ann", 200, 1)));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "ann", 300, 1, R"({"b":"2"})")));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "cid", 300, 2)));
    auto batches = take_all(batcher, t0 + 5ms);
    ASSERT_EQ(batches.size(), 3u);
    EXPECT_EQ(batches[0].action, Action::upsert);
    EXPECT_EQ(keys_of(batches[0]), (std::vector<std::string>{"ann", "bob"}));
    EXPECT_EQ(batches[0].entries[0].record(), R"({"idProperty":"email","id":"ann","properties":{"a":"1"}})");
    EXPECT_EQ(batches[1].action, Action::delete_);
    EXPECT_EQ(keys_of(batches[1]), (std::vector<std::string>{"ann"}));
    EXPECT_EQ(batches[2].action, Action::upsert);
    EXPECT_EQ(keys_of(batches[2]), (std::vector<std::string>{"ann", "cid"}));
    EXPECT_EQ(batches[2].entries[0].record(), R"({"idProperty":"email","id":"ann","properties":{"b":"2"}})");
    EXPECT_TRUE(batches[2].entries[0].coalesced.empty());
}

TEST(Batcher, UnrelatedKeysStillJoinTheOpenBatchAroundADelete) {
    Batcher batcher(hubspot());
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "a", 100, 1)));
    ASSERT_TRUE(add(batcher, hubspot_delete("contacts", "b", 100, 2)));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "c", 100, 3)));  // not behind any delete of c
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "b", 100, 4)));  // must follow the delete of b
    auto batches = take_all(batcher, t0 + 5ms);
    ASSERT_EQ(batches.size(), 3u);
    EXPECT_EQ(keys_of(batches[0]), (std::vector<std::string>{"a", "c"}));
    EXPECT_EQ(keys_of(batches[1]), (std::vector<std::string>{"b"}));
    EXPECT_EQ(batches[1].action, Action::delete_);
    EXPECT_EQ(keys_of(batches[2]), (std::vector<std::string>{"b"}));
}

TEST(Batcher, CoalesceFalseSplitsInsteadOfDuplicatingAKey) {
    Batcher batcher(hubspot(1, 100, false));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "ann", 100, 1, R"({"a":"1"})")));
    ASSERT_TRUE(add(batcher, hubspot_upsert("contacts", "ann", 100, 2, R"({"a":"2"})")));
    auto batches = take_all(batcher, t0 + 5ms);
    ASSERT_EQ(batches.size(), 2u);
    EXPECT_EQ(batches[0].entries[0].record(), R"({"idProperty":"email","id":"ann","properties":{"a":"1"}})");
    EXPECT_EQ(batches[1].entries[0].record(), R"({"idProperty":"email","id":"ann","properties":{"a":"2"}})");
    EXPECT_TRUE(batches[0].entries[0].whole_message);
}

TEST(Batcher, WebhookNeverCoalescesAndMixesActionsInStreamOrder) {
    Batcher batcher(BatcherOptions{Format::webhook, 100, 1, 5ms, true});
    const std::string m1 = webhook_upsert("ann", 100, 1);
    const std::string m2 = message("delete", "contacts", "ann", 100, 2, "null");
    const std::string m3 = webhook_upsert("ann", 100, 3);
    for (const auto& m : {m1, m2, m3}) ASSERT_TRUE(add(batcher, m));
    auto batch = batcher.take_ready(t0 + 5ms);
    ASSERT_TRUE(batch);
    ASSERT_EQ(batch->entries.size(), 3u);
    EXPECT_EQ(batch->entries[0].message(), m1);
    EXPECT_EQ(batch->entries[1].message(), m2);
    EXPECT_EQ(batch->entries[2].message(), m3);
    EXPECT_TRUE(batch->object.empty());
}

TEST(Batcher, WebhookTruncateIsABarrierAcrossAllLanes) {
    Batcher batcher(BatcherOptions{Format::webhook, 100, 4, 5ms, false});
    for (int k = 0; k < 20; ++k) ASSERT_TRUE(add(batcher, webhook_upsert("k" + std::to_string(k), 100, k + 1)));
    const std::string truncate = message("truncate", "contacts", "null", 200, 1, "null");
    ASSERT_TRUE(add(batcher, truncate));
    ASSERT_TRUE(add(batcher, webhook_upsert("k0", 300, 1)));

    std::vector<Batch> before;
    while (auto b = batcher.take_ready(t0)) before.push_back(std::move(*b));  // sealed by the barrier: no linger
    ASSERT_GE(before.size(), 2u);
    std::size_t carried = 0;
    for (const auto& b : before) {
        EXPECT_FALSE(b.barrier);
        carried += b.event_count();
    }
    EXPECT_EQ(carried, 20u);
    // Not even one lane finishing lets the truncate go: all must.
    for (std::size_t i = 0; i + 1 < before.size(); ++i) {
        ASSERT_TRUE(batcher.finished(before[i].sequence));
        EXPECT_FALSE(batcher.take_ready(t0 + 1s));
    }
    ASSERT_TRUE(batcher.finished(before.back().sequence));
    auto barrier = batcher.take_ready(t0);
    ASSERT_TRUE(barrier);
    EXPECT_TRUE(barrier->barrier);
    ASSERT_EQ(barrier->entries.size(), 1u);
    EXPECT_EQ(barrier->entries[0].message(), truncate);
    EXPECT_FALSE(batcher.take_ready(t0 + 1s));  // the upsert after it waits
    ASSERT_TRUE(batcher.finished(barrier->sequence));
    auto after = batcher.take_ready(t0 + 5ms);
    ASSERT_TRUE(after);
    EXPECT_EQ(keys_of(*after), (std::vector<std::string>{"k0"}));
    EXPECT_EQ(after->entries[0].event_id, (EventId{Lsn{300}, 1}));
}

TEST(Batcher, RefusesWhatTheFormatCannotDeliver) {
    Batcher batcher(hubspot());
    EXPECT_FALSE(add(batcher, message("truncate", "contacts", "null", 100, 1, "null")));
    auto keyless = add(batcher, R"({"action":"delete","object":"contacts","key":null,"table":"public.t","commit_lsn":"0/64","seq":2,"xid":7,"commit_time":"2026-11-24T10:00:00Z","error":"no id column","record":null})");
    ASSERT_FALSE(keyless);
    EXPECT_NE(keyless.error().find("no id column"), std::string::npos);
    EXPECT_FALSE(add(batcher, R"({"action":"commit","xid":7,"commit_lsn":"0/64","end_lsn":"0/70","commit_time":"2026-11-24T10:00:00Z","count":2})"));
    EXPECT_FALSE(add(batcher, message("upsert", "contacts", "k", 100, 3, R"({"id":"k","properties":{}})")));  // no idProperty
    const std::string unkeyed = R"({"action":"upsert","object":"contacts","key":null,"table":"public.t","commit_lsn":"0/64","seq":4,"xid":7,"commit_time":"2026-11-24T10:00:00Z","error":"id is NULL","record":{"idProperty":"email","id":null,"properties":{}}})";
    EXPECT_FALSE(add(batcher, unkeyed));
    EXPECT_TRUE(batcher.empty());
    EXPECT_FALSE(batcher.finished(12345));

    // A webhook receiver gets such events verbatim, error included.
    Batcher webhook(BatcherOptions{Format::webhook, 100, 2, 0ms, false});
    EXPECT_TRUE(add(webhook, unkeyed));
    auto batch = webhook.take_ready(t0);
    ASSERT_TRUE(batch);
    EXPECT_EQ(batch->entries[0].message(), unkeyed);
}

TEST(Batcher, EveryEventIsCarriedExactlyOnce) {
    Batcher batcher(hubspot(3, 4));
    std::vector<EventId> added;
    std::uint64_t lsn = 100;
    for (int i = 0; i < 300; ++i) {
        if (i % 7 == 0) lsn += 10;
        const std::uint64_t seq = static_cast<std::uint64_t>(i % 7) + 1;
        const std::string key = "k" + std::to_string(i % 6);
        const std::string object = (i / 6) % 2 ? "contacts" : "companies";
        const std::string json = i % 11 == 10 ? hubspot_delete(object, key, lsn, seq)
                                              : hubspot_upsert(object, key, lsn, seq, R"({"n":")" + std::to_string(i) + R"("})");
        ASSERT_TRUE(add(batcher, json));
        added.push_back(EventId{Lsn{lsn}, seq});
    }
    batcher.seal_all();
    std::vector<EventId> carried;
    std::size_t coalesced = 0;
    for (const auto& batch : take_all(batcher, t0)) {
        EXPECT_LE(batch.entries.size(), 4u);
        for (const auto& e : batch.entries) coalesced += e.coalesced.size();
        for (const auto& id : batch.event_ids()) carried.push_back(id);
    }
    EXPECT_GT(coalesced, 0u);
    std::sort(added.begin(), added.end());
    std::sort(carried.begin(), carried.end());
    EXPECT_EQ(carried, added);
    EXPECT_TRUE(batcher.empty());
}
