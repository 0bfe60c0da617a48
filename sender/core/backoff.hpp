// Retry delays for 429, 5xx, timeouts and connection errors (docs/operations.md, delivery rule 6).
//
// Exponential backoff with "full jitter": the delay for retry n is uniform in
// [0, min(cap, base * 2^n)]. Jitter spreads the retries of several lanes (and several
// senders) so they do not hit a recovering CRM in lock-step. A server's Retry-After is a
// lower bound: we never come back earlier than asked, even if that exceeds the cap.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace crmsync::sender {

class Backoff {
public:
    // Uniformly distributed 64-bit values; injectable so tests can pin the jitter.
    using RandomSource = std::function<std::uint64_t()>;
    // Seeded from std::random_device; copies share one generator.
    static RandomSource seeded_random_source();

    Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap);  // seeded from std::random_device
    Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, RandomSource random);

    // The upper bound of the jitter range for retry `attempt` (0 = first retry).
    std::chrono::milliseconds ceiling(unsigned attempt) const;

    // The delay before retry `attempt`, never shorter than retry_after.
    std::chrono::milliseconds delay(unsigned attempt,
                                    std::optional<std::chrono::milliseconds> retry_after = std::nullopt);

private:
    std::chrono::milliseconds base_;
    std::chrono::milliseconds cap_;
    RandomSource random_;
};

// An HTTP Retry-After value (RFC 9110 10.2.3): delta-seconds, or an HTTP-date in any of the
// three formats recipients must accept (IMF-fixdate, RFC 850, asctime). A date in the past is
// zero. Anything else is nullopt: the caller falls back to plain backoff.
std::optional<std::chrono::milliseconds> parse_retry_after(std::string_view value,
                                                           std::chrono::system_clock::time_point now);

}  // namespace crmsync::sender
