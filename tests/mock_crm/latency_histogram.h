// Commit-to-received latency. Benchmarks push millions of records through the mock, so samples
// go into fixed log-linear buckets (16 per power of two, about 6% resolution) instead of a list:
// memory is constant however many records arrive.
#pragma once

#include <array>
#include <cstdint>

namespace crmsync::mock_crm {

class LatencyHistogram {
public:
    // Negative latencies (clocks a little apart) count as 0; beyond 2^45 us (~400 days) as that.
    void add(int64_t latency_us, uint64_t weight = 1);

    uint64_t count() const { return count_; }
    int64_t max_us() const { return max_us_; }
    double mean_us() const { return count_ ? double(sum_us_) / double(count_) : 0.0; }
    // The bucket midpoint holding the q-quantile (0 < q <= 1), never above the exact max.
    int64_t quantile_us(double q) const;
    void clear();

private:
    static constexpr int kSubBits = 4;
    static constexpr int kMaxBits = 44;
    // 16 exact buckets below 16 us, then 16 per power of two up to 2^kMaxBits.
    static constexpr int kBuckets = (1 << kSubBits) * (kMaxBits - kSubBits + 2);

    static int bucket_of(uint64_t v);
    static uint64_t bucket_low(int i);
    static uint64_t bucket_width(int i);

    std::array<uint64_t, kBuckets> buckets_{};
    uint64_t count_ = 0;
    uint64_t sum_us_ = 0;
    int64_t max_us_ = 0;
};

}  // namespace crmsync::mock_crm
