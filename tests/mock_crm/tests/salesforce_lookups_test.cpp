// Salesforce relationship fields set by the related record's external id in sObject Collections
// upsert ("Account":{"External_Id__c":"42"}), describe's referenceTo/relationshipName, the
// per-record errors, clearing a lookup, and the links in /_mock/state.
#include "mock_crm_fixture.h"

#include "salesforce_api.h"

namespace crmsync::mock_crm::testing {
namespace {

const char* kAccounts = "/services/data/v59.0/composite/sobjects/Account/External_Id__c";
const char* kContacts = "/services/data/v59.0/composite/sobjects/Contact/Email";
const char* kDeals = "/services/data/v59.0/composite/sobjects/Deal__c/Ext__c";

std::string records(const std::vector<std::string>& list) {
    std::string body = R"({"allOrNone":false,"records":[)";
    for (size_t i = 0; i < list.size(); ++i) body += (i ? "," : "") + list[i];
    return body + "]}";
}

std::string contact(const std::string& email, const std::string& more) {
    return R"({"attributes":{"type":"Contact"},"Email":")" + email + R"(","LastName":"L",)" + more + "}";
}

class SalesforceLookupsTest : public MockCrmTest {
protected:
    void SetUp() override {
        MockCrmTest::SetUp();
        declare_fields(R"({"sobject":"Account","fields":[{"name":"External_Id__c","type":"string","externalId":true,"unique":true}]})");
        declare_fields(R"({"sobject":"Deal__c","fields":[{"name":"Ext__c","type":"string","externalId":true,"unique":true},)"
                       R"({"name":"Company__c","type":"reference","referenceTo":"Account"}]})");
        auto res = patch(kAccounts, records({R"({"attributes":{"type":"Account"},"External_Id__c":"42","Name":"Acme"})",
                                             R"({"attributes":{"type":"Account"},"External_Id__c":"43","Name":"Initech"})"}));
        ASSERT_EQ(res->status, 200) << res->body;
        acme_id_ = str_at(parse(res->body), "/0/id");
        initech_id_ = str_at(parse(res->body), "/1/id");
    }

    // Upserts one record and returns its result object.
    rapidjson::Document upsert_one(const char* path, const std::string& record) {
        auto res = patch(path, records({record}));
        EXPECT_TRUE(res);
        if (!res) return rapidjson::Document{};
        EXPECT_EQ(res->status, 200) << res->body;
        return parse(res->body);
    }

    std::string acme_id_, initech_id_;
};

TEST_F(SalesforceLookupsTest, RelationshipByExternalIdSetsTheLookupToTheRelatedId) {
    auto body = upsert_one(kContacts, contact("ann@example.com", R"("Account":{"External_Id__c":"42"})"));
    EXPECT_TRUE(at(body, "/0/success")->GetBool()) << str_at(body, "/0/errors/0/message");
    auto s = state();
    EXPECT_EQ(str_at(s, "/Contact/ann@example.com/AccountId"), acme_id_);
    EXPECT_EQ(str_at(s, "/Contact/ann@example.com/Account/Id"), acme_id_);
    EXPECT_EQ(str_at(s, "/Contact/ann@example.com/Account/key"), "42");

    // Moved to another account, with attributes in the reference as the API allows.
    body = upsert_one(kContacts, contact("ann@example.com",
                                         R"("Account":{"attributes":{"type":"Account"},"External_Id__c":"43"})"));
    EXPECT_TRUE(at(body, "/0/success")->GetBool()) << str_at(body, "/0/errors/0/message");
    EXPECT_EQ(str_at(state(), "/Contact/ann@example.com/Account/key"), "43");
}

TEST_F(SalesforceLookupsTest, CustomLookupUsesItsRelationshipName) {
    auto body = upsert_one(kDeals, R"({"attributes":{"type":"Deal__c"},"Ext__c":"7","Company__r":{"External_Id__c":"43"}})");
    EXPECT_TRUE(at(body, "/0/success")->GetBool()) << str_at(body, "/0/errors/0/message");
    auto s = state();
    EXPECT_EQ(str_at(s, "/Deal__c/7/Company__c"), initech_id_);
    EXPECT_EQ(str_at(s, "/Deal__c/7/Company__r/key"), "43");
}

TEST_F(SalesforceLookupsTest, ReferenceByIdWorksToo) {
    auto body = upsert_one(kContacts, contact("ann@example.com", R"("Account":{"Id":")" + acme_id_ + R"("})"));
    EXPECT_TRUE(at(body, "/0/success")->GetBool()) << str_at(body, "/0/errors/0/message");
    EXPECT_EQ(str_at(state(), "/Contact/ann@example.com/Account/key"), "42");
    body = upsert_one(kContacts, contact("bob@example.com", R"("Account":{"Id":"001000000000000AAA"})"));
    EXPECT_EQ(str_at(body, "/0/errors/0/statusCode"), "INVALID_FIELD");
}

TEST_F(SalesforceLookupsTest, EachBadReferenceFailsItsRecordWithSalesforcesError) {
    ASSERT_EQ(post("/_mock/salesforce/duplicates", R"({"sobject":"Account","value":"43"})")->status, 200);
    struct Case {
        std::string more;
        std::string code;
        std::string message;
    };
    const Case cases[] = {
        {R"("Account":{"External_Id__c":"99"})", "INVALID_FIELD",
         "Foreign key external ID: 99 not found for field External_Id__c in entity Account"},
        {R"("Account":{"External_Id__c":"43"})", "DUPLICATE_EXTERNAL_ID",
         "External_Id__c: more than one record found for external id field: ["},
        {R"("Acount":{"External_Id__c":"42"})", "INVALID_FIELD", "No such column 'Acount' on sobject of type Contact"},
        {R"("Account":{"Nope__c":"42"})", "INVALID_FIELD", "No such column 'Nope__c' on sobject of type Account"},
        {R"("Account":{"Description":"42"})", "INVALID_FIELD",
         "Field name provided, Description does not match an External ID, Salesforce Id, or indexed field for Account"},
        {R"("Account":{"External_Id__c":"42","Name":"Acme"})", "INVALID_FIELD",
         "More than 1 field provided in an external foreign key reference in entity: Account"},
        {R"("AccountId":null,"Account":{"External_Id__c":"42"})", "INVALID_FIELD",
         "Cannot specify both an external ID reference Account and a salesforce id, AccountId"},
        {R"("Account":null)", "INVALID_FIELD", "\"AccountId\": null"},
    };
    for (const Case& c : cases) {
        auto res = patch(kContacts, records({contact("bad@example.com", c.more), contact("ok@example.com", R"("Title":"x")")}));
        ASSERT_TRUE(res);
        ASSERT_EQ(res->status, 200) << res->body;
        auto body = parse(res->body);
        EXPECT_FALSE(at(body, "/0/success")->GetBool()) << c.more;
        EXPECT_EQ(str_at(body, "/0/errors/0/statusCode"), c.code) << c.more << " -> " << res->body;
        EXPECT_NE(str_at(body, "/0/errors/0/message").find(c.message), std::string::npos) << c.more << " -> " << res->body;
        EXPECT_TRUE(at(body, "/1/success")->GetBool()) << res->body;  // the other record goes through
    }
    EXPECT_EQ(at(state(), "/Contact/bad@example.com"), nullptr);
}

TEST_F(SalesforceLookupsTest, ARelationshipThatIsNotAnObjectFailsTheRequest) {
    auto res = patch(kContacts, records({contact("ann@example.com", R"("Account":"42")")}));
    ASSERT_EQ(res->status, 400) << res->body;
    EXPECT_EQ(str_at(parse(res->body), "/0/errorCode"), "JSON_PARSER_ERROR");
}

TEST_F(SalesforceLookupsTest, NullForTheLookupFieldClearsIt) {
    upsert_one(kContacts, contact("ann@example.com", R"("Account":{"External_Id__c":"42"})"));
    auto body = upsert_one(kContacts, contact("ann@example.com", R"("AccountId":null)"));
    EXPECT_TRUE(at(body, "/0/success")->GetBool());
    auto s = state();
    EXPECT_TRUE(at(s, "/Contact/ann@example.com/AccountId")->IsNull());
    EXPECT_EQ(at(s, "/Contact/ann@example.com/Account"), nullptr);
}

TEST_F(SalesforceLookupsTest, AllOrNoneRollsBackOnAnUnresolvedReference) {
    auto res = patch(kContacts, std::string(R"({"allOrNone":true,"records":[)") +
                                    contact("ann@example.com", R"("Account":{"External_Id__c":"42"})") + "," +
                                    contact("bob@example.com", R"("Account":{"External_Id__c":"404"})") + "]}");
    ASSERT_EQ(res->status, 200) << res->body;
    auto body = parse(res->body);
    EXPECT_EQ(str_at(body, "/0/errors/0/statusCode"), "ALL_OR_NONE_OPERATION_ROLLED_BACK");
    EXPECT_EQ(str_at(body, "/1/errors/0/statusCode"), "INVALID_FIELD");
    EXPECT_EQ(at(state(), "/Contact"), nullptr);
}

TEST_F(SalesforceLookupsTest, DescribeListsReferenceFields) {
    auto contact_describe = get_json("/services/data/v59.0/sobjects/Contact/describe");
    bool seen = false;
    for (const auto& f : at(contact_describe, "/fields")->GetArray()) {
        std::string name = f["name"].GetString();
        if (name == "AccountId") {
            seen = true;
            EXPECT_EQ(std::string(f["type"].GetString()), "reference");
            ASSERT_EQ(f["referenceTo"].Size(), 1u);
            EXPECT_EQ(std::string(f["referenceTo"][0].GetString()), "Account");
            EXPECT_EQ(std::string(f["relationshipName"].GetString()), "Account");
        } else if (name == "Email") {
            EXPECT_EQ(f["referenceTo"].Size(), 0u);
            EXPECT_TRUE(f["relationshipName"].IsNull());
        }
    }
    EXPECT_TRUE(seen);
    auto deal = get_json("/services/data/v59.0/sobjects/Deal__c/describe");
    bool custom = false;
    for (const auto& f : at(deal, "/fields")->GetArray())
        if (std::string(f["name"].GetString()) == "Company__c") {
            custom = true;
            EXPECT_EQ(std::string(f["referenceTo"][0].GetString()), "Account");
            EXPECT_EQ(std::string(f["relationshipName"].GetString()), "Company__r");
        }
    EXPECT_TRUE(custom);
}

TEST_F(SalesforceLookupsTest, DeclaringAReferenceNeedsAKnownTarget) {
    EXPECT_EQ(post("/_mock/salesforce/fields", R"({"sobject":"Contact","fields":[{"name":"Boss__c","type":"reference"}]})")->status,
              400);
    EXPECT_EQ(post("/_mock/salesforce/fields",
                   R"({"sobject":"Contact","fields":[{"name":"Boss__c","type":"reference","referenceTo":"Nope__c"}]})")
                  ->status,
              400);
    declare_fields(R"({"sobject":"Contact","fields":[{"name":"Boss__c","type":"reference","referenceTo":"Contact"}]})");
}

TEST(SalesforceRecordIdInverse, RoundTripsAndRefusesOtherObjects) {
    for (uint32_t i : {0u, 1u, 34u, 1000000u}) {
        std::string id = salesforce_record_id("Account", i);
        EXPECT_EQ(salesforce_index_of("Account", id), i);
        EXPECT_EQ(salesforce_index_of("Account", id.substr(0, 15)), i);
        EXPECT_EQ(salesforce_index_of("Contact", id), std::nullopt);
    }
    EXPECT_EQ(salesforce_index_of("Account", "001nonsense"), std::nullopt);
}

}  // namespace
}  // namespace crmsync::mock_crm::testing
