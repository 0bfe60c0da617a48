// HubSpot typed properties: the properties API (list, get, create) and batch upsert validated
// against the schema, with the documented error body (hubspot_schema.h names the documents).
#include "mock_crm_fixture.h"

namespace crmsync::mock_crm::testing {
namespace {

const char* kUpsert = "/crm/v3/objects/contacts/batch/upsert";

std::string one_input(const std::string& id_property, const std::string& id, const std::string& props) {
    return R"({"inputs":[{"idProperty":")" + id_property + R"(","id":")" + id + R"(","properties":)" + props + "}]}";
}

class HubSpotSchemaTest : public MockCrmTest {
protected:
    // The message's embedded list ("Property values were not valid: [...]") parsed.
    rapidjson::Document value_errors(const std::string& body) {
        auto doc = parse(body);
        std::string message = str_at(doc, "/message");
        const std::string prefix = "Property values were not valid: ";
        EXPECT_EQ(message.rfind(prefix, 0), 0u) << body;
        return parse(message.substr(prefix.size()));
    }
};

TEST_F(HubSpotSchemaTest, DefaultPropertiesAreListedWithTheirTypes) {
    auto list = get_json("/crm/v3/properties/contacts");
    ASSERT_TRUE(at(list, "/results")->IsArray());
    EXPECT_GE(at(list, "/results")->Size(), 10u);
    auto email = get_json("/crm/v3/properties/contacts/email");
    EXPECT_EQ(str_at(email, "/type"), "string");
    EXPECT_EQ(str_at(email, "/fieldType"), "text");
    EXPECT_TRUE(at(email, "/hasUniqueValue")->GetBool());
    EXPECT_TRUE(at(email, "/hubspotDefined")->GetBool());
    auto stage = get_json("/crm/v3/properties/contacts/lifecyclestage");
    EXPECT_EQ(str_at(stage, "/type"), "enumeration");
    EXPECT_EQ(str_at(stage, "/options/0/value"), "subscriber");
    auto id = get_json("/crm/v3/properties/0-1/hs_object_id");  // object type id works too
    EXPECT_TRUE(at(id, "/modificationMetadata/readOnlyValue")->GetBool());
    EXPECT_EQ(str_at(get_json("/crm/v3/properties/deals/dealstage"), "/options/5/value"), "closedwon");
    EXPECT_EQ(str_at(get_json("/crm/v3/properties/companies/numberofemployees"), "/type"), "number");

    auto missing = get("/crm/v3/properties/contacts/nope");
    ASSERT_TRUE(missing);
    EXPECT_EQ(missing->status, 404);
    EXPECT_EQ(str_at(parse(missing->body), "/category"), "OBJECT_NOT_FOUND");
}

TEST_F(HubSpotSchemaTest, CreatePropertyReturns201ThenConflict) {
    const std::string body =
        R"({"name":"founded","label":"Founded","type":"date","fieldType":"date","groupName":"companyinformation"})";
    auto res = post("/crm/v3/properties/companies", body);
    ASSERT_EQ(res->status, 201) << res->body;
    auto p = parse(res->body);
    EXPECT_EQ(str_at(p, "/name"), "founded");
    EXPECT_EQ(str_at(p, "/type"), "date");
    EXPECT_FALSE(at(p, "/hubspotDefined")->GetBool());
    EXPECT_EQ(str_at(get_json("/crm/v3/properties/companies/founded"), "/groupName"), "companyinformation");

    res = post("/crm/v3/properties/companies", body);
    EXPECT_EQ(res->status, 409);
    EXPECT_EQ(str_at(parse(res->body), "/category"), "OBJECT_ALREADY_EXISTS");

    // type and fieldType must be a documented pair; enumeration needs options.
    EXPECT_EQ(post("/crm/v3/properties/companies",
                   R"({"name":"x","label":"X","type":"number","fieldType":"text","groupName":"g"})")->status,
              400);
    EXPECT_EQ(post("/crm/v3/properties/companies",
                   R"({"name":"y","label":"Y","type":"enumeration","fieldType":"select","groupName":"g"})")->status,
              400);
    EXPECT_EQ(post("/crm/v3/properties/companies", R"({"name":"z","label":"Z","type":"string"})")->status, 400);
}

TEST_F(HubSpotSchemaTest, UnknownObjectTypeIsRefused) {
    auto res = post("/crm/v3/objects/widgets/batch/upsert", one_input("id", "1", "{}"));
    ASSERT_EQ(res->status, 400);
    auto body = parse(res->body);
    EXPECT_EQ(str_at(body, "/status"), "error");
    EXPECT_EQ(str_at(body, "/category"), "VALIDATION_ERROR");
    EXPECT_EQ(str_at(body, "/message"), "Unable to infer object type from: widgets");
    EXPECT_EQ(get("/crm/v3/properties/widgets")->status, 400);
}

TEST_F(HubSpotSchemaTest, IdPropertyMustBeUnique) {
    auto res = post(kUpsert, one_input("firstname", "Ann", "{}"));
    ASSERT_EQ(res->status, 400);
    auto body = parse(res->body);
    EXPECT_EQ(str_at(body, "/category"), "VALIDATION_ERROR");
    EXPECT_EQ(str_at(body, "/message"),
              "Unable to perform update/upsert by non-unique 0-1 property firstname in portal ID 12345678");
    EXPECT_EQ(post(kUpsert, one_input("hs_object_id", "1", "{}"))->status, 400);
    create_property("contacts", R"({"name":"ext_id","label":"Ext","type":"string","fieldType":"text","groupName":"g","hasUniqueValue":true})");
    EXPECT_EQ(post(kUpsert, one_input("ext_id", "e1", "{}"))->status, 200);
}

TEST_F(HubSpotSchemaTest, EmailIdPropertyMatchesCaseInsensitively) {
    auto first = parse(post(kUpsert, one_input("email", "Ann@Example.COM", R"({"firstname":"Ann"})"))->body);
    auto again = post(kUpsert, one_input("email", "ann@example.com", R"({"lastname":"Lee"})"));
    ASSERT_EQ(again->status, 200);
    auto body = parse(again->body);
    EXPECT_FALSE(at(body, "/results/0/new")->GetBool());
    EXPECT_EQ(str_at(body, "/results/0/id"), str_at(first, "/results/0/id"));
    auto s = state();
    EXPECT_EQ(str_at(s, "/contacts/ann@example.com/email"), "ann@example.com");
    EXPECT_EQ(str_at(s, "/contacts/ann@example.com/firstname"), "Ann");
}

TEST_F(HubSpotSchemaTest, InvalidValuesRejectTheBatchWithoutNamingTheInput) {
    create_property("contacts", R"({"name":"born","label":"Born","type":"date","fieldType":"date","groupName":"g"})");
    create_property("contacts", R"({"name":"score","label":"Score","type":"number","fieldType":"number","groupName":"g"})");
    create_property("contacts", R"({"name":"vip","label":"VIP","type":"bool","fieldType":"booleancheckbox","groupName":"g"})");
    create_property("contacts", R"({"name":"colors","label":"Colors","type":"enumeration","fieldType":"checkbox","groupName":"g",
        "options":[{"label":"Red","value":"red"},{"label":"Blue","value":"blue"}]})");
    struct Case {
        std::string props;
        std::string error;
        std::string name;
    };
    const Case cases[] = {
        {R"({"nope":"x"})", "PROPERTY_DOESNT_EXIST", "nope"},
        {R"({"hs_object_id":"5"})", "READ_ONLY_VALUE", "hs_object_id"},
        {R"({"lastmodifieddate":"1"})", "READ_ONLY_VALUE", "lastmodifieddate"},
        {R"({"born":"2020-01-01T10:00:00Z"})", "INVALID_DATE", "born"},
        {R"({"born":"1577883600000"})", "INVALID_DATE", "born"},  // 2020-01-01 13:00 UTC
        {R"({"born":"2020-02-30"})", "INVALID_DATE", "born"},
        {R"({"score":"twelve"})", "INVALID_LONG", "score"},
        {R"({"vip":"yes"})", "INVALID_OPTION", "vip"},
        {R"({"vip":"True"})", "INVALID_OPTION", "vip"},
        {R"({"lifecyclestage":"prospect"})", "INVALID_OPTION", "lifecyclestage"},
        {R"({"colors":"red;green"})", "INVALID_OPTION", "colors"},
    };
    for (const Case& c : cases) {
        auto res = post(kUpsert, R"({"inputs":[{"idProperty":"email","id":"ok@example.com","properties":{"firstname":"Ok"}},)"
                                 R"({"idProperty":"email","id":"bad@example.com","properties":)" + c.props + "}]}");
        ASSERT_TRUE(res);
        ASSERT_EQ(res->status, 400) << c.props << " -> " << res->body;
        auto body = parse(res->body);
        EXPECT_EQ(str_at(body, "/status"), "error");
        EXPECT_EQ(str_at(body, "/category"), "VALIDATION_ERROR");
        EXPECT_NE(str_at(body, "/correlationId"), "<absent>");
        EXPECT_EQ(str_at(body, "/context/propertyName/0"), c.name) << res->body;
        EXPECT_EQ(at(body, "/context/id"), nullptr) << "the real API does not name the input: " << res->body;
        auto errors = value_errors(res->body);
        ASSERT_TRUE(errors.IsArray()) << res->body;
        EXPECT_FALSE(at(errors, "/0/isValid")->GetBool());
        EXPECT_EQ(str_at(errors, "/0/error"), c.error) << res->body;
        EXPECT_EQ(str_at(errors, "/0/name"), c.name);
        EXPECT_TRUE(state().ObjectEmpty()) << "nothing of the batch applies";
    }
    // Accepted forms: YYYY-MM-DD, epoch ms at midnight UTC, numbers, options, several
    // checkbox options, JSON booleans, and "" which clears.
    auto res = post(kUpsert, one_input("email", "ok@example.com",
                                       R"({"born":"2020-01-01","score":-12.5e3,"vip":true,"colors":"red;blue","lifecyclestage":"lead"})"));
    EXPECT_EQ(res->status, 200) << res->body;
    res = post(kUpsert, one_input("email", "ok@example.com", R"({"born":"1577836800000","score":"","vip":"false"})"));
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(str_at(state(), "/contacts/ok@example.com/born"), "1577836800000");
}

}  // namespace
}  // namespace crmsync::mock_crm::testing
