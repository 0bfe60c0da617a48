// What the three API shapes (hubspot_api, salesforce_api, webhook_api) share: the request as
// the server hands it over, the reply they build, and each real API's error body.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "crm_state.h"
#include "hubspot_associations.h"
#include "hubspot_schema.h"
#include "salesforce_schema.h"
#include "stats.h"

namespace crmsync::mock_crm {

struct ApiRequest {
    std::string_view body;
    std::vector<std::string> path_params;  // captured path segments, percent-decoded
    int64_t received_us = 0;               // wall clock when the body was read
    std::optional<int64_t> commit_time_us;  // X-Crmsync-Commit-Time, oldest commit in batch
    std::string reject_value;               // poison substring; empty = none
    double lock_row_rate = 0;               // Salesforce UNABLE_TO_LOCK_ROW share (faults.h)
    double omit_result_rate = 0;            // HubSpot upsert results left out (faults.h)
    uint64_t lock_row_seed = 0;
};

struct HttpReply {
    int status = 200;
    std::string body;          // JSON; empty for 204
    std::string retry_after;   // Retry-After header when set
    std::vector<std::pair<std::string, std::string>> headers;  // more response headers
};

// The CRM state and its lock. A batch applies under one lock hold, so a concurrent
// GET /_mock/state never sees half a batch.
struct SharedState {
    std::mutex mutex;
    CrmState state;
    EventIdSet applied_events;  // webhook event ids applied, to count redeliveries
    HubSpotSchema hubspot_schema;  // typed properties per HubSpot object (hubspot_schema.h)
    SalesforceSchema salesforce_schema;  // typed fields per sObject (salesforce_schema.h)
    HubSpotAssociationTypes hubspot_association_types;  // association definitions (labels)
    AssociationStore associations;  // HubSpot associations between records, both ways
};

// Everything an API handler may touch.
struct ApiContext {
    SharedState& shared;
    Stats& stats;
};

// HubSpot: {"status":"error","category":...,"message":...}
std::string hubspot_error_body(std::string_view category, std::string_view message);
// A fresh correlationId as HubSpot puts in every error body (a random UUID).
std::string hubspot_correlation_id();
// Salesforce: [{"message":...,"errorCode":...}]
std::string salesforce_error_body(std::string_view error_code, std::string_view message);
// Webhook: {"error":...}
std::string webhook_error_body(std::string_view message);

// The value's JSON text contains `needle` inside a top-level string value.
bool is_poison_value(const rapidjson::Value& v, std::string_view needle);

// Percent-decodes one URL path segment ("ann%40example.com" -> "ann@example.com"); '+' stays
// '+' as in paths. nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view segment);

// Splits "/a/b%2Fc/d?x=1" into decoded segments {"a","b/c","d"}; nullopt on a bad escape.
std::optional<std::vector<std::string>> split_path(std::string_view target);

std::string writer_text(const rapidjson::StringBuffer& buf);

}  // namespace crmsync::mock_crm
