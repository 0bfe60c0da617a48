// API quotas as the real CRMs count them, with the headers that report them:
//   HubSpot ("API usage guidelines and limits", https://developers.hubspot.com/docs/api/usage-details):
//     a rolling 10-second budget and a daily budget; every response carries
//     X-HubSpot-RateLimit-Daily, -Daily-Remaining, -Interval-Milliseconds, -Max, -Remaining,
//     -Secondly, -Secondly-Remaining; over a budget: 429 with policyName TEN_SECONDLY_ROLLING or
//     DAILY.
//   Salesforce ("API Request Limits and Allocations",
//     https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm,
//     and "Limit Info Header", https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm):
//     a daily total; responses carry Sforce-Limit-Info: api-usage=N/M; over it: 403
//     REQUEST_LIMIT_EXCEEDED "TotalRequests Limit exceeded.".
// A budget of 0 means unlimited (and, for HubSpot, no headers).
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace crmsync::mock_crm {

struct QuotaSettings {
    int64_t hubspot_per_10s = 190;
    int64_t hubspot_daily = 500000;
    int64_t salesforce_daily = 100000;
};

struct QuotaVerdict {
    bool allowed = true;
    std::string policy;  // HubSpot: TEN_SECONDLY_ROLLING or DAILY when refused
    std::vector<std::pair<std::string, std::string>> headers;
};

class Quotas {
public:
    // now_ms: wall clock in milliseconds. Days are UTC days (HubSpot resets daily limits at
    // midnight in the account's time zone; Salesforce's is a rolling 24 hours: a UTC day is the
    // simple stand-in, documents say so only loosely).
    QuotaVerdict take_hubspot(const QuotaSettings& s, int64_t now_ms);
    QuotaVerdict take_salesforce(const QuotaSettings& s, int64_t now_ms);
    void reset();

private:
    std::mutex mutex_;
    std::deque<int64_t> hubspot_window_;  // accepted request times in the last 10 s
    int64_t hubspot_day_ = -1, hubspot_used_ = 0;
    int64_t salesforce_day_ = -1, salesforce_used_ = 0;
};

}  // namespace crmsync::mock_crm
