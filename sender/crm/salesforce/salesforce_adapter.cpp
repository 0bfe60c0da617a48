// Salesforce: what each documented answer means for the records of a request.
//
// Sources:
//   [SC]  Salesforce REST API Developer Guide, "Status Codes and Error Responses",
//         https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm
//         (300: an external ID exists in more than one record; 401: session ID or OAuth token
//         expired or invalid; 403: refused, REQUEST_LIMIT_EXCEEDED when the org's API request
//         limit is exceeded; 404: resource not found, also "verify that there are no sharing
//         issues"; 5xx)
//   [UPX] "Upsert Records Using sObject Rows by External ID",
//         https://developer.salesforce.com/docs/platform/api-rest/guide/resources-sobject-upsert-patch.md
//         ("If the external ID matches multiple existing records, then a 300 error is returned,
//         and no records are created or updated")
//   [COL] "sObject Collections" create/upsert: one result per record, in request order,
//         {id, success, errors[{statusCode, message, fields}], created}; allOrNone false lets
//         the others succeed
//   [CMP] "Composite": compositeResponse[{body, httpHeaders, httpStatusCode, referenceId}]
//   [STC] SOAP API Developer Guide, "StatusCode" (core data types): the per-record error codes
//         (UNABLE_TO_LOCK_ROW: "A deadlock or timeout condition has been detected", retry;
//         DUPLICATE_EXTERNAL_ID: "A user-specified external ID matches more than one record
//         during an upsert"; ENTITY_IS_DELETED; INVALID_FIELD; ...)
//   [DSC] "sObject Describe": fields[{name, type, externalId, idLookup, unique, ...}]
//   [LIM-SF] "API Request Limits and Allocations"; the Sforce-Limit-Info response header
//         (api-usage=<used>/<limit>), REST API Developer Guide, "Response Headers"
//
// Request answers:
// | answer                                  | verdict                                              |
// |-----------------------------------------|------------------------------------------------------|
// | no answer, 3xx but 300, 408, 429, 5xx   | retry (Retry-After honoured)                         |
// | 401 INVALID_SESSION_ID [SC]             | unauthorized: renew the session, send again          |
// | 403 REQUEST_LIMIT_EXCEEDED [SC]         | retry in minutes: the org's API limit is used up     |
// | 403 otherwise [SC]                      | configuration: the integration user lacks a right    |
// | 404 [SC]                                | configuration: sObject, field or API version wrong   |
// | 400 INVALID_FIELD / INVALID_TYPE /      | configuration: the mapping names what is not there   |
// |   NOT_FOUND / INVALID_FIELD_FOR_...     |                                                      |
// | 300, 400 otherwise, 409, 413, 422       | split the request to find the record                 |
// | other 4xx                               | retry (not a record's fault)                         |
// | 2xx collections [COL]                   | per record, by its statusCode (table below); an      |
// |                                         | answer without a result per record: retry            |
// | 2xx composite delete [CMP]              | per subrequest: 2xx done; 404 NOT_FOUND done once    |
// |                                         | the target is verified [DSC], else verify first;     |
// |                                         | other statuses as for a request, per record          |
// | describe before an upsert [DSC]         | 401 and REQUEST_LIMIT_EXCEEDED as above; 200: the    |
// |   (Stage::schema)                       | values are converted; any other: sent unconverted,   |
// |                                         | logged                                               |
// | a refused field or value to an upsert   | as above; the sObject is described again first       |
//
// Per-record codes [STC]: see classify_salesforce_error().
#include "crm/salesforce/salesforce_adapter.hpp"

#include <array>

#include "crm/common_answers.hpp"
#include "crm/record_conversion.hpp"
#include "crm/salesforce/salesforce_schema.hpp"

namespace crmsync::sender {
namespace {

using Kind = ResponseVerdict::Kind;
using answers::member;
using answers::short_body;
using answers::string_or;
using answers::verdict;

constexpr std::string_view kCrm = "Salesforce";

// The first {errorCode|statusCode, message} of a Salesforce error array (or single object).
struct SalesforceError {
    std::string code;
    std::string message;
};

SalesforceError first_error(const rapidjson::Value* errors) {
    if (!errors) return {};
    const rapidjson::Value* first = errors;
    if (errors->IsArray()) {
        if (errors->Empty()) return {};
        first = &(*errors)[0];
    }
    std::string code = string_or(member(*first, "errorCode"), string_or(member(*first, "statusCode"), ""));
    return {code, string_or(member(*first, "message"), "")};
}

std::string describe(const SalesforceError& e) {
    if (e.code.empty()) return e.message.empty() ? "rejected by Salesforce" : e.message;
    return e.code + ": " + e.message;
}

RecordOutcome outcome_for(std::size_t index, const SalesforceError& error) {
    switch (classify_salesforce_error(error.code)) {
        case SalesforceErrorClass::transient: return {index, RecordOutcome::Kind::retry, describe(error)};
        case SalesforceErrorClass::gone: return {index, RecordOutcome::Kind::done, describe(error)};
        default: return {index, RecordOutcome::Kind::rejected, describe(error)};
    }
}

std::string configuration_text(std::string_view object, std::string_view field, const SalesforceError& error,
                               long status) {
    return "Salesforce refused the mapping of " + std::string(object) + " by " + std::string(field) + " (HTTP " +
           std::to_string(status) + " " + describe(error) +
           "): check the mapping's object and property names against the sObject's fields (Setup > Object "
           "Manager), the external id field, and the integration user's field-level access; nothing is "
           "dead-lettered, the records wait in the slot";
}

// A 4xx/401/403 answer to the whole request (or to one composite subrequest).
std::optional<ResponseVerdict> classify_refusal(long status, const SalesforceError& error, const PartView& part,
                                                std::string_view body) {
    if (status == 401)
        return verdict(Kind::unauthorized, "Salesforce refused the session (HTTP 401 " + describe(error) + ")");
    if (status == 403 && error.code == "REQUEST_LIMIT_EXCEEDED") {
        ResponseVerdict v = verdict(Kind::retry, "Salesforce's API request limit for the org is used up (HTTP 403 " +
                                                     describe(error) + "); trying again in 5 minutes");
        v.retry_after = std::chrono::minutes(5);
        v.daily_quota_exhausted = true;
        return v;
    }
    if (status == 403)
        return verdict(Kind::configuration,
                       "Salesforce refused access (HTTP 403 " + describe(error) +
                           "): give the integration user's profile or permission set API Enabled and create/edit/"
                           "delete on " + std::string(part.object) + "; " + short_body(body));
    if (status == 404 || status == 405 || (status == 400 && classify_salesforce_error(error.code) == SalesforceErrorClass::configuration))
        return verdict(Kind::configuration, configuration_text(part.object, part.id_field, error, status) +
                                                (status == 404 ? " (a 404 can also mean target.api_version does "
                                                                 "not exist on this org)"
                                                               : ""));
    return std::nullopt;
}

}  // namespace

SalesforceErrorClass classify_salesforce_error(std::string_view code) {
    // [STC]: lock contention and timeouts pass; the same record succeeds when sent again.
    static constexpr std::array<std::string_view, 5> kTransient = {
        "UNABLE_TO_LOCK_ROW", "REQUEST_RUNNING_TOO_LONG", "ALL_OR_NONE_OPERATION_ROLLED_BACK", "SERVER_UNAVAILABLE",
        "QUERY_TIMEOUT"};
    // The mapping names a field or object the org does not have, or the user cannot write:
    // every record of the object fails the same way.
    static constexpr std::array<std::string_view, 8> kConfiguration = {
        "INVALID_FIELD",         "INVALID_FIELD_FOR_INSERT_UPDATE", "INVALID_TYPE",         "NOT_FOUND",
        "INSUFFICIENT_ACCESS_OR_READONLY", "API_DISABLED_FOR_ORG",  "API_CURRENTLY_DISABLED", "INVALID_OPERATION"};
    for (auto c : kTransient)
        if (code == c) return SalesforceErrorClass::transient;
    for (auto c : kConfiguration)
        if (code == c) return SalesforceErrorClass::configuration;
    if (code == "ENTITY_IS_DELETED") return SalesforceErrorClass::gone;
    return SalesforceErrorClass::rejected;
}

// [LIM-SF] REST API Developer Guide, "Limits" / "Response headers": every answer carries
// "Sforce-Limit-Info: api-usage=<used>/<limit>", the org's rolling 24-hour request budget.
QuotaReport SalesforceAdapter::quota(const CrmAnswer& answer) const {
    QuotaReport report;
    auto info = answer.header("sforce-limit-info");
    if (!info) return report;
    const std::string_view text = *info;
    const auto at = text.find("api-usage=");
    if (at == std::string_view::npos) return report;
    std::uint64_t used = 0, limit = 0;
    std::size_t i = at + 10;
    bool any_used = false, any_limit = false;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9' && used < (1ULL << 50); ++i, any_used = true)
        used = used * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (i >= text.size() || text[i] != '/') return report;
    for (++i; i < text.size() && text[i] >= '0' && text[i] <= '9' && limit < (1ULL << 50); ++i, any_limit = true)
        limit = limit * 10 + static_cast<std::uint64_t>(text[i] - '0');
    if (!any_used || !any_limit) return report;
    report.daily_max = limit;
    report.daily_remaining = used >= limit ? 0 : limit - used;
    return report;
}

SalesforceAdapter::SalesforceAdapter(std::string api_version, WallClockZone time_zone, PropertySource property_source)
    : api_version_(std::move(api_version)),
      time_zone_(std::move(time_zone)),
      property_source_(std::move(property_source)) {}

bool SalesforceAdapter::needs_schema(const Batch& part) const {
    return part.action == Action::upsert && schemas_.needs(part.object);
}

std::vector<RecordOutcome> SalesforceAdapter::convert(Batch& part) const {
    return convert_batch(ValueDialect::salesforce, schemas_.find(part.object), part, time_zone_, property_source_);
}

Result<CrmRequest> SalesforceAdapter::build(Stage stage, const Batch& part, std::span<const std::string>) const {
    if (part.entries.empty()) return Error{"empty batch"};
    if (part.id_field.empty()) return Error{"salesforce batch without an external-id field"};
    for (const auto& entry : part.entries)
        if (entry.action != part.action || entry.object != part.object || !entry.key)
            return Error{"batch mixes objects or actions, or holds a keyless record"};
    CrmRequest request;
    if (stage == Stage::verify || stage == Stage::schema) {
        request.method = HttpMethod::get;
        request.path = salesforce::describe_path(api_version_, part.object);
        return request;
    }
    if (stage != Stage::send) return Error{"salesforce has no stage but send, verify and schema"};
    request.idempotency_key = idempotency_key(part.first_event(), part.last_event());
    if (part.action == Action::upsert) {
        if (part.entries.size() > kSalesforceCollectionLimit) return Error{"salesforce batch over 200 records"};
        request.method = HttpMethod::patch;
        request.path = base_path() + "/composite/sobjects/" + encode_path_segment(part.object) + "/" +
                       encode_path_segment(part.id_field);
        request.body = splice_records(R"({"allOrNone":false,"records":[)", part, "]}");
        return request;
    }
    if (part.action == Action::delete_) {
        if (part.entries.size() > kSalesforceCompositeLimit) return Error{"salesforce composite over 25 subrequests"};
        request.path = base_path() + "/composite";
        const std::string prefix = base_path() + "/sobjects/" + encode_path_segment(part.object) + "/" +
                                   encode_path_segment(part.id_field) + "/";
        request.body = R"({"allOrNone":false,"compositeRequest":[)";
        for (std::size_t i = 0; i < part.entries.size(); ++i) {
            if (i) request.body += ',';
            request.body += R"({"method":"DELETE","url":)";
            append_json_string(request.body, prefix + encode_path_segment(*part.entries[i].key));
            request.body += R"(,"referenceId":"d)" + std::to_string(i) + "\"}";
        }
        request.body += "]}";
        return request;
    }
    return Error{"salesforce cannot deliver " + std::string(action_name(part.action))};
}

ResponseVerdict SalesforceAdapter::classify_describe(const PartView& part, const CrmAnswer& answer) {
    rapidjson::Document doc;
    if (!answers::parse(answer.body, doc))
        return verdict(Kind::retry, "Salesforce answered the describe of " + std::string(part.object) +
                                        " with a body that is not JSON: " + short_body(answer.body));
    const rapidjson::Value* fields = member(doc, "fields");
    if (!fields || !fields->IsArray())
        return verdict(Kind::retry, "Salesforce's describe of " + std::string(part.object) + " has no fields: " +
                                        short_body(answer.body));
    for (const auto& field : fields->GetArray()) {
        // API names are case-insensitive in Salesforce.
        const rapidjson::Value* name = member(field, "name");
        if (!name || !answers::iequals(answers::string_view_of(*name), part.id_field)) continue;
        auto flag = [&](const char* name) {
            const auto* v = member(field, name);
            return v && v->IsBool() && v->GetBool();
        };
        if (!flag("externalId") && !flag("idLookup"))
            return verdict(Kind::configuration,
                           "field " + std::string(part.id_field) + " of " + std::string(part.object) +
                               " is neither an External ID nor an idLookup field, so Salesforce cannot upsert or "
                               "delete by it: mark it External ID (and Unique) in Setup, or map another id_property");
        verified_[{std::string(part.object), std::string(part.id_field)}] = true;
        return verdict(Kind::accepted);
    }
    return verdict(Kind::configuration, "sObject " + std::string(part.object) + " has no field " +
                                            std::string(part.id_field) +
                                            " (or the integration user cannot see it): fix the mapping's "
                                            "id_property or the field-level security");
}

ResponseVerdict SalesforceAdapter::classify_composite_delete(const PartView& part, const CrmAnswer& answer) {
    rapidjson::Document doc;
    const rapidjson::Value* results = answers::parse(answer.body, doc) ? member(doc, "compositeResponse") : nullptr;
    if (!results || !results->IsArray() || results->Size() != part.entries.size())
        return verdict(Kind::retry, "Salesforce answered " + std::to_string(answer.status) +
                                        " without a result for every record: " + short_body(answer.body));
    const bool verified = verified_.count({std::string(part.object), std::string(part.id_field)}) > 0;
    ResponseVerdict v = verdict(Kind::per_record);
    v.others_applied = true;
    std::size_t position = 0;
    for (const auto& result : results->GetArray()) {
        // referenceId "d<i>" names the record; in order when absent [CMP].
        std::size_t index = position++;
        std::string reference = string_or(member(result, "referenceId"), "");
        if (reference.size() > 1 && reference[0] == 'd') {
            std::size_t parsed = 0;
            try {
                parsed = std::stoul(reference.substr(1));
            } catch (const std::exception&) {
                parsed = index;
            }
            if (parsed < part.entries.size()) index = parsed;
        }
        long status = 0;
        if (const auto* code = member(result, "httpStatusCode"); code && code->IsInt()) status = code->GetInt();
        if (status >= 200 && status < 300) continue;
        SalesforceError error = first_error(member(result, "body"));
        if (status == 404 && (error.code == "NOT_FOUND" || error.code.empty())) {
            // The external id field itself is unknown: every delete would fail.
            if (error.message.find("external ID field") != std::string::npos ||
                error.message.find("external id field") != std::string::npos)
                return verdict(Kind::configuration, configuration_text(part.object, part.id_field, error, status));
            if (!verified)
                return verdict(Kind::verify_target, "Salesforce answered 404 to a delete of " +
                                                        std::string(part.object) + " by " +
                                                        std::string(part.id_field) +
                                                        "; confirming that the object and field exist before "
                                                        "taking it as already deleted");
            v.records.push_back({index, RecordOutcome::Kind::done, "not found: already deleted"});
            continue;
        }
        if (status == 300) {
            v.records.push_back({index, RecordOutcome::Kind::rejected,
                                 "the external id matches more than one " + std::string(part.object) +
                                     " record (HTTP 300), so Salesforce deletes none: make " +
                                     std::string(part.id_field) + " unique, or merge the duplicates"});
            continue;
        }
        if (status == 0 || status == 408 || status == 429 || status >= 500) {
            v.records.push_back({index, RecordOutcome::Kind::retry,
                                 "HTTP " + std::to_string(status) +
                                     (error.code.empty() && error.message.empty() ? "" : " " + describe(error))});
            continue;
        }
        if (error.code.empty() && error.message.empty()) error.message = "HTTP " + std::to_string(status);
        if (auto refusal = classify_refusal(status, error, part, answer.body)) return *refusal;
        v.records.push_back(outcome_for(index, error));
    }
    if (v.records.empty()) return verdict(Kind::accepted);
    return v;
}

ResponseVerdict SalesforceAdapter::classify(Stage stage, const PartView& part, const CrmAnswer& answer,
                                            std::chrono::system_clock::time_point now) {
    ResponseVerdict v = classify_answer(stage, part, answer, now);
    // Salesforce refused a field or a value: the sObject may have changed, describe it again
    // before the next upsert.
    schemas_.note_verdict(stage, part, v, now);
    return v;
}

// [DSC] before the first upsert: the fields' types, picklist values and restrictedPicklist.
// Any answer but 200 (and 401, and the org's limit) leaves the values unconverted, logged.
ResponseVerdict SalesforceAdapter::classify_schema(const PartView& part, const CrmAnswer& answer,
                                                   std::chrono::system_clock::time_point now) {
    SchemaFetch fetch = salesforce::read_describe(part.object, answer.status, answer.body);
    ResponseVerdict v = verdict(Kind::accepted);
    if (fetch.problem != SchemaFetch::Problem::none)
        v.error = "cannot describe Salesforce sObject " + std::string(part.object) + " (HTTP " +
                  std::to_string(answer.status) + ": " + fetch.detail +
                  "), so its values go out as rendered, unconverted to the field types";
    schemas_.store(std::move(fetch), now);
    return v;
}

ResponseVerdict SalesforceAdapter::classify_answer(Stage stage, const PartView& part, const CrmAnswer& answer,
                                                   std::chrono::system_clock::time_point now) {
    // 300 is not a redirect here: it is "more than one record has this external id" [SC].
    if (answer.status != 300)
        if (auto common = answers::transport_or_transient(answer, now, kCrm)) return *common;
    rapidjson::Document doc;
    const bool parsed = answers::parse(answer.body, doc);
    const std::string summary = "HTTP " + std::to_string(answer.status) + ": " + short_body(answer.body);
    if (stage == Stage::schema) {
        SalesforceError error = parsed ? first_error(&doc) : SalesforceError{};
        if (answer.status == 401 || (answer.status == 403 && error.code == "REQUEST_LIMIT_EXCEEDED"))
            return *classify_refusal(answer.status, error, part, answer.body);
        return classify_schema(part, answer, now);
    }
    if (answer.status < 200 || answer.status >= 300) {
        SalesforceError error = parsed ? first_error(&doc) : SalesforceError{};
        if (auto refusal = classify_refusal(answer.status, error, part, answer.body)) return *refusal;
        if (answer.status == 300 || answer.status == 400 || answer.status == 409 || answer.status == 413 ||
            answer.status == 414 || answer.status == 422)
            return verdict(Kind::rejected_unnamed, summary);
        return verdict(Kind::retry, summary + " (unexpected answer; not a record's fault, so it is retried)");
    }
    if (stage == Stage::verify) return classify_describe(part, answer);
    if (!parsed)
        return verdict(Kind::retry, "Salesforce answered " + std::to_string(answer.status) +
                                        " with a body that is not JSON: " + short_body(answer.body));
    if (doc.IsObject()) return classify_composite_delete(part, answer);

    // sObject Collections [COL]: one result per record, in request order.
    if (!doc.IsArray() || doc.Size() != part.entries.size())
        return verdict(Kind::retry, "Salesforce answered " + std::to_string(answer.status) +
                                        " without a result for every record: " + short_body(answer.body));
    ResponseVerdict v = verdict(Kind::per_record);
    v.others_applied = true;
    for (rapidjson::SizeType i = 0; i < doc.Size(); ++i) {
        const auto* success = member(doc[i], "success");
        if (!success || !success->IsBool() || success->GetBool()) continue;
        SalesforceError error = first_error(member(doc[i], "errors"));
        if (classify_salesforce_error(error.code) == SalesforceErrorClass::configuration)
            return verdict(Kind::configuration, configuration_text(part.object, part.id_field, error, answer.status));
        if (error.code == "DUPLICATE_EXTERNAL_ID")
            error.message += " (the external id matches more than one record; make " + std::string(part.id_field) +
                             " unique or merge the duplicates)";
        v.records.push_back(outcome_for(i, error));
    }
    if (v.records.empty()) return verdict(Kind::accepted);
    return v;
}

}  // namespace crmsync::sender
