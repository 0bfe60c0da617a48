#include "core/quota_pacer.hpp"

#include <algorithm>

namespace crmsync::sender {

namespace {
const std::string kNoReason;
}

QuotaPacer::QuotaPacer(std::optional<RateLimit> configured, std::size_t lanes)
    : configured_(configured), lanes_(std::max<std::size_t>(1, lanes)) {
    if (configured_) limiter_.emplace(*configured_);
}

bool QuotaPacer::try_acquire(Clock::time_point now) {
    if (now < blocked_until_ || now < paused_until_) return false;
    return !limiter_ || limiter_->try_acquire(now);
}

QuotaPacer::Clock::time_point QuotaPacer::next_available(Clock::time_point now) const {
    Clock::time_point at = std::max({now, blocked_until_, paused_until_});
    if (limiter_) at = std::max(at, limiter_->next_available(at));
    return at;
}

std::optional<RateLimit> QuotaPacer::limit() const {
    if (limiter_) return limiter_->limit();
    return std::nullopt;
}

void QuotaPacer::observe(const QuotaReport& report, Clock::time_point now) {
    if (report.daily_remaining) daily_remaining_ = report.daily_remaining;
    if (report.window_remaining) window_remaining_ = report.window_remaining;
    if (!report.window_max || !report.window || report.window->count() <= 0) return;
    const auto lanes = static_cast<std::uint32_t>(std::min<std::size_t>(lanes_, UINT32_MAX));
    RateLimit learnt{std::max<std::uint32_t>(1, *report.window_max > lanes ? *report.window_max - lanes : 1),
                     *report.window};
    // Compare as rates: requests per millisecond, cross-multiplied.
    auto tighter = [](const RateLimit& a, const RateLimit& b) {
        return static_cast<std::uint64_t>(a.count) * static_cast<std::uint64_t>(b.period.count()) <
               static_cast<std::uint64_t>(b.count) * static_cast<std::uint64_t>(a.period.count());
    };
    const std::optional<RateLimit> current = limit();
    const RateLimit wanted = configured_ && !tighter(learnt, *configured_) ? *configured_ : learnt;
    if (!current || !(*current == wanted)) limiter_.emplace(wanted);
    if (report.window_remaining) {
        if (*report.window_remaining == 0)
            blocked_until_ = std::max(blocked_until_, now + *report.window);
        else if (*report.window_remaining <= lanes)
            blocked_until_ = std::max(blocked_until_, now + *report.window / 10);
    }
}

void QuotaPacer::pause_until(Clock::time_point until, std::string why) {
    paused_until_ = std::max(paused_until_, until);
    pause_reason_ = std::move(why);
}

const std::string& QuotaPacer::pause_reason(Clock::time_point now) const {
    return now < paused_until_ ? pause_reason_ : kNoReason;
}

}  // namespace crmsync::sender
