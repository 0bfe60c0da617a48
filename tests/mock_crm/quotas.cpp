#include "quotas.h"

#include <algorithm>

namespace crmsync::mock_crm {

QuotaVerdict Quotas::take_hubspot(const QuotaSettings& s, int64_t now_ms) {
    QuotaVerdict v;
    if (s.hubspot_per_10s <= 0 && s.hubspot_daily <= 0) return v;
    std::lock_guard lock(mutex_);
    int64_t day = now_ms / 86400000;
    if (day != hubspot_day_) {
        hubspot_day_ = day;
        hubspot_used_ = 0;
    }
    while (!hubspot_window_.empty() && hubspot_window_.front() <= now_ms - 10000) hubspot_window_.pop_front();
    int64_t in_window = static_cast<int64_t>(hubspot_window_.size());
    if (s.hubspot_daily > 0 && hubspot_used_ >= s.hubspot_daily) {
        v.allowed = false;
        v.policy = "DAILY";
    } else if (s.hubspot_per_10s > 0 && in_window >= s.hubspot_per_10s) {
        v.allowed = false;
        v.policy = "TEN_SECONDLY_ROLLING";
    } else {
        hubspot_window_.push_back(now_ms);
        ++hubspot_used_;
        ++in_window;
    }
    // The headers "API usage guidelines and limits" lists for responses.
    if (s.hubspot_daily > 0) {
        v.headers.emplace_back("X-HubSpot-RateLimit-Daily", std::to_string(s.hubspot_daily));
        v.headers.emplace_back("X-HubSpot-RateLimit-Daily-Remaining",
                               std::to_string(std::max<int64_t>(0, s.hubspot_daily - hubspot_used_)));
    }
    if (s.hubspot_per_10s > 0) {
        int64_t remaining = std::max<int64_t>(0, s.hubspot_per_10s - in_window);
        v.headers.emplace_back("X-HubSpot-RateLimit-Interval-Milliseconds", "10000");
        v.headers.emplace_back("X-HubSpot-RateLimit-Max", std::to_string(s.hubspot_per_10s));
        v.headers.emplace_back("X-HubSpot-RateLimit-Remaining", std::to_string(remaining));
        v.headers.emplace_back("X-HubSpot-RateLimit-Secondly", std::to_string(std::max<int64_t>(1, s.hubspot_per_10s / 10)));
        v.headers.emplace_back("X-HubSpot-RateLimit-Secondly-Remaining",
                               std::to_string(std::max<int64_t>(0, s.hubspot_per_10s / 10 - std::min<int64_t>(
                                   in_window, std::count_if(hubspot_window_.begin(), hubspot_window_.end(),
                                                            [&](int64_t t) { return t > now_ms - 1000; })))));
    }
    return v;
}

QuotaVerdict Quotas::take_salesforce(const QuotaSettings& s, int64_t now_ms) {
    QuotaVerdict v;
    if (s.salesforce_daily <= 0) return v;
    std::lock_guard lock(mutex_);
    int64_t day = now_ms / 86400000;
    if (day != salesforce_day_) {
        salesforce_day_ = day;
        salesforce_used_ = 0;
    }
    if (salesforce_used_ >= s.salesforce_daily) {
        v.allowed = false;
    } else {
        ++salesforce_used_;
    }
    v.headers.emplace_back("Sforce-Limit-Info",
                           "api-usage=" + std::to_string(salesforce_used_) + "/" + std::to_string(s.salesforce_daily));
    return v;
}

void Quotas::reset() {
    std::lock_guard lock(mutex_);
    hubspot_window_.clear();
    hubspot_day_ = salesforce_day_ = -1;
    hubspot_used_ = salesforce_used_ = 0;
}

}  // namespace crmsync::mock_crm
