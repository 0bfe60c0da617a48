// DeadlineTimer: the fd the event loop polls to wake at its next deadline. These check
// readiness only (never how long anything took): a passed deadline makes the fd readable,
// acknowledging clears it, a future or re-armed deadline does not fire early.
#include "io/deadline_timer.hpp"

#include <gtest/gtest.h>
#include <poll.h>

using namespace crmsync::sender;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

bool readable(const DeadlineTimer& timer, int wait_ms = 0) {
    pollfd fd{timer.fd(), POLLIN, 0};
    return ::poll(&fd, 1, wait_ms) == 1 && (fd.revents & POLLIN);
}

}  // namespace

TEST(DeadlineTimer, CreatesAnFd) { EXPECT_GE(DeadlineTimer().fd(), 0); }

TEST(DeadlineTimer, NotReadableBeforeItIsArmed) {
    DeadlineTimer timer;
    EXPECT_FALSE(readable(timer));
}

TEST(DeadlineTimer, PassedDeadlineIsReadableUntilAcknowledged) {
    DeadlineTimer timer;
    timer.arm(Clock::now() - 1ms);
    EXPECT_TRUE(readable(timer, 1000));
    timer.acknowledge();
    EXPECT_FALSE(readable(timer));
}

TEST(DeadlineTimer, FarDeadlineDoesNotFire) {
    DeadlineTimer timer;
    timer.arm(Clock::now() + 1h);
    EXPECT_FALSE(readable(timer, 20));
}

TEST(DeadlineTimer, ReArmingMovesTheDeadline) {
    DeadlineTimer timer;
    timer.arm(Clock::now() - 1ms);
    // Moved out before the loop looked: the expiry that already happened is discarded.
    timer.arm(Clock::now() + 1h);
    EXPECT_FALSE(readable(timer, 20));
    timer.arm(Clock::now() - 1ms);
    EXPECT_TRUE(readable(timer, 1000));
}

TEST(DeadlineTimer, SameDeadlineArmsAgainAfterAcknowledge) {
    DeadlineTimer timer;
    const auto deadline = Clock::now() - 1ms;
    timer.arm(deadline);
    ASSERT_TRUE(readable(timer, 1000));
    timer.acknowledge();
    // The loop still wants this (passed) deadline: it must wake again, not sleep.
    timer.arm(deadline);
    EXPECT_TRUE(readable(timer, 1000));
}

TEST(DeadlineTimer, ClockEpochIsTimerfdsMonotonicClock) {
    // steady_clock and CLOCK_MONOTONIC must agree, or every deadline would be off by the
    // difference: one a second away must not be due now.
    DeadlineTimer timer;
    timer.arm(Clock::now() + 1s);
    EXPECT_FALSE(readable(timer, 0));
}
