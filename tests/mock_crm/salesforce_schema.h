// Salesforce's typed fields per sObject: a documented subset of the standard objects (Account,
// Contact, Lead), custom fields and objects declared through /_mock/salesforce/fields (in a
// real org they are made in Setup, not through the data API), and the value checks the REST
// API's JSON deserializer applies.
//
// Sources (cited again where each behaviour is implemented):
//   "sObject Describe" https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm
//   "Object Reference: Account / Contact / Lead" (field types and properties such as idLookup)
//     https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_contact.htm
//   "Field Types" / "Primitive Data Types" (date is YYYY-MM-DD; dateTime carries a Z or an offset)
//     https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/primitive_data_types.htm
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "json.h"

namespace crmsync::mock_crm {

// What happens to a record whose lookup points at a record being deleted: the Metadata API's
// CustomField deleteConstraint values (SetNull, Restrict, Cascade), which sObject Describe shows
// per field as restrictedDelete / cascadeDelete (both false for SetNull). See salesforce_api.cpp
// (delete_plan) for the documents.
enum class DeleteConstraint { SetNull, Restrict, Cascade };

struct SalesforceField {
    std::string name;
    std::string type;  // id, string, textarea, email, url, phone, picklist, reference, int, double,
                       // currency, percent, boolean, date, datetime
    std::string label;
    bool external_id = false;
    bool unique = false;
    bool id_lookup = false;
    bool createable = true;
    bool updateable = true;
    bool nillable = true;
    bool custom = false;
    // type "reference": the object it points to and the relationship name a record uses to
    // set it by the related record's external id ("Account" for Contact.AccountId).
    std::string reference_to;
    std::string relationship_name;
    DeleteConstraint delete_constraint = DeleteConstraint::SetNull;
};

struct SalesforceObject {
    std::string name;
    std::string label;
    bool custom = false;
    std::vector<SalesforceField> fields;  // in describe order

    const SalesforceField* field(std::string_view name) const;  // case-insensitive, as the API
    // The reference field whose relationship name this is ("Account" -> AccountId), or null.
    const SalesforceField* relationship(std::string_view name) const;  // case-insensitive
};

class SalesforceSchema {
public:
    SalesforceSchema();  // the standard objects

    const SalesforceObject* find(std::string_view sobject) const;  // case-insensitive
    // Every object the org has, by lower-case name.
    const std::map<std::string, SalesforceObject, std::less<>>& objects() const { return objects_; }

    // POST /_mock/salesforce/fields: {"sobject":"Deal__c","fields":[{"name":"External_Id__c",
    // "type":"string","externalId":true,"unique":true},{"name":"Company__c","type":"reference",
    // "referenceTo":"Account","deleteConstraint":"Restrict"},...]}. A reference field needs referenceTo,
    // an object the org has, and may name a deleteConstraint (SetNull by default; Cascade only on
    // a custom object; a self lookup only SetNull). A custom object (name ending in
    // __c) is created with its standard fields when new; a field declared again is replaced.
    // "" or what is wrong.
    std::string declare(const rapidjson::Value& body);

    // A second record with this external-id value exists (as a user could create one in the UI
    // for a non-unique idLookup field like Contact.Email): upserts and deletes by it match more
    // than one record. "" or what is wrong.
    std::string add_duplicate(const rapidjson::Value& body);
    bool is_duplicate(std::string_view sobject, std::string_view key) const;

    // The JSON deserializer's complaint about this value for the field, or nullopt.
    static std::optional<std::string> check_value(const SalesforceField& f, const rapidjson::Value& v);

    static void write_describe(JsonWriter& w, const SalesforceObject& o);

    // The state file keeps custom fields and objects and the duplicates, as an org keeps its
    // setup: {"fields":[{"sobject":S,"fields":[...]}...],"duplicates":[[S,key]...]}.
    bool has_custom() const;
    void write_custom(JsonWriter& w) const;
    std::string read_custom(const rapidjson::Value& saved);

    void reset();

private:
    std::map<std::string, SalesforceObject, std::less<>> objects_;  // by lower-case name
    std::set<std::pair<std::string, std::string>> duplicates_;       // (lower-case sobject, key)
};

// Salesforce compares external ids and idLookup values without regard to case (a Text External
// ID is case-insensitive unless created "case sensitive"; Email always is): the key the mock
// stores and matches on.
std::string salesforce_match_key(std::string_view value);

}  // namespace crmsync::mock_crm
