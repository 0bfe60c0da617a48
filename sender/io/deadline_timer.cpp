#include "io/deadline_timer.hpp"

#include <sys/timerfd.h>
#include <unistd.h>

#include <cstdint>

namespace crmsync::sender {

DeadlineTimer::DeadlineTimer() { fd_ = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC); }

DeadlineTimer::~DeadlineTimer() {
    if (fd_ >= 0) close(fd_);
}

void DeadlineTimer::arm(std::chrono::steady_clock::time_point deadline) {
    if (fd_ < 0 || deadline == armed_) return;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(deadline.time_since_epoch()).count();
    itimerspec spec{};
    // An all-zero it_value would disarm the timer instead of firing at once.
    spec.it_value.tv_sec = ns > 0 ? ns / 1000000000 : 0;
    spec.it_value.tv_nsec = ns > 0 ? ns % 1000000000 : 1;
    if (timerfd_settime(fd_, TFD_TIMER_ABSTIME, &spec, nullptr) == 0) armed_ = deadline;
}

void DeadlineTimer::acknowledge() {
    std::uint64_t expirations = 0;
    if (fd_ >= 0 && read(fd_, &expirations, sizeof expirations) < 0) {
        // EAGAIN: nothing to consume (the timer was re-armed after it fired).
    }
    armed_ = {};
}

}  // namespace crmsync::sender
