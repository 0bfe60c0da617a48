// Salesforce REST: sObject Collections upsert, delete by external id, composite deletes.
#include "mock_crm_fixture.h"

#include "salesforce_api.h"

namespace crmsync::mock_crm::testing {
namespace {

const char* kUpsert = "/services/data/v59.0/composite/sobjects/Contact/Email";
const char* kComposite = "/services/data/v59.0/composite";

std::string contact(const std::string& email, const std::string& more = "") {
    return R"({"attributes":{"type":"Contact"},"Email":")" + email + "\"" + (more.empty() ? "" : "," + more) + "}";
}

std::string records_body(const std::vector<std::string>& records, bool all_or_none = false) {
    std::string body = std::string(R"({"allOrNone":)") + (all_or_none ? "true" : "false") + R"(,"records":[)";
    for (size_t i = 0; i < records.size(); ++i) body += (i ? "," : "") + records[i];
    return body + "]}";
}

std::string composite_delete(const std::vector<std::pair<std::string, std::string>>& refs_and_urls,
                             bool all_or_none = false) {
    std::string body = std::string(R"({"allOrNone":)") + (all_or_none ? "true" : "false") + R"(,"compositeRequest":[)";
    for (size_t i = 0; i < refs_and_urls.size(); ++i) {
        body += (i ? "," : "") + std::string(R"({"method":"DELETE","url":")") + refs_and_urls[i].second +
                R"(","referenceId":")" + refs_and_urls[i].first + "\"}";
    }
    return body + "]}";
}

class SalesforceApiTest : public MockCrmTest {};

TEST_F(SalesforceApiTest, UpsertCreatesThenUpdatesWithTypedValues) {
    declare_fields(R"({"sobject":"Contact","fields":[{"name":"Amount__c","type":"currency"},{"name":"Active__c","type":"boolean"}]})");
    auto res = patch(kUpsert, records_body({contact("ann@example.com",
                                                    R"("LastName":"Lee","Amount__c":12345678901234567890.125,"Active__c":true)")}));
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    auto body = parse(res->body);
    ASSERT_TRUE(body.IsArray());
    EXPECT_TRUE(at(body, "/0/success")->GetBool());
    EXPECT_TRUE(at(body, "/0/created")->GetBool());
    EXPECT_EQ(at(body, "/0/errors")->Size(), 0u);
    std::string id = str_at(body, "/0/id");
    EXPECT_EQ(id.size(), 18u);
    EXPECT_EQ(id.substr(0, 3), "003");  // Contact's key prefix

    // Update: merge, null clears, same id, created false.
    res = patch(kUpsert, records_body({contact("ann@example.com", R"("Phone":"555","Active__c":null)")}));
    ASSERT_EQ(res->status, 200) << res->body;
    body = parse(res->body);
    EXPECT_EQ(str_at(body, "/0/id"), id);
    EXPECT_FALSE(at(body, "/0/created")->GetBool());

    auto raw = get("/_mock/state");
    // Exact digits survive (no double rounding); "attributes" is not a field.
    EXPECT_NE(raw->body.find(R"("Amount__c":12345678901234567890.125)"), std::string::npos) << raw->body;
    auto s = parse(raw->body);
    EXPECT_EQ(at(s, "/Contact/ann@example.com/attributes"), nullptr);
    EXPECT_EQ(str_at(s, "/Contact/ann@example.com/LastName"), "Lee");
    EXPECT_EQ(str_at(s, "/Contact/ann@example.com/Phone"), "555");
    EXPECT_EQ(str_at(s, "/Contact/ann@example.com/Email"), "ann@example.com");
    EXPECT_TRUE(at(s, "/Contact/ann@example.com/Active__c")->IsNull());
}

TEST_F(SalesforceApiTest, PoisonRecordFailsAloneWhenNotAllOrNone) {
    set_faults(R"({"reject_value":"POISON"})");
    auto res = patch(kUpsert, records_body({contact("ann@example.com", R"("LastName":"Lee")"),
                                            contact("bad@example.com", R"("LastName":"POISON pill")"),
                                            contact("cid@example.com", R"("LastName":"Cid")")}));
    ASSERT_EQ(res->status, 200) << res->body;
    auto body = parse(res->body);
    ASSERT_EQ(body.Size(), 3u);
    EXPECT_TRUE(at(body, "/0/success")->GetBool());
    EXPECT_FALSE(at(body, "/1/success")->GetBool());
    EXPECT_EQ(str_at(body, "/1/errors/0/statusCode"), "FIELD_CUSTOM_VALIDATION_EXCEPTION");
    EXPECT_EQ(str_at(body, "/1/errors/0/fields/0"), "LastName");
    EXPECT_TRUE(at(body, "/2/success")->GetBool());
    auto s = state();
    EXPECT_NE(at(s, "/Contact/ann@example.com"), nullptr);
    EXPECT_EQ(at(s, "/Contact/bad@example.com"), nullptr);
    EXPECT_NE(at(s, "/Contact/cid@example.com"), nullptr);
    EXPECT_EQ(int_at(stats(), "/records/rejected"), 1);
    EXPECT_EQ(int_at(stats(), "/records/upserted"), 2);
}

TEST_F(SalesforceApiTest, AllOrNoneRollsBackEveryRecord) {
    auto res = patch(kUpsert, records_body({contact("ann@example.com"), R"({"LastName":"no email"})"},
                                           /*all_or_none=*/true));
    ASSERT_EQ(res->status, 200) << res->body;
    auto body = parse(res->body);
    EXPECT_EQ(str_at(body, "/0/errors/0/statusCode"), "ALL_OR_NONE_OPERATION_ROLLED_BACK");
    EXPECT_EQ(str_at(body, "/1/errors/0/statusCode"), "MISSING_ARGUMENT");
    EXPECT_TRUE(state().ObjectEmpty());
}

TEST_F(SalesforceApiTest, RecordWithoutExternalIdFailsAlone) {
    auto res = patch(kUpsert, records_body({R"({"attributes":{"type":"Contact"},"LastName":"X"})",
                                            contact("ann@example.com")}));
    auto body = parse(res->body);
    EXPECT_FALSE(at(body, "/0/success")->GetBool());
    EXPECT_EQ(str_at(body, "/0/errors/0/statusCode"), "MISSING_ARGUMENT");
    EXPECT_TRUE(at(body, "/1/success")->GetBool());
}

TEST_F(SalesforceApiTest, Over200RecordsIsRefused) {
    std::vector<std::string> records;
    for (int i = 0; i < 201; ++i) records.push_back(contact("u" + std::to_string(i) + "@example.com"));
    auto res = patch(kUpsert, records_body(records));
    ASSERT_EQ(res->status, 400);
    auto body = parse(res->body);
    EXPECT_EQ(str_at(body, "/0/errorCode"), "EXCEEDED_ID_LIMIT");
    EXPECT_TRUE(state().ObjectEmpty());
    records.pop_back();
    EXPECT_EQ(patch(kUpsert, records_body(records))->status, 200);
    EXPECT_EQ(at(state(), "/Contact")->MemberCount(), 200u);
}

TEST_F(SalesforceApiTest, DeleteByUrlEncodedExternalId) {
    ASSERT_EQ(patch(kUpsert, records_body({contact("ann+1@example.com")}))->status, 200);
    auto res = del("/services/data/v59.0/sobjects/Contact/Email/ann%2B1%40example.com");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 204);
    EXPECT_TRUE(state().ObjectEmpty());
    res = del("/services/data/v59.0/sobjects/Contact/Email/ann%2B1%40example.com");
    ASSERT_EQ(res->status, 404);
    EXPECT_EQ(str_at(parse(res->body), "/0/errorCode"), "NOT_FOUND");
    EXPECT_EQ(int_at(stats(), "/records/deleted"), 1);
}

TEST_F(SalesforceApiTest, CompositeDeletesReportPerSubrequest) {
    ASSERT_EQ(patch(kUpsert, records_body({contact("ann@example.com"), contact("bob@example.com")}))->status, 200);
    auto res = post(kComposite, composite_delete({{"r1", "/services/data/v59.0/sobjects/Contact/Email/ann%40example.com"},
                                                  {"r2", "/services/data/v59.0/sobjects/Contact/Email/nobody%40example.com"}}));
    ASSERT_EQ(res->status, 200) << res->body;
    auto body = parse(res->body);
    EXPECT_EQ(str_at(body, "/compositeResponse/0/referenceId"), "r1");
    EXPECT_EQ(int_at(body, "/compositeResponse/0/httpStatusCode"), 204);
    EXPECT_TRUE(at(body, "/compositeResponse/0/body")->IsNull());
    EXPECT_TRUE(at(body, "/compositeResponse/0/httpHeaders")->IsObject());
    EXPECT_EQ(int_at(body, "/compositeResponse/1/httpStatusCode"), 404);
    EXPECT_EQ(str_at(body, "/compositeResponse/1/body/0/errorCode"), "NOT_FOUND");
    auto s = state();
    EXPECT_EQ(at(s, "/Contact/ann@example.com"), nullptr);
    EXPECT_NE(at(s, "/Contact/bob@example.com"), nullptr);
}

TEST_F(SalesforceApiTest, CompositeAllOrNoneKeepsEverythingOnFailure) {
    ASSERT_EQ(patch(kUpsert, records_body({contact("ann@example.com")}))->status, 200);
    auto res = post(kComposite, composite_delete({{"r1", "/services/data/v59.0/sobjects/Contact/Email/ann%40example.com"},
                                                  {"r2", "/services/data/v59.0/sobjects/Contact/Email/nobody"}},
                                                 /*all_or_none=*/true));
    ASSERT_EQ(res->status, 200) << res->body;
    auto body = parse(res->body);
    EXPECT_EQ(int_at(body, "/compositeResponse/0/httpStatusCode"), 400);
    EXPECT_EQ(str_at(body, "/compositeResponse/0/body/0/errorCode"), "PROCESSING_HALTED");
    EXPECT_NE(at(state(), "/Contact/ann@example.com"), nullptr);
}

TEST_F(SalesforceApiTest, CompositeOver25SubrequestsIsRefused) {
    std::vector<std::pair<std::string, std::string>> subs;
    for (int i = 0; i < 26; ++i)
        subs.emplace_back("r" + std::to_string(i), "/services/data/v59.0/sobjects/Contact/Email/x" + std::to_string(i));
    auto res = post(kComposite, composite_delete(subs));
    ASSERT_EQ(res->status, 400);
    EXPECT_NE(res->body.find("26"), std::string::npos) << res->body;
    subs.pop_back();
    EXPECT_EQ(post(kComposite, composite_delete(subs))->status, 200);
}

TEST_F(SalesforceApiTest, BadBodiesGet400InSalesforceShape) {
    const std::pair<std::string, std::string> cases[] = {
        {"{oops", "invalid JSON"},
        {"[]", "expected an object"},
        {R"({"records":{}})", "records"},
        {R"({"records":[1]})", "records[0]"},
        {R"({"allOrNone":"yes","records":[]})", "allOrNone"},
        {R"({"records":[{"attributes":{"type":5},"Email":"a"}]})", "attributes.type"},
    };
    for (const auto& [body, expect] : cases) {
        auto res = patch(kUpsert, body);
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 400) << body;
        auto doc = parse(res->body);
        ASSERT_TRUE(doc.IsArray()) << res->body;
        EXPECT_NE(str_at(doc, "/0/message").find(expect), std::string::npos) << body << " -> " << res->body;
        EXPECT_FALSE(str_at(doc, "/0/errorCode").empty());
    }
    EXPECT_EQ(post(kComposite, R"({"compositeRequest":[{"method":"DELETE"}]})")->status, 400);
    EXPECT_EQ(post(kComposite, "null")->status, 400);
}

TEST(SalesforceRecordId, CarriesTheCaseSafetyChecksum) {
    std::string id = salesforce_record_id("Contact", 0);
    ASSERT_EQ(id.size(), 18u);
    EXPECT_EQ(id.substr(0, 3), "003");
    EXPECT_NE(salesforce_record_id("Contact", 1), id);
    EXPECT_EQ(salesforce_record_id("Account", 0).substr(0, 3), "001");
    // "0035g0000000001": no upper case in the first two chunks ("A"), 'g' is lower case too.
    EXPECT_EQ(id, "0035g0000000001AAA");
    // Chunk 3 of index 34 (record number 35, "0000Z") has upper case in its 5th position: suffix letter 'Q' (16).
    EXPECT_EQ(salesforce_record_id("Contact", 34).substr(15), "AAQ");
}

}  // namespace
}  // namespace crmsync::mock_crm::testing
