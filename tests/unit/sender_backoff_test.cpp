// Backoff: full jitter within [0, min(cap, base*2^n)], Retry-After as a lower bound.
#include "core/backoff.hpp"

#include <gtest/gtest.h>

#include <random>
#include <set>

using namespace crmsync::sender;
using namespace std::chrono_literals;

namespace {

Backoff::RandomSource constant(std::uint64_t value) {
    return [value] { return value; };
}

std::chrono::system_clock::time_point at(int y, unsigned m, unsigned d, int hh, int mm, int ss) {
    using namespace std::chrono;
    return sys_days(year(y) / month(m) / day(d)) + hours(hh) + minutes(mm) + seconds(ss);
}

}  // namespace

TEST(Backoff, CeilingDoublesUpToTheCap) {
    Backoff backoff(100ms, 5s, constant(0));
    EXPECT_EQ(backoff.ceiling(0), 100ms);
    EXPECT_EQ(backoff.ceiling(1), 200ms);
    EXPECT_EQ(backoff.ceiling(5), 3200ms);
    EXPECT_EQ(backoff.ceiling(6), 5s);
    EXPECT_EQ(backoff.ceiling(7), 5s);
    EXPECT_EQ(backoff.ceiling(4'000'000'000u), 5s);  // no overflow
}

TEST(Backoff, FullJitterSpansZeroToTheCeiling) {
    EXPECT_EQ(Backoff(100ms, 5s, constant(0)).delay(3), 0ms);
    EXPECT_EQ(Backoff(100ms, 5s, constant(~std::uint64_t{0})).delay(3), 800ms);
    EXPECT_EQ(Backoff(100ms, 5s, constant(std::uint64_t{1} << 63)).delay(3), 400ms);
    EXPECT_EQ(Backoff(100ms, 5s, constant(~std::uint64_t{0})).delay(20), 5s);
}

TEST(Backoff, DelaysStayInBoundsAndActuallyVary) {
    std::mt19937_64 engine(42);
    Backoff backoff(50ms, 2s, [&] { return engine(); });
    for (unsigned attempt = 0; attempt < 12; ++attempt) {
        std::set<long long> seen;
        for (int i = 0; i < 200; ++i) {
            const auto d = backoff.delay(attempt);
            ASSERT_GE(d, 0ms);
            ASSERT_LE(d, backoff.ceiling(attempt));
            seen.insert(d.count());
        }
        EXPECT_GT(seen.size(), 10u) << "no jitter at attempt " << attempt;
    }
}

TEST(Backoff, RetryAfterIsALowerBound) {
    Backoff low(100ms, 5s, constant(0));
    EXPECT_EQ(low.delay(0, 3s), 3s);
    EXPECT_EQ(low.delay(0, 30s), 30s);  // honoured beyond the cap
    Backoff high(100ms, 5s, constant(~std::uint64_t{0}));
    EXPECT_EQ(high.delay(4, 1s), 1600ms);  // jitter already later than asked
    EXPECT_EQ(high.delay(4, std::nullopt), 1600ms);
}

TEST(RetryAfter, ParsesDeltaSeconds) {
    const auto now = at(2026, 11, 24, 10, 0, 0);
    EXPECT_EQ(parse_retry_after("120", now), 120s);
    EXPECT_EQ(parse_retry_after(" 5 ", now), 5s);
    EXPECT_EQ(parse_retry_after("0", now), 0s);
    EXPECT_EQ(parse_retry_after("99999999999999999999999", now), 86400s);  // saturates
    for (std::string_view bad : {"", "soon", "-5", "1.5", "5s", "0x10"}) EXPECT_FALSE(parse_retry_after(bad, now)) << bad;
}

TEST(RetryAfter, ParsesTheThreeHttpDateFormats) {
    const auto now = at(1994, 11, 6, 8, 49, 0);
    EXPECT_EQ(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), 37s);
    EXPECT_EQ(parse_retry_after("Sunday, 06-Nov-94 08:49:37 GMT", now), 37s);
    EXPECT_EQ(parse_retry_after("Sun Nov  6 08:49:37 1994", now), 37s);
    EXPECT_EQ(parse_retry_after("Sun Nov 16 08:49:37 1994", now), 10 * 24h + 37s);
    EXPECT_EQ(parse_retry_after("Sat, 05 Nov 1994 08:49:37 GMT", now), 0s);  // in the past
    for (std::string_view bad : {"Sun, 06 Nov 1994 08:49:37", "Sun, 31 Feb 1994 08:49:37 GMT",
                                 "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 25:49:37 GMT", "06 Nov 1994"})
        EXPECT_FALSE(parse_retry_after(bad, now)) << bad;
}
