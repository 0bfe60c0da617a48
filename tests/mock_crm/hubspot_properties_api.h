// HubSpot CRM v3 properties endpoints over the typed schema (hubspot_schema.h):
//   GET  /crm/v3/properties/{objectType}                 all properties, {"results":[...]}
//   GET  /crm/v3/properties/{objectType}/{propertyName}  one property, 404 when unknown
//   POST /crm/v3/properties/{objectType}                 create a custom property (201)
// From "CRM API | Properties" (https://developers.hubspot.com/docs/api/crm/properties) and
// "Create a property" (https://developers.hubspot.com/docs/api-reference/latest/crm/properties/create-property.md).
// path_params: {objectType} or {objectType, propertyName}.
#pragma once

#include "api_common.h"

namespace crmsync::mock_crm {

HttpReply hubspot_list_properties(const ApiRequest& req, ApiContext& ctx);
HttpReply hubspot_get_property(const ApiRequest& req, ApiContext& ctx);
HttpReply hubspot_create_property(const ApiRequest& req, ApiContext& ctx);

}  // namespace crmsync::mock_crm
