// Fault injection: 429 + Retry-After, 500, slow, dropped connections, down, settings checks.
#include "mock_crm_fixture.h"

namespace crmsync::mock_crm::testing {
namespace {

const char* kUpsert = "/crm/v3/objects/contacts/batch/upsert";
const std::string kOneContact =
    R"({"inputs":[{"idProperty":"email","id":"ann@example.com","properties":{"firstname":"Ann"}}]})";
const std::string kOneEvent =
    R"({"events":[{"action":"upsert","object":"contacts","key":"k","commit_lsn":"0/1","seq":1,"record":{"id":"k","properties":{"v":1}}}]})";

class FaultsTest : public MockCrmTest {};

TEST_F(FaultsTest, RateLimitAnswers429WithRetryAfterAndAppliesNothing) {
    set_faults(R"({"rate_429":1,"retry_after_s":7})");
    auto res = post(kUpsert, kOneContact);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 429);
    EXPECT_EQ(res->get_header_value("Retry-After"), "7");
    EXPECT_EQ(str_at(parse(res->body), "/category"), "RATE_LIMITS");
    EXPECT_TRUE(state().ObjectEmpty());
    auto st = stats();
    EXPECT_EQ(int_at(st, "/requests/by_status/429"), 1);
    EXPECT_EQ(int_at(st, "/faults/rate_limited"), 1);

    set_faults(R"({"rate_429":0})");
    EXPECT_EQ(post(kUpsert, kOneContact)->status, 200);
}

TEST_F(FaultsTest, ServerErrorUsesEachApisErrorShape) {
    set_faults(R"({"rate_500":1})");
    auto hubspot = post(kUpsert, kOneContact);
    EXPECT_EQ(hubspot->status, 500);
    EXPECT_EQ(str_at(parse(hubspot->body), "/status"), "error");
    auto salesforce = patch("/services/data/v59.0/composite/sobjects/Contact/Email", R"({"records":[]})");
    EXPECT_EQ(salesforce->status, 500);
    EXPECT_TRUE(parse(salesforce->body).IsArray());
    auto webhook = post("/webhook", kOneEvent);
    EXPECT_EQ(webhook->status, 500);
    EXPECT_FALSE(str_at(parse(webhook->body), "/error").empty());
    EXPECT_TRUE(state().ObjectEmpty());
    EXPECT_EQ(int_at(stats(), "/faults/server_errors"), 3);
}

TEST_F(FaultsTest, DropClosesTheConnectionWithoutAResponse) {
    set_faults(R"({"rate_drop":1})");
    auto res = post(kUpsert, kOneContact);
    ASSERT_FALSE(res);  // no status line at all
    EXPECT_EQ(res.error(), httplib::Error::Read);
    EXPECT_TRUE(state().ObjectEmpty());
    EXPECT_EQ(int_at(stats(), "/faults/dropped"), 1);
    EXPECT_EQ(int_at(stats(), "/requests/total"), 1);

    // A keep-alive client reconnects and carries on once the fault is off.
    set_faults(R"({"rate_drop":0})");
    EXPECT_EQ(post(kUpsert, kOneContact)->status, 200);
}

TEST_F(FaultsTest, DropAfterApplyLosesOnlyTheResponse) {
    set_faults(R"({"rate_drop":1,"drop_after_apply":true})");
    ASSERT_FALSE(post("/webhook", kOneEvent));
    EXPECT_EQ(int_at(state(), "/contacts/k/v"), 1);  // applied
    set_faults(R"({"rate_drop":0})");
    // The sender's retry is a redelivery the receiver recognises.
    auto res = post("/webhook", kOneEvent);
    ASSERT_EQ(res->status, 200);
    EXPECT_EQ(int_at(parse(res->body), "/duplicates"), 1);
}

TEST_F(FaultsTest, DownDropsEveryCrmRequestButNotTheMockEndpoints) {
    set_faults(R"({"down":true})");
    EXPECT_FALSE(post(kUpsert, kOneContact));
    EXPECT_FALSE(post("/webhook", kOneEvent));
    EXPECT_FALSE(del("/services/data/v59.0/sobjects/Contact/Email/x"));
    EXPECT_TRUE(state().ObjectEmpty());  // /_mock still answers
    EXPECT_EQ(int_at(stats(), "/faults/down"), 3);
    set_faults(R"({"down":false})");
    EXPECT_EQ(post(kUpsert, kOneContact)->status, 200);
}

TEST_F(FaultsTest, SlowResponsesStillSucceed) {
    set_faults(R"({"rate_slow":1,"slow_ms":20})");
    EXPECT_EQ(post(kUpsert, kOneContact)->status, 200);
    EXPECT_EQ(int_at(stats(), "/faults/slowed"), 1);
    EXPECT_NE(at(state(), "/contacts/ann@example.com"), nullptr);
}

TEST_F(FaultsTest, InvalidSettingsAreRefusedNamingKeyAndRange) {
    const std::pair<std::string, std::string> cases[] = {
        {R"({"rate_429":1.5})", "rate_429 must be a number from 0 to 1"},
        {R"({"rate_500":-0.1})", "rate_500 must be a number from 0 to 1"},
        {R"({"rate_drop":"often"})", "rate_drop must be a number from 0 to 1"},
        {R"({"slow_ms":1.5})", "slow_ms must be an integer from 0 to 600000"},
        {R"({"retry_after_s":-1})", "retry_after_s must be an integer from 0 to 3600"},
        {R"({"down":1})", "down must be true or false"},
        {R"({"reject_value":5})", "reject_value must be a string"},
        {R"({"rate_429":0.5,"bogus":1})", "unknown key \\\"bogus\\\""},
        {R"([1])", "must be a JSON object"},
        {"{", "invalid JSON"},
    };
    for (const auto& [body, expect] : cases) {
        auto res = post("/_mock/faults", body);
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 400) << body;
        EXPECT_NE(res->body.find(expect), std::string::npos) << body << " -> " << res->body;
    }
    // All or nothing: rate_429 from the refused request with "bogus" was not applied.
    auto current = get_json("/_mock/faults");
    EXPECT_EQ(at(current, "/rate_429")->GetDouble(), 0.0);
    EXPECT_EQ(post(kUpsert, kOneContact)->status, 200);
}

TEST_F(FaultsTest, SettingsMergeAndReadBack) {
    set_faults(R"({"rate_429":0.25,"retry_after_s":3})");
    set_faults(R"({"rate_500":0.5,"reject_value":"BAD"})");
    auto f = get_json("/_mock/faults");
    EXPECT_EQ(at(f, "/rate_429")->GetDouble(), 0.25);
    EXPECT_EQ(int_at(f, "/retry_after_s"), 3);
    EXPECT_EQ(at(f, "/rate_500")->GetDouble(), 0.5);
    EXPECT_EQ(str_at(f, "/reject_value"), "BAD");
    set_faults(R"({"reject_value":null})");
    EXPECT_EQ(str_at(get_json("/_mock/faults"), "/reject_value"), "");
}

TEST_F(FaultsTest, SameSeedGivesSameFaultSequence) {
    auto run = [&] {
        set_faults(R"({"seed":42,"rate_500":0.5})");
        std::string pattern;
        for (int i = 0; i < 24; ++i) pattern += post("/webhook", R"({"events":[]})")->status == 500 ? 'E' : '.';
        return pattern;
    };
    std::string first = run();
    EXPECT_NE(first.find('E'), std::string::npos) << first;
    EXPECT_NE(first.find('.'), std::string::npos) << first;
    EXPECT_EQ(run(), first);
}

}  // namespace
}  // namespace crmsync::mock_crm::testing
