// The plugin message parser: every action, the record span, strictness on malformed input.
#include "core/plugin_message.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>

using namespace crmsync::sender;

namespace {

constexpr std::string_view kUpsert =
    R"({"action":"upsert","object":"contacts","key":"ann@example.com","table":"public.contacts","commit_lsn":"0/16B37A0","seq":1,"xid":761,"commit_time":"2026-11-24T10:00:00.123456Z","record":{"idProperty":"email","id":"ann@example.com","properties":{"firstname":"Ann","note":"a } in \"text\""}}})";

PluginMessage must_parse(std::string_view json) {
    auto parsed = parse_plugin_message(json);
    EXPECT_TRUE(parsed) << parsed.error();
    return parsed ? *parsed : PluginMessage{};
}

std::string must_fail(std::string_view json) {
    auto parsed = parse_plugin_message(json);
    EXPECT_FALSE(parsed) << json;
    return parsed ? std::string() : parsed.error();
}

}  // namespace

TEST(PluginMessage, ParsesUpsertAndSpansRecordWithoutCopy) {
    const PluginMessage m = must_parse(kUpsert);
    EXPECT_EQ(m.action, Action::upsert);
    EXPECT_EQ(m.object, "contacts");
    EXPECT_EQ(m.key, "ann@example.com");
    EXPECT_EQ(m.table, "public.contacts");
    EXPECT_EQ(m.commit_lsn, Lsn{0x16B37A0});
    EXPECT_EQ(m.seq, 1u);
    EXPECT_EQ(m.xid, 761u);
    EXPECT_EQ(m.commit_time, "2026-11-24T10:00:00.123456Z");
    EXPECT_EQ(m.commit_time_us, 1795514400123456);  // date -d 2026-11-24T10:00:00Z +%s = 1795514400
    EXPECT_FALSE(m.error);
    EXPECT_FALSE(m.end_lsn);
    EXPECT_EQ(m.record,
              R"({"idProperty":"email","id":"ann@example.com","properties":{"firstname":"Ann","note":"a } in \"text\""}})");
    EXPECT_EQ(m.record.data(), kUpsert.data() + kUpsert.find(R"({"idProperty")"));
    EXPECT_EQ(m.event_id(), (EventId{Lsn{0x16B37A0}, 1}));
}

TEST(PluginMessage, ParsesCommitMarker) {
    const PluginMessage m = must_parse(
        R"({"action":"commit","xid":761,"commit_lsn":"0/16B37A0","end_lsn":"0/16B37D8","commit_time":"2026-11-24T10:00:00.123456Z","count":1})");
    EXPECT_EQ(m.action, Action::commit);
    EXPECT_EQ(m.commit_lsn, Lsn{0x16B37A0});
    EXPECT_EQ(m.end_lsn, Lsn{0x16B37D8});
    EXPECT_EQ(m.count, 1u);
    EXPECT_EQ(m.xid, 761u);
    EXPECT_EQ(m.seq, 0u);
    EXPECT_TRUE(m.record.empty());
}

TEST(PluginMessage, ParsesDeleteWithNullKeyAndErrorField) {
    const PluginMessage m = must_parse(
        R"({"action":"delete","object":"contacts","key":null,"table":"public.contacts","commit_lsn":"0/1","seq":2,"xid":7,"commit_time":"2026-11-24T10:00:00Z","error":"old tuple lacks id column \"email\"","record":null})");
    EXPECT_EQ(m.action, Action::delete_);
    EXPECT_FALSE(m.key);
    EXPECT_EQ(m.error, R"(old tuple lacks id column "email")");
    EXPECT_TRUE(m.record_is_null());
    EXPECT_EQ(m.commit_time_us, 1795514400000000);
}

TEST(PluginMessage, ParsesUnkeyedUpsertWithError) {
    const PluginMessage m = must_parse(
        R"({"action":"upsert","object":"contacts","key":null,"table":"public.contacts","commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"2026-11-24T10:00:00.000000Z","error":"id column email is NULL","record":{"idProperty":"email","id":null,"properties":{"firstname":"Ann"}}})");
    EXPECT_EQ(m.action, Action::upsert);
    EXPECT_FALSE(m.key);
    EXPECT_EQ(m.error, "id column email is NULL");
    EXPECT_EQ(m.record, R"({"idProperty":"email","id":null,"properties":{"firstname":"Ann"}})");
}

TEST(PluginMessage, ParsesDeleteWithRecord) {
    const PluginMessage m = must_parse(
        R"({"action":"delete","object":"Contact","key":"ann@example.com","table":"public.contacts","commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"2026-11-24T10:00:00Z","record":{"attributes":{"type":"Contact"},"Email":"ann@example.com"}})");
    EXPECT_EQ(m.key, "ann@example.com");
    EXPECT_EQ(m.record, R"({"attributes":{"type":"Contact"},"Email":"ann@example.com"})");
}

TEST(PluginMessage, ParsesTruncate) {
    const PluginMessage m = must_parse(
        R"({"action":"truncate","object":"contacts","key":null,"table":"public.contacts","commit_lsn":"0/1","seq":3,"xid":7,"commit_time":"2026-11-24T10:00:00Z","record":null})");
    EXPECT_EQ(m.action, Action::truncate);
    EXPECT_EQ(m.object, "contacts");
    EXPECT_TRUE(m.record_is_null());
}

TEST(PluginMessage, ParsesLogicalMessageWithAnyJsonRecord) {
    const PluginMessage m = must_parse(
        R"({"action":"message","object":null,"key":null,"table":null,"commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"2026-11-24T10:00:00Z","prefix":"crmsync","transactional":true,"record":["backfill","done"]})");
    EXPECT_EQ(m.action, Action::message);
    EXPECT_FALSE(m.object);
    EXPECT_EQ(m.prefix, "crmsync");
    EXPECT_EQ(m.transactional, true);
    EXPECT_EQ(m.record, R"(["backfill","done"])");

    const PluginMessage scalar = must_parse(
        R"({"action":"message","object":null,"key":null,"table":null,"commit_lsn":"0/1","seq":1,"xid":null,"commit_time":null,"prefix":"crmsync:hubspot","transactional":false,"record":"hello"})");
    EXPECT_EQ(scalar.transactional, false);
    EXPECT_TRUE(scalar.standalone());
    EXPECT_FALSE(m.standalone());
    EXPECT_FALSE(scalar.xid);
    EXPECT_FALSE(scalar.commit_time_us);
    EXPECT_EQ(scalar.record, R"("hello")");
}

TEST(PluginMessage, DecodesEscapedKey) {
    const PluginMessage m = must_parse(
        R"({"action":"upsert","object":"contacts","key":"a\"b\\c\/d\u00e9\ud83d\ude00\n","table":"public.contacts","commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"2026-11-24T10:00:00Z","record":{}})");
    EXPECT_EQ(m.key, "a\"b\\c/d\xC3\xA9\xF0\x9F\x98\x80\n");
}

TEST(PluginMessage, KeepsUtf8KeyAndToleratesWhitespace) {
    const PluginMessage m = must_parse(
        " {\"action\" : \"upsert\", \"object\":\"contacts\",\"key\":\"Zo\xC3\xAB\",\"table\":\"t\",\"commit_lsn\":\"0/1\",\"seq\":1,"
        "\"xid\":7,\"commit_time\":\"2026-11-24T10:00:00Z\",\"record\": {\"a\":1} }\n");
    EXPECT_EQ(m.key, "Zo\xC3\xAB");
    EXPECT_EQ(m.record, R"({"a":1})");
}

TEST(PluginMessage, SkipsUnknownFieldsOfANewerPlugin) {
    const PluginMessage m = must_parse(
        R"({"action":"upsert","object":"o","key":"k","origin":{"name":"x","ids":[1,2]},"table":"t","commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"2026-11-24T10:00:00Z","lag":12.5e3,"record":{}})");
    EXPECT_EQ(m.key, "k");
    EXPECT_EQ(m.record, "{}");
}

TEST(PluginMessage, RejectsMalformedInput) {
    const std::string base =
        R"("object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"2026-11-24T10:00:00Z")";
    struct Case {
        std::string json;
        std::string expect;
    };
    const Case cases[] = {
        {"", "expected '{'"},
        {"[]", "expected '{'"},
        {"{}", "expected a string"},
        {R"({"action":"upsert",)" + base + R"(,"record":{"a":1})", "must be an object"},  // lost its last '}'
        {R"({"action":"upsert",)" + base + R"(,"record":{"a":1)", "does not end with '}'"},
        {R"({"action":"upsert",)" + base + "}", "without \"record\""},
        {R"({)" + base + R"(,"record":{}})", "no \"action\""},
        {R"({"action":"merge",)" + base + R"(,"record":{}})", "unknown action \"merge\""},
        {R"({"action":"upsert","action":"upsert",)" + base + R"(,"record":{}})", "duplicate field \"action\""},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":"1","xid":7,"commit_time":"2026-11-24T10:00:00Z","record":{}})",
         "expected an unsigned integer"},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":-1,"xid":7,"commit_time":"2026-11-24T10:00:00Z","record":{}})",
         "expected an unsigned integer"},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1.5,"xid":7,"commit_time":"2026-11-24T10:00:00Z","record":{}})",
         "not a fraction"},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":0,"xid":7,"commit_time":"2026-11-24T10:00:00Z","record":{}})",
         "1-based"},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":99999999999999999999,"xid":7,"commit_time":"2026-11-24T10:00:00Z","record":{}})",
         "out of range"},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"16B37A0","seq":1,"xid":7,"commit_time":"2026-11-24T10:00:00Z","record":{}})",
         "bad LSN"},
        {R"({"action":"upsert","object":"o","key":null,"table":"t","commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"2026-11-24T10:00:00Z","record":{}})",
         "\"key\" must be a string (or null with an \"error\")"},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"2026-11-24T10:00:00Z","record":null})",
         "must be an object"},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"yesterday","record":{}})",
         "RFC 3339"},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"2026-02-30T10:00:00Z","record":{}})",
         "RFC 3339"},
        {R"({"action":"upsert","object":"o","key":"k\u12","table":"t","commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"2026-11-24T10:00:00Z","record":{}})",
         "bad string"},
        {"{\"action\":\"upsert\",\"object\":\"o\",\"key\":\"k\xFF\",\"table\":\"t\",\"commit_lsn\":\"0/1\",\"seq\":1,\"xid\":7,"
         "\"commit_time\":\"2026-11-24T10:00:00Z\",\"record\":{}}",
         "invalid UTF-8"},
        {"{\"action\":\"upsert\",\"object\":\"o\",\"key\":\"k\x01\",\"table\":\"t\",\"commit_lsn\":\"0/1\",\"seq\":1,\"xid\":7,"
         "\"commit_time\":\"2026-11-24T10:00:00Z\",\"record\":{}}",
         "control character"},
        {R"({"action":"upsert","object":"o","key":"k)", "unterminated string"},
        {R"({"action":"upsert" "object":"o"})", "expected ',' or '}'"},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"2026-11-24T10:00:00Z","record":})",
         "empty record"},
        {R"({"action":"commit","xid":761,"commit_lsn":"0/16B37A0","end_lsn":"0/16B37D8","commit_time":"2026-11-24T10:00:00Z","count":1} x)",
         "trailing bytes"},
        {R"({"action":"commit","xid":761,"commit_lsn":"0/16B37A0","commit_time":"2026-11-24T10:00:00Z","count":1})",
         "without \"end_lsn\""},
        {R"({"action":"commit","xid":761,"commit_lsn":"0/16B37A0","end_lsn":"0/16B37D8","commit_time":"2026-11-24T10:00:00Z","count":1,"record":null})",
         "has no \"record\""},
        {R"({"action":"truncate","object":"o","key":null,"table":"t","commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"2026-11-24T10:00:00Z","record":{}})",
         "must be null"},
        {R"({"action":"message","object":null,"key":null,"table":null,"commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"2026-11-24T10:00:00Z","transactional":true,"record":1})",
         "without \"prefix\""},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"2026-11-24T10:00:00Z","unknown":[1,,2],"record":{}})",
         "bad value"},
    };
    for (const auto& c : cases) {
        const std::string error = must_fail(c.json);
        EXPECT_NE(error.find(c.expect), std::string::npos) << "input: " << c.json << "\nerror: " << error;
        EXPECT_EQ(error.rfind("plugin message", 0), 0u) << error;
    }
}

TEST(PluginMessage, EveryPrefixOfAValidMessageIsAnErrorNotACrash) {
    for (std::size_t n = 0; n < kUpsert.size(); ++n) {
        auto parsed = parse_plugin_message(kUpsert.substr(0, n));
        // A prefix may only parse if it ends in '}' and the cut fell inside the record.
        if (parsed) {
            EXPECT_EQ(kUpsert[n - 1], '}') << n;
        }
    }
}

TEST(CommitTime, ParsesRfc3339) {
    EXPECT_EQ(*parse_commit_time("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(*parse_commit_time("1970-01-01T00:00:01.5Z"), 1'500'000);
    EXPECT_EQ(*parse_commit_time("2000-01-01T00:00:00Z"), 946'684'800'000'000);
    EXPECT_EQ(*parse_commit_time("2000-01-01T01:00:00+01:00"), 946'684'800'000'000);
    EXPECT_EQ(*parse_commit_time("1999-12-31T23:30:00-00:30"), 946'684'800'000'000);
    EXPECT_EQ(*parse_commit_time("2024-02-29T12:00:00.000001Z"), 1'709'208'000'000'001);
    EXPECT_EQ(*parse_commit_time("2024-02-29T12:00:00.123456789Z"), 1'709'208'000'123'456);
    for (std::string_view bad : {"", "2024-02-30T00:00:00Z", "2023-02-29T00:00:00Z", "2024-01-01 00:00:00Z",
                                 "2024-01-01T24:00:00Z", "2024-01-01T00:00:00", "2024-01-01T00:00:00.Z",
                                 "2024-01-01T00:00:00Zjunk", "2024-1-01T00:00:00Z", "2024-01-01T00:00:00+0100"})
        EXPECT_FALSE(parse_commit_time(bad)) << bad;
}

// A backfilled row (crmsync.render(), restamped) comes from a read, not from a transaction:
// its xid and commit_time are null. The fields must still be there.
TEST(PluginMessage, AcceptsNullXidAndCommitTimeInBackfilledRows) {
    const PluginMessage upsert = must_parse(
        R"({"action":"upsert","object":"contacts","key":"ann@example.com","table":"public.contacts","commit_lsn":"0/16B37A0","seq":7,"xid":null,"commit_time":null,"record":{"id":"ann@example.com","properties":{"a":1}}})");
    EXPECT_EQ(upsert.action, Action::upsert);
    EXPECT_EQ(upsert.key, "ann@example.com");
    EXPECT_EQ(upsert.event_id(), (EventId{Lsn{0x16B37A0}, 7}));
    EXPECT_FALSE(upsert.xid);
    EXPECT_FALSE(upsert.commit_time);
    EXPECT_FALSE(upsert.commit_time_us);
    EXPECT_EQ(upsert.record, R"({"id":"ann@example.com","properties":{"a":1}})");

    const PluginMessage unkeyed = must_parse(
        R"({"action":"upsert","object":"contacts","key":null,"table":"public.contacts","commit_lsn":"0/1","seq":1,"xid":null,"commit_time":null,"error":"id column email is NULL","record":{"id":null,"properties":{}}})");
    EXPECT_FALSE(unkeyed.key);
    EXPECT_FALSE(unkeyed.xid);
    EXPECT_EQ(unkeyed.error, "id column email is NULL");

    const PluginMessage del = must_parse(
        R"({"action":"delete","object":"contacts","key":"ann@example.com","table":"public.contacts","commit_lsn":"0/1","seq":2,"xid":null,"commit_time":null,"record":null})");
    EXPECT_EQ(del.action, Action::delete_);
    EXPECT_FALSE(del.xid);
    EXPECT_FALSE(del.commit_time);
    EXPECT_TRUE(del.record_is_null());

    const PluginMessage truncate = must_parse(
        R"({"action":"truncate","object":"contacts","key":null,"table":"public.contacts","commit_lsn":"0/1","seq":3,"xid":null,"commit_time":null,"record":null})");
    EXPECT_EQ(truncate.action, Action::truncate);
    EXPECT_FALSE(truncate.xid);
    EXPECT_FALSE(truncate.commit_time_us);

    // Either may be null on its own.
    const PluginMessage xid_only = must_parse(
        R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"xid":9,"commit_time":null,"record":{}})");
    EXPECT_EQ(xid_only.xid, 9u);
    EXPECT_FALSE(xid_only.commit_time);
    const PluginMessage time_only = must_parse(
        R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"xid":null,"commit_time":"2026-11-24T10:00:00Z","record":{}})");
    EXPECT_FALSE(time_only.xid);
    EXPECT_EQ(time_only.commit_time_us, 1795514400000000);
}

TEST(PluginMessage, RejectsChangesWithoutTheXidOrCommitTimeField) {
    struct Case {
        std::string json;
        std::string expect;
    };
    const Case cases[] = {
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"commit_time":null,"record":{}})",
         "plugin message: upsert without \"xid\""},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"xid":null,"record":{}})",
         "plugin message: upsert without \"commit_time\""},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"record":{}})",
         "plugin message: upsert without \"xid\""},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"commit_time":"2026-11-24T10:00:00Z","record":{}})",
         "plugin message: upsert without \"xid\""},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"xid":7,"record":{}})",
         "plugin message: upsert without \"commit_time\""},
        {R"({"action":"delete","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"commit_time":null,"record":null})",
         "plugin message: delete without \"xid\""},
        {R"({"action":"delete","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"xid":null,"record":null})",
         "plugin message: delete without \"commit_time\""},
        {R"({"action":"truncate","object":"o","key":null,"table":"t","commit_lsn":"0/1","seq":1,"commit_time":null,"record":null})",
         "plugin message: truncate without \"xid\""},
        {R"({"action":"truncate","object":"o","key":null,"table":"t","commit_lsn":"0/1","seq":1,"xid":null,"record":null})",
         "plugin message: truncate without \"commit_time\""},
        // Commit markers have always required both.
        {R"({"action":"commit","commit_lsn":"0/16B37A0","end_lsn":"0/16B37D8","commit_time":null,"count":1})",
         "plugin message: commit without \"xid\""},
        {R"({"action":"commit","xid":null,"commit_lsn":"0/16B37A0","end_lsn":"0/16B37D8","count":1})",
         "plugin message: commit without \"commit_time\""},
        // null is the only non-value accepted.
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"xid":"","commit_time":null,"record":{}})",
         "expected an unsigned integer"},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"xid":null,"commit_time":"","record":{}})",
         "RFC 3339"},
        {R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"xid":nul,"commit_time":null,"record":{}})",
         "expected an unsigned integer"},
    };
    for (const auto& c : cases) {
        const std::string error = must_fail(c.json);
        EXPECT_NE(error.find(c.expect), std::string::npos) << "input: " << c.json << "\nerror: " << error;
    }
}

// Plain ASCII strings are scanned a word at a time: whatever stops the scan (an escape, a
// control byte, non-ASCII) must be found at every position of a key, long or short.
TEST(PluginMessage, FindsWhatStopsAStringScanAtEveryPosition) {
    auto upsert_with_key = [](const std::string& key_json) {
        return R"({"action":"upsert","object":"o","key":")" + key_json +
               R"(","table":"t","commit_lsn":"0/1","seq":1,"xid":7,"commit_time":"2026-11-24T10:00:00Z","record":{}})";
    };
    for (std::size_t before = 0; before < 20; ++before) {
        for (std::size_t after : {0, 1, 7, 8, 9}) {
            const std::string a(before, 'a'), b(after, 'b');
            EXPECT_EQ(must_parse(upsert_with_key(a + "\\\"" + b)).key, a + "\"" + b);
            EXPECT_EQ(must_parse(upsert_with_key(a + "\\u0041" + b)).key, a + "A" + b);
            EXPECT_EQ(must_parse(upsert_with_key(a + "\xC3\xA9" + b)).key, a + "\xC3\xA9" + b);
            EXPECT_NE(must_fail(upsert_with_key(a + "\x01" + b)).find("control character"), std::string::npos);
            EXPECT_NE(must_fail(upsert_with_key(a + "\xFF" + b)).find("invalid UTF-8"), std::string::npos);
            EXPECT_NE(must_fail(upsert_with_key(a + "\xE2\x82" + b)).find("invalid UTF-8"), std::string::npos);
        }
    }
}

// Messages of one transaction share a commit_time, which is parsed once; a different or bad
// one after it is still read on its own.
TEST(PluginMessage, EachCommitTimeIsReadForItsOwnMessage) {
    auto upsert_at = [](const std::string& time) {
        return R"({"action":"upsert","object":"o","key":"k","table":"t","commit_lsn":"0/1","seq":1,"xid":7,"commit_time":")" +
               time + R"(","record":{}})";
    };
    EXPECT_EQ(must_parse(upsert_at("2026-11-24T10:00:00.000001Z")).commit_time_us, 1795514400000001);
    EXPECT_EQ(must_parse(upsert_at("2026-11-24T10:00:00.000001Z")).commit_time_us, 1795514400000001);
    EXPECT_EQ(must_parse(upsert_at("2026-11-24T10:00:01Z")).commit_time_us, 1795514401000000);
    EXPECT_NE(must_fail(upsert_at("2026-11-24T10:00:61Z")).find("RFC 3339"), std::string::npos);
    EXPECT_EQ(must_parse(upsert_at("2026-11-24T10:00:01Z")).commit_time_us, 1795514401000000);
    // An empty commit_time is no timestamp, also as the first message a thread parses.
    EXPECT_NE(must_fail(upsert_at("")).find("RFC 3339"), std::string::npos);
    std::string first_in_thread;
    std::thread([&] { first_in_thread = must_fail(upsert_at("")); }).join();
    EXPECT_NE(first_in_thread.find("RFC 3339"), std::string::npos) << first_in_thread;
}
