#include "core/rate_limiter.hpp"

#include <algorithm>
#include <charconv>
#include <string>

namespace crmsync::sender {

Result<RateLimit> parse_rate_limit(std::string_view text) {
    const Error bad{"rate limit \"" + std::string(text) + "\" is not N/<duration> like \"190/10s\" (N from 1 to " +
                    std::to_string(kMaxRateLimitCount) + "; units ms, s, m, h)"};
    const auto slash = text.find('/');
    if (slash == std::string_view::npos) return bad;

    std::uint64_t count = 0;
    const std::string_view count_text = text.substr(0, slash);
    auto [count_end, count_ec] = std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
    if (count_text.empty() || count_ec != std::errc() || count_end != count_text.data() + count_text.size() ||
        count == 0 || count > kMaxRateLimitCount)
        return bad;

    const std::string_view rest = text.substr(slash + 1);
    std::uint64_t amount = 1;
    std::size_t digits = 0;
    while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9') ++digits;
    if (digits > 0) {
        auto [end, ec] = std::from_chars(rest.data(), rest.data() + digits, amount);
        if (ec != std::errc() || amount == 0 || amount > 1'000'000'000) return bad;
    }
    const std::string_view unit = rest.substr(digits);
    std::uint64_t unit_ms = 0;
    if (unit == "ms") unit_ms = 1;
    else if (unit == "s") unit_ms = 1000;
    else if (unit == "m") unit_ms = 60'000;
    else if (unit == "h") unit_ms = 3'600'000;
    else return bad;

    const std::uint64_t period_ms = amount * unit_ms;
    if (period_ms > 7ull * 24 * 3'600'000)
        return Error{"rate limit \"" + std::string(text) + "\": period longer than a week"};
    return RateLimit{static_cast<std::uint32_t>(count), std::chrono::milliseconds(period_ms)};
}

RateLimiter::RateLimiter(RateLimit limit) : limit_(limit) {
    limit_.count = std::clamp<std::uint32_t>(limit_.count, 1, kMaxRateLimitCount);
    sent_.reserve(limit_.count);
}

bool RateLimiter::try_acquire(Clock::time_point now) {
    if (sent_.size() < limit_.count) {
        sent_.push_back(now);
        return true;
    }
    if (now - sent_[oldest_] < limit_.period) return false;
    sent_[oldest_] = now;
    oldest_ = (oldest_ + 1) % sent_.size();
    return true;
}

RateLimiter::Clock::time_point RateLimiter::next_available(Clock::time_point now) const {
    if (sent_.size() < limit_.count) return now;
    return std::max(now, sent_[oldest_] + limit_.period);
}

}  // namespace crmsync::sender
