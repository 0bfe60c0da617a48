// Fault injection set through POST /_mock/faults. Draws come from one seeded PRNG, a fixed
// number per request, so a run with the same --seed and the same request order injects the
// same faults whatever the settings are changed to in between.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "json.h"

namespace crmsync::mock_crm {

struct FaultSettings {
    double rate_429 = 0;
    int64_t retry_after_s = 1;
    double rate_500 = 0;
    double rate_slow = 0;
    int64_t slow_ms = 1000;
    double rate_drop = 0;
    bool drop_after_apply = false;  // drop after the batch is applied: the response is lost
    bool down = false;
    std::string reject_value;  // records with a string value containing it are poison
    double rate_lock_row = 0;  // Salesforce: share of upsert records failing UNABLE_TO_LOCK_ROW
    // HubSpot: share of batch upsert inputs applied but left out of the 200's results (an
    // answer that does not account for every input)
    double rate_omit_result = 0;
    // Quotas (quotas.h); 0 = unlimited. Start values come from the command line.
    int64_t hubspot_per_10s = 0;
    int64_t hubspot_daily = 0;
    int64_t salesforce_daily = 0;
};

// What to do to one request, decided when it arrives.
struct FaultDecision {
    bool drop = false;            // close the connection without a response
    bool drop_after_apply = false;
    bool down = false;
    bool rate_limit = false;      // 429 with Retry-After
    int64_t retry_after_s = 0;
    bool server_error = false;    // 500
    int64_t slow_ms = 0;          // delay before answering
    std::string reject_value;
    double lock_row_rate = 0;     // per-record chance of UNABLE_TO_LOCK_ROW (Salesforce)
    double omit_result_rate = 0;  // per-input chance its result is left out (HubSpot upsert)
    uint64_t lock_row_seed = 0;   // seeds the per-record draws of this request
};

class FaultInjector {
public:
    explicit FaultInjector(uint64_t seed, FaultSettings initial = {})
        : initial_seed_(seed), seed_(seed), rng_(seed), initial_(initial), settings_(initial) {}

    // Applies the keys present in body on top of the current settings, all or nothing.
    // Returns an error message naming the bad key and its accepted range, or "" on success.
    std::string configure(const rapidjson::Value& body);
    FaultSettings settings() const;
    FaultDecision decide();
    void write_json(JsonWriter& w) const;
    // Back to no faults and the initial seed, as at start-up.
    void reset();

private:
    double draw();  // uniform in [0, 1)

    mutable std::mutex mutex_;
    const uint64_t initial_seed_;
    uint64_t seed_;
    std::mt19937_64 rng_;
    const FaultSettings initial_;
    FaultSettings settings_;
};

}  // namespace crmsync::mock_crm
