// What GET /_mock/stats reports: request counts, record outcomes, idempotency keys, latency.
// Thread-safe; /_mock requests are not counted so polling the mock does not change its numbers.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "json.h"
#include "latency_histogram.h"

namespace crmsync::mock_crm {

struct RecordCounts {
    uint64_t upserted = 0;
    uint64_t deleted = 0;     // deletes accepted (HubSpot: ids found; Salesforce: 204s)
    uint64_t rejected = 0;    // records or events refused as invalid or poison
    uint64_t duplicates = 0;  // webhook events whose id was already applied
    uint64_t order_violations = 0;
    uint64_t truncates = 0;
    uint64_t messages = 0;
    RecordCounts& operator+=(const RecordCounts& o);
};

enum class InjectedFault { kDrop, kRateLimit, kServerError, kSlow, kDown };

class Stats {
public:
    void count_response(std::string_view route, int status);
    void count_fault(std::string_view route, InjectedFault fault);
    void note_idempotency_key(std::string_view key);
    void add_records(const RecordCounts& delta);
    void add_latency(int64_t latency_us, uint64_t weight = 1);

    RecordCounts records() const;
    void write_json(JsonWriter& w, size_t stored_records) const;
    void clear();

private:
    mutable std::mutex mutex_;
    uint64_t total_ = 0;
    std::map<int, uint64_t> by_status_;
    std::map<std::string, uint64_t, std::less<>> by_route_;
    std::map<std::string, uint64_t, std::less<>> faults_;
    RecordCounts records_;
    std::unordered_set<std::string> idempotency_keys_;
    uint64_t repeated_keys_ = 0;
    LatencyHistogram latency_;
};

}  // namespace crmsync::mock_crm
