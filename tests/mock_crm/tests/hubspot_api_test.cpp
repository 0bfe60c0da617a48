// HubSpot CRM v3 batch endpoints: upsert/merge, read (200/207), archive, limits, rejections.
#include "mock_crm_fixture.h"

namespace crmsync::mock_crm::testing {
namespace {

const char* kUpsert = "/crm/v3/objects/contacts/batch/upsert";
const char* kRead = "/crm/v3/objects/contacts/batch/read";
const char* kArchive = "/crm/v3/objects/contacts/batch/archive";

std::string upsert_input(const std::string& email, const std::string& properties) {
    return R"({"idProperty":"email","id":")" + email + R"(","properties":)" + properties + "}";
}

std::string upsert_body(const std::vector<std::string>& inputs) {
    std::string body = R"({"inputs":[)";
    for (size_t i = 0; i < inputs.size(); ++i) body += (i ? "," : "") + inputs[i];
    return body + "]}";
}

class HubSpotApiTest : public MockCrmTest {};

TEST_F(HubSpotApiTest, UpsertCreatesRecordsWithDistinctStableIds) {
    auto res = post(kUpsert, upsert_body({upsert_input("ann@example.com", R"({"firstname":"Ann"})"),
                                          upsert_input("bob@example.com", R"({"firstname":"Bob"})")}));
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    auto body = parse(res->body);
    EXPECT_EQ(str_at(body, "/status"), "COMPLETE");
    ASSERT_EQ(at(body, "/results")->Size(), 2u);
    EXPECT_TRUE(at(body, "/results/0/new")->GetBool());
    std::string ann_id = str_at(body, "/results/0/id");
    std::string bob_id = str_at(body, "/results/1/id");
    EXPECT_NE(ann_id, bob_id);
    EXPECT_EQ(ann_id.find_first_not_of("0123456789"), std::string::npos) << ann_id;
    EXPECT_EQ(str_at(body, "/results/1/properties/firstname"), "Bob");

    // The same record again keeps its id and is not new.
    auto again = post(kUpsert, upsert_body({upsert_input("ann@example.com", R"({"firstname":"Anne"})")}));
    ASSERT_TRUE(again);
    auto again_body = parse(again->body);
    EXPECT_EQ(str_at(again_body, "/results/0/id"), ann_id);
    EXPECT_FALSE(at(again_body, "/results/0/new")->GetBool());

    auto s = state();
    EXPECT_EQ(str_at(s, "/contacts/ann@example.com/firstname"), "Anne");
    EXPECT_EQ(str_at(s, "/contacts/bob@example.com/firstname"), "Bob");
    // HubSpot sets the idProperty on the record it creates.
    EXPECT_EQ(str_at(s, "/contacts/bob@example.com/email"), "bob@example.com");
    EXPECT_EQ(int_at(stats(), "/records/upserted"), 3);
}

TEST_F(HubSpotApiTest, UpsertMergesPropertiesAndEmptyStringClears) {
    ASSERT_EQ(post(kUpsert, upsert_body({upsert_input("ann@example.com",
                                                      R"({"firstname":"Ann","lastname":"Lee","city":"Oslo"})")}))
                  ->status,
              200);
    ASSERT_EQ(post(kUpsert, upsert_body({upsert_input("ann@example.com", R"({"lastname":"","phone":"555"})")}))
                  ->status,
              200);
    auto s = state();
    EXPECT_EQ(str_at(s, "/contacts/ann@example.com/firstname"), "Ann");  // missing: kept
    EXPECT_EQ(str_at(s, "/contacts/ann@example.com/city"), "Oslo");
    EXPECT_EQ(str_at(s, "/contacts/ann@example.com/lastname"), "");      // "" stores ""
    EXPECT_EQ(str_at(s, "/contacts/ann@example.com/phone"), "555");
}

TEST_F(HubSpotApiTest, UpsertStoresValuesAsStringsWithExactDigits) {
    create_property("contacts", R"({"name":"amount","label":"Amount","type":"number","fieldType":"number","groupName":"contactinformation"})");
    create_property("contacts", R"({"name":"vip","label":"VIP","type":"bool","fieldType":"booleancheckbox","groupName":"contactinformation"})");
    create_property("contacts", R"({"name":"gone","label":"Gone","type":"string","fieldType":"text","groupName":"contactinformation"})");
    auto res = post(kUpsert, upsert_body({upsert_input(
                                 "ann@example.com", R"({"amount":12345678901234567890.123,"vip":true,"gone":null})")}));
    ASSERT_EQ(res->status, 200) << res->body;
    auto s = state();
    EXPECT_EQ(str_at(s, "/contacts/ann@example.com/amount"), "12345678901234567890.123");
    EXPECT_EQ(str_at(s, "/contacts/ann@example.com/vip"), "true");
    EXPECT_EQ(str_at(s, "/contacts/ann@example.com/gone"), "");
}

TEST_F(HubSpotApiTest, UpsertRejectsNonScalarPropertyNamingIt) {
    auto res = post(kUpsert, upsert_body({upsert_input("ann@example.com", R"({"tags":["a"]})")}));
    ASSERT_EQ(res->status, 400);
    auto body = parse(res->body);
    EXPECT_EQ(str_at(body, "/category"), "VALIDATION_ERROR");
    EXPECT_NE(str_at(body, "/message").find("inputs[0].properties.tags"), std::string::npos) << res->body;
    EXPECT_EQ(state().ObjectEmpty(), true);
}

TEST_F(HubSpotApiTest, BatchOf101InputsIsRefusedAnd100Accepted) {
    std::vector<std::string> inputs;
    for (int i = 0; i < 101; ++i)
        inputs.push_back(upsert_input("u" + std::to_string(i) + "@example.com", R"({"firstname":"1"})"));
    auto res = post(kUpsert, upsert_body(inputs));
    ASSERT_EQ(res->status, 400);
    EXPECT_NE(res->body.find("101"), std::string::npos) << res->body;
    EXPECT_TRUE(state().ObjectEmpty());

    inputs.pop_back();
    res = post(kUpsert, upsert_body(inputs));
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(at(state(), "/contacts")->MemberCount(), 100u);
}

TEST_F(HubSpotApiTest, DuplicateIdsInOneBatchAreRefused) {
    auto res = post(kUpsert, upsert_body({upsert_input("ann@example.com", R"({"firstname":"1"})"),
                                          upsert_input("ANN@example.com", R"({"firstname":"2"})")}));
    ASSERT_EQ(res->status, 400);
    EXPECT_NE(res->body.find("Duplicate IDs"), std::string::npos) << res->body;
}

TEST_F(HubSpotApiTest, PoisonInputsRejectWholeBatchNamingEachId) {
    set_faults(R"({"reject_value":"POISON"})");
    auto res = post(kUpsert, upsert_body({upsert_input("ann@example.com", R"({"firstname":"Ann"})"),
                                          upsert_input("bad1@example.com", R"({"firstname":"xPOISONx"})"),
                                          upsert_input("bad2@example.com", R"({"city":"POISON"})")}));
    ASSERT_EQ(res->status, 400);
    auto body = parse(res->body);
    EXPECT_EQ(str_at(body, "/status"), "error");
    EXPECT_EQ(str_at(body, "/category"), "VALIDATION_ERROR");
    ASSERT_NE(at(body, "/errors"), nullptr);
    ASSERT_EQ(at(body, "/errors")->Size(), 2u);
    EXPECT_EQ(str_at(body, "/errors/0/context/id/0"), "bad1@example.com");
    EXPECT_EQ(str_at(body, "/errors/1/context/id/0"), "bad2@example.com");
    EXPECT_TRUE(state().ObjectEmpty());  // the good input was not applied either
    EXPECT_EQ(int_at(stats(), "/records/rejected"), 2);

    // Without the poison the sender's retry of the good input goes through.
    res = post(kUpsert, upsert_body({upsert_input("ann@example.com", R"({"firstname":"Ann"})")}));
    EXPECT_EQ(res->status, 200);
}

TEST_F(HubSpotApiTest, BatchReadReturns207ForMissingIds) {
    ASSERT_EQ(post(kUpsert, upsert_body({upsert_input("ann@example.com", R"({"firstname":"Ann","city":"Oslo"})")}))
                  ->status,
              200);
    auto res = post(kRead, R"({"idProperty":"email","inputs":[{"id":"ann@example.com"},{"id":"nobody@example.com"}],"properties":["firstname","phone"]})");
    ASSERT_EQ(res->status, 207) << res->body;
    auto body = parse(res->body);
    ASSERT_EQ(at(body, "/results")->Size(), 1u);
    EXPECT_EQ(str_at(body, "/results/0/properties/firstname"), "Ann");
    EXPECT_TRUE(at(body, "/results/0/properties/phone")->IsNull());       // asked, unset
    EXPECT_EQ(at(body, "/results/0/properties/city"), nullptr);           // not asked
    EXPECT_EQ(int_at(body, "/numErrors"), 1);
    EXPECT_EQ(str_at(body, "/errors/0/category"), "OBJECT_NOT_FOUND");
    EXPECT_EQ(str_at(body, "/errors/0/context/ids/0"), "nobody@example.com");

    res = post(kRead, R"({"idProperty":"email","inputs":[{"id":"ann@example.com"}]})");
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(str_at(parse(res->body), "/results/0/properties/city"), "Oslo");
}

TEST_F(HubSpotApiTest, BatchReadWithoutIdPropertyUsesObjectIds) {
    auto up = post(kUpsert, upsert_body({upsert_input("ann@example.com", R"({"firstname":"Ann"})")}));
    std::string id = str_at(parse(up->body), "/results/0/id");
    auto res = post(kRead, R"({"inputs":[{"id":")" + id + R"("}]})");
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(str_at(parse(res->body), "/results/0/properties/firstname"), "Ann");
}

TEST_F(HubSpotApiTest, ArchiveRemovesByObjectIdAndIgnoresUnknownIds) {
    auto up = post(kUpsert, upsert_body({upsert_input("ann@example.com", R"({"firstname":"Ann"})"),
                                         upsert_input("bob@example.com", R"({"firstname":"Bob"})")}));
    std::string ann_id = str_at(parse(up->body), "/results/0/id");
    auto res = post(kArchive, R"({"inputs":[{"id":")" + ann_id + R"("},{"id":"999999999"},{"id":"x"}]})");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 204);
    EXPECT_TRUE(res->body.empty());
    auto s = state();
    EXPECT_EQ(at(s, "/contacts/ann@example.com"), nullptr);
    EXPECT_NE(at(s, "/contacts/bob@example.com"), nullptr);
    EXPECT_EQ(int_at(stats(), "/records/deleted"), 1);

    // Archived ids are not reused: the record comes back under a new id.
    auto again = post(kUpsert, upsert_body({upsert_input("ann@example.com", R"({"firstname":"Ann"})")}));
    auto body = parse(again->body);
    EXPECT_TRUE(at(body, "/results/0/new")->GetBool());
    EXPECT_NE(str_at(body, "/results/0/id"), ann_id);
    EXPECT_EQ(post(kArchive, R"({"inputs":[{"id":")" + ann_id + R"("}]})")->status, 204);
    EXPECT_NE(at(state(), "/contacts/ann@example.com"), nullptr);
}

TEST_F(HubSpotApiTest, BadBodiesGet400NamingTheProblem) {
    struct Case {
        std::string body;
        std::string expect_in_message;
    };
    const Case cases[] = {
        {"{not json", "invalid JSON"},
        {"", "invalid JSON"},
        {"[]", "expected an object"},
        {"{}", "\\\"inputs\\\""},
        {R"({"inputs":{}})", "must be an array"},
        {R"({"inputs":[42]})", "inputs[0] must be an object"},
        {R"({"inputs":[{"idProperty":"email","properties":{}}]})", "inputs[0].id"},
        {R"({"inputs":[{"id":"a","properties":{}}]})", "inputs[0].idProperty"},
        {R"({"inputs":[{"idProperty":"email","id":"a"}]})", "inputs[0].properties"},
        {"{\"inputs\":[{\"idProperty\":\"email\",\"id\":\"\xff\"}]}", "invalid JSON"},
    };
    for (const Case& c : cases) {
        auto res = post(kUpsert, c.body);
        ASSERT_TRUE(res) << c.body;
        EXPECT_EQ(res->status, 400) << c.body;
        EXPECT_NE(res->body.find(c.expect_in_message), std::string::npos) << c.body << " -> " << res->body;
        EXPECT_NE(res->body.find("VALIDATION_ERROR"), std::string::npos) << res->body;
    }
    EXPECT_EQ(post(kRead, R"({"inputs":[{}]})")->status, 400);
    EXPECT_EQ(post(kArchive, "nope")->status, 400);
    EXPECT_TRUE(state().ObjectEmpty());
}

TEST_F(HubSpotApiTest, CommitTimeHeaderFeedsLatency) {
    httplib::Headers headers{{"X-Crmsync-Commit-Time", "2020-01-01T00:00:00.000001Z"}};
    ASSERT_EQ(post(kUpsert,
                   upsert_body({upsert_input("a@example.com", "{}"), upsert_input("b@example.com", "{}")}),
                   headers)
                  ->status,
              200);
    auto s = stats();
    EXPECT_EQ(int_at(s, "/latency_ms/count"), 2);  // one sample per record
    // Committed years ago: whatever the bucket rounding, far more than a day.
    EXPECT_GT(at(s, "/latency_ms/p50")->GetDouble(), 86400000.0);
}

}  // namespace
}  // namespace crmsync::mock_crm::testing

namespace crmsync::mock_crm::testing {
namespace {

// A private app's token carries the scopes ticked for the app ("Scopes"); a call it lacks one
// for answers 403 MISSING_SCOPES ("Error handling"), and the token info endpoint ("Private
// apps") lists them.
class HubSpotScopesTest : public MockCrmTest {
protected:
    void SetUp() override {
        MockCrmOptions options;
        options.token = "pat-deals-only";
        start_server(options);
        ASSERT_EQ(post("/_mock/tokens", R"({"tokens":["pat-deals-only","pat-all"],)"
                                        R"("scopes":{"pat-deals-only":["crm.objects.deals.write","crm.objects.deals.read"]}})")
                      ->status,
                  200);
    }
    httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
};

TEST_F(HubSpotScopesTest, ACallWithoutItsScopeIsRefusedWithTheScopeNamed) {
    auto refused = post(kUpsert, upsert_body({upsert_input("ann@example.com", "{}")}), bearer("pat-deals-only"));
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->status, 403);
    auto body = parse(refused->body);
    EXPECT_EQ(str_at(body, "/category"), "MISSING_SCOPES");
    EXPECT_EQ(str_at(body, "/errors/0/context/requiredGranularScopes/0"), "crm.objects.contacts.write");
    auto deals = post("/crm/v3/objects/deals/batch/upsert",
                      R"({"inputs":[{"idProperty":"hs_object_id","id":"1","properties":{"dealname":"D"}}]})",
                      bearer("pat-deals-only"));
    ASSERT_TRUE(deals);
    EXPECT_NE(deals->status, 403) << deals->body;
    auto all = post(kUpsert, upsert_body({upsert_input("ann@example.com", "{}")}), bearer("pat-all"));
    ASSERT_TRUE(all);
    EXPECT_EQ(all->status, 200) << all->body;
}

TEST_F(HubSpotScopesTest, TokenInfoListsTheScopes) {
    auto info = post("/oauth/v2/private-apps/get/access-token-info", R"({"tokenKey":"pat-deals-only"})");
    ASSERT_TRUE(info);
    ASSERT_EQ(info->status, 200) << info->body;
    auto body = parse(info->body);
    ASSERT_EQ(at(body, "/scopes")->Size(), 2u);
    EXPECT_EQ(str_at(body, "/scopes/0"), "crm.objects.deals.write");
    auto unknown = post("/oauth/v2/private-apps/get/access-token-info", R"({"tokenKey":"pat-nope"})");
    ASSERT_TRUE(unknown);
    EXPECT_EQ(unknown->status, 401);
}

}  // namespace
}  // namespace crmsync::mock_crm::testing
