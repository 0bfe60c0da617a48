// RateLimiter with a fake clock: "190/10s" never lets more than 190 requests into any 10 s.
#include "core/rate_limiter.hpp"

#include <gtest/gtest.h>

#include <random>
#include <vector>

using namespace crmsync::sender;
using namespace std::chrono_literals;
using Clock = RateLimiter::Clock;

TEST(RateLimit, Parses) {
    EXPECT_EQ(*parse_rate_limit("190/10s"), (RateLimit{190, 10s}));
    EXPECT_EQ(*parse_rate_limit("5/s"), (RateLimit{5, 1s}));
    EXPECT_EQ(*parse_rate_limit("50/500ms"), (RateLimit{50, 500ms}));
    EXPECT_EQ(*parse_rate_limit("1000/1m"), (RateLimit{1000, 60s}));
    EXPECT_EQ(*parse_rate_limit("10/2h"), (RateLimit{10, 7200s}));
    for (std::string_view bad : {"", "190", "/10s", "0/10s", "190/10", "190/10d", "a/10s", "190/0s", "-1/s", "190/s10",
                                 "190 /10s", "100001/s", "1/8000h"}) {
        auto parsed = parse_rate_limit(bad);
        ASSERT_FALSE(parsed) << bad;
        EXPECT_NE(parsed.error().find(std::string(bad)), std::string::npos);
    }
}

TEST(RateLimiter, AllowsABurstThenWaitsForTheWindow) {
    const Clock::time_point t0{1h};
    RateLimiter limiter(RateLimit{190, 10s});
    for (int i = 0; i < 190; ++i) ASSERT_TRUE(limiter.try_acquire(t0)) << i;
    EXPECT_FALSE(limiter.try_acquire(t0));
    EXPECT_EQ(limiter.next_available(t0), t0 + 10s);
    EXPECT_FALSE(limiter.try_acquire(t0 + 10s - 1ns));
    // The burst at t0 has left the window [t0 + 10s - period, t0 + 10s]: a new full burst.
    for (int i = 0; i < 190; ++i) ASSERT_TRUE(limiter.try_acquire(t0 + 10s)) << i;
    EXPECT_FALSE(limiter.try_acquire(t0 + 10s));
    EXPECT_EQ(limiter.next_available(t0 + 10s), t0 + 20s);
}

TEST(RateLimiter, NextAvailableIsNowWhenFree) {
    const Clock::time_point t0{1h};
    RateLimiter limiter(RateLimit{2, 1s});
    EXPECT_EQ(limiter.next_available(t0), t0);
    ASSERT_TRUE(limiter.try_acquire(t0));
    EXPECT_EQ(limiter.next_available(t0 + 100ms), t0 + 100ms);
    ASSERT_TRUE(limiter.try_acquire(t0 + 100ms));
    EXPECT_EQ(limiter.next_available(t0 + 200ms), t0 + 1s);
    EXPECT_EQ(limiter.next_available(t0 + 5s), t0 + 5s);
}

TEST(RateLimiter, RefillsAsOldRequestsLeaveTheWindow) {
    const Clock::time_point t0{1h};
    RateLimiter limiter(RateLimit{3, 1s});
    ASSERT_TRUE(limiter.try_acquire(t0));
    ASSERT_TRUE(limiter.try_acquire(t0 + 300ms));
    ASSERT_TRUE(limiter.try_acquire(t0 + 600ms));
    EXPECT_FALSE(limiter.try_acquire(t0 + 900ms));
    EXPECT_EQ(limiter.next_available(t0 + 900ms), t0 + 1s);
    EXPECT_TRUE(limiter.try_acquire(t0 + 1s));
    EXPECT_EQ(limiter.next_available(t0 + 1s), t0 + 1300ms);
}

// The invariant: no window of length `period` holds more than `count` admitted requests.
TEST(RateLimiter, NoWindowEverExceedsTheLimit) {
    std::mt19937_64 random(7);
    RateLimiter limiter(RateLimit{19, 1s});
    std::vector<Clock::time_point> admitted;
    Clock::time_point now{1h};
    for (int i = 0; i < 20'000; ++i) {
        now += std::chrono::microseconds(random() % 120'000);
        if (limiter.try_acquire(now)) admitted.push_back(now);
    }
    ASSERT_GT(admitted.size(), 1000u);
    for (std::size_t i = 19; i < admitted.size(); ++i)
        ASSERT_GE(admitted[i] - admitted[i - 19], 1s) << "20 requests within one second at " << i;
}
