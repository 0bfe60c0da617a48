// UnseenChanges: a chunk row is dropped when its key was changed in the stream by a
// transaction the chunk's snapshot did not see.
#include "core/unseen_changes.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace crmsync::sender;

namespace {

PgSnapshot snapshot(std::string_view text) {
    auto parsed = PgSnapshot::parse(text);
    EXPECT_TRUE(parsed) << text << ": " << parsed.error();
    return parsed ? *parsed : PgSnapshot{};
}

}  // namespace

TEST(UnseenChanges, NothingRecordedMeansNothingChanged) {
    UnseenChanges changes;
    EXPECT_FALSE(changes.changed_after("ann@example.com", snapshot("100:105:101")));
    EXPECT_EQ(changes.recorded_keys(), 0u);
}

TEST(UnseenChanges, AChangeTheSnapshotSeesIsAlreadyInTheRow) {
    const PgSnapshot s = snapshot("100:105:101,103");
    UnseenChanges changes;
    changes.record("before-xmin", 90);
    changes.record("between", 102);
    EXPECT_FALSE(changes.changed_after("before-xmin", s));
    EXPECT_FALSE(changes.changed_after("between", s));
    EXPECT_EQ(changes.recorded_keys(), 2u);
}

TEST(UnseenChanges, AChangeByARunningOrLaterTransactionIsNewerThanTheRow) {
    const PgSnapshot s = snapshot("100:105:101,103");
    UnseenChanges changes;
    changes.record("running", 103);
    changes.record("at-xmax", 105);
    changes.record("later", 200);
    EXPECT_TRUE(changes.changed_after("running", s));
    EXPECT_TRUE(changes.changed_after("at-xmax", s));
    EXPECT_TRUE(changes.changed_after("later", s));
    EXPECT_FALSE(changes.changed_after("another", s));
    EXPECT_FALSE(changes.changed_after("", s));
}

TEST(UnseenChanges, OneUnseenChangeAmongSeenOnesIsEnough) {
    const PgSnapshot s = snapshot("100:105:101");
    UnseenChanges changes;
    changes.record("k", 90);
    changes.record("k", 102);
    EXPECT_FALSE(changes.changed_after("k", s));
    changes.record("k", 101);
    changes.record("k", 90);  // a repeat changes nothing
    EXPECT_TRUE(changes.changed_after("k", s));
    EXPECT_EQ(changes.recorded_keys(), 1u);
}

TEST(UnseenChanges, KeysAreComparedExactly) {
    const PgSnapshot s = snapshot("100:105:");
    UnseenChanges changes;
    changes.record("Ann@example.com", 200);
    EXPECT_TRUE(changes.changed_after("Ann@example.com", s));
    EXPECT_FALSE(changes.changed_after("ann@example.com", s));
    EXPECT_FALSE(changes.changed_after("Ann@example.com ", s));
    const std::string with_nul("a\0b", 3);
    changes.record(with_nul, 200);
    EXPECT_TRUE(changes.changed_after(with_nul, s));
    EXPECT_FALSE(changes.changed_after("a", s));
}

TEST(UnseenChanges, AnUnseenTruncateMarksEveryKey) {
    const PgSnapshot s = snapshot("100:105:101");
    UnseenChanges changes;
    changes.record_truncate(90);  // seen: the rows read already reflect it
    EXPECT_FALSE(changes.changed_after("anything", s));
    changes.record_truncate(101);
    EXPECT_TRUE(changes.changed_after("anything", s));
    EXPECT_TRUE(changes.changed_after("", s));
    EXPECT_EQ(changes.recorded_keys(), 0u);  // a truncate is not a key
    // A later snapshot that sees the truncate no longer drops rows for it.
    EXPECT_FALSE(changes.changed_after("anything", snapshot("100:110:")));
}

TEST(UnseenChanges, ForgetSeenByAllDropsOnlyXidsBeforeXmin) {
    UnseenChanges changes;
    changes.record("old", 90);
    changes.record("mixed", 95);
    changes.record("mixed", 120);
    changes.record("new", 110);
    ASSERT_EQ(changes.recorded_keys(), 3u);

    // A snapshot older than all of them sees none: every key counts as changed.
    const PgSnapshot older = snapshot("80:85:");
    ASSERT_TRUE(changes.changed_after("old", older));
    ASSERT_TRUE(changes.changed_after("mixed", older));

    changes.forget_seen_by_all(snapshot("100:140:110,120"));
    EXPECT_EQ(changes.recorded_keys(), 2u);  // "old" had only xid 90

    // Asked with that older snapshot again: what was forgotten no longer counts, what was
    // kept still does.
    EXPECT_FALSE(changes.changed_after("old", older));
    EXPECT_TRUE(changes.changed_after("mixed", older));  // 95 forgotten, 120 kept
    EXPECT_TRUE(changes.changed_after("new", older));
    // A later snapshot that sees 110 but not 120.
    const PgSnapshot later = snapshot("115:150:120");
    EXPECT_FALSE(changes.changed_after("new", later));
    EXPECT_TRUE(changes.changed_after("mixed", later));

    changes.forget_seen_by_all(snapshot("125:150:"));
    EXPECT_EQ(changes.recorded_keys(), 0u);
    EXPECT_FALSE(changes.changed_after("mixed", older));
    EXPECT_FALSE(changes.changed_after("new", older));
}

TEST(UnseenChanges, ForgetSeenByAllDropsTruncatesBeforeXmin) {
    UnseenChanges changes;
    changes.record_truncate(99);
    changes.record_truncate(130);
    const PgSnapshot older = snapshot("80:85:");
    const PgSnapshot misses_only_99 = snapshot("90:140:99");  // sees 130
    ASSERT_TRUE(changes.changed_after("any", older));
    ASSERT_TRUE(changes.changed_after("any", misses_only_99));

    changes.forget_seen_by_all(snapshot("100:140:130"));
    EXPECT_FALSE(changes.changed_after("any", misses_only_99));  // 99 forgotten
    EXPECT_TRUE(changes.changed_after("any", older));            // 130 kept

    changes.forget_seen_by_all(snapshot("131:140:"));
    EXPECT_FALSE(changes.changed_after("any", older));
    EXPECT_EQ(changes.recorded_keys(), 0u);
}

TEST(UnseenChanges, ForgetSeenByAllKeepsXidAtXmin) {
    UnseenChanges changes;
    changes.record("k", 100);
    changes.forget_seen_by_all(snapshot("100:105:100"));
    EXPECT_EQ(changes.recorded_keys(), 1u);
    EXPECT_TRUE(changes.changed_after("k", snapshot("100:105:100")));
    changes.forget_seen_by_all(snapshot("101:105:"));
    EXPECT_EQ(changes.recorded_keys(), 0u);
}

TEST(UnseenChanges, ForgetSeenByAllAcrossTheXidWraparound) {
    UnseenChanges changes;
    changes.record("before-wrap", 4294967290u);
    changes.record("after-wrap", 5);
    // xmin is epoch 1 xid 3: 4294967290 precedes it, 5 does not (although 5 < 4294967290).
    changes.forget_seen_by_all(snapshot("4294967299:4294967310:"));
    EXPECT_EQ(changes.recorded_keys(), 1u);
    const PgSnapshot before = snapshot("4294967280:4294967285:");
    EXPECT_FALSE(changes.changed_after("before-wrap", before));
    EXPECT_TRUE(changes.changed_after("after-wrap", before));
}

TEST(UnseenChanges, ClearForgetsKeysAndTruncates) {
    const PgSnapshot s = snapshot("100:105:");
    UnseenChanges changes;
    changes.record("k", 200);
    changes.record_truncate(200);
    ASSERT_TRUE(changes.changed_after("other", s));
    changes.clear();
    EXPECT_EQ(changes.recorded_keys(), 0u);
    EXPECT_FALSE(changes.changed_after("k", s));
    EXPECT_FALSE(changes.changed_after("other", s));
    changes.record("k", 200);  // usable again
    EXPECT_TRUE(changes.changed_after("k", s));
}
