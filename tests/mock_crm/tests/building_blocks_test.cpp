// The pieces under the HTTP layer: LSNs, commit times, the id set, the histogram, the store.
#include <gtest/gtest.h>

#include "commit_time.h"
#include "crm_state.h"
#include "event_id.h"
#include "json.h"
#include "latency_histogram.h"

namespace crmsync::mock_crm {
namespace {

TEST(ParseLsn, ReadsPostgresTextForm) {
    EXPECT_EQ(parse_lsn("0/16B37A0"), 0x16B37A0u);
    EXPECT_EQ(parse_lsn("1/0"), uint64_t{1} << 32);
    EXPECT_EQ(parse_lsn("FFFFFFFF/FFFFFFFF"), UINT64_MAX);
    EXPECT_EQ(parse_lsn("0/a"), 10u);
    for (const char* bad : {"", "0", "/1", "1/", "0/G", "123456789/0", "0/1/2", "-1/0"})
        EXPECT_FALSE(parse_lsn(bad)) << bad;
    EXPECT_LT((EventPosition{*parse_lsn("0/FFFFFFFF"), 9}), (EventPosition{*parse_lsn("1/0"), 1}));
    EXPECT_EQ(event_id_text("0/16B37A0", 3), "0/16B37A0/3");
}

TEST(ParseCommitTime, ReadsIso8601Utc) {
    EXPECT_EQ(parse_commit_time_us("1970-01-01T00:00:00Z"), 0);
    EXPECT_EQ(parse_commit_time_us("1970-01-01T00:00:01.5Z"), 1500000);
    EXPECT_EQ(parse_commit_time_us("2026-11-24T10:00:00.123456Z"), int64_t{1795514400} * 1000000 + 123456);
    EXPECT_EQ(parse_commit_time_us("2026-11-24T10:00:00.123456+00:00"),
              parse_commit_time_us("2026-11-24T10:00:00.123456Z"));
    for (const char* bad : {"", "2026-11-24", "2026-11-24T10:00:00", "2026-11-24T10:00:00+02:00",
                            "2026-02-30T00:00:00Z", "2026-11-24T25:00:00Z", "2026-11-24T10:00:00.Z"})
        EXPECT_FALSE(parse_commit_time_us(bad)) << bad;
}

TEST(EventIdSet, RemembersExactIdsAcrossGrowth) {
    EventIdSet set;
    for (uint64_t i = 0; i < 5000; ++i) EXPECT_TRUE(set.insert({0x1000000 + i * 40, 1 + i % 3}));
    EXPECT_EQ(set.size(), 5000u);
    for (uint64_t i = 0; i < 5000; ++i) EXPECT_FALSE(set.insert({0x1000000 + i * 40, 1 + i % 3}));
    EXPECT_FALSE(set.contains({0x1000000, 2}));
    EXPECT_TRUE(set.contains({0x1000000, 1}));
    set.clear();
    EXPECT_FALSE(set.contains({0x1000000, 1}));
}

TEST(LatencyHistogram, QuantilesWithinBucketResolution) {
    LatencyHistogram h;
    for (int64_t ms = 1; ms <= 1000; ++ms) h.add(ms * 1000);
    EXPECT_EQ(h.count(), 1000u);
    EXPECT_EQ(h.max_us(), 1000000);
    EXPECT_NEAR(double(h.quantile_us(0.50)), 500000.0, 500000.0 * 0.07);
    EXPECT_NEAR(double(h.quantile_us(0.99)), 990000.0, 990000.0 * 0.07);
    EXPECT_LE(h.quantile_us(1.0), h.max_us());
    h.add(-5);  // clock skew counts as zero
    EXPECT_EQ(h.quantile_us(0.0001), 0);
    h.add(5000, 1000);  // weighted: one batch of 1000 records
    EXPECT_EQ(h.count(), 2001u);
    EXPECT_NEAR(double(h.quantile_us(0.5)), 5000.0, 5000.0 * 0.07);
    h.clear();
    EXPECT_EQ(h.count(), 0u);
    EXPECT_EQ(h.quantile_us(0.5), 0);
}

TEST(CrmState, MergesKeepsIndexAndSortsOutput) {
    CrmState state;
    auto first = state.upsert("contacts", "k", {{"b", "1"}, {"a", "\"x\""}});
    EXPECT_TRUE(first.created);
    auto second = state.upsert("contacts", "k", {{"b", "2"}, {"c", "null"}});
    EXPECT_FALSE(second.created);
    EXPECT_EQ(second.index, first.index);
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    state.write_state(w, std::nullopt, std::nullopt);
    EXPECT_EQ(std::string(buf.GetString()), R"({"contacts":{"k":{"a":"x","b":2,"c":null}}})");
    EXPECT_EQ(state.live_records(), 1u);
    ASSERT_TRUE(state.find_by_index("contacts", first.index));
    EXPECT_EQ(state.find_by_index("contacts", first.index)->key, "k");
    EXPECT_TRUE(state.erase("contacts", "k"));
    EXPECT_FALSE(state.find_by_index("contacts", first.index));
    EXPECT_FALSE(state.find("contacts", "k"));
    EXPECT_FALSE(state.erase("contacts", "k"));
    EXPECT_EQ(state.live_records(), 0u);
    EXPECT_NE(state.upsert("contacts", "k", {}).index, first.index);
}

TEST(ParseJson, KeepsNumbersExactAndRejectsBadInput) {
    auto parsed = parse_json(R"({"n":123456789012345678901234567890.000001,"i":7})");
    ASSERT_TRUE(parsed.error.empty()) << parsed.error;
    EXPECT_TRUE(is_number(parsed.doc["n"]));
    EXPECT_EQ(to_json_text(parsed.doc), R"({"n":123456789012345678901234567890.000001,"i":7})");
    EXPECT_EQ(as_uint64(parsed.doc["i"]), 7u);
    EXPECT_NE(parse_json("{\"a\":1} x").error, "");
    EXPECT_NE(parse_json("\"\xC3\x28\"").error, "");  // invalid UTF-8
    EXPECT_NE(parse_json("").error.find("line 1"), std::string::npos);
}

// Bodies that are NUL-free UTF-8 are parsed in place in a copy; the rest by the validating
// parser. Both must agree on what is JSON.
TEST(ParseJson, InPlaceAndValidatingPathsAgree) {
    // Escapes are decoded in place; the bytes live in the result, wherever it is moved.
    JsonParseResult moved;
    {
        JsonParseResult parsed = parse_json(R"({"s":"a\"b\\c\u00e9\n","long":"0123456789abcdef\t"})");
        ASSERT_TRUE(parsed.error.empty()) << parsed.error;
        moved = std::move(parsed);
    }
    EXPECT_EQ(string_of(moved.doc["s"]), "a\"b\\c\xC3\xA9\n");
    EXPECT_EQ(to_json_text(moved.doc), "{\"s\":\"a\\\"b\\\\c\xC3\xA9\\n\",\"long\":\"0123456789abcdef\\t\"}");
    // Valid multi-byte sequences, at every offset around the 8-byte ASCII skip.
    for (size_t pad = 0; pad < 10; ++pad) {
        std::string body = "[\"" + std::string(pad, 'x') + "\xC3\xA9\xE2\x82\xAC\xF0\x9F\x98\x80" + "\"]";
        EXPECT_EQ(parse_json(body).error, "") << pad;
    }
    // Invalid ones, each at every offset: a lone continuation byte, an overlong, a surrogate,
    // above U+10FFFF, a sequence cut by the closing quote.
    for (std::string bad : {"\x80", "\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80", "\xE2\x82"}) {
        for (size_t pad = 0; pad < 10; ++pad) {
            std::string body = "[\"" + std::string(pad, 'x') + bad + "\"]";
            EXPECT_NE(parse_json(body).error.find("Invalid encoding"), std::string::npos) << pad;
        }
    }
    // A NUL byte is never the end of the body: what follows it is not silently dropped.
    EXPECT_EQ(parse_json(std::string_view("{\"a\":1}\0{", 9)).error,
              "invalid JSON at line 1, column 8: a NUL byte (JSON text cannot contain one)");
    EXPECT_NE(parse_json(std::string_view("[\"a\0b\"]", 7)).error, "");
    // A UTF-8 byte-order mark is accepted, as before.
    EXPECT_EQ(parse_json("\xEF\xBB\xBF{\"a\":1}").error, "");
}

}  // namespace
}  // namespace crmsync::mock_crm

namespace crmsync::mock_crm {
namespace {

// Many keys, deletes in between, tombstones: the key index must keep finding every survivor
// (exercises growth and backward-shift deletion of the open-addressing table).
TEST(CrmState, KeyIndexSurvivesChurn) {
    CrmState state;
    constexpr int kKeys = 20000;
    for (int i = 0; i < kKeys; ++i) state.upsert("o", "key" + std::to_string(i), {{"v", "1"}});
    for (int i = 0; i < kKeys; i += 3) EXPECT_TRUE(state.erase("o", "key" + std::to_string(i)));
    for (int i = 1; i < kKeys; i += 3) state.erase("o", "key" + std::to_string(i), /*keep_position=*/true);
    for (int i = 0; i < kKeys; ++i) {
        auto r = state.find("o", "key" + std::to_string(i));
        EXPECT_EQ(bool(r), i % 3 == 2) << i;
        if (r) {
            EXPECT_EQ(r->key, "key" + std::to_string(i));
        }
    }
    EXPECT_EQ(state.live_records(), size_t{kKeys / 3});
    // A tombstoned key keeps its position and comes back as a new record.
    state.raise_high_water("o", "key1", {5, 1});
    auto back = state.upsert("o", "key1", {});
    EXPECT_TRUE(back.created);
    EXPECT_EQ(state.high_water("o", "key1"), (EventPosition{5, 1}));
    EXPECT_EQ(state.truncate("o", {9, 1}), size_t{kKeys / 3 + 1});
    EXPECT_EQ(state.live_records(), 0u);
    EXPECT_EQ(state.high_water("o", "key2"), (EventPosition{9, 1}));
}

}  // namespace
}  // namespace crmsync::mock_crm
