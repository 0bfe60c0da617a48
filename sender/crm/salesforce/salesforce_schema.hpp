// Salesforce's sObject Describe as a schema source:
// https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm
//   GET /services/data/{version}/sobjects/{SObject}/describe
//   200 {"name","createable","updateable",...,"fields":[{"name","type","externalId","idLookup",
//        "unique","createable","updateable","nillable","picklistValues":[{"value","active"}]}]}
// The answer lists only the fields the user can see (field-level security).
#pragma once

#include <string>
#include <string_view>

#include "crm/crm_schema.hpp"

namespace crmsync::sender::salesforce {

std::string describe_path(std::string_view api_version, std::string_view sobject);

// Any status: 200 is parsed; 404 NOT_FOUND (no such sObject, or not visible to the user),
// 401, 403 and the rest become SchemaFetch problems.
SchemaFetch read_describe(std::string_view sobject, long status, std::string_view body);

}  // namespace crmsync::sender::salesforce
