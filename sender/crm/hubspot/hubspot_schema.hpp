// HubSpot's properties API as a schema source: "CRM API | Properties",
// https://developers.hubspot.com/docs/api/crm/properties
//   GET /crm/v3/properties/{objectType}
//   200 {"results":[{"name","label","type","fieldType","hasUniqueValue","calculated",
//                    "modificationMetadata":{"readOnlyValue",...},"options":[{"value",...}]}]}
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crm/crm_schema.hpp"

namespace crmsync::sender::hubspot {

std::string properties_path(std::string_view object);

// Any status: 200 is parsed; 401, 403 (missing scope), 400/404 (unknown object type) and the
// rest become SchemaFetch problems.
SchemaFetch read_properties(std::string_view object, long status, std::string_view body);

// The token scope that writes an object's records.
std::string write_scope(std::string_view object);
// "Scopes" (https://developers.hubspot.com/docs/api/scopes): crm.<objects|schemas>.<object>.<read|write>;
// custom objects share crm.<...>.custom.<...>.
std::string scope(std::string_view kind, std::string_view object, std::string_view access);

// "Private apps", "View access token info": POST this path with {"tokenKey": <token>}; the answer
// lists the token's scopes. A private app's token only: other answers leave them unknown.
inline constexpr std::string_view kTokenInfoPath = "/oauth/v2/private-apps/get/access-token-info";
std::optional<std::vector<std::string>> read_token_scopes(long status, std::string_view body);

}  // namespace crmsync::sender::hubspot
