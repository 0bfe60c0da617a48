// The generic webhook: POST {webhook-path} with {"events":[<plugin message>,...]}, the
// plugin's messages verbatim (docs/mapping.md, "Output messages"). The receiver a careful integrator would write:
// drops redelivered event ids, counts events that arrive out of (commit_lsn, seq) order per
// key, and refuses a request with a bad event whole so that the sender can split and retry.
#pragma once

#include "api_common.h"

namespace crmsync::mock_crm {

HttpReply webhook_deliver(const ApiRequest& req, ApiContext& ctx);

}  // namespace crmsync::mock_crm
