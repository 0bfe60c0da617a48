// A value as the plugin renders it (docs/mapping.md, "Type rendering") turned into what the
// CRM property's type takes (docs/mapping.md, "Property types"): a date property gets a
// calendar day, a datetime an instant with its zone, a boolean true/false, a number its
// digits, an enumeration one of its options. A value that cannot be turned into the type is
// refused with the reason, so that the record is dead-lettered with it instead of being sent
// to a CRM that would refuse it.
//
// Pure: the caller passes the property (crm_schema.hpp) and the zone the database's
// wall-clock times are in (target.time_zone).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/wall_clock_zone.hpp"
#include "crm/crm_schema.hpp"

namespace crmsync::sender {

// Which CRM's value conventions apply: HubSpot takes every value as a JSON string ("" clears
// a property); Salesforce takes typed JSON (numbers, true/false, null).
enum class ValueDialect { hubspot, salesforce };

// One JSON scalar of a record: its kind and its text (a string's content unescaped, a
// number's digits, "true"/"false").
struct JsonScalar {
    enum class Kind { null, boolean, number, string };
    Kind kind = Kind::null;
    std::string text;
};

// What to put in the record instead: the JSON text of the converted value, or nullopt when
// the value is already what the property takes. An error says why the value cannot be stored.
Result<std::optional<std::string>> convert_value(ValueDialect dialect, const CrmProperty& property,
                                                 const JsonScalar& value, const WallClockZone& zone);

}  // namespace crmsync::sender
