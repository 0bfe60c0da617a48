// What deleting a Salesforce record does to the records that look it up: Contacts go with their
// Account (cascade), a custom lookup is cleared by default, "Restrict" fails the delete with
// DELETE_FAILED, "Cascade" on a custom lookup deletes down the chain; the same through the
// composite API, in describe, in /_mock/state and through a save and load of the state.
#include "mock_crm_fixture.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <unistd.h>

namespace crmsync::mock_crm::testing {
namespace {

namespace fs = std::filesystem;

const char* kAccounts = "/services/data/v59.0/composite/sobjects/Account/External_Id__c";
const char* kContacts = "/services/data/v59.0/composite/sobjects/Contact/Email";
const char* kDeals = "/services/data/v59.0/composite/sobjects/Deal__c/Ext__c";
const char* kDeleteAccount = "/services/data/v59.0/sobjects/Account/External_Id__c/";
const char* kDeleteDeal = "/services/data/v59.0/sobjects/Deal__c/Ext__c/";

std::string records(const std::vector<std::string>& list) {
    std::string body = R"({"allOrNone":false,"records":[)";
    for (size_t i = 0; i < list.size(); ++i) body += (i ? "," : "") + list[i];
    return body + "]}";
}

std::string contact(const std::string& email, const std::string& account) {
    return R"({"attributes":{"type":"Contact"},"Email":")" + email + R"(","LastName":"L","Account":{"External_Id__c":")" +
           account + R"("}})";
}

std::string deal(const std::string& ext, const std::string& name, const std::string& more) {
    return R"({"attributes":{"type":"Deal__c"},"Ext__c":")" + ext + R"(","Name":")" + name + "\"," + more + "}";
}

std::string composite_delete(bool all_or_none, const std::vector<std::string>& urls) {
    std::string body = std::string(R"({"allOrNone":)") + (all_or_none ? "true" : "false") + R"(,"compositeRequest":[)";
    for (size_t i = 0; i < urls.size(); ++i)
        body += std::string(i ? "," : "") + R"({"method":"DELETE","url":")" + urls[i] + R"(","referenceId":"r)" +
                std::to_string(i) + R"("})";
    return body + "]}";
}

class SalesforceLookupDeleteTest : public MockCrmTest {
protected:
    // Deal__c has Company__c (a lookup to Account, declared with `company_constraint`, none when
    // empty) and Blocker__c (a lookup to Account that restricts deleting it).
    void declare(const std::string& company_constraint) {
        declare_fields(R"({"sobject":"Account","fields":[{"name":"External_Id__c","type":"string","externalId":true,"unique":true}]})");
        std::string company = R"({"name":"Company__c","type":"reference","referenceTo":"Account")";
        if (!company_constraint.empty()) company += R"(,"deleteConstraint":")" + company_constraint + "\"";
        declare_fields(R"({"sobject":"Deal__c","fields":[{"name":"Ext__c","type":"string","externalId":true,"unique":true},)" +
                       company + R"(},{"name":"Blocker__c","type":"reference","referenceTo":"Account","deleteConstraint":"Restrict"}]})");
    }

    void seed(const std::string& company_constraint = "") {
        ASSERT_NO_FATAL_FAILURE(declare(company_constraint));
        upsert(kAccounts, records({R"({"attributes":{"type":"Account"},"External_Id__c":"42","Name":"Acme"})",
                                   R"({"attributes":{"type":"Account"},"External_Id__c":"43","Name":"Initech"})"}));
        upsert(kContacts, records({contact("ann@example.com", "42"), contact("bob@example.com", "43")}));
    }

    void upsert(const char* path, const std::string& body) {
        auto res = patch(path, body);
        ASSERT_TRUE(res);
        ASSERT_EQ(res->status, 200) << res->body;
        for (const auto& r : parse(res->body).GetArray()) ASSERT_TRUE(r["success"].GetBool()) << res->body;
    }

    rapidjson::Document composite(const std::string& body) {
        auto res = post("/services/data/v59.0/composite", body);
        EXPECT_TRUE(res);
        if (!res) return rapidjson::Document{};
        EXPECT_EQ(res->status, 200) << res->body;
        return parse(res->body);
    }
};

TEST_F(SalesforceLookupDeleteTest, DeletingAnAccountDeletesItsContacts) {
    ASSERT_NO_FATAL_FAILURE(seed());
    auto res = del(std::string(kDeleteAccount) + "42");
    ASSERT_EQ(res->status, 204) << res->body;
    auto s = state();
    EXPECT_EQ(at(s, "/Account/42"), nullptr);
    EXPECT_EQ(at(s, "/Contact/ann@example.com"), nullptr);  // went with its Account
    EXPECT_EQ(str_at(s, "/Contact/bob@example.com/Account/key"), "43");
    // The cascaded Contact is gone for the API too.
    EXPECT_EQ(del("/services/data/v59.0/sobjects/Contact/Email/ann@example.com")->status, 404);
    // records.deleted counts the deletes asked for; records.stored what is left.
    auto st = stats();
    EXPECT_EQ(int_at(st, "/records/deleted"), 1);
    EXPECT_EQ(int_at(st, "/records/stored"), 2);
}

TEST_F(SalesforceLookupDeleteTest, ACustomLookupIsClearedByDefault) {
    ASSERT_NO_FATAL_FAILURE(seed());
    upsert(kDeals, records({deal("7", "Big deal", R"("Company__r":{"External_Id__c":"42"})"),
                            deal("8", "Small deal", R"("Company__r":{"External_Id__c":"43"})")}));
    ASSERT_EQ(del(std::string(kDeleteAccount) + "42")->status, 204);
    auto s = state();
    ASSERT_NE(at(s, "/Deal__c/7"), nullptr);  // the deal stays ...
    EXPECT_TRUE(at(s, "/Deal__c/7/Company__c")->IsNull());  // ... with its lookup cleared
    EXPECT_EQ(at(s, "/Deal__c/7/Company__r"), nullptr);     // and no link
    EXPECT_EQ(str_at(s, "/Deal__c/8/Company__r/key"), "43");
}

TEST_F(SalesforceLookupDeleteTest, RestrictFailsTheDeleteWithDeleteFailed) {
    ASSERT_NO_FATAL_FAILURE(seed());
    upsert(kDeals, records({deal("7", "Big deal", R"("Blocker__r":{"External_Id__c":"42"})"),
                            deal("8", "Other deal", R"("Blocker__r":{"External_Id__c":"42"})")}));
    const std::string before = get("/_mock/state")->body;
    auto res = del(std::string(kDeleteAccount) + "42");
    ASSERT_EQ(res->status, 400) << res->body;
    auto body = parse(res->body);
    EXPECT_EQ(str_at(body, "/0/errorCode"), "DELETE_FAILED");
    EXPECT_EQ(str_at(body, "/0/message"),
              "Your attempt to delete Acme could not be completed because it is associated with the following deals.: "
              "Big deal, Other deal");
    EXPECT_EQ(get("/_mock/state")->body, before);  // nothing deleted, not even the Contacts
    EXPECT_EQ(int_at(stats(), "/records/deleted"), 0);

    // Once the restricting records are gone the Account can go.
    ASSERT_EQ(del(std::string(kDeleteDeal) + "7")->status, 204);
    upsert(kDeals, records({R"({"attributes":{"type":"Deal__c"},"Ext__c":"8","Blocker__c":null})"}));
    ASSERT_EQ(del(std::string(kDeleteAccount) + "42")->status, 204);
    EXPECT_EQ(at(state(), "/Contact/ann@example.com"), nullptr);
}

TEST_F(SalesforceLookupDeleteTest, CascadeOnACustomLookupDeletesDownTheChainUnlessRestricted) {
    ASSERT_NO_FATAL_FAILURE(seed("Cascade"));
    declare_fields(R"({"sobject":"Note__c","fields":[{"name":"Ext__c","type":"string","externalId":true},)"
                   R"({"name":"Deal__c","type":"reference","referenceTo":"Deal__c","deleteConstraint":"Restrict"},)"
                   R"({"name":"About__c","type":"reference","referenceTo":"Deal__c"}]})");
    upsert(kDeals, records({deal("7", "Big deal", R"("Company__r":{"External_Id__c":"42"})"),
                            deal("8", "Small deal", R"("Company__r":{"External_Id__c":"43"})")}));
    upsert("/services/data/v59.0/composite/sobjects/Note__c/Ext__c",
           records({R"({"attributes":{"type":"Note__c"},"Ext__c":"n1","Name":"Call notes","Deal__r":{"Ext__c":"7"}})",
                    R"({"attributes":{"type":"Note__c"},"Ext__c":"n2","About__r":{"Ext__c":"8"}})"}));
    // Account 42 cascades to deal 7, which note n1 restricts: the error names the deal.
    auto res = del(std::string(kDeleteAccount) + "42");
    ASSERT_EQ(res->status, 400) << res->body;
    EXPECT_EQ(str_at(parse(res->body), "/0/message"),
              "Your attempt to delete Big deal could not be completed because it is associated with the following notes.: "
              "Call notes");
    EXPECT_NE(at(state(), "/Account/42"), nullptr);

    // Account 43 cascades to deal 8 and its Contact; note n2's plain lookup to the deal is cleared.
    ASSERT_EQ(del(std::string(kDeleteAccount) + "43")->status, 204);
    auto s = state();
    EXPECT_EQ(at(s, "/Deal__c/8"), nullptr);
    EXPECT_EQ(at(s, "/Contact/bob@example.com"), nullptr);
    EXPECT_TRUE(at(s, "/Note__c/n2/About__c")->IsNull());
    EXPECT_EQ(at(s, "/Note__c/n2/About__r"), nullptr);
}

TEST_F(SalesforceLookupDeleteTest, CompositeSubrequestsSeeTheEarlierOnes) {
    ASSERT_NO_FATAL_FAILURE(seed());
    upsert(kDeals, records({deal("7", "Big deal", R"("Blocker__r":{"External_Id__c":"42"})")}));
    const std::string acme = std::string(kDeleteAccount) + "42", deal7 = std::string(kDeleteDeal) + "7";

    // allOrNone: the restricted delete fails, the other is rolled back, nothing changes.
    const std::string before = get("/_mock/state")->body;
    auto body = composite(composite_delete(true, {"/services/data/v59.0/sobjects/Account/External_Id__c/43", acme}));
    EXPECT_EQ(int_at(body, "/compositeResponse/0/httpStatusCode"), 400);
    EXPECT_EQ(str_at(body, "/compositeResponse/0/body/0/errorCode"), "PROCESSING_HALTED");
    EXPECT_EQ(int_at(body, "/compositeResponse/1/httpStatusCode"), 400);
    EXPECT_EQ(str_at(body, "/compositeResponse/1/body/0/errorCode"), "DELETE_FAILED");
    EXPECT_EQ(get("/_mock/state")->body, before);

    // In order: the deal first lets the Account go; its cascaded Contact is then not found.
    body = composite(composite_delete(false, {deal7, acme, "/services/data/v59.0/sobjects/Contact/Email/ann@example.com"}));
    EXPECT_EQ(int_at(body, "/compositeResponse/0/httpStatusCode"), 204);
    EXPECT_EQ(int_at(body, "/compositeResponse/1/httpStatusCode"), 204);
    EXPECT_EQ(int_at(body, "/compositeResponse/2/httpStatusCode"), 404);
    auto s = state();
    EXPECT_EQ(at(s, "/Account/42"), nullptr);
    EXPECT_EQ(at(s, "/Contact/ann@example.com"), nullptr);
    EXPECT_EQ(at(s, "/Deal__c"), nullptr);
}

TEST_F(SalesforceLookupDeleteTest, CompositeRestrictedBeforeItsBlockerGoesFails) {
    ASSERT_NO_FATAL_FAILURE(seed());
    upsert(kDeals, records({deal("7", "Big deal", R"("Blocker__r":{"External_Id__c":"42"})")}));
    auto body = composite(composite_delete(false, {std::string(kDeleteAccount) + "42", std::string(kDeleteDeal) + "7"}));
    EXPECT_EQ(int_at(body, "/compositeResponse/0/httpStatusCode"), 400);
    EXPECT_EQ(str_at(body, "/compositeResponse/0/body/0/errorCode"), "DELETE_FAILED");
    EXPECT_EQ(int_at(body, "/compositeResponse/1/httpStatusCode"), 204);
    auto s = state();
    EXPECT_NE(at(s, "/Account/42"), nullptr);
    EXPECT_NE(at(s, "/Contact/ann@example.com"), nullptr);
}

TEST_F(SalesforceLookupDeleteTest, DescribeShowsTheDeleteConstraint) {
    ASSERT_NO_FATAL_FAILURE(declare("Cascade"));
    auto flags = [&](const std::string& sobject, const std::string& field) {
        auto d = get_json("/services/data/v59.0/sobjects/" + sobject + "/describe");
        for (const auto& f : at(d, "/fields")->GetArray())
            if (f["name"].GetString() == field)
                return std::pair{f["cascadeDelete"].GetBool(), f["restrictedDelete"].GetBool()};
        ADD_FAILURE() << field;
        return std::pair{false, false};
    };
    EXPECT_EQ(flags("Contact", "AccountId"), std::pair(true, false));
    EXPECT_EQ(flags("Contact", "Email"), std::pair(false, false));
    EXPECT_EQ(flags("Deal__c", "Company__c"), std::pair(true, false));
    EXPECT_EQ(flags("Deal__c", "Blocker__c"), std::pair(false, true));
}

TEST_F(SalesforceLookupDeleteTest, DeclaringADeleteConstraintIsChecked) {
    ASSERT_NO_FATAL_FAILURE(declare(""));
    struct Case {
        std::string body;
        std::string complaint;
    };
    const Case cases[] = {
        // Cascade only for a lookup on a custom object.
        {R"({"sobject":"Contact","fields":[{"name":"Co__c","type":"reference","referenceTo":"Account","deleteConstraint":"Cascade"}]})",
         "Cascade is only available"},
        // A self lookup is always cleared.
        {R"({"sobject":"Deal__c","fields":[{"name":"Parent__c","type":"reference","referenceTo":"Deal__c","deleteConstraint":"Restrict"}]})",
         "own object"},
        {R"({"sobject":"Deal__c","fields":[{"name":"Amount__c","type":"double","deleteConstraint":"Restrict"}]})",
         "only a reference field"},
        {R"({"sobject":"Deal__c","fields":[{"name":"Co__c","type":"reference","referenceTo":"Account","deleteConstraint":"Nope"}]})",
         "SetNull, Restrict or Cascade"},
    };
    for (const Case& c : cases) {
        auto res = post("/_mock/salesforce/fields", c.body);
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 400) << c.body;
        EXPECT_NE(res->body.find(c.complaint), std::string::npos) << res->body;
    }
    // Restrict on a standard object's custom lookup, and SetNull on a self lookup, are fine.
    declare_fields(R"({"sobject":"Contact","fields":[{"name":"Co__c","type":"reference","referenceTo":"Account","deleteConstraint":"Restrict"}]})");
    declare_fields(R"({"sobject":"Deal__c","fields":[{"name":"Parent__c","type":"reference","referenceTo":"Deal__c","deleteConstraint":"SetNull"}]})");
}

TEST_F(SalesforceLookupDeleteTest, ConstraintsAndTheirEffectsSurviveSaveAndLoad) {
    ASSERT_NO_FATAL_FAILURE(seed());
    upsert(kDeals, records({deal("7", "Big deal", R"("Company__r":{"External_Id__c":"43"},"Blocker__r":{"External_Id__c":"42"})")}));
    ASSERT_EQ(del(std::string(kDeleteAccount) + "43")->status, 204);  // bob cascaded, deal 7 cleared
    const std::string before = get("/_mock/state")->body;

    fs::path dir = fs::temp_directory_path() / ("mock-crm-lookup-delete-" + std::to_string(::getpid()));
    fs::create_directories(dir);
    server_->save_state((dir / "state.json").string());
    std::ifstream in(dir / "state.json");
    std::stringstream saved;
    saved << in.rdbuf();
    EXPECT_NE(saved.str().find(R"("deleteConstraint":"Restrict")"), std::string::npos) << saved.str();

    start_server({});
    ASSERT_TRUE(server_->load_state((dir / "state.json").string()));
    fs::remove_all(dir);
    EXPECT_EQ(get("/_mock/state")->body, before);
    // The restriction still holds after the load.
    auto res = del(std::string(kDeleteAccount) + "42");
    ASSERT_EQ(res->status, 400) << res->body;
    EXPECT_EQ(str_at(parse(res->body), "/0/errorCode"), "DELETE_FAILED");
}

}  // namespace
}  // namespace crmsync::mock_crm::testing
