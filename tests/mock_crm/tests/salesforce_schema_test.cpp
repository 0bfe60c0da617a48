// Salesforce typed fields: describe, the Setup stand-in, and upserts and deletes validated
// against the fields with the documented status codes and bodies (salesforce_schema.h names
// the documents).
#include "mock_crm_fixture.h"

#include "salesforce_api.h"

namespace crmsync::mock_crm::testing {
namespace {

const char* kDeals = "/services/data/v59.0/composite/sobjects/Deal__c/External_Id__c";
const char* kDealFields =
    R"({"sobject":"Deal__c","fields":[{"name":"External_Id__c","type":"string","externalId":true,"unique":true},)"
    R"({"name":"Founded__c","type":"date"},{"name":"Seen__c","type":"datetime"},{"name":"Score__c","type":"double"},)"
    R"({"name":"Active__c","type":"boolean"}]})";

std::string deal(const std::string& ext, const std::string& more = "") {
    return R"({"attributes":{"type":"Deal__c"},"External_Id__c":")" + ext + "\"" + (more.empty() ? "" : "," + more) + "}";
}

std::string body_of(const std::vector<std::string>& records) {
    std::string body = R"({"allOrNone":false,"records":[)";
    for (size_t i = 0; i < records.size(); ++i) body += (i ? "," : "") + records[i];
    return body + "]}";
}

class SalesforceSchemaTest : public MockCrmTest {
protected:
    void SetUp() override {
        MockCrmTest::SetUp();
        declare_fields(kDealFields);
    }
};

TEST_F(SalesforceSchemaTest, DescribeListsStandardAndCustomFields) {
    auto contact = get_json("/services/data/v59.0/sobjects/Contact/describe");
    EXPECT_EQ(str_at(contact, "/name"), "Contact");
    bool saw_email = false;
    for (const auto& f : at(contact, "/fields")->GetArray()) {
        if (str_at(f, "/name") != "Email") continue;
        saw_email = true;
        EXPECT_EQ(str_at(f, "/type"), "email");
        EXPECT_TRUE(at(f, "/idLookup")->GetBool());
        EXPECT_FALSE(at(f, "/unique")->GetBool());
        EXPECT_FALSE(at(f, "/externalId")->GetBool());
    }
    EXPECT_TRUE(saw_email);
    auto d = get_json("/services/data/v59.0/sobjects/Deal__c/describe");
    EXPECT_TRUE(at(d, "/custom")->GetBool());
    std::string text;
    for (const auto& f : at(d, "/fields")->GetArray()) text += str_at(f, "/name") + ":" + str_at(f, "/type") + " ";
    EXPECT_NE(text.find("External_Id__c:string"), std::string::npos) << text;
    EXPECT_NE(text.find("Id:id"), std::string::npos) << text;
    auto missing = get("/services/data/v59.0/sobjects/Nope__c/describe");
    EXPECT_EQ(missing->status, 404);
    EXPECT_EQ(str_at(parse(missing->body), "/0/errorCode"), "NOT_FOUND");

    // Setup stand-in refuses what Setup would.
    EXPECT_EQ(post("/_mock/salesforce/fields", R"({"sobject":"Contact","fields":[{"name":"Score","type":"double"}]})")->status, 400);
    EXPECT_EQ(post("/_mock/salesforce/fields", R"({"sobject":"Contact","fields":[{"name":"X__c","type":"date","externalId":true}]})")->status, 400);
}

TEST_F(SalesforceSchemaTest, ExternalIdFieldMustBeExternalIdOrIdLookup) {
    auto res = patch("/services/data/v59.0/composite/sobjects/Deal__c/Founded__c", body_of({deal("d1")}));
    ASSERT_EQ(res->status, 400);
    EXPECT_EQ(res->body, R"([{"message":"Field name provided, Founded__c does not match an External ID, Salesforce Id, or indexed field for Deal__c","errorCode":"INVALID_FIELD"}])");
    res = patch("/services/data/v59.0/composite/sobjects/Deal__c/Id", body_of({deal("d1")}));
    ASSERT_EQ(res->status, 400);
    EXPECT_EQ(str_at(parse(res->body), "/0/errorCode"), "INVALID_FIELD");
    res = patch("/services/data/v59.0/composite/sobjects/Widget__c/External_Id__c", body_of({deal("d1")}));
    EXPECT_EQ(res->status, 404);
    EXPECT_EQ(res->body, R"([{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}])");
    // Contact.Email is idLookup: usable, though not unique.
    res = patch("/services/data/v59.0/composite/sobjects/Contact/Email",
                body_of({R"({"attributes":{"type":"Contact"},"Email":"a@example.com","LastName":"A"})"}));
    ASSERT_EQ(res->status, 200);
    EXPECT_TRUE(at(parse(res->body), "/0/success")->GetBool()) << res->body;
}

TEST_F(SalesforceSchemaTest, UnknownAndReadOnlyFieldsFailTheirRecordOnly) {
    auto res = patch(kDeals, body_of({deal("ok", R"("Score__c":1.5)"), deal("bad", R"("Bogus__c":"x")"),
                                      deal("ro", R"("CreatedDate":"2020-01-01T00:00:00Z")")}));
    ASSERT_EQ(res->status, 200) << res->body;
    auto body = parse(res->body);
    EXPECT_TRUE(at(body, "/0/success")->GetBool());
    EXPECT_FALSE(at(body, "/1/success")->GetBool());
    EXPECT_EQ(str_at(body, "/1/errors/0/statusCode"), "INVALID_FIELD");
    EXPECT_EQ(str_at(body, "/1/errors/0/message"), "No such column 'Bogus__c' on sobject of type Deal__c");
    EXPECT_EQ(str_at(body, "/2/errors/0/statusCode"), "INVALID_FIELD_FOR_INSERT_UPDATE");
    EXPECT_EQ(str_at(body, "/2/errors/0/fields/0"), "CreatedDate");
    auto s = state();
    EXPECT_NE(at(s, "/Deal__c/ok"), nullptr);
    EXPECT_EQ(at(s, "/Deal__c/bad"), nullptr);
    // Field names match without regard to case and are stored as the org spells them.
    ASSERT_EQ(patch(kDeals, body_of({deal("ok", R"("score__C":2)")}))->status, 200);
    EXPECT_NE(get("/_mock/state")->body.find(R"("Score__c":2)"), std::string::npos);
}

TEST_F(SalesforceSchemaTest, ValuesOfTheWrongTypeFailTheRequest) {
    struct Case {
        std::string field;
        std::string message;
    };
    const Case cases[] = {
        {R"("Founded__c":"2020-01-01T00:00:00Z")",
         "Cannot deserialize instance of date from VALUE_STRING value 2020-01-01T00:00:00Z or request may be missing a required field"},
        {R"("Seen__c":"2020-01-01T10:00:00")",
         "Cannot deserialize instance of datetime from VALUE_STRING value 2020-01-01T10:00:00 or request may be missing a required field"},
        {R"("Seen__c":"2020-01-01")",
         "Cannot deserialize instance of datetime from VALUE_STRING value 2020-01-01 or request may be missing a required field"},
        {R"("Score__c":"lots")",
         "Cannot deserialize instance of double from VALUE_STRING value lots or request may be missing a required field"},
        {R"("Active__c":"yes")",
         "Cannot deserialize instance of boolean from VALUE_STRING value yes or request may be missing a required field"},
    };
    for (const Case& c : cases) {
        auto res = patch(kDeals, body_of({deal("ok"), deal("bad", c.field)}));
        ASSERT_EQ(res->status, 400) << c.field << " -> " << res->body;
        EXPECT_EQ(str_at(parse(res->body), "/0/errorCode"), "JSON_PARSER_ERROR");
        EXPECT_EQ(str_at(parse(res->body), "/0/message"), c.message);
        EXPECT_TRUE(state().ObjectEmpty());
    }
    auto res = patch(kDeals, body_of({deal("ok", R"("Founded__c":"2020-02-29","Seen__c":"2020-01-01T10:00:00.123+02:00",)"
                                                 R"("Score__c":"12.5","Active__c":false)"),
                                      deal("pg", R"("Seen__c":"2026-01-01 00:00:01+00")")}));
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_TRUE(at(parse(res->body), "/1/success")->GetBool()) << res->body;
}

TEST_F(SalesforceSchemaTest, ExternalIdMatchingSeveralRecordsFailsThatRecord) {
    const char* kContacts = "/services/data/v59.0/composite/sobjects/Contact/Email";
    auto one = [](const std::string& email) {
        return R"({"attributes":{"type":"Contact"},"Email":")" + email + R"(","LastName":"X"})";
    };
    ASSERT_EQ(patch(kContacts, body_of({one("dup@example.com"), one("solo@example.com")}))->status, 200);
    ASSERT_EQ(post("/_mock/salesforce/duplicates", R"({"sobject":"Contact","value":"dup@example.com"})")->status, 200);
    auto res = patch(kContacts, body_of({one("DUP@example.com"), one("solo@example.com")}));
    ASSERT_EQ(res->status, 200);
    auto body = parse(res->body);
    EXPECT_FALSE(at(body, "/0/success")->GetBool());
    EXPECT_EQ(str_at(body, "/0/errors/0/statusCode"), "DUPLICATE_EXTERNAL_ID");
    EXPECT_TRUE(at(body, "/1/success")->GetBool());

    // Delete by the same value: 300 with the matching records' URLs.
    auto del_res = del("/services/data/v59.0/sobjects/Contact/Email/dup%40example.com");
    ASSERT_EQ(del_res->status, 300);
    auto list = parse(del_res->body);
    ASSERT_TRUE(list.IsArray());
    ASSERT_EQ(list.Size(), 2u);
    EXPECT_EQ(std::string(list[0].GetString()).rfind("/services/data/v59.0/sobjects/Contact/003", 0), 0u);
}

TEST_F(SalesforceSchemaTest, DeleteByExternalIdDistinguishesItsThree404s) {
    ASSERT_EQ(patch(kDeals, body_of({deal("d1")}))->status, 200);
    auto res = del("/services/data/v59.0/sobjects/Deal__c/External_Id__c/nobody");
    EXPECT_EQ(res->status, 404);
    EXPECT_EQ(res->body, R"([{"message":"The requested resource does not exist","errorCode":"NOT_FOUND"}])");
    res = del("/services/data/v59.0/sobjects/Deal__c/Founded__c/d1");
    EXPECT_EQ(res->status, 404);
    EXPECT_EQ(res->body,
              R"([{"message":"Provided external ID field does not exist or is not accessible: Founded__c","errorCode":"NOT_FOUND"}])");
    res = del("/services/data/v59.0/sobjects/Nope__c/External_Id__c/d1");
    EXPECT_EQ(res->status, 404);
    EXPECT_EQ(str_at(parse(res->body), "/0/errorCode"), "NOT_FOUND");
    EXPECT_EQ(del("/services/data/v59.0/sobjects/Deal__c/External_Id__c/D1")->status, 204);  // case-insensitive
}

TEST_F(SalesforceSchemaTest, LockRowFaultFailsSomeRecordsWhileOthersSucceed) {
    EXPECT_EQ(post("/_mock/faults", R"({"rate_lock_row":1.5})")->status, 400);
    set_faults(R"({"rate_lock_row":0.5})");
    std::vector<std::string> records;
    for (int i = 0; i < 100; ++i) records.push_back(deal("d" + std::to_string(i)));
    auto res = patch(kDeals, body_of(records));
    ASSERT_EQ(res->status, 200);
    auto body = parse(res->body);
    int locked = 0, ok = 0;
    for (const auto& r : body.GetArray()) {
        if (at(r, "/success")->GetBool()) {
            ++ok;
            continue;
        }
        ++locked;
        EXPECT_EQ(str_at(r, "/errors/0/statusCode"), "UNABLE_TO_LOCK_ROW");
        EXPECT_EQ(str_at(r, "/errors/0/message"), "unable to obtain exclusive access to this record");
    }
    EXPECT_GT(locked, 20);
    EXPECT_GT(ok, 20);
    EXPECT_EQ(at(state(), "/Deal__c")->MemberCount(), static_cast<unsigned>(ok));
    set_faults(R"({"rate_lock_row":0})");
    res = patch(kDeals, body_of(records));
    for (const auto& r : parse(res->body).GetArray()) EXPECT_TRUE(at(r, "/success")->GetBool());
}

}  // namespace
}  // namespace crmsync::mock_crm::testing
