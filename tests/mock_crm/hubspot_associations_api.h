// HubSpot associations v4 endpoints, shaped like the real API (hubspot_associations.h for the
// documents):
//   POST /crm/v4/associations/{from}/{to}/batch/create             201, or 207 with per-input errors
//   POST /crm/v4/associations/{from}/{to}/batch/associate/default  200 (errors inside)
//   POST /crm/v4/associations/{from}/{to}/batch/archive            204
//   POST /crm/v4/associations/{from}/{to}/batch/read               200, or 207 with per-input errors
//   GET  /crm/v4/associations/{from}/{to}/labels                   200
//   POST /crm/v4/associations/{from}/{to}/labels                   200 (a USER_DEFINED label)
// path_params: {from, to}. Object ids are the HubSpot ids batch upsert answers (hubspot_api.h).
#pragma once

#include "api_common.h"

namespace crmsync::mock_crm {

// Inputs per request. batch/read: "any batch read requests submitted to the Associations API
// may not exceed 1000 IDs per request body" ("Bug Fix: Batch Read Limit for HubSpot
// Associations API", https://developers.hubspot.com/changelog/bug-fix-batch-read-limit-for-hubspot-associations-api;
// a first announcement said 100, the one in force says 1000). create, associate/default and
// archive: 2000; HubSpot's reference pages for them state no number that could be retrieved
// here, 2000 is the batch size HubSpot integrations document for these endpoints (e.g.
// https://docs.workato.com/en/connectors/hubspot/actions/associate-records-batch.html: "accepts
// a maximum of 2000 records").
inline constexpr size_t kHubSpotMaxAssociationReadInputs = 1000;
inline constexpr size_t kHubSpotMaxAssociationWriteInputs = 2000;

HttpReply hubspot_associations_create(const ApiRequest& req, ApiContext& ctx);
HttpReply hubspot_associations_default(const ApiRequest& req, ApiContext& ctx);
HttpReply hubspot_associations_archive(const ApiRequest& req, ApiContext& ctx);
HttpReply hubspot_associations_read(const ApiRequest& req, ApiContext& ctx);
HttpReply hubspot_association_labels_list(const ApiRequest& req, ApiContext& ctx);
HttpReply hubspot_association_labels_create(const ApiRequest& req, ApiContext& ctx);

// For /_mock/state: a HubSpot record's associations as
// {"<toObject>":[{"id":"<HubSpot id>","key":"<to record's key>","types":[{"category","typeId"}]}]},
// or nothing when it has none. Caller holds the lock.
void write_record_associations(const SharedState& shared, std::string_view object, uint32_t index, JsonWriter& w);

}  // namespace crmsync::mock_crm
