// Webhook: plugin messages verbatim; duplicates, per-key order, whole-request rejection.
#include "mock_crm_fixture.h"

#include "commit_time.h"

namespace crmsync::mock_crm::testing {
namespace {

std::string upsert(const std::string& lsn, int seq, const std::string& key, const std::string& props,
                   const std::string& object = "contacts") {
    return R"({"action":"upsert","object":")" + object + R"(","key":")" + key +
           R"(","table":"public.contacts","commit_lsn":")" + lsn + R"(","seq":)" + std::to_string(seq) +
           R"(,"xid":761,"commit_time":"2026-11-24T10:00:00.123456Z","record":{"id":")" + key +
           R"(","properties":)" + props + "}}";
}

std::string delete_event(const std::string& lsn, int seq, const std::string& key) {
    return R"({"action":"delete","object":"contacts","key":")" + key + R"(","commit_lsn":")" + lsn +
           R"(","seq":)" + std::to_string(seq) + R"(,"commit_time":"2026-11-24T10:00:00Z","record":{"id":")" +
           key + R"(","properties":{}}})";
}

std::string events(const std::vector<std::string>& list) {
    std::string body = R"({"events":[)";
    for (size_t i = 0; i < list.size(); ++i) body += (i ? "," : "") + list[i];
    return body + "]}";
}

class WebhookApiTest : public MockCrmTest {
protected:
    httplib::Result deliver(const std::vector<std::string>& list) const { return post("/webhook", events(list)); }
};

TEST_F(WebhookApiTest, UpsertMergesTypedValuesAndDeleteTruncateMessageApply) {
    auto res = deliver({upsert("0/16B37A0", 1, "ann@example.com",
                               R"({"name":"Ann","n":3.14159265358979323846,"tags":["a","b"],"doc":{"k":1},"ok":true})"),
                        upsert("0/16B37A0", 2, "bob@example.com", R"({"name":"Bob"})"),
                        upsert("0/16B3800", 1, "ann@example.com", R"({"name":"Anne","phone":null})"),
                        R"({"action":"message","commit_lsn":"0/16B3900","seq":1,"prefix":"crmsync","content":"hi"})",
                        upsert("0/16B3900", 2, "x1", "{}", "deals")});
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(int_at(parse(res->body), "/accepted"), 5);

    auto raw = get("/_mock/state")->body;
    EXPECT_NE(raw.find(R"("n":3.14159265358979323846)"), std::string::npos) << raw;
    auto s = parse(raw);
    EXPECT_EQ(str_at(s, "/contacts/ann@example.com/name"), "Anne");
    EXPECT_TRUE(at(s, "/contacts/ann@example.com/phone")->IsNull());
    EXPECT_EQ(at(s, "/contacts/ann@example.com/tags")->Size(), 2u);
    EXPECT_EQ(int_at(s, "/contacts/ann@example.com/doc/k"), 1);
    EXPECT_TRUE(at(s, "/contacts/ann@example.com/ok")->GetBool());

    ASSERT_EQ(deliver({delete_event("0/16B4000", 1, "bob@example.com")})->status, 200);
    s = state();
    EXPECT_EQ(at(s, "/contacts/bob@example.com"), nullptr);
    EXPECT_NE(at(s, "/contacts/ann@example.com"), nullptr);

    ASSERT_EQ(deliver({R"({"action":"truncate","object":"contacts","commit_lsn":"0/16B5000","seq":1})"})->status, 200);
    s = state();
    EXPECT_EQ(at(s, "/contacts"), nullptr);
    EXPECT_NE(at(s, "/deals/x1"), nullptr);  // other objects untouched

    auto st = stats();
    EXPECT_EQ(int_at(st, "/records/upserted"), 4);
    EXPECT_EQ(int_at(st, "/records/deleted"), 1);
    EXPECT_EQ(int_at(st, "/records/truncates"), 1);
    EXPECT_EQ(int_at(st, "/records/messages"), 1);
    EXPECT_EQ(int_at(st, "/records/duplicates"), 0);
    EXPECT_EQ(int_at(st, "/records/order_violations"), 0);
}

TEST_F(WebhookApiTest, RedeliveredEventsAreCountedAndNotReapplied) {
    ASSERT_EQ(deliver({upsert("0/100", 1, "k", R"({"v":1})"), upsert("0/200", 1, "k", R"({"v":2})")})->status, 200);
    // The sender crashed before confirming: both come again, then a new one.
    auto res = deliver({upsert("0/100", 1, "k", R"({"v":1})"), upsert("0/200", 1, "k", R"({"v":2})"),
                        upsert("0/300", 1, "k", R"({"v":3})")});
    ASSERT_EQ(res->status, 200) << res->body;
    auto body = parse(res->body);
    EXPECT_EQ(int_at(body, "/duplicates"), 2);
    EXPECT_EQ(int_at(body, "/accepted"), 1);
    EXPECT_EQ(int_at(state(), "/contacts/k/v"), 3);
    auto st = stats();
    EXPECT_EQ(int_at(st, "/records/duplicates"), 2);
    EXPECT_EQ(int_at(st, "/records/order_violations"), 0);  // a redelivery is not a reordering
    EXPECT_EQ(int_at(st, "/records/upserted"), 3);

    // Re-applying the old event would have reverted v to 1.
    ASSERT_EQ(deliver({upsert("0/100", 1, "k", R"({"v":1})")})->status, 200);
    EXPECT_EQ(int_at(state(), "/contacts/k/v"), 3);
}

TEST_F(WebhookApiTest, OutOfOrderEventsPerKeyAreCounted) {
    // seq breaks ties within a transaction; LSNs compare as 64-bit numbers, not as text.
    ASSERT_EQ(deliver({upsert("1/0", 2, "k", R"({"v":"new"})"), upsert("0/FFFFFFFF", 1, "other", "{}")})->status, 200);
    auto res = deliver({upsert("1/0", 1, "k", R"({"v":"old"})"), upsert("0/A", 1, "k", R"({"v":"older"})")});
    ASSERT_EQ(res->status, 200);
    EXPECT_EQ(int_at(parse(res->body), "/order_violations"), 2);
    EXPECT_EQ(int_at(stats(), "/records/order_violations"), 2);
    // A naive receiver applies them: the state shows the damage.
    EXPECT_EQ(str_at(state(), "/contacts/k/v"), "older");

    // In order for another key: no violation. A delete remembers its position...
    ASSERT_EQ(deliver({upsert("2/0", 1, "z", "{}"), delete_event("2/10", 1, "z")})->status, 200);
    EXPECT_EQ(int_at(stats(), "/records/order_violations"), 2);
    ASSERT_EQ(deliver({upsert("2/5", 1, "z", "{}")})->status, 200);  // older than the delete
    EXPECT_EQ(int_at(stats(), "/records/order_violations"), 3);
    // ...and so does a truncate, for every key of the object.
    ASSERT_EQ(deliver({R"({"action":"truncate","object":"contacts","commit_lsn":"3/0","seq":1})"})->status, 200);
    ASSERT_EQ(deliver({upsert("2/F0", 1, "k", "{}")})->status, 200);
    EXPECT_EQ(int_at(stats(), "/records/order_violations"), 4);
}

TEST_F(WebhookApiTest, PoisonEventRejectsWholeRequest) {
    set_faults(R"({"reject_value":"POISON"})");
    auto res = deliver({upsert("0/100", 1, "good", R"({"name":"fine"})"),
                        upsert("0/100", 2, "bad", R"({"n":1,"name":"has POISON in it"})")});
    ASSERT_EQ(res->status, 400);
    auto body = parse(res->body);
    EXPECT_FALSE(str_at(body, "/error").empty());
    ASSERT_EQ(at(body, "/rejected")->Size(), 1u);
    EXPECT_EQ(int_at(body, "/rejected/0/index"), 1);
    EXPECT_EQ(str_at(body, "/rejected/0/event_id"), "0/100/2");
    EXPECT_NE(str_at(body, "/rejected/0/message").find("name"), std::string::npos);
    EXPECT_TRUE(state().ObjectEmpty());
    EXPECT_EQ(int_at(stats(), "/records/rejected"), 1);

    // The sender splits and retries the good event: it was not marked applied, so it applies.
    res = deliver({upsert("0/100", 1, "good", R"({"name":"fine"})")});
    ASSERT_EQ(res->status, 200);
    EXPECT_EQ(int_at(parse(res->body), "/duplicates"), 0);
    EXPECT_EQ(str_at(state(), "/contacts/good/name"), "fine");
}

TEST_F(WebhookApiTest, MalformedEventsAreRejectedWithTheirIndex) {
    const std::pair<std::string, std::string> cases[] = {
        {R"({"action":"upsert","object":"c","key":"k","commit_lsn":"nope","seq":1,"record":{"properties":{}}})", "commit_lsn"},
        {R"({"action":"upsert","object":"c","key":"k","commit_lsn":"0/1","record":{"properties":{}}})", "seq"},
        {R"({"action":"upsert","object":"c","key":"k","commit_lsn":"0/1","seq":0,"record":{"properties":{}}})", "seq"},
        {R"({"action":"delete","object":"c","key":null,"commit_lsn":"0/1","seq":1,"error":"old tuple lacks id"})", "old tuple lacks id"},
        {R"({"action":"commit","commit_lsn":"0/1","seq":1})", "commit markers"},
        {R"({"action":"frobnicate","commit_lsn":"0/1","seq":1})", "action"},
        {R"({"action":"upsert","object":"c","key":"k","commit_lsn":"0/1","seq":1})", "record"},
        {R"({"action":"upsert","object":"c","key":"k","commit_lsn":"0/1","seq":1,"record":{"properties":[]}})", "record.properties"},
        {R"({"action":"upsert","key":"k","commit_lsn":"0/1","seq":1,"record":{"properties":{}}})", "object"},
        {R"({"action":"upsert","object":"c","key":"k","commit_lsn":"0/1","seq":1,"commit_time":"yesterday","record":{"properties":{}}})", "commit_time"},
        {R"("just a string")", "object"},
    };
    for (const auto& [event, expect] : cases) {
        auto res = deliver({upsert("0/50", 1, "fine", "{}"), event});
        ASSERT_TRUE(res);
        ASSERT_EQ(res->status, 400) << event;
        auto body = parse(res->body);
        EXPECT_EQ(int_at(body, "/rejected/0/index"), 1) << res->body;
        EXPECT_NE(str_at(body, "/rejected/0/message").find(expect), std::string::npos) << event << " -> " << res->body;
    }
    EXPECT_TRUE(state().ObjectEmpty());
}

TEST_F(WebhookApiTest, BadBodiesGet400) {
    for (const char* body : {"", "{", "[]", "{}", R"({"events":{}})"}) {
        auto res = post("/webhook", body);
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 400) << body;
        EXPECT_FALSE(str_at(parse(res->body), "/error").empty()) << res->body;
    }
}

TEST_F(WebhookApiTest, LatencyComesFromEachEventsCommitTime) {
    std::string props = R"({"v":1})";
    std::string e1 = upsert("0/1", 1, "a", props);
    std::string e2 = upsert("0/1", 2, "b", props);
    ASSERT_EQ(deliver({e1, e2})->status, 200);
    auto st = stats();
    EXPECT_EQ(int_at(st, "/latency_ms/count"), 2);
    // Committed at 2026-11-24T10:00:00.123456Z: the latency is at least now minus that.
    double floor_ms = double(wall_clock_now_us() - *parse_commit_time_us("2026-11-24T10:00:00.123456Z")) / 1000.0;
    EXPECT_GE(at(st, "/latency_ms/max")->GetDouble(), floor_ms * 0.9);
    EXPECT_LE(at(st, "/latency_ms/p50")->GetDouble(), at(st, "/latency_ms/max")->GetDouble());
}

TEST_F(WebhookApiTest, CustomWebhookPath) {
    MockCrmOptions options;
    options.webhook_path = "/hooks/crm";
    start_server(options);
    EXPECT_EQ(post("/hooks/crm", events({upsert("0/1", 1, "a", "{}")}))->status, 200);
    EXPECT_EQ(post("/webhook", events({upsert("0/1", 2, "b", "{}")}))->status, 404);
    EXPECT_NE(at(state(), "/contacts/a"), nullptr);
}

}  // namespace
}  // namespace crmsync::mock_crm::testing
