// Client-side rate limit (docs/operations.md, delivery rule 6): stay under the CRM's request quota, e.g.
// HubSpot's "190 requests per 10 seconds", instead of learning about it from 429s.
//
// Invariant: no window of length `period` (anywhere, aligned or not) ever holds more than
// `count` requests. A token bucket of capacity `count` refilled at count/period does not
// give that: a full bucket plus a period's refill lets almost 2*count through one window,
// which is exactly what a rolling or fixed-window quota answers with 429. So this keeps the
// send times of the last `count` requests (a ring buffer) and admits a request when the
// oldest of them is at least `period` old: bursts up to `count` still go out at once.
//
// Time is passed in by the caller (the event loop's clock, or a fake one in tests).
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace crmsync::sender {

struct RateLimit {
    std::uint32_t count = 0;
    std::chrono::milliseconds period{0};

    friend bool operator==(const RateLimit&, const RateLimit&) = default;
};

inline constexpr std::uint32_t kMaxRateLimitCount = 100'000;

// "190/10s", "5/s", "1000/1m", "50/500ms", "10000/24h": a count, '/', an optional amount and
// a unit (ms, s, m, h).
Result<RateLimit> parse_rate_limit(std::string_view text);

class RateLimiter {
public:
    using Clock = std::chrono::steady_clock;

    explicit RateLimiter(RateLimit limit);

    // Records a request at `now` if the limit allows one; false (and nothing recorded) if not.
    bool try_acquire(Clock::time_point now);

    // The earliest time at which try_acquire will succeed; `now` if it would succeed now.
    Clock::time_point next_available(Clock::time_point now) const;

    const RateLimit& limit() const { return limit_; }

private:
    RateLimit limit_;
    std::vector<Clock::time_point> sent_;  // ring buffer of the last `count` send times
    std::size_t oldest_ = 0;               // index of the oldest entry once the ring is full
};

}  // namespace crmsync::sender
