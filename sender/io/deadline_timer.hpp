// A timerfd armed at the event loop's next deadline. poll() takes whole milliseconds: a
// timeout rounded down returns early and spins through the rest of the millisecond, rounded
// up it fires up to a millisecond late (the batch linger and the read pause are 5 ms and
// 1 ms). Polling this fd as well wakes the loop at the deadline itself.
#pragma once

#include <chrono>

namespace crmsync::sender {

class DeadlineTimer {
public:
    DeadlineTimer();
    ~DeadlineTimer();
    DeadlineTimer(const DeadlineTimer&) = delete;
    DeadlineTimer& operator=(const DeadlineTimer&) = delete;

    // -1 if the kernel refused a timerfd; the loop then relies on poll's own timeout.
    int fd() const { return fd_; }
    // Arms the timer for `deadline` (steady_clock is CLOCK_MONOTONIC); a no-op if it is
    // already armed for exactly that time.
    void arm(std::chrono::steady_clock::time_point deadline);
    // After poll reported the fd readable: consume the expiry so it stops being readable.
    void acknowledge();

private:
    int fd_ = -1;
    std::chrono::steady_clock::time_point armed_{};
};

}  // namespace crmsync::sender
