// The CRM schema readers (HubSpot properties API, Salesforce describe) on answers shaped as the
// documents show them, and the mapping-vs-schema rules `check` prints (docs/troubleshooting.md).
#include "crm/hubspot/hubspot_schema.hpp"
#include "crm/mapping_check.hpp"
#include "crm/salesforce/salesforce_schema.hpp"

#include <gtest/gtest.h>

#include <ostream>

using namespace crmsync::sender;
using Severity = Finding::Severity;

namespace crmsync::sender {
// Failures show the findings as check prints them.
void PrintTo(const Finding& f, std::ostream* os) {
    *os << (f.severity == Finding::Severity::fail ? "FAIL  " : "note  ") << f.what << "\n      " << f.fix << "\n";
}
}  // namespace crmsync::sender

namespace {

// "CRM API | Properties", GET /crm/v3/properties/{objectType}.
const char* kHubspotContacts = R"({"results":[
 {"name":"email","label":"Email","type":"string","fieldType":"text","hasUniqueValue":false,"calculated":false,
  "modificationMetadata":{"archivable":false,"readOnlyDefinition":true,"readOnlyValue":false},"options":[]},
 {"name":"firstname","label":"First Name","type":"string","fieldType":"text","hasUniqueValue":false,
  "calculated":false,"modificationMetadata":{"readOnlyValue":false},"options":[]},
 {"name":"score","label":"Score","type":"number","fieldType":"number","hasUniqueValue":false,"calculated":false,
  "modificationMetadata":{"readOnlyValue":false},"options":[]},
 {"name":"ext_id","label":"Ext","type":"string","fieldType":"text","hasUniqueValue":true,"calculated":false,
  "modificationMetadata":{"readOnlyValue":false},"options":[]},
 {"name":"lastmodifieddate","label":"Last Modified Date","type":"datetime","fieldType":"date",
  "hasUniqueValue":false,"calculated":false,"modificationMetadata":{"readOnlyValue":true},"options":[]},
 {"name":"days_open","label":"Days","type":"number","fieldType":"calculation_equation","calculated":true,
  "modificationMetadata":{"readOnlyValue":false},"options":[]},
 {"name":"birthday","label":"Birthday","type":"date","fieldType":"date","modificationMetadata":{"readOnlyValue":false}},
 {"name":"active","label":"Active","type":"bool","fieldType":"booleancheckbox","modificationMetadata":{"readOnlyValue":false},
  "options":[{"label":"Yes","value":"true","hidden":false},{"label":"No","value":"false","hidden":false}]},
 {"name":"tier","label":"Tier","type":"enumeration","fieldType":"select","modificationMetadata":{"readOnlyValue":false},
  "options":[{"label":"Gold","value":"gold","hidden":false},{"label":"Old","value":"bronze","hidden":true}]},
 {"name":"notes","label":"Notes","type":"string","fieldType":"textarea","modificationMetadata":{"readOnlyValue":false}}
]})";

// "sObject Describe", GET /services/data/vXX.X/sobjects/Contact/describe (a subset of its keys).
const char* kSalesforceContact = R"({"name":"Contact","createable":true,"updateable":true,"deletable":true,"fields":[
 {"name":"Id","type":"id","externalId":false,"idLookup":true,"unique":false,"createable":false,"updateable":false,"nillable":false,"picklistValues":[]},
 {"name":"Email","type":"email","externalId":false,"idLookup":true,"unique":false,"createable":true,"updateable":true,"nillable":true,"picklistValues":[]},
 {"name":"FirstName","type":"string","externalId":false,"idLookup":false,"unique":false,"createable":true,"updateable":true,"nillable":true,"picklistValues":[]},
 {"name":"Ext__c","type":"string","externalId":true,"idLookup":true,"unique":true,"createable":true,"updateable":true,"nillable":true,"picklistValues":[]},
 {"name":"Score__c","type":"double","externalId":false,"idLookup":false,"unique":false,"createable":true,"updateable":true,"nillable":true,"picklistValues":[]},
 {"name":"Level__c","type":"picklist","externalId":false,"idLookup":false,"unique":false,"createable":true,"updateable":true,"nillable":true,
  "picklistValues":[{"value":"Primary","active":true,"label":"Primary"},{"value":"Old","active":false,"label":"Old"}]},
 {"name":"AccountId","type":"reference","externalId":false,"idLookup":false,"unique":false,"createable":true,"updateable":true,"nillable":true,"picklistValues":[]}
]})";

MappingUnderCheck contacts_mapping(std::optional<std::string> id_property, std::vector<MappedColumn> columns) {
    return {"public.contacts", "contacts", "email", "text", std::move(id_property), std::move(columns)};
}

}  // namespace

TEST(CrmSchema, HubspotPropertiesParsed) {
    EXPECT_EQ(hubspot::properties_path("p_my object"), "/crm/v3/properties/p_my%20object");
    SchemaFetch f = hubspot::read_properties("contacts", 200, kHubspotContacts);
    ASSERT_EQ(f.problem, SchemaFetch::Problem::none) << f.detail;
    ASSERT_EQ(f.schema.properties.size(), 10u);
    const CrmProperty* score = f.schema.find("score");
    ASSERT_TRUE(score);
    EXPECT_EQ(score->type, CrmType::number);
    EXPECT_EQ(score->raw_type, "number/number");
    EXPECT_TRUE(score->writable());
    EXPECT_TRUE(f.schema.find("ext_id")->unique_or_external_id);
    EXPECT_FALSE(f.schema.find("lastmodifieddate")->writable());
    EXPECT_FALSE(f.schema.find("days_open")->writable());
    EXPECT_EQ(f.schema.find("active")->type, CrmType::boolean);
    EXPECT_EQ(f.schema.find("notes")->type, CrmType::text);
    EXPECT_EQ(f.schema.find("tier")->type, CrmType::enumeration);
    // A hidden option is only kept off HubSpot's forms: records may still hold it.
    EXPECT_EQ(f.schema.find("tier")->options, (std::vector<std::string>{"gold", "bronze"}));
    EXPECT_TRUE(f.schema.find("tier")->restricted_options);
    EXPECT_FALSE(f.schema.find("notes")->restricted_options);
}

TEST(CrmSchema, HubspotErrorsBecomeProblems) {
    const char* unknown = R"({"status":"error","message":"Unable to infer object type from: contcts","category":"VALIDATION_ERROR"})";
    SchemaFetch f = hubspot::read_properties("contcts", 400, unknown);
    EXPECT_EQ(f.problem, SchemaFetch::Problem::unknown_object);
    EXPECT_EQ(f.detail, "Unable to infer object type from: contcts");
    EXPECT_EQ(hubspot::read_properties("deals", 403, R"({"status":"error","message":"missing scopes","category":"MISSING_SCOPES"})").problem,
              SchemaFetch::Problem::forbidden);
    EXPECT_EQ(hubspot::read_properties("deals", 200, "[]").problem, SchemaFetch::Problem::bad_answer);
    EXPECT_EQ(hubspot::write_scope("deals"), "crm.objects.deals.write");
    EXPECT_EQ(hubspot::write_scope("2-1234"), "crm.objects.custom.write");
}

TEST(CrmSchema, SalesforceDescribeParsed) {
    EXPECT_EQ(salesforce::describe_path("v59.0", "Deal__c"), "/services/data/v59.0/sobjects/Deal__c/describe");
    SchemaFetch f = salesforce::read_describe("Contact", 200, kSalesforceContact);
    ASSERT_EQ(f.problem, SchemaFetch::Problem::none) << f.detail;
    EXPECT_TRUE(f.schema.creatable && f.schema.updatable);
    ASSERT_EQ(f.schema.properties.size(), 7u);
    EXPECT_EQ(f.schema.find("Email")->type, CrmType::string);
    EXPECT_TRUE(f.schema.find("Email")->id_lookup);
    EXPECT_FALSE(f.schema.find("Email")->unique_or_external_id);
    EXPECT_TRUE(f.schema.find("Ext__c")->unique_or_external_id);
    EXPECT_FALSE(f.schema.find("Id")->writable());
    EXPECT_EQ(f.schema.find("Level__c")->options, std::vector<std::string>{"Primary"});
    EXPECT_EQ(f.schema.find("AccountId")->type, CrmType::reference);

    SchemaFetch missing = salesforce::read_describe(
        "Contct", 404, R"([{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}])");
    EXPECT_EQ(missing.problem, SchemaFetch::Problem::unknown_object);
    EXPECT_EQ(missing.detail, "NOT_FOUND: The requested resource does not exist");
}

TEST(MappingCheck, TypeCompatibilityTable) {
    EXPECT_EQ(type_fit("integer", CrmType::string), TypeFit::fits);
    EXPECT_EQ(type_fit("text[]", CrmType::text), TypeFit::fits);
    EXPECT_EQ(type_fit("numeric(12,2)", CrmType::number), TypeFit::fits);
    EXPECT_EQ(type_fit("bigint", CrmType::number), TypeFit::fits);
    EXPECT_EQ(type_fit("text", CrmType::number), TypeFit::does_not_fit);
    EXPECT_EQ(type_fit("boolean", CrmType::number), TypeFit::does_not_fit);
    EXPECT_EQ(type_fit("boolean", CrmType::boolean), TypeFit::fits);
    EXPECT_EQ(type_fit("text", CrmType::boolean), TypeFit::does_not_fit);
    EXPECT_EQ(type_fit("date", CrmType::date), TypeFit::fits);
    EXPECT_EQ(type_fit("timestamp with time zone", CrmType::date), TypeFit::fits);  // its day is sent
    EXPECT_EQ(type_fit("text", CrmType::date), TypeFit::does_not_fit);
    EXPECT_EQ(type_fit("timestamp(3) without time zone", CrmType::datetime), TypeFit::fits);
    EXPECT_EQ(type_fit("date", CrmType::datetime), TypeFit::fits);
    EXPECT_EQ(type_fit("text", CrmType::datetime), TypeFit::does_not_fit);
    EXPECT_EQ(type_fit("text", CrmType::enumeration), TypeFit::fits_if_listed);
    EXPECT_EQ(type_fit("text[]", CrmType::enumeration), TypeFit::does_not_fit);
    EXPECT_EQ(type_fit("text[]", CrmType::multi_enumeration), TypeFit::fits_if_listed);
    EXPECT_EQ(type_fit("character varying(18)", CrmType::reference), TypeFit::fits);
    EXPECT_EQ(type_fit("integer", CrmType::reference), TypeFit::does_not_fit);
}

TEST(MappingCheck, HubspotFittingMappingHasNoFindings) {
    SchemaFetch f = hubspot::read_properties("contacts", 200, kHubspotContacts);
    auto m = contacts_mapping(std::nullopt, {{"email", "text", "email"},
                                             {"first_name", "character varying(40)", "firstname"},
                                             {"score", "numeric(12,2)", "score"},
                                             {"active", "boolean", "active"},
                                             {"born", "date", "birthday"},
                                             {"notes", "text[]", "notes"}});
    EXPECT_EQ(effective_id_property(m), "email");
    EXPECT_EQ(check_mapping(SchemaCrm::hubspot, m, f), std::vector<Finding>{});
}

TEST(MappingCheck, HubspotEachProblemNamedWithItsFix) {
    SchemaFetch f = hubspot::read_properties("contacts", 200, kHubspotContacts);
    auto m = contacts_mapping("firstname", {{"scroe", "numeric", "scroe"},
                                            {"changed", "timestamp with time zone", "lastmodifieddate"},
                                            {"days", "integer", "days_open"},
                                            {"first_name", "text", "score"},
                                            {"vip", "boolean", "score"},
                                            {"updated", "timestamp with time zone", "birthday"},
                                            {"tier", "text", "tier"}});
    std::vector<Finding> expected{
        {Severity::fail,
         "HubSpot property contacts.firstname (the id property of public.contacts) does not have unique values: "
         "HubSpot cannot upsert by it",
         "HubSpot upserts only by a property with hasUniqueValue true, which is set when the property is created: "
         "create one and name it as id_property with crmsync.map(), or match contacts on email."},
        {Severity::fail, "HubSpot object contacts has no property \"scroe\" (column scroe of public.contacts is mapped to it)",
         "Create it in HubSpot (Settings > Properties) with that internal name, or map to an existing property with "
         "crmsync.map() (close names: score)."},
        {Severity::fail,
         "HubSpot property contacts.lastmodifieddate is read-only (calculated, or set only by HubSpot): column changed "
         "of public.contacts is mapped to it",
         "Remove the column from the mapping's properties with crmsync.map(), or map it to a writable property."},
        {Severity::fail,
         "HubSpot property contacts.days_open is read-only (calculated, or set only by HubSpot): column days of "
         "public.contacts is mapped to it",
         "Remove the column from the mapping's properties with crmsync.map(), or map it to a writable property."},
        {Severity::fail,
         "column first_name (text) of public.contacts does not fit HubSpot property contacts.score, a number property "
         "(number/number)",
         "A number property takes integer, numeric, real and double precision columns: map a column of such a type (a "
         "view or generated column can convert it), map to a string property, or change the property's type in "
         "HubSpot."},
        {Severity::fail,
         "column vip (boolean) of public.contacts does not fit HubSpot property contacts.score, a number property "
         "(number/number)",
         "A number property takes integer, numeric, real and double precision columns: map a column of such a type (a "
         "view or generated column can convert it), map to a string property, or change the property's type in "
         "HubSpot."},
        {Severity::note,
         "HubSpot property contacts.tier is an enumeration (enumeration/select): each value of column tier (text) of "
         "public.contacts must be one of its options",
         "Values outside them are rejected; options: gold, bronze."},
    };
    EXPECT_EQ(check_mapping(SchemaCrm::hubspot, m, f), expected);
}

TEST(MappingCheck, HubspotIdPropertyRules) {
    SchemaFetch f = hubspot::read_properties("contacts", 200, kHubspotContacts);
    // A unique property, not among the mapped columns: the id column's type is checked against it.
    EXPECT_EQ(check_mapping(SchemaCrm::hubspot, contacts_mapping("ext_id", {}), f), std::vector<Finding>{});
    auto missing = check_mapping(SchemaCrm::hubspot, contacts_mapping("ext_idd", {}), f);
    ASSERT_EQ(missing.size(), 1u);
    EXPECT_EQ(missing[0].what, "HubSpot object contacts has no property \"ext_idd\" (the id property of public.contacts)");
    // HubSpot's own record id needs no unique flag.
    std::string with_object_id = kHubspotContacts;
    with_object_id.insert(with_object_id.find("[") + 1,
                          R"({"name":"hs_object_id","type":"number","fieldType":"number","hasUniqueValue":false,)"
                          R"("modificationMetadata":{"readOnlyValue":true}},)");
    MappingUnderCheck by_object_id{"public.contacts", "contacts", "crm_id", "bigint", "hs_object_id", {}};
    EXPECT_EQ(check_mapping(SchemaCrm::hubspot, by_object_id, hubspot::read_properties("contacts", 200, with_object_id)),
              std::vector<Finding>{});
    // email matches natively on contacts only.
    SchemaFetch deals = hubspot::read_properties("deals", 200, kHubspotContacts);
    MappingUnderCheck m{"public.deals", "deals", "email", "text", std::nullopt, {}};
    auto found = check_mapping(SchemaCrm::hubspot, m, deals);
    ASSERT_EQ(found.size(), 1u);
    EXPECT_EQ(found[0].what, "HubSpot property deals.email (the id property of public.deals) does not have unique "
                             "values: HubSpot cannot upsert by it");
}

TEST(MappingCheck, HubspotObjectProblems) {
    auto m = contacts_mapping(std::nullopt, {});
    m.object = "deals";
    auto forbidden = check_mapping(
        SchemaCrm::hubspot, m,
        hubspot::read_properties("deals", 403, R"({"status":"error","message":"This app hasn't been granted all required scopes","category":"MISSING_SCOPES"})"));
    std::vector<Finding> expected{{Severity::fail,
                                   "the token may not use HubSpot object deals (HTTP 403: This app hasn't been granted "
                                   "all required scopes)",
                                   "Give the app the scope crm.objects.deals.write (and the matching "
                                   "crm.schemas.*.read, with which check reads the properties)."}};
    EXPECT_EQ(forbidden, expected);
    m.object = "contcts";
    auto unknown = check_mapping(
        SchemaCrm::hubspot, m,
        hubspot::read_properties("contcts", 400, R"({"status":"error","message":"Unable to infer object type from: contcts","category":"VALIDATION_ERROR"})"));
    expected = {{Severity::fail,
                 "HubSpot has no object type \"contcts\" (public.contacts is mapped to it; HTTP 400: Unable to infer "
                 "object type from: contcts)",
                 "Fix the object with crmsync.map(): contacts, companies, deals, tickets, ..., or a custom object's "
                 "p_<name> or objectTypeId 2-<id>."}};
    EXPECT_EQ(unknown, expected);
}

TEST(MappingCheck, SalesforceIdAndFieldRules) {
    SchemaFetch f = salesforce::read_describe("Contact", 200, kSalesforceContact);
    MappingUnderCheck m{"public.contacts", "Contact", "email", "text", std::nullopt,
                        {{"email", "text", "Email"}, {"score", "numeric", "Score__c"}, {"account", "text", "AccountId"}}};
    std::vector<Finding> expected{
        {Severity::note,
         "Salesforce field Contact.Email (the id property of public.contacts) is idLookup but not unique: a key shared "
         "by several records answers 300 and that row goes to the dead letters",
         "For one-to-one matching name an External ID field marked Unique as id_property, or keep the keys unique in "
         "Salesforce."}};
    EXPECT_EQ(check_mapping(SchemaCrm::salesforce, m, f), expected);

    m.id_property = "Ext__c";
    EXPECT_EQ(check_mapping(SchemaCrm::salesforce, m, f), std::vector<Finding>{});
    // API names are case-insensitive in Salesforce.
    m.id_property = "ext__C";
    m.columns = {{"first_name", "text", "firstname"}};
    EXPECT_EQ(check_mapping(SchemaCrm::salesforce, m, f), std::vector<Finding>{});
    m.columns = {{"email", "text", "Email"}, {"score", "numeric", "Score__c"}, {"account", "text", "AccountId"}};

    m.id_property = "Id";
    auto by_id = check_mapping(SchemaCrm::salesforce, m, f);
    ASSERT_EQ(by_id.size(), 1u);
    EXPECT_EQ(by_id[0].what, "Salesforce cannot upsert Contact by Id (the id property of public.contacts): Id is not "
                             "an External ID field");

    m.id_property = "FirstName";
    m.columns = {{"sid", "text", "Id"}, {"active", "boolean", "Score__c"}, {"level", "text", "Level__c"}};
    expected = {
        {Severity::fail,
         "Salesforce field Contact.FirstName (the id property of public.contacts) is not an External ID field: "
         "Salesforce cannot upsert by it",
         "Mark it External ID (and Unique) in Setup, or name an External ID field as id_property with crmsync.map()."},
        {Severity::fail,
         "Salesforce field Contact.Id is read-only for the integration user (createable and updateable false): column "
         "sid of public.contacts is mapped to it",
         "Give the user Edit access to the field (field-level security), or remove the column from the mapping's "
         "properties with crmsync.map()."},
        {Severity::fail,
         "column active (boolean) of public.contacts does not fit Salesforce field Contact.Score__c, a number property "
         "(double)",
         "A number property takes integer, numeric, real and double precision columns: map a column of such a type (a "
         "view or generated column can convert it), map to a string property, or change the property's type in "
         "Salesforce."},
        {Severity::note,
         "Salesforce field Contact.Level__c is a picklist (picklist): each value of column level (text) of "
         "public.contacts must be one of its options",
         "Values outside them are rejected; options: Primary."},
    };
    EXPECT_EQ(check_mapping(SchemaCrm::salesforce, m, f), expected);
}

TEST(MappingCheck, SalesforceObjectProblems) {
    MappingUnderCheck m{"public.deals", "Deal__c", "id", "bigint", "Ext__c", {}};
    auto unknown = check_mapping(
        SchemaCrm::salesforce, m,
        salesforce::read_describe("Deal__c", 404, R"([{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}])"));
    std::vector<Finding> expected{
        {Severity::fail,
         "Salesforce has no sObject \"Deal__c\" the integration user can see (public.deals is mapped to it; HTTP 404: "
         "NOT_FOUND: The requested resource does not exist)",
         "Fix the object with crmsync.map() (the API name: Contact, Account, custom objects end in __c), or give the "
         "user's profile access to the object."}};
    EXPECT_EQ(unknown, expected);

    std::string read_only = kSalesforceContact;
    read_only.replace(read_only.find("\"createable\":true"), 17, "\"createable\":false");
    read_only.replace(read_only.find("\"updateable\":true"), 17, "\"updateable\":false");
    m.object = "Contact";
    auto found = check_mapping(SchemaCrm::salesforce, m, salesforce::read_describe("Contact", 200, read_only));
    expected = {{Severity::fail,
                 "the integration user cannot create or update Salesforce Contact records (describe: createable false, "
                 "updateable false); public.deals is mapped to it",
                 "Give the user's profile or a permission set Read, Create and Edit on Contact."}};
    EXPECT_EQ(found, expected);
}

TEST(MappingCheck, HubspotScopesOfTheToken) {
    EXPECT_EQ(hubspot::read_token_scopes(200, R"({"userId":1,"hubId":2,"appId":3,"scopes":["crm.objects.deals.write"]})"),
              (std::optional<std::vector<std::string>>{{"crm.objects.deals.write"}}));
    EXPECT_FALSE(hubspot::read_token_scopes(404, R"({"status":"error"})"));
    EXPECT_FALSE(hubspot::read_token_scopes(200, "{}"));
    EXPECT_EQ(hubspot::scope("schemas", "p_projects", "read"), "crm.schemas.custom.read");

    EXPECT_TRUE(check_hubspot_scopes("deals", "public.deals",
                                     {"crm.objects.deals.write", "crm.objects.deals.read", "crm.schemas.deals.read"})
                    .empty());
    auto findings = check_hubspot_scopes("deals", "public.deals", {"crm.objects.deals.read"});
    ASSERT_EQ(findings.size(), 2u);
    EXPECT_EQ(findings[0].severity, Finding::Severity::fail);
    EXPECT_EQ(findings[0].what, "the token cannot write HubSpot deals records (public.deals is mapped to it): it lacks "
                                "the scope crm.objects.deals.write");
    EXPECT_EQ(findings[1].severity, Finding::Severity::note);
    EXPECT_NE(findings[1].what.find("crm.schemas.deals.read"), std::string::npos);
}
