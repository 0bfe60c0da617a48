// PgSnapshot: parsing pg_current_snapshot()'s text and deciding, on 32-bit xids with
// wraparound, whether a transaction had committed when the snapshot was taken.
#include "core/pg_snapshot.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

using namespace crmsync::sender;

namespace {

constexpr std::uint64_t kEpoch1 = std::uint64_t{1} << 32;

PgSnapshot must_parse(std::string_view text) {
    auto parsed = PgSnapshot::parse(text);
    EXPECT_TRUE(parsed) << text << ": " << parsed.error();
    return parsed ? *parsed : PgSnapshot{};
}

std::string must_fail(std::string_view text) {
    auto parsed = PgSnapshot::parse(text);
    EXPECT_FALSE(parsed) << text;
    return parsed ? std::string() : parsed.error();
}

}  // namespace

TEST(PgSnapshot, ParsesXminXmaxAndSortsTheInProgressList) {
    const PgSnapshot s = must_parse("100:105:101,103");
    EXPECT_EQ(s.xmin, 100u);
    EXPECT_EQ(s.xmax, 105u);
    EXPECT_EQ(s.xip, (std::vector<std::uint64_t>{101, 103}));

    const PgSnapshot unsorted = must_parse("100:110:105,101,103");
    EXPECT_EQ(unsorted.xip, (std::vector<std::uint64_t>{101, 103, 105}));
}

TEST(PgSnapshot, ParsesASnapshotWithNothingInProgress) {
    const PgSnapshot s = must_parse("100:100:");
    EXPECT_EQ(s.xmin, 100u);
    EXPECT_EQ(s.xmax, 100u);
    EXPECT_TRUE(s.xip.empty());
}

TEST(PgSnapshot, ParsesSixtyFourBitValuesWithAnEpoch) {
    // Epoch 1, xids 100, 104 and 102.
    const PgSnapshot s = must_parse("4294967396:4294967400:4294967398");
    EXPECT_EQ(s.xmin, kEpoch1 + 100);
    EXPECT_EQ(s.xmax, kEpoch1 + 104);
    EXPECT_EQ(s.xip, (std::vector<std::uint64_t>{kEpoch1 + 102}));
    // Visibility is decided on the low 32 bits: the plugin's events carry 32-bit xids.
    EXPECT_TRUE(s.sees(99));
    EXPECT_TRUE(s.sees(100));
    EXPECT_TRUE(s.sees(101));
    EXPECT_FALSE(s.sees(102));  // in progress
    EXPECT_TRUE(s.sees(103));
    EXPECT_FALSE(s.sees(104));  // at xmax
    EXPECT_FALSE(s.sees(105));
}

TEST(PgSnapshot, RejectsMalformedTextNamingTheProblem) {
    struct Case {
        std::string text;
        std::string expect;
    };
    const Case cases[] = {
        {"", "two ':' expected"},
        {"100", "two ':' expected"},
        {"100:105", "two ':' expected"},
        {"100,105,101", "two ':' expected"},
        {"abc:105:", "xmin and xmax must be numbers"},
        {"100:x:", "xmin and xmax must be numbers"},
        {":105:", "xmin and xmax must be numbers"},
        {"100::", "xmin and xmax must be numbers"},
        {"-1:105:", "xmin and xmax must be numbers"},
        {"100 :105:", "xmin and xmax must be numbers"},
        {"1e2:105:", "xmin and xmax must be numbers"},
        {"99999999999999999999:99999999999999999999:", "xmin and xmax must be numbers"},  // > 2^64
        {"100:105:10x", "in-progress xids must be numbers"},
        {"100:105:101,,103", "in-progress xids must be numbers"},
        {"100:105:101:103", "in-progress xids must be numbers"},
        {"100:105: 101", "in-progress xids must be numbers"},
        {"100:105:99", "an in-progress xid outside [xmin, xmax)"},
        {"100:105:105", "an in-progress xid outside [xmin, xmax)"},
        {"100:105:101,200", "an in-progress xid outside [xmin, xmax)"},
        {"100:100:100", "an in-progress xid outside [xmin, xmax)"},
        {"105:100:", "xmax before xmin"},
        {"4294967396:100:", "xmax before xmin"},
    };
    for (const auto& c : cases) {
        const std::string error = must_fail(c.text);
        EXPECT_NE(error.find(c.expect), std::string::npos) << "input: \"" << c.text << "\"\nerror: " << error;
        EXPECT_EQ(error.rfind("bad snapshot \"" + c.text + "\"", 0), 0u) << error;
        EXPECT_NE(error.find("pg_current_snapshot()"), std::string::npos) << error;
    }
}

TEST(PgSnapshot, ErrorQuotesAtMostTheStartOfALongInput) {
    const std::string text(500, '7');
    const std::string error = must_fail(text);
    EXPECT_NE(error.find(std::string(80, '7')), std::string::npos) << error;
    EXPECT_EQ(error.find(std::string(81, '7')), std::string::npos) << error;
}

TEST(PgSnapshot, SeesExactlyTheTransactionsThatHadEnded) {
    const PgSnapshot s = must_parse("100:105:101,103");
    EXPECT_TRUE(s.sees(1));
    EXPECT_TRUE(s.sees(99));    // before xmin
    EXPECT_TRUE(s.sees(100));   // xmin itself, not in progress
    EXPECT_FALSE(s.sees(101));  // in progress
    EXPECT_TRUE(s.sees(102));   // between xmin and xmax, not in progress
    EXPECT_FALSE(s.sees(103));
    EXPECT_TRUE(s.sees(104));
    EXPECT_FALSE(s.sees(105));  // xmax: had not started
    EXPECT_FALSE(s.sees(106));
    EXPECT_FALSE(s.sees(1'000'000));

    const PgSnapshot empty = must_parse("100:100:");
    EXPECT_TRUE(empty.sees(99));
    EXPECT_FALSE(empty.sees(100));
    EXPECT_FALSE(empty.sees(101));
}

TEST(PgSnapshot, SeesAcrossTheXidWraparound) {
    // xmin is epoch 0 xid 2^32 - 6; xmax is epoch 1 xid 4 (2^32 - 6 + 10).
    const PgSnapshot clear = must_parse("4294967290:4294967300:");
    EXPECT_EQ(clear.xmax, kEpoch1 + 4);
    EXPECT_TRUE(clear.sees(4294967280u));  // before xmin
    EXPECT_TRUE(clear.sees(4294967290u));
    EXPECT_TRUE(clear.sees(4294967295u));  // the last xid before the wrap
    EXPECT_TRUE(clear.sees(3));            // the first normal xid after it: numerically small, yet before xmax
    EXPECT_FALSE(clear.sees(4));           // xmax
    EXPECT_FALSE(clear.sees(5));
    EXPECT_FALSE(clear.sees(1000));

    // Transactions in progress on both sides of the wrap.
    const PgSnapshot running = must_parse("4294967290:4294967300:4294967299,4294967295");
    EXPECT_EQ(running.xip, (std::vector<std::uint64_t>{4294967295u, kEpoch1 + 3}));
    EXPECT_FALSE(running.sees(4294967295u));
    EXPECT_FALSE(running.sees(3));
    EXPECT_TRUE(running.sees(4294967294u));
    EXPECT_TRUE(running.sees(4294967289u));
    EXPECT_FALSE(running.sees(4));
}

TEST(PgSnapshot, XidPrecedesIsCircular) {
    EXPECT_TRUE(xid_precedes(100, 101));
    EXPECT_FALSE(xid_precedes(101, 100));
    EXPECT_FALSE(xid_precedes(100, 100));
    EXPECT_TRUE(xid_precedes(4294967295u, 3));  // across the wrap
    EXPECT_FALSE(xid_precedes(3, 4294967295u));
    EXPECT_TRUE(xid_precedes(10, 10 + (1u << 31) - 1));   // just under half the circle apart
    EXPECT_FALSE(xid_precedes(10, 10 + (1u << 31) + 1));  // just over: it is "after"
}
