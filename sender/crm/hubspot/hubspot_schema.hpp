// HubSpot's properties API as a schema source: "CRM API | Properties",
// https://developers.hubspot.com/docs/api/crm/properties
//   GET /crm/v3/properties/{objectType}
//   200 {"results":[{"name","label","type","fieldType","hasUniqueValue","calculated",
//                    "modificationMetadata":{"readOnlyValue",...},"options":[{"value",...}]}]}
#pragma once

#include <string>
#include <string_view>

#include "crm/crm_schema.hpp"

namespace crmsync::sender::hubspot {

std::string properties_path(std::string_view object);

// Any status: 200 is parsed; 401, 403 (missing scope), 400/404 (unknown object type) and the
// rest become SchemaFetch problems.
SchemaFetch read_properties(std::string_view object, long status, std::string_view body);

// The token scope that writes an object's records.
std::string write_scope(std::string_view object);

}  // namespace crmsync::sender::hubspot
