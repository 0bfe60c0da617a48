// One CRM's API behind one small interface: how a batch becomes HTTP requests, and what each
// answer means for the records it carried (docs/operations.md, "Delivery rules"). The delivery
// engine knows nothing else about any CRM; each adapter lives in its own folder
// (crm/hubspot, crm/salesforce, crm/webhook) with its table of documented answers.
//
// A batch part goes through stages. Most need one: `send`. Two patterns need more:
//   lookup -> by_crm_id   the CRM deletes only by its own record id (HubSpot): find the ids
//                         first, then act on those found; a record not found is already gone.
//   verify                a "not found" is "done" only if the target object and its id field
//                         exist (Salesforce delete by external id): confirm that once per
//                         target (describe), then send the part again.
//   schema -> send        an upsert's values are converted to the target's property types
//                         (value_conversion.hpp), which needs the object's schema: read it
//                         before the first upsert of the object and after the CRM refused
//                         one of its properties or values (schema_cache.hpp).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/batcher.hpp"
#include "core/crm_record.hpp"
#include "core/quota_pacer.hpp"
#include "core/request_body.hpp"
#include "core/result.hpp"
#include "crm/value_conversion.hpp"

namespace crmsync::sender {

enum class Stage { send, lookup, by_crm_id, verify, schema };

// The records of one request: the batch's target and the entries of the part being sent.
struct PartView {
    std::string_view object;
    std::string_view id_field;
    Action action = Action::upsert;
    std::vector<const BatchEntry*> entries;
};

struct CrmAnswer {
    long status = 0;  // 0: no HTTP answer (transport error)
    std::string_view body;
    std::optional<std::string_view> retry_after_header;
    std::string_view transport_error;
    std::span<const std::pair<std::string, std::string>> headers;  // names in lower case

    std::optional<std::string_view> header(std::string_view lower_case_name) const;
};

// What happened to one record of the request, when not simply "accepted".
struct RecordOutcome {
    enum class Kind {
        rejected,  // the CRM refused this record for what it holds: dead-letter it
        retry,     // a transient failure of this record (lock contention, ...): send it again later
        done,      // nothing to do (a delete of a record that does not exist)
    };
    std::size_t index = 0;  // into PartView::entries
    Kind kind = Kind::rejected;
    std::string error;      // the CRM's words, for logs and dead letters
};

struct ResponseVerdict {
    enum class Kind {
        accepted,          // every record accepted
        per_record,        // `records` says what happened to some; the others were applied
                           // when `others_applied`, else not (they are sent again)
        rejected_unnamed,  // refused without saying which record: split the request
        retry,             // transient: the same request again later (429, 5xx, timeouts, ...)
        unauthorized,      // the token was refused or expired: renew it, then send again
        configuration,     // the target is misconfigured (unknown object, property or id field,
                           // missing permission): nothing is dead-lettered; the records stay
                           // in the slot and the request is tried again until it is fixed
        verify_target,     // trust the answer only after Stage::verify of this target
    };
    Kind kind = Kind::accepted;
    std::vector<RecordOutcome> records;
    bool others_applied = true;
    std::string error;  // one line for logs and dead letters
    std::optional<std::chrono::milliseconds> retry_after;
    // Stage::lookup: the CRM's id of each entry's record, nullopt when it does not exist.
    std::vector<std::optional<std::string>> crm_ids;
    // The CRM's daily request budget is gone: no request of any batch goes before
    // retry_after has passed (not only this one).
    bool daily_quota_exhausted = false;
};

class CrmAdapter {
public:
    virtual ~CrmAdapter() = default;

    virtual Format format() const = 0;

    // The stage a part starts with.
    virtual Stage first_stage(const Batch& part) const = 0;

    // The request for `part` at `stage`; `crm_ids` holds the lookup's ids for Stage::by_crm_id.
    virtual Result<CrmRequest> build(Stage stage, const Batch& part, std::span<const std::string> crm_ids) const = 0;

    // What the CRM's answer means. Not const: adapters remember what Stage::verify learnt.
    virtual ResponseVerdict classify(Stage stage, const PartView& part, const CrmAnswer& answer,
                                     std::chrono::system_clock::time_point now) = 0;

    // What the answer's headers say about the request budget; empty when the CRM says nothing.
    virtual QuotaReport quota(const CrmAnswer&) const { return {}; }

    // True when `part` is to be converted with a schema the adapter has not read (yet, or
    // again): the engine sends Stage::schema first. Its answer is classified `accepted`, with
    // `error` set when the schema could not be read (the values then go out as rendered).
    virtual bool needs_schema(const Batch&) const { return false; }
    // Converts each record of a Stage::send part to its properties' types, in place; the
    // records that cannot be sent (a value its property cannot take), by index into
    // part.entries, with the reason. The engine dead-letters those and sends the rest.
    virtual std::vector<RecordOutcome> convert(Batch&) const { return {}; }
};

// Where a property's values come from, for the reason a value is refused ("column stage of
// public.leads"); empty when unknown. Read from crmsync.mappings (io/mapping_columns.hpp).
using PropertySource = std::function<std::string(std::string_view object, std::string_view property)>;

struct AdapterOptions {
    std::string api_version;  // target.api_version; empty = the adapter's default (HubSpot "v3", Salesforce "v59.0")
    WallClockZone time_zone;  // target.time_zone
    PropertySource property_source;
};

std::unique_ptr<CrmAdapter> make_adapter(Format format, const AdapterOptions& options = {});

}  // namespace crmsync::sender
