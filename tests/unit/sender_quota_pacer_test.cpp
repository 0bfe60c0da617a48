// QuotaPacer: the operator's rate limit, the budget the CRM reports, and daily pauses; and the
// adapters' reading of the CRMs' quota headers.
#include "core/quota_pacer.hpp"

#include <gtest/gtest.h>

#include "crm/hubspot/hubspot_adapter.hpp"
#include "crm/salesforce/salesforce_adapter.hpp"

using namespace crmsync::sender;
using namespace std::chrono_literals;

namespace {
const QuotaPacer::Clock::time_point t0{1h};

QuotaReport window(std::uint32_t max, std::uint32_t remaining, std::chrono::milliseconds length) {
    QuotaReport r;
    r.window_max = max;
    r.window_remaining = remaining;
    r.window = length;
    return r;
}
}  // namespace

TEST(QuotaPacer, WithoutLimitsEverythingGoes) {
    QuotaPacer pacer(std::nullopt, 4);
    for (int i = 0; i < 1000; ++i) EXPECT_TRUE(pacer.try_acquire(t0));
    EXPECT_FALSE(pacer.limit());
}

TEST(QuotaPacer, LearnsTheCrmsWindowLessOnePerLane) {
    QuotaPacer pacer(std::nullopt, 4);
    pacer.observe(window(100, 99, 10s), t0);  // HubSpot Free/Starter: 100 per 10 s
    ASSERT_TRUE(pacer.limit());
    EXPECT_EQ(pacer.limit()->count, 96u);
    EXPECT_EQ(pacer.limit()->period, 10s);
    int sent = 0;
    while (pacer.try_acquire(t0)) ++sent;
    EXPECT_EQ(sent, 96);
    EXPECT_EQ(pacer.next_available(t0), t0 + 10s);
    EXPECT_TRUE(pacer.try_acquire(t0 + 10s));
}

TEST(QuotaPacer, TheTighterOfConfiguredAndLearntWins) {
    QuotaPacer configured_tighter(RateLimit{50, 10s}, 4);
    configured_tighter.observe(window(190, 150, 10s), t0);
    EXPECT_EQ(configured_tighter.limit()->count, 50u);
    QuotaPacer learnt_tighter(RateLimit{190, 10s}, 4);
    learnt_tighter.observe(window(100, 80, 10s), t0);
    EXPECT_EQ(learnt_tighter.limit()->count, 96u);
}

TEST(QuotaPacer, ABudgetUsedUpByOthersWaits) {
    QuotaPacer pacer(std::nullopt, 4);
    pacer.observe(window(190, 3, 10s), t0);  // others share the app's budget
    EXPECT_FALSE(pacer.try_acquire(t0));
    EXPECT_EQ(pacer.next_available(t0), t0 + 1s);
    pacer.observe(window(190, 0, 10s), t0);
    EXPECT_EQ(pacer.next_available(t0), t0 + 10s);
    EXPECT_TRUE(pacer.try_acquire(t0 + 10s));
}

TEST(QuotaPacer, DailyPauseStopsEverythingUntilItEnds) {
    QuotaPacer pacer(std::nullopt, 4);
    pacer.pause_until(t0 + 5min, "daily limit");
    EXPECT_FALSE(pacer.try_acquire(t0 + 4min));
    EXPECT_EQ(pacer.pause_reason(t0), "daily limit");
    EXPECT_EQ(pacer.next_available(t0), t0 + 5min);
    EXPECT_TRUE(pacer.try_acquire(t0 + 5min));
    EXPECT_EQ(pacer.pause_reason(t0 + 5min), "");
}

TEST(QuotaHeaders, HubspotRateLimitHeaders) {
    // HubSpot, "API usage guidelines and limits".
    const std::vector<std::pair<std::string, std::string>> headers = {
        {"x-hubspot-ratelimit-daily", "250000"},     {"x-hubspot-ratelimit-daily-remaining", "249950"},
        {"x-hubspot-ratelimit-interval-milliseconds", "10000"}, {"x-hubspot-ratelimit-max", "190"},
        {"x-hubspot-ratelimit-remaining", "187"},    {"x-hubspot-ratelimit-secondly", "19"}};
    CrmAnswer answer;
    answer.status = 200;
    answer.headers = headers;
    QuotaReport r = HubspotAdapter().quota(answer);
    EXPECT_EQ(r.window_max, 190u);
    EXPECT_EQ(r.window_remaining, 187u);
    EXPECT_EQ(r.window, 10000ms);
    EXPECT_EQ(r.daily_max, 250000u);
    EXPECT_EQ(r.daily_remaining, 249950u);

    const std::vector<std::pair<std::string, std::string>> garbage = {{"x-hubspot-ratelimit-max", "19x"},
                                                                        {"x-hubspot-ratelimit-interval-milliseconds", "0"}};
    answer.headers = garbage;
    QuotaReport g = HubspotAdapter().quota(answer);
    EXPECT_FALSE(g.window_max);
    EXPECT_FALSE(g.window);
}

TEST(QuotaHeaders, SalesforceLimitInfo) {
    const std::vector<std::pair<std::string, std::string>> headers = {{"sforce-limit-info", "api-usage=14990/15000"}};
    CrmAnswer answer;
    answer.status = 200;
    answer.headers = headers;
    QuotaReport r = SalesforceAdapter().quota(answer);
    EXPECT_EQ(r.daily_max, 15000u);
    EXPECT_EQ(r.daily_remaining, 10u);
    const std::vector<std::pair<std::string, std::string>> over = {{"sforce-limit-info", "api-usage=15010/15000"}};
    answer.headers = over;
    EXPECT_EQ(SalesforceAdapter().quota(answer).daily_remaining, 0u);
    const std::vector<std::pair<std::string, std::string>> bad = {{"sforce-limit-info", "api-usage=12"}};
    answer.headers = bad;
    EXPECT_FALSE(SalesforceAdapter().quota(answer).daily_max);
}
