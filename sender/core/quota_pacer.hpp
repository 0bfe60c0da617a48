// Paces requests to the CRM's quota (docs/operations.md, delivery rule 6), so that 429s are
// rare instead of the normal way to find the limit:
// * delivery.rate_limit, if set, is the ceiling the operator chose;
// * a CRM that reports its window budget in headers (HubSpot: X-HubSpot-RateLimit-Max per
//   -Interval-Milliseconds) sets a tighter one: that budget less one request per lane, whose
//   requests may already be on the way;
// * when the CRM says the window is nearly used up by others sharing the budget (Remaining at
//   or below the lanes), sending waits a tenth of the window; at zero, a whole window;
// * when the daily budget is gone, sending waits until the given time: the engine probes
//   again then (the CRMs do not say when the day rolls over for the account).
// Time is passed in by the caller.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/rate_limiter.hpp"

namespace crmsync::sender {

// What a CRM said about its request budget in one answer's headers.
struct QuotaReport {
    std::optional<std::uint32_t> window_max;
    std::optional<std::uint32_t> window_remaining;
    std::optional<std::chrono::milliseconds> window;
    std::optional<std::uint64_t> daily_max;
    std::optional<std::uint64_t> daily_remaining;
};

class QuotaPacer {
public:
    using Clock = std::chrono::steady_clock;

    QuotaPacer(std::optional<RateLimit> configured, std::size_t lanes);

    // Records a request at `now` if it may go; false (nothing recorded) if not.
    bool try_acquire(Clock::time_point now);
    // The earliest time try_acquire can succeed.
    Clock::time_point next_available(Clock::time_point now) const;

    void observe(const QuotaReport& report, Clock::time_point now);
    // The daily budget is gone: nothing is sent before `until`.
    void pause_until(Clock::time_point until, std::string why);

    // The limit in force (configured, or learnt from the CRM), if any.
    std::optional<RateLimit> limit() const;
    // Set while a daily pause lasts; "" otherwise.
    const std::string& pause_reason(Clock::time_point now) const;
    std::optional<std::uint64_t> daily_remaining() const { return daily_remaining_; }
    std::optional<std::uint32_t> window_remaining() const { return window_remaining_; }

private:
    std::optional<RateLimit> configured_;
    std::size_t lanes_;
    std::optional<RateLimiter> limiter_;
    Clock::time_point blocked_until_{};
    Clock::time_point paused_until_{};
    std::string pause_reason_;
    std::optional<std::uint64_t> daily_remaining_;
    std::optional<std::uint32_t> window_remaining_;
};

}  // namespace crmsync::sender
