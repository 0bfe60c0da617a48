// FlushTracker: the confirmed LSN never passes an unsettled message (docs/operations.md, delivery rule 2).
#include "core/flush_tracker.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

using namespace crmsync::sender;

namespace {

EventId id(std::uint64_t commit, std::uint64_t seq) { return EventId{Lsn{commit}, seq}; }

// Registers a transaction of `messages` messages at commit_lsn `commit`, end_lsn commit + 8.
void transaction(FlushTracker& tracker, std::uint64_t commit, std::uint64_t messages) {
    for (std::uint64_t seq = 1; seq <= messages; ++seq) ASSERT_TRUE(tracker.on_message(id(commit, seq)));
    ASSERT_TRUE(tracker.on_commit(Lsn{commit}, Lsn{commit + 8}, messages));
}

}  // namespace

TEST(FlushTracker, StartsAtTheStreamingStartPosition) {
    FlushTracker tracker(Lsn{500});
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{500});
    EXPECT_TRUE(tracker.idle());
}

TEST(FlushTracker, AdvancesOnlyWhenEveryMessageOfTheTransactionIsSettled) {
    FlushTracker tracker;
    transaction(tracker, 100, 3);
    EXPECT_EQ(tracker.unsettled_messages(), 3u);
    ASSERT_TRUE(tracker.settle(id(100, 3)));
    ASSERT_TRUE(tracker.settle(id(100, 1)));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{0});
    ASSERT_TRUE(tracker.settle(id(100, 2)));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{108});
    EXPECT_TRUE(tracker.idle());
}

TEST(FlushTracker, SettledBeforeTheCommitMarkerWaitsForIt) {
    FlushTracker tracker;
    ASSERT_TRUE(tracker.on_message(id(100, 1)));
    ASSERT_TRUE(tracker.settle(id(100, 1)));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{0});  // more messages of 100 may still come
    ASSERT_TRUE(tracker.on_message(id(100, 2)));
    ASSERT_TRUE(tracker.on_commit(Lsn{100}, Lsn{108}, 2));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{0});
    ASSERT_TRUE(tracker.settle(id(100, 2)));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{108});
}

TEST(FlushTracker, LaterTransactionSettledFirstDoesNotMoveFlush) {
    FlushTracker tracker;
    transaction(tracker, 100, 1);
    transaction(tracker, 200, 2);
    transaction(tracker, 300, 1);
    ASSERT_TRUE(tracker.settle(id(300, 1)));
    ASSERT_TRUE(tracker.settle(id(200, 2)));
    ASSERT_TRUE(tracker.settle(id(200, 1)));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{0});
    // The oldest settles: flush jumps over everything settled behind it.
    ASSERT_TRUE(tracker.settle(id(100, 1)));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{308});
    EXPECT_EQ(tracker.tracked_transactions(), 0u);
}

TEST(FlushTracker, DeadLetteredMessagesSettleLikeAcceptedOnes) {
    // The tracker does not care how a message settled: dead-lettered (rule 7) or accepted.
    FlushTracker tracker;
    transaction(tracker, 100, 2);
    ASSERT_TRUE(tracker.settle(id(100, 1)));  // accepted
    ASSERT_TRUE(tracker.settle(id(100, 2)));  // written to crmsync.dead_letters
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{108});
}

TEST(FlushTracker, StopsAtTheFirstUnsettledMessage) {
    FlushTracker tracker;
    transaction(tracker, 100, 1);
    transaction(tracker, 200, 2);
    transaction(tracker, 300, 1);
    ASSERT_TRUE(tracker.settle(id(100, 1)));
    ASSERT_TRUE(tracker.settle(id(200, 1)));
    ASSERT_TRUE(tracker.settle(id(300, 1)));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{108});  // 200#2 is outstanding
}

TEST(FlushTracker, EmptyTransactionsAdvanceWhenNothingPrecedesThem) {
    FlushTracker tracker;
    ASSERT_TRUE(tracker.on_commit(Lsn{100}, Lsn{108}, 0));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{108});
    transaction(tracker, 200, 1);
    ASSERT_TRUE(tracker.on_commit(Lsn{300}, Lsn{308}));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{108});
    ASSERT_TRUE(tracker.settle(id(200, 1)));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{308});
}

TEST(FlushTracker, KeepaliveAdvancesOnlyWhenNothingIsPending) {
    FlushTracker tracker(Lsn{50});
    tracker.on_keepalive(Lsn{90});
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{90});

    ASSERT_TRUE(tracker.on_message(id(100, 1)));  // open transaction, no commit marker yet
    tracker.on_keepalive(Lsn{150});
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{90});

    ASSERT_TRUE(tracker.on_commit(Lsn{100}, Lsn{108}, 1));  // closed but unsettled
    tracker.on_keepalive(Lsn{150});
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{90});

    ASSERT_TRUE(tracker.settle(id(100, 1)));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{108});
    tracker.on_keepalive(Lsn{150});
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{150});

    tracker.on_keepalive(Lsn{120});  // never backwards
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{150});
}

TEST(FlushTracker, RejectsProtocolViolationsWithoutChangingState) {
    FlushTracker tracker;
    EXPECT_FALSE(tracker.on_message(id(100, 2)));  // a transaction starts at seq 1
    ASSERT_TRUE(tracker.on_message(id(100, 1)));
    EXPECT_FALSE(tracker.on_message(id(100, 3)));  // gap
    EXPECT_FALSE(tracker.on_message(id(100, 1)));  // repeat
    EXPECT_FALSE(tracker.on_message(id(200, 1)));  // previous transaction has no commit marker
    EXPECT_FALSE(tracker.on_commit(Lsn{200}, Lsn{208}));
    auto lost = tracker.on_commit(Lsn{100}, Lsn{108}, 2);  // the marker counts a message we never saw
    ASSERT_FALSE(lost);
    EXPECT_NE(lost.error().find("lost"), std::string::npos);
    EXPECT_FALSE(tracker.on_commit(Lsn{100}, Lsn{99}, 1));  // end before commit
    ASSERT_TRUE(tracker.on_commit(Lsn{100}, Lsn{108}, 1));

    EXPECT_FALSE(tracker.on_message(id(100, 1)));  // the stream went backwards
    EXPECT_FALSE(tracker.on_message(id(50, 1)));
    EXPECT_FALSE(tracker.on_commit(Lsn{90}, Lsn{95}));

    EXPECT_FALSE(tracker.settle(id(100, 2)));  // unknown seq
    EXPECT_FALSE(tracker.settle(id(999, 1)));  // unknown transaction
    EXPECT_FALSE(tracker.settle(id(100, 0)));
    ASSERT_TRUE(tracker.on_message(id(200, 1)));
    ASSERT_TRUE(tracker.on_commit(Lsn{200}, Lsn{208}, 1));
    ASSERT_TRUE(tracker.settle(id(200, 1)));
    EXPECT_FALSE(tracker.settle(id(200, 1)));  // twice
    EXPECT_EQ(tracker.unsettled_messages(), 1u);
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{0});
    ASSERT_TRUE(tracker.settle(id(100, 1)));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{208});
    EXPECT_FALSE(tracker.settle(id(100, 1)));  // already flushed
}

// Many transactions, settled in random order: after every step the confirmed position is
// exactly the end of the longest fully settled prefix, computed independently.
TEST(FlushTracker, RandomSettleOrderNeverPassesAnUnsettledMessage) {
    std::mt19937_64 random(20261124);
    FlushTracker tracker(Lsn{10});
    struct Txn {
        std::uint64_t commit;
        std::uint64_t messages;
        std::uint64_t settled = 0;
    };
    std::vector<Txn> txns;
    std::vector<EventId> events;
    std::uint64_t lsn = 1000;
    for (int t = 0; t < 2000; ++t) {
        const std::uint64_t messages = random() % 5;  // includes empty transactions
        txns.push_back(Txn{lsn, messages});
        transaction(tracker, lsn, messages);
        for (std::uint64_t seq = 1; seq <= messages; ++seq) events.push_back(id(lsn, seq));
        lsn += 16 + random() % 100;
    }
    std::shuffle(events.begin(), events.end(), random);

    auto expected_flush = [&] {
        Lsn flush{10};
        for (const auto& txn : txns) {
            if (txn.settled != txn.messages) break;
            flush = Lsn{txn.commit + 8};
        }
        return flush;
    };
    for (std::size_t i = 0; i < events.size(); ++i) {
        ASSERT_TRUE(tracker.settle(events[i]));
        auto txn = std::find_if(txns.begin(), txns.end(), [&](const Txn& t) { return t.commit == events[i].commit_lsn.value; });
        ++txn->settled;
        ASSERT_EQ(tracker.flushable_lsn(), expected_flush()) << "after " << i << " settles";
        // Rule 2, stated directly: the first unsettled message lies at or after the flush.
        auto first_open = std::find_if(txns.begin(), txns.end(), [](const Txn& t) { return t.settled != t.messages; });
        if (first_open != txns.end()) {
            ASSERT_LE(tracker.flushable_lsn().value, first_open->commit);
        }
    }
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{txns.back().commit + 8});
    EXPECT_TRUE(tracker.idle());
}

TEST(FlushTracker, NonTransactionalMessageIsATransactionOfItsOwn) {
    // The plugin follows a non-transactional message with a commit marker whose commit_lsn
    // and end_lsn are both the message's LSN.
    FlushTracker tracker;
    transaction(tracker, 100, 1);
    ASSERT_TRUE(tracker.on_message(id(150, 1)));
    ASSERT_TRUE(tracker.on_commit(Lsn{150}, Lsn{150}, 1));
    transaction(tracker, 200, 1);
    ASSERT_TRUE(tracker.settle(id(100, 1)));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{108});
    ASSERT_TRUE(tracker.settle(id(150, 1)));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{150});
    ASSERT_TRUE(tracker.settle(id(200, 1)));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{208});
}

// settled_through: a backfill chunk occupies a run of seqs; its progress may be saved once
// every seq up to its last is settled, whatever order they settled in.
TEST(FlushTracker, SettledThroughNeedsTheWholePrefix) {
    FlushTracker tracker;
    transaction(tracker, 100, 5);
    for (std::uint64_t seq = 1; seq <= 5; ++seq) EXPECT_FALSE(tracker.settled_through(id(100, seq))) << seq;

    ASSERT_TRUE(tracker.settle(id(100, 3)));
    ASSERT_TRUE(tracker.settle(id(100, 2)));
    EXPECT_FALSE(tracker.settled_through(id(100, 1)));
    EXPECT_FALSE(tracker.settled_through(id(100, 2)));
    EXPECT_FALSE(tracker.settled_through(id(100, 3)));

    ASSERT_TRUE(tracker.settle(id(100, 1)));
    EXPECT_TRUE(tracker.settled_through(id(100, 1)));
    EXPECT_TRUE(tracker.settled_through(id(100, 2)));
    EXPECT_TRUE(tracker.settled_through(id(100, 3)));
    EXPECT_FALSE(tracker.settled_through(id(100, 4)));
    EXPECT_FALSE(tracker.settled_through(id(100, 5)));

    ASSERT_TRUE(tracker.settle(id(100, 5)));
    EXPECT_FALSE(tracker.settled_through(id(100, 5)));  // 4 is still out
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{0});
    ASSERT_TRUE(tracker.settle(id(100, 4)));
    EXPECT_TRUE(tracker.settled_through(id(100, 4)));
    EXPECT_TRUE(tracker.settled_through(id(100, 5)));
}

TEST(FlushTracker, SettledThroughInAnOpenTransactionAndBehindAnUnsettledOne) {
    // A re-sync's events follow its watermark message in the watermark's transaction; the
    // transaction may still be open, and older ones may still be unsettled.
    FlushTracker tracker;
    transaction(tracker, 100, 1);
    ASSERT_TRUE(tracker.on_message(id(200, 1)));
    ASSERT_TRUE(tracker.on_message(id(200, 2)));
    ASSERT_TRUE(tracker.settle(id(200, 2)));
    ASSERT_TRUE(tracker.settle(id(200, 1)));
    EXPECT_TRUE(tracker.settled_through(id(200, 2)));
    EXPECT_FALSE(tracker.settled_through(id(200, 3)));  // not registered yet
    ASSERT_TRUE(tracker.on_message(id(200, 3)));
    EXPECT_FALSE(tracker.settled_through(id(200, 3)));  // registered, pending
    EXPECT_TRUE(tracker.settled_through(id(200, 2)));
    EXPECT_FALSE(tracker.settled_through(id(100, 1)));
    EXPECT_EQ(tracker.flushable_lsn(), Lsn{0});
}

TEST(FlushTracker, SettledThroughAnUnregisteredSeqIsFalse) {
    FlushTracker tracker;
    transaction(tracker, 100, 2);
    ASSERT_TRUE(tracker.settle(id(100, 1)));
    EXPECT_TRUE(tracker.settled_through(id(100, 1)));
    EXPECT_FALSE(tracker.settled_through(id(100, 3)));
    EXPECT_FALSE(tracker.settled_through(id(100, 1000)));
}

TEST(FlushTracker, SettledThroughAFlushedTransactionIsTrue) {
    FlushTracker tracker;
    transaction(tracker, 100, 2);
    transaction(tracker, 200, 1);
    ASSERT_TRUE(tracker.settle(id(100, 2)));
    ASSERT_TRUE(tracker.settle(id(100, 1)));
    ASSERT_EQ(tracker.flushable_lsn(), Lsn{108});
    ASSERT_EQ(tracker.tracked_transactions(), 1u);  // 100 popped, 200 still tracked
    EXPECT_TRUE(tracker.settled_through(id(100, 1)));
    EXPECT_TRUE(tracker.settled_through(id(100, 2)));
    EXPECT_FALSE(tracker.settled_through(id(200, 1)));

    ASSERT_TRUE(tracker.settle(id(200, 1)));
    ASSERT_TRUE(tracker.idle());  // everything popped
    EXPECT_TRUE(tracker.settled_through(id(100, 2)));
    EXPECT_TRUE(tracker.settled_through(id(200, 1)));
}

TEST(FlushTracker, SettledThroughANeverRegisteredTransactionIsFalse) {
    FlushTracker fresh(Lsn{50});
    EXPECT_FALSE(fresh.settled_through(id(100, 1)));

    FlushTracker tracker;
    transaction(tracker, 100, 1);
    EXPECT_FALSE(tracker.settled_through(id(300, 1)));  // later than anything known, 100 pending
    ASSERT_TRUE(tracker.settle(id(100, 1)));
    ASSERT_TRUE(tracker.idle());
    EXPECT_FALSE(tracker.settled_through(id(300, 1)));  // later than anything known, nothing pending
    EXPECT_FALSE(tracker.settled_through(id(101, 1)));

    transaction(tracker, 200, 1);
    EXPECT_FALSE(tracker.settled_through(id(300, 1)));  // between tracked ones: still unknown
    EXPECT_FALSE(tracker.settled_through(id(250, 1)));
}

// The prefix is cached between calls; settling around it in random order must never make
// the answer stale or let it run ahead of the settled prefix.
TEST(FlushTracker, SettledThroughMatchesTheSettledPrefixUnderRandomOrder) {
    std::mt19937_64 random(7);
    FlushTracker tracker;
    constexpr std::uint64_t kMessages = 300;
    ASSERT_TRUE(tracker.on_message(id(100, 1)));  // the watermark message
    for (std::uint64_t seq = 2; seq <= kMessages; ++seq) ASSERT_TRUE(tracker.on_message(id(100, seq)));
    ASSERT_TRUE(tracker.on_commit(Lsn{100}, Lsn{108}, kMessages));
    std::vector<std::uint64_t> order;
    for (std::uint64_t seq = 1; seq <= kMessages; ++seq) order.push_back(seq);
    std::shuffle(order.begin(), order.end(), random);
    std::vector<bool> settled(kMessages + 1, false);
    for (std::size_t i = 0; i < order.size(); ++i) {
        ASSERT_TRUE(tracker.settle(id(100, order[i])));
        settled[order[i]] = true;
        std::uint64_t prefix = 0;
        while (prefix < kMessages && settled[prefix + 1]) ++prefix;
        for (std::uint64_t probe : {order[i], prefix, prefix + 1, std::uint64_t{1}, kMessages}) {
            if (probe == 0 || probe > kMessages) continue;
            ASSERT_EQ(tracker.settled_through(id(100, probe)), probe <= prefix)
                << "probe " << probe << " after " << i + 1 << " settles, prefix " << prefix;
        }
    }
    EXPECT_TRUE(tracker.idle());
    EXPECT_TRUE(tracker.settled_through(id(100, kMessages)));
}
