// HubSpot's typed property schema per object type: the default properties HubSpot defines for
// contacts, companies and deals, the custom ones created through the properties API, and the
// per-type value checks batch upsert applies.
//
// Sources (cited again where each behaviour is implemented):
//   "CRM API | Properties" https://developers.hubspot.com/docs/api/crm/properties
//     (type/fieldType pairs, hasUniqueValue, options, create/read routes)
//   "How should timestamps be formatted for HubSpot's APIs?"
//     https://developers.hubspot.com/docs/faq/how-should-timestamps-be-formatted-for-hubspots-apis
//     (date = midnight UTC, else an error; datetime = any millisecond timestamp)
//   "New Standardization of date formats..." changelog
//     https://developers.hubspot.com/changelog/new-standardization-of-date-formats-for-hubspots-form-submissions-api
//     (date as YYYY-MM-DD or a UTC-midnight epoch-ms timestamp)
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "json.h"

namespace crmsync::mock_crm {

struct HubSpotOption {
    std::string label;
    std::string value;
};

struct HubSpotProperty {
    std::string name;
    std::string label;
    std::string type;        // string, number, date, datetime, enumeration, bool
    std::string field_type;  // text, textarea, number, date, select, checkbox, booleancheckbox, ...
    std::string group_name;
    std::string description;
    std::vector<HubSpotOption> options;
    bool has_unique_value = false;
    bool read_only_value = false;   // modificationMetadata.readOnlyValue
    bool hubspot_defined = false;   // a default property, not a custom one
};

// One property-value problem, as HubSpot lists it inside "Property values were not valid: [...]".
struct HubSpotValueError {
    std::string name;     // the property
    std::string error;    // PROPERTY_DOESNT_EXIST, READ_ONLY_VALUE, INVALID_DATE, ...
    std::string message;
};

class HubSpotSchema {
public:
    HubSpotSchema();  // the default objects with their default properties

    // "contacts", "0-1" -> "contacts"; nullopt for a type that is neither a default object
    // nor one a test declared.
    std::optional<std::string> object_type(std::string_view path_type) const;

    const HubSpotProperty* find(std::string_view object, std::string_view name) const;
    const std::map<std::string, HubSpotProperty, std::less<>>* properties(std::string_view object) const;

    // Validates and adds a custom property from a POST /crm/v3/properties/{object} body.
    // Returns the HTTP status (201, 400, 409) and the message on error.
    std::pair<int, std::string> create(std::string_view object, const rapidjson::Value& body);

    // Checks one value (JSON) against the property's type; nullopt when it is acceptable.
    std::optional<HubSpotValueError> check_value(std::string_view object, std::string_view name,
                                                 const rapidjson::Value& value) const;

    static void write_property(JsonWriter& w, const HubSpotProperty& p);

    // The state file (state_file.h) keeps custom properties, as a real account keeps its
    // schema across an outage: {"<object>":[<property as write_property>...]}.
    void write_custom(JsonWriter& w) const;
    // Re-creates them; "" or what is wrong, naming where.
    std::string read_custom(const rapidjson::Value& saved);
    bool has_custom() const;

    // Back to the defaults (custom properties dropped).
    void reset();

private:
    std::map<std::string, std::map<std::string, HubSpotProperty, std::less<>>, std::less<>> objects_;
};

}  // namespace crmsync::mock_crm
