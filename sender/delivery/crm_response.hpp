// What a CRM's answer means for the records of the request (SPEC delivery rules 6 and 7).
// Pure: status, headers and body in, a verdict out. The delivery engine acts on it.
//
// Only answers that blame records may dead-letter them: 400, 409, 413, 422, and per-record
// errors inside a 2xx/207. Everything that says "not now" or "not you" (429, 5xx, 408,
// transport errors, and also 401, 403 and 404 on the endpoint: a bad token or URL is an
// operator's problem, not a record's) is retried with backoff, so a misconfiguration never
// turns a table into dead letters.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/batcher.hpp"
#include "core/crm_record.hpp"

namespace crmsync::sender {

enum class RequestKind {
    send,               // upsert / delete / webhook events
    hubspot_lookup,     // batch/read by idProperty before an archive
};

struct RecordRejection {
    std::size_t index;  // into the request's entries
    std::string error;  // the CRM's words
};

struct ResponseVerdict {
    enum class Kind {
        accepted,            // every record accepted
        partially_rejected,  // `rejections` named; all other records accepted
        rejected_unnamed,    // the request was refused without saying which record: split it
        retry,               // try the same request again later
    };
    Kind kind = Kind::accepted;
    std::vector<RecordRejection> rejections;
    std::string error;  // one line for logs and dead letters
    std::optional<std::chrono::milliseconds> retry_after;
    // hubspot_lookup: the HubSpot id of each entry's record, nullopt when it does not exist
    // (nothing to archive: already gone).
    std::vector<std::optional<std::string>> hubspot_ids;
};

struct CrmAnswer {
    long status = 0;  // 0: no HTTP answer (transport error)
    std::string_view body;
    std::optional<std::string_view> retry_after_header;
    std::string_view transport_error;
};

ResponseVerdict classify_response(Format format, RequestKind kind, const std::vector<const BatchEntry*>& entries,
                                  const CrmAnswer& answer, std::chrono::system_clock::time_point now);

// Everything but 2xx and the record-blaming 400, 409, 413, 422.
bool is_retryable_status(long status);

}  // namespace crmsync::sender
