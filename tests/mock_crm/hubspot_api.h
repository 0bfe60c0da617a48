// HubSpot CRM v3 batch endpoints, shaped like the real API:
//   POST /crm/v3/objects/{object}/batch/upsert   (idProperty upsert, properties merge)
//   POST /crm/v3/objects/{object}/batch/read     (207 when some ids are missing)
//   POST /crm/v3/objects/{object}/batch/archive  (by hs object id, 204)
// path_params[0] is {object}.
#pragma once

#include "api_common.h"

namespace crmsync::mock_crm {

inline constexpr size_t kHubSpotMaxBatchInputs = 100;

HttpReply hubspot_batch_upsert(const ApiRequest& req, ApiContext& ctx);
HttpReply hubspot_batch_read(const ApiRequest& req, ApiContext& ctx);
HttpReply hubspot_batch_archive(const ApiRequest& req, ApiContext& ctx);

// HubSpot's record id ("hs_object_id") for the record created with this index, and back.
std::string hubspot_object_id(uint32_t index);
std::optional<uint32_t> hubspot_index_of(std::string_view object_id);

}  // namespace crmsync::mock_crm
