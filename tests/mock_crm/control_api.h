// The mock's own endpoints under /_mock (never authenticated, never faulted, not counted):
//   GET  /_mock/state[?object=O[&key=K]]  the CRM state, objects and keys sorted
//   GET  /_mock/stats                     requests, record outcomes, idempotency keys, latency
//   GET  /_mock/faults, POST /_mock/faults
//   POST /_mock/reset                     clears state, stats and faults
//   GET  /_mock/health                    readiness probe
//   GET|POST /_mock/tokens                the accepted static bearer tokens (rotation)
//   POST /_mock/salesforce/fields, /_mock/salesforce/duplicates  Setup stand-ins
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "api_common.h"
#include "faults.h"
#include "quotas.h"
#include "tokens.h"

namespace crmsync::mock_crm {

struct ControlContext {
    SharedState& shared;
    Stats& stats;
    FaultInjector& faults;
    TokenStore& tokens;
    Quotas& quotas;
};

struct ControlRequest {
    std::string_view method;
    std::string_view endpoint;  // the segment after /_mock/, e.g. "state"
    std::string_view body;
    std::optional<std::string> object;  // ?object=
    std::optional<std::string> key;     // ?key=
};

HttpReply control_request(const ControlRequest& req, ControlContext& ctx);

}  // namespace crmsync::mock_crm
