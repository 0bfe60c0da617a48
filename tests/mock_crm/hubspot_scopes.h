// HubSpot private-app scopes: which scope each mock route needs, the 403 a token without it
// gets, and the endpoint that lists a token's scopes.
//   "Scopes", https://developers.hubspot.com/docs/api/scopes: crm.objects.<object>.read/write
//     for records of contacts, companies, deals, ...; crm.objects.custom.* for custom objects;
//     crm.schemas.<object>.read/write for their properties.
//   "Error handling", https://developers.hubspot.com/docs/api-reference/error-handling: a call
//     the app lacks scopes for answers 403, category MISSING_SCOPES, errors[].context naming
//     the required scopes.
//   "Private apps" (legacy apps), https://developers.hubspot.com/docs/api/private-apps, "View
//     access token info": POST /oauth/v2/private-apps/get/access-token-info {"tokenKey":...}
//     answers {"userId","hubId","appId","scopes":[...]}. What it answers for a token it does
//     not know is not documented; the mock answers 401 as for any unknown token.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "api_common.h"
#include "tokens.h"

namespace crmsync::mock_crm {

// The scope route `route_name` (the stats key, e.g. "hubspot.batch_upsert") needs for
// `object`; nullopt for routes that need none.
std::optional<std::string> required_hubspot_scope(const std::string& route_name, const std::string& object);

bool has_scope(const std::optional<std::vector<std::string>>& granted, const std::string& scope);

HttpReply missing_scopes_reply(const std::string& scope);

HttpReply access_token_info(const std::string& body, const TokenStore& tokens);

}  // namespace crmsync::mock_crm
