// The HTTP request for a batch (SPEC "Requests by format"). Records are spliced byte for byte
// from the plugin's output; only our own small strings (keys, ids) are escaped here.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/batcher.hpp"
#include "core/crm_record.hpp"
#include "core/lsn.hpp"
#include "core/result.hpp"

namespace crmsync::sender {

inline constexpr std::string_view kSalesforceApiVersion = "v59.0";

enum class HttpMethod { post, patch };
std::string_view method_name(HttpMethod method);

struct CrmRequest {
    HttpMethod method = HttpMethod::post;
    std::string path;             // appended to target.url (see join_url); empty: POST to url itself
    std::string body;             // application/json
    std::string idempotency_key;  // the Idempotency-Key header
    // HubSpot archives by its own record id only. When records are keyed by another property
    // (email, ...), this request is the batch read that finds those ids; the caller then
    // sends build_hubspot_archive() with them.
    bool hubspot_lookup_then_archive = false;
};

// webhook: POST {"events":[<message>,...]} to the url, messages verbatim.
// hubspot upsert: POST /crm/v3/objects/{object}/batch/upsert {"inputs":[<record>,...]}.
// hubspot delete: POST .../batch/archive {"inputs":[{"id":<key>},...]} when the key is the
//   HubSpot id (idProperty hs_object_id, or no record); otherwise the lookup described above.
// salesforce upsert: PATCH /services/data/v59.0/composite/sobjects/{SObject}/{ExternalIdField}
//   {"allOrNone":false,"records":[<record>,...]}.
// salesforce delete: POST /services/data/v59.0/composite, one DELETE subrequest per record by
//   external id (the API has no collection delete by external id).
Result<CrmRequest> build_request(Format format, const Batch& batch);

// Step two of a HubSpot delete by a non-id property: archive the ids the lookup returned.
CrmRequest build_hubspot_archive(const Batch& batch, std::span<const std::string> hubspot_ids);

// "crmsync-<first lsn>-<first seq>-<last lsn>-<last seq>": stable across retries of the same
// batch, distinct for every batch (each event is in exactly one).
std::string idempotency_key(EventId first, EventId last);

// base "https://api.hubapi.com/" + path "/crm/..." without doubling the slash.
std::string join_url(std::string_view base, std::string_view path);

// RFC 3986 percent-encoding of one path segment (everything but unreserved characters).
std::string encode_path_segment(std::string_view segment);

}  // namespace crmsync::sender
