// restamp_rendered: a row rendered by crmsync.render() gets the backfill's event id, and
// nothing else about the message changes.
#include "core/backfill_record.hpp"
#include "core/plugin_message.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>

using namespace crmsync::sender;

namespace {

// Exactly as crmsync.render() writes a row: no transaction, so "0/0", seq 0 and nulls.
constexpr std::string_view kRendered =
    R"({"action":"upsert","object":"contacts","key":"ann@example.com","table":"public.contacts","commit_lsn":"0/0","seq":0,"xid":null,"commit_time":null,"record":{"id":"ann@example.com","properties":{"a":1}}})";

std::string must_restamp(std::string_view rendered, EventId id) {
    auto stamped = restamp_rendered(rendered, id);
    EXPECT_TRUE(stamped) << stamped.error();
    return stamped ? *stamped : std::string();
}

std::string must_fail(std::string_view rendered) {
    auto stamped = restamp_rendered(rendered, EventId{Lsn{0x16B37A0}, 7});
    EXPECT_FALSE(stamped) << rendered << "\nbecame " << *stamped;
    return stamped ? std::string() : stamped.error();
}

}  // namespace

TEST(BackfillRecord, StampsTheEventIdAndKeepsEverythingElse) {
    const EventId id{Lsn{0x16B37A0}, 7};
    const std::string stamped = must_restamp(kRendered, id);
    EXPECT_EQ(stamped,
              R"({"action":"upsert","object":"contacts","key":"ann@example.com","table":"public.contacts","commit_lsn":"0/16B37A0","seq":7,"xid":null,"commit_time":null,"record":{"id":"ann@example.com","properties":{"a":1}}})");

    auto parsed = parse_plugin_message(stamped);
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(parsed->event_id(), id);
    EXPECT_EQ(parsed->action, Action::upsert);
    EXPECT_EQ(parsed->object, "contacts");
    EXPECT_EQ(parsed->key, "ann@example.com");
    EXPECT_EQ(parsed->table, "public.contacts");
    EXPECT_EQ(parsed->xid, std::nullopt);
    EXPECT_EQ(parsed->commit_time, std::nullopt);
    EXPECT_EQ(parsed->commit_time_us, std::nullopt);
    EXPECT_EQ(parsed->record, R"({"id":"ann@example.com","properties":{"a":1}})");
}

TEST(BackfillRecord, FormatsLargeLsnsAndSeqs) {
    // The initial sync stamps (consistent point - 1, row number); a re-sync (watermark commit, 2, 3, ...).
    const EventId id{Lsn{0x16B374D847}, 123456789012};
    const std::string stamped = must_restamp(kRendered, id);
    EXPECT_NE(stamped.find(R"(,"commit_lsn":"16/B374D847","seq":123456789012,"xid":null,)"), std::string::npos)
        << stamped;
    auto parsed = parse_plugin_message(stamped);
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(parsed->event_id(), id);

    const EventId max{Lsn{0xFFFFFFFFFFFFFFFF}, UINT64_MAX};
    auto at_max = parse_plugin_message(must_restamp(kRendered, max));
    ASSERT_TRUE(at_max) << at_max.error();
    EXPECT_EQ(at_max->event_id(), max);
}

TEST(BackfillRecord, StampsEveryFormatsRecordUntouched) {
    // A hubspot and a salesforce record, and an unkeyed upsert render() sends with an error.
    const std::string_view rendered[] = {
        R"({"action":"upsert","object":"contacts","key":"ann@example.com","table":"public.contacts","commit_lsn":"0/0","seq":0,"xid":null,"commit_time":null,"record":{"idProperty":"email","id":"ann@example.com","properties":{"firstname":"Ann","note":"a } in \"text\""}}})",
        R"({"action":"upsert","object":"Contact","key":"ann@example.com","table":"public.contacts","commit_lsn":"0/0","seq":0,"xid":null,"commit_time":null,"record":{"attributes":{"type":"Contact"},"Email":"ann@example.com"}})",
        R"({"action":"upsert","object":"contacts","key":null,"table":"public.contacts","commit_lsn":"0/0","seq":0,"xid":null,"commit_time":null,"error":"id column email is NULL","record":{"idProperty":"email","id":null,"properties":{"firstname":"Ann"}}})",
    };
    for (std::string_view message : rendered) {
        const std::string stamped = must_restamp(message, EventId{Lsn{0x2000}, 3});
        const std::size_t record_at = message.find(R"(,"record":)");
        ASSERT_NE(record_at, std::string_view::npos);
        // Only the stamp differs: "0/0" -> "0/2000" and 0 -> 3.
        EXPECT_EQ(stamped.size(), message.size() + 3);
        EXPECT_TRUE(stamped.ends_with(message.substr(message.find(R"(,"xid":null)")))) << stamped;
        EXPECT_TRUE(stamped.starts_with(message.substr(0, message.find(R"(,"commit_lsn")")))) << stamped;
        auto parsed = parse_plugin_message(stamped);
        ASSERT_TRUE(parsed) << parsed.error() << "\n" << stamped;
        EXPECT_EQ(parsed->event_id(), (EventId{Lsn{0x2000}, 3}));
        EXPECT_EQ(parsed->record, message.substr(record_at + 10, message.size() - record_at - 11));
    }
}

TEST(BackfillRecord, TheHeaderTextInsideAKeyIsNotTouched) {
    // The key's value holds the unstamped header's text, JSON-escaped inside the string.
    const std::string rendered =
        R"({"action":"upsert","object":"contacts","key":"x\",\"commit_lsn\":\"0/0\",\"seq\":0,\"y","table":"public.contacts","commit_lsn":"0/0","seq":0,"xid":null,"commit_time":null,"record":{"id":"x\",\"commit_lsn\":\"0/0\",\"seq\":0,\"y","properties":{"a":1}}})";
    const std::string stamped = must_restamp(rendered, EventId{Lsn{0x16B37A0}, 7});
    EXPECT_EQ(stamped,
              R"({"action":"upsert","object":"contacts","key":"x\",\"commit_lsn\":\"0/0\",\"seq\":0,\"y","table":"public.contacts","commit_lsn":"0/16B37A0","seq":7,"xid":null,"commit_time":null,"record":{"id":"x\",\"commit_lsn\":\"0/0\",\"seq\":0,\"y","properties":{"a":1}}})");
    auto parsed = parse_plugin_message(stamped);
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(parsed->key, R"(x","commit_lsn":"0/0","seq":0,"y)");
    EXPECT_EQ(parsed->event_id(), (EventId{Lsn{0x16B37A0}, 7}));
}

TEST(BackfillRecord, TheHeaderTextInsideTheRecordIsNotTouched) {
    // Properties named commit_lsn and seq render unescaped, as JSON keys of the record.
    const std::string rendered =
        R"({"action":"upsert","object":"contacts","key":"k","table":"public.contacts","commit_lsn":"0/0","seq":0,"xid":null,"commit_time":null,"record":{"id":"k","properties":{"a":1,"commit_lsn":"0/0","seq":0,"z":2}}})";
    const std::string stamped = must_restamp(rendered, EventId{Lsn{0x10}, 2});
    auto parsed = parse_plugin_message(stamped);
    ASSERT_TRUE(parsed) << parsed.error();
    EXPECT_EQ(parsed->event_id(), (EventId{Lsn{0x10}, 2}));
    EXPECT_EQ(parsed->record, R"({"id":"k","properties":{"a":1,"commit_lsn":"0/0","seq":0,"z":2}})");

    // Without the header, the same text in the record is not taken for it.
    const std::string already_stamped =
        R"({"action":"upsert","object":"contacts","key":"k","table":"public.contacts","commit_lsn":"0/10","seq":2,"xid":null,"commit_time":null,"record":{"id":"k","properties":{"a":1,"commit_lsn":"0/0","seq":0,"z":2}}})";
    EXPECT_NE(must_fail(already_stamped).find("crmsync.render()"), std::string::npos);
}

TEST(BackfillRecord, AMessageWithoutTheUnstampedHeaderIsAnError) {
    const std::string_view bad[] = {
        "",
        "null",
        "{}",
        // A streamed message, already stamped.
        R"({"action":"upsert","object":"contacts","key":"ann@example.com","table":"public.contacts","commit_lsn":"0/16B37A0","seq":1,"xid":761,"commit_time":"2026-11-24T10:00:00.123456Z","record":{"id":"ann@example.com"}})",
        // Header present but no record field to bound it.
        R"({"action":"upsert","object":"contacts","key":"ann@example.com","table":"public.contacts","commit_lsn":"0/0","seq":0,"xid":null,"commit_time":null})",
        // A different header layout (spaces) than render() writes.
        R"({"action":"upsert","object":"contacts","key":"k","table":"t", "commit_lsn": "0/0", "seq": 0, "xid":null,"commit_time":null,"record":{}})",
    };
    for (std::string_view message : bad) {
        const std::string error = must_fail(message);
        EXPECT_NE(error.find("crmsync.render()"), std::string::npos) << error;
        EXPECT_NE(error.find("unstamped header"), std::string::npos) << error;
    }
}

TEST(BackfillRecord, ErrorQuotesOnlyTheStartOfTheMessage) {
    const std::string huge = R"({"action":"upsert","record":{"x":")" + std::string(10'000, 'y') + "\"}}";
    const std::string error = must_fail(huge);
    EXPECT_NE(error.find(R"({"action":"upsert")"), std::string::npos) << error;
    EXPECT_LT(error.size(), 400u) << error;
}
