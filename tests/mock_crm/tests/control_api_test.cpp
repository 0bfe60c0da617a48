// Auth, /_mock endpoints, stats, routing, concurrency and keep-alive.
#include "mock_crm_fixture.h"

#include <atomic>
#include <thread>

namespace crmsync::mock_crm::testing {
namespace {

const char* kUpsert = "/crm/v3/objects/contacts/batch/upsert";

std::string contact(const std::string& email) {
    return R"({"inputs":[{"idProperty":"email","id":")" + email + R"(","properties":{"firstname":"X"}}]})";
}

class ControlApiTest : public MockCrmTest {};

TEST_F(ControlApiTest, TokenIsRequiredOnCrmEndpointsOnly) {
    MockCrmOptions options;
    options.token = "s3cret";
    start_server(options);
    for (const httplib::Headers& headers :
         {httplib::Headers{}, httplib::Headers{{"Authorization", "Bearer wrong"}},
          httplib::Headers{{"Authorization", "s3cret"}}}) {
        auto res = post(kUpsert, contact("a@example.com"), headers);
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 401);
        auto body = parse(res->body);
        EXPECT_EQ(str_at(body, "/status"), "error");
        EXPECT_EQ(str_at(body, "/category"), "INVALID_AUTHENTICATION");
        EXPECT_FALSE(str_at(body, "/message").empty());
    }
    EXPECT_EQ(post("/webhook", R"({"events":[]})")->status, 401);
    EXPECT_EQ(del("/services/data/v59.0/sobjects/Contact/Email/a")->status, 401);
    EXPECT_TRUE(state().ObjectEmpty());  // /_mock needs no token

    auto ok = post(kUpsert, contact("a@example.com"), {{"Authorization", "Bearer s3cret"}});
    EXPECT_EQ(ok->status, 200);
    EXPECT_EQ(int_at(stats(), "/requests/by_status/401"), 5);
}

TEST_F(ControlApiTest, StatsCountRequestsByStatusAndRoute) {
    post(kUpsert, contact("a@example.com"));
    post(kUpsert, "{");
    post("/crm/v3/objects/contacts/batch/read", R"({"idProperty":"email","inputs":[{"id":"a@example.com"}]})");
    post("/webhook", R"({"events":[]})");
    get("/nowhere");
    get("/_mock/state");  // not counted
    auto st = stats();
    EXPECT_EQ(int_at(st, "/requests/total"), 5);
    EXPECT_EQ(int_at(st, "/requests/by_status/200"), 3);
    EXPECT_EQ(int_at(st, "/requests/by_status/400"), 1);
    EXPECT_EQ(int_at(st, "/requests/by_status/404"), 1);
    EXPECT_EQ(int_at(st, "/requests/by_route/hubspot.batch_upsert"), 2);
    EXPECT_EQ(int_at(st, "/requests/by_route/hubspot.batch_read"), 1);
    EXPECT_EQ(int_at(st, "/requests/by_route/webhook"), 1);
    EXPECT_EQ(int_at(st, "/requests/by_route/unknown"), 1);
    EXPECT_EQ(int_at(st, "/records/stored"), 1);
    for (const char* key : {"/latency_ms/count", "/latency_ms/p50", "/latency_ms/p95", "/latency_ms/p99",
                            "/latency_ms/max", "/idempotency_keys/distinct", "/idempotency_keys/repeated",
                            "/records/upserted", "/records/deleted", "/records/rejected",
                            "/records/duplicates", "/records/order_violations"}) {
        EXPECT_NE(at(st, key), nullptr) << key;
    }
}

TEST_F(ControlApiTest, IdempotencyKeysCountDistinctAndRepeated) {
    post(kUpsert, contact("a@example.com"), {{"Idempotency-Key", "0/1/1-0/1/1"}});
    post(kUpsert, contact("a@example.com"), {{"Idempotency-Key", "0/1/1-0/1/1"}});  // a retry
    post(kUpsert, contact("b@example.com"), {{"Idempotency-Key", "0/2/1-0/2/1"}});
    auto st = stats();
    EXPECT_EQ(int_at(st, "/idempotency_keys/distinct"), 2);
    EXPECT_EQ(int_at(st, "/idempotency_keys/repeated"), 1);
}

TEST_F(ControlApiTest, ResetClearsStateStatsAndFaults) {
    post(kUpsert, contact("a@example.com"));
    set_faults(R"({"rate_429":0.5,"reject_value":"X"})");
    auto res = post("/_mock/reset", "");
    ASSERT_EQ(res->status, 200);
    EXPECT_TRUE(state().ObjectEmpty());
    auto st = stats();
    EXPECT_EQ(int_at(st, "/requests/total"), 0);
    EXPECT_EQ(int_at(st, "/records/upserted"), 0);
    auto f = get_json("/_mock/faults");
    EXPECT_EQ(at(f, "/rate_429")->GetDouble(), 0.0);
    EXPECT_EQ(str_at(f, "/reject_value"), "");
    // Ids start over too: a reset mock is a fresh CRM.
    auto up = parse(post(kUpsert, contact("z@example.com"))->body);
    EXPECT_EQ(str_at(up, "/results/0/id"), "100000001");
}

TEST_F(ControlApiTest, StateCanBeFilteredByObjectAndKey) {
    post(kUpsert, contact("a@example.com"));
    post(kUpsert, contact("b@example.com"));
    create_property("deals", R"({"name":"deal_id","label":"Deal id","type":"string","fieldType":"text","groupName":"dealinformation","hasUniqueValue":true})");
    ASSERT_EQ(post("/crm/v3/objects/deals/batch/upsert",
                   R"({"inputs":[{"idProperty":"deal_id","id":"d1","properties":{}}]})")->status,
              200);
    auto only_contacts = get_json("/_mock/state?object=contacts");
    EXPECT_EQ(only_contacts.MemberCount(), 1u);
    EXPECT_EQ(at(only_contacts, "/contacts")->MemberCount(), 2u);
    auto one = get_json("/_mock/state?object=contacts&key=b%40example.com");
    EXPECT_EQ(at(one, "/contacts")->MemberCount(), 1u);
    EXPECT_NE(at(one, "/contacts/b@example.com"), nullptr);
    // Keys are sorted, so dumps diff cleanly.
    auto raw = get("/_mock/state")->body;
    EXPECT_LT(raw.find("a@example.com"), raw.find("b@example.com"));
    EXPECT_LT(raw.find("\"contacts\""), raw.find("\"deals\""));
}

TEST_F(ControlApiTest, UnknownEndpointsAre404) {
    EXPECT_EQ(post("/crm/v3/objects/contacts/batch/frobnicate", "{}")->status, 404);
    EXPECT_EQ(get("/crm/v3/objects/contacts/batch/upsert")->status, 404);
    EXPECT_EQ(post("/services/data/v59.0/sobjects/Contact", "{}")->status, 404);
    EXPECT_EQ(get("/_mock/nothing")->status, 404);
    EXPECT_EQ(get("/_mock/health")->status, 200);
}

TEST_F(ControlApiTest, BodiesMustBeJson) {
    auto res = client().Post(kUpsert, contact("a@example.com"), "application/x-www-form-urlencoded");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 415);
    EXPECT_NE(str_at(parse(res->body), "/message").find("application/json"), std::string::npos) << res->body;
    // Past 8 KB cpp-httplib itself refuses a form-encoded body; the answer still explains.
    res = client().Post("/webhook", std::string(9000, ' '), "application/x-www-form-urlencoded");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 413);
    EXPECT_NE(res->body.find("application/json"), std::string::npos) << res->body;
    EXPECT_EQ(post(kUpsert, contact("a@example.com"), {})->status, 200);
    EXPECT_EQ(client().Post(kUpsert, contact("b@example.com"), "application/json; charset=utf-8")->status, 200);
}

TEST_F(ControlApiTest, ConcurrentKeepAliveClientsAllSucceed) {
    constexpr int kClients = 8, kRequests = 25;
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int c = 0; c < kClients; ++c) {
        threads.emplace_back([&, c] {
            httplib::Client client("127.0.0.1", port_);
            client.set_keep_alive(true);
            for (int r = 0; r < kRequests; ++r) {
                std::string body = contact("c" + std::to_string(c) + "r" + std::to_string(r) + "@example.com");
                auto res = client.Post(kUpsert, body, "application/json");
                if (res && res->status == 200) ++ok;
            }
        });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(ok.load(), kClients * kRequests);
    EXPECT_EQ(at(state(), "/contacts")->MemberCount(), size_t{kClients * kRequests});
}

TEST_F(ControlApiTest, ManyIdleKeepAliveConnectionsDoNotStarveNewOnes) {
    // Each open keep-alive connection holds a server thread. With long keep-alive, a pool
    // smaller than the open connections would leave the last clients waiting until timeout.
    MockCrmOptions options;
    options.keep_alive_timeout_s = 60;
    start_server(options);
    constexpr int kOpen = 12;
    std::vector<std::unique_ptr<httplib::Client>> clients;
    for (int i = 0; i < kOpen; ++i) {
        auto c = std::make_unique<httplib::Client>("127.0.0.1", port_);
        c->set_keep_alive(true);
        c->set_read_timeout(5, 0);
        auto res = c->Get("/_mock/health");
        ASSERT_TRUE(res) << "client " << i << " got no answer while " << i << " connections were open";
        clients.push_back(std::move(c));
    }
    for (auto& c : clients) EXPECT_TRUE(c->Get("/_mock/health"));
    clients.clear();  // close before the server stops, or its threads wait out the keep-alive
}

}  // namespace
}  // namespace crmsync::mock_crm::testing
