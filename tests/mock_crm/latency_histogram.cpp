#include "latency_histogram.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace crmsync::mock_crm {

int LatencyHistogram::bucket_of(uint64_t v) {
    constexpr uint64_t kSub = 1u << kSubBits;
    if (v < kSub) return static_cast<int>(v);
    int k = std::bit_width(v) - 1;  // v in [2^k, 2^(k+1))
    uint64_t sub = (v >> (k - kSubBits)) & (kSub - 1);
    return static_cast<int>(kSub + uint64_t(k - kSubBits) * kSub + sub);
}

uint64_t LatencyHistogram::bucket_low(int i) {
    constexpr int kSub = 1 << kSubBits;
    if (i < kSub) return static_cast<uint64_t>(i);
    int k = (i - kSub) / kSub + kSubBits;
    uint64_t sub = static_cast<uint64_t>((i - kSub) % kSub);
    return (kSub + sub) << (k - kSubBits);
}

uint64_t LatencyHistogram::bucket_width(int i) {
    constexpr int kSub = 1 << kSubBits;
    if (i < kSub) return 1;
    int k = (i - kSub) / kSub + kSubBits;
    return uint64_t{1} << (k - kSubBits);
}

void LatencyHistogram::add(int64_t latency_us, uint64_t weight) {
    if (weight == 0) return;
    constexpr uint64_t kCap = (uint64_t{1} << (kMaxBits + 1)) - 1;
    uint64_t v = std::min<uint64_t>(latency_us < 0 ? 0 : static_cast<uint64_t>(latency_us), kCap);
    buckets_[bucket_of(v)] += weight;
    count_ += weight;
    sum_us_ += v * weight;
    max_us_ = std::max<int64_t>(max_us_, static_cast<int64_t>(v));
}

int64_t LatencyHistogram::quantile_us(double q) const {
    if (count_ == 0) return 0;
    auto rank = static_cast<uint64_t>(std::ceil(std::clamp(q, 0.0, 1.0) * double(count_)));
    rank = std::max<uint64_t>(rank, 1);
    uint64_t seen = 0;
    for (int i = 0; i < kBuckets; ++i) {
        seen += buckets_[i];
        if (seen >= rank) {
            uint64_t mid = bucket_low(i) + (bucket_width(i) - 1) / 2;
            return std::min<int64_t>(static_cast<int64_t>(mid), max_us_);
        }
    }
    return max_us_;
}

void LatencyHistogram::clear() { *this = LatencyHistogram{}; }

}  // namespace crmsync::mock_crm
