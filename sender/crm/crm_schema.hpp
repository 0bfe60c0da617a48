// What a CRM says an object's properties are, in one CRM-neutral shape: read by `check` to
// validate the mappings, and by the adapters to convert values to the property types
// (value_conversion.hpp). Filled by hubspot/hubspot_schema.cpp (properties API) and
// salesforce/salesforce_schema.cpp (describe).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace crmsync::sender {

// The property types the sender has to tell apart; raw_type keeps the CRM's own word.
enum class CrmType { string, text, number, boolean, date, datetime, enumeration, multi_enumeration, id, reference, other };

std::string_view crm_type_name(CrmType type);

struct CrmProperty {
    std::string name;
    CrmType type = CrmType::other;
    std::string raw_type;  // HubSpot type/fieldType, Salesforce field type
    // HubSpot hasUniqueValue; Salesforce externalId (an upsert key, unique or not: see unique).
    bool unique_or_external_id = false;
    bool unique = false;     // Salesforce unique (HubSpot: same as hasUniqueValue)
    bool id_lookup = false;  // Salesforce idLookup: usable as an upsert key though maybe not unique
    bool creatable = true;
    bool updatable = true;
    bool writable() const { return creatable || updatable; }
    std::vector<std::string> options;  // enumeration / picklist values (active ones only)
    // Only listed options are taken: every HubSpot enumeration; a Salesforce picklist with
    // restrictedPicklist (the others take any value).
    bool restricted_options = false;
};

struct CrmObjectSchema {
    std::string object;
    bool creatable = true;
    bool updatable = true;
    std::vector<CrmProperty> properties;

    const CrmProperty* find(std::string_view name) const;
};

// The answer to a schema request, read: the schema, or why there is none.
struct SchemaFetch {
    enum class Problem { none, unknown_object, forbidden, unauthorized, bad_answer };
    Problem problem = Problem::none;
    long status = 0;
    std::string detail;  // the CRM's message or what was wrong with the body
    CrmObjectSchema schema;
};

}  // namespace crmsync::sender
