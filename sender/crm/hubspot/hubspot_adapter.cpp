// HubSpot: what each documented answer means for the records of a request.
//
// Sources:
//   [EH]  HubSpot, "Error handling", https://developers.hubspot.com/docs/api-reference/error-handling
//         (207 multi-status, 401, 403 missing scopes, 423 locked, 429, 5xx; error body shape
//         {status, message, correlationId, category, errors[{message, in, code, context}]},
//         every field optional)
//   [UP]  HubSpot, "Upsert a batch of contacts" / objects batch upsert,
//         https://developers.hubspot.com/docs/api-reference/latest/crm/objects/contacts/batch/upsert-contacts
//         (results[], errors[] with category/context/id, numErrors; "idProperty ... refers to a
//         property whose values are unique for the object")
//   [UPD] HubSpot, "Update contacts" batch: "Read-only and non-existent properties will result
//         in an error", https://developers.hubspot.com/docs/api-reference/2026-03/crm/objects/contacts/batch/update-contacts.md
//   [RD]  HubSpot objects "Read a batch of objects by internal ID, or unique property values"
//         (batch/read with idProperty; missing inputs come back as errors with
//         category OBJECT_NOT_FOUND and context.ids)
//   [LIM] HubSpot, "API usage guidelines and limits" (429 bodies name the policy:
//         TEN_SECONDLY_ROLLING, SECONDLY, DAILY)
//   [PR]  HubSpot, "CRM API | Properties", https://developers.hubspot.com/docs/api/crm/properties
//         (GET /crm/v3/properties/{objectType}; scope crm.schemas.<object>.read)
//
// | answer                                   | stage            | verdict                                   |
// |------------------------------------------|------------------|-------------------------------------------|
// | no answer, 3xx, 408, 429, 5xx            | any              | retry (Retry-After honoured)              |
// | 429 policyName DAILY                     | any              | retry after the daily quota's reset       |
// | 423 Locked [EH]                          | any              | retry                                     |
// | 401 [EH]                                 | any              | unauthorized: renew the token, resend     |
// | 403 [EH] (missing scope)                 | any              | configuration: grant the scope            |
// | 404                                      | any              | configuration: object type or URL wrong   |
// | 400 naming a property that does not      | send             | configuration: fix the mapping            |
// |   exist or is read-only [UPD]            |                  |                                           |
// | 400/409/422 naming inputs (context.id)   | send, by_crm_id  | those rejected; the others resent         |
// | 400/409/413/422 naming no input          | send, by_crm_id  | split the request to find the record      |
// | other 4xx                                | any              | retry (not a record's fault)              |
// | 200/201 upsert                           | send             | accepted for each input the answer        |
// |                                          |                  | accounts for; the others sent again       |
// | 207 with errors naming inputs            | send             | those rejected, the others applied        |
// | 207 with errors naming no input          | send             | split                                     |
// | 200/207 batch/read [RD]                  | lookup           | ids of those found (idProperty matched    |
// |                                          |                  | case-insensitively for email); those in   |
// |                                          |                  | OBJECT_NOT_FOUND are gone; any other      |
// |                                          |                  | error or omission: retried, never dropped |
// | 204 archive                              | by_crm_id, send  | accepted                                  |
// | 200 properties [PR]                      | schema           | accepted: values converted from now on    |
// | 401                                      | schema           | unauthorized                              |
// | any other (403 without the schema scope) | schema           | accepted, values sent unconverted, logged |
// | a refused property or value              | send (upsert)    | as above; the schema is read again first  |
#include "crm/hubspot/hubspot_adapter.hpp"

#include <unordered_map>

#include "crm/common_answers.hpp"
#include "crm/hubspot/hubspot_schema.hpp"
#include "crm/record_conversion.hpp"

namespace crmsync::sender {
namespace {

using Kind = ResponseVerdict::Kind;
using answers::member;
using answers::short_body;
using answers::string_or;
using answers::verdict;

constexpr std::string_view kCrm = "HubSpot";

// HubSpot stores email addresses in lower case and matches them without regard to case, so
// a key "Ann@Example.com" comes back as "ann@example.com": keys are compared lowered.
std::string lowercase_if_email(std::string_view id_property, std::string_view value) {
    std::string out(value);
    if (id_property == "email")
        for (char& c : out)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// Keys of the part's entries, normalised the way HubSpot compares them.
std::unordered_multimap<std::string, std::size_t> index_by_key(const PartView& part) {
    std::unordered_multimap<std::string, std::size_t> index;
    for (std::size_t i = 0; i < part.entries.size(); ++i)
        if (part.entries[i]->key) index.emplace(lowercase_if_email(part.id_field, *part.entries[i]->key), i);
    return index;
}

// The inputs an error names in context.id / context.ids; empty when it names none of ours.
std::vector<std::size_t> named_inputs(const rapidjson::Value& error, const PartView& part,
                                      const std::unordered_multimap<std::string, std::size_t>& keys) {
    std::vector<std::size_t> out;
    const rapidjson::Value* context = member(error, "context");
    for (const char* field : {"id", "ids"}) {
        const rapidjson::Value* ids = context ? member(*context, field) : nullptr;
        if (!ids || !ids->IsArray()) continue;
        for (const auto& id : ids->GetArray()) {
            if (!id.IsString()) continue;
            auto [first, last] = keys.equal_range(lowercase_if_email(part.id_field, answers::string_view_of(id)));
            for (auto it = first; it != last; ++it) out.push_back(it->second);
        }
    }
    return out;
}

std::string error_message(const rapidjson::Value& error) { return string_or(member(error, "message"), "rejected by HubSpot"); }

// A validation error about the mapping rather than a record: a property that does not exist
// or cannot be written [UPD]. HubSpot says so in the message ("Property values were not
// valid: [{... "error":"PROPERTY_DOESNT_EXIST","name":"foo" ...}]") and in
// errors[].context.propertyName; every record of the object would fail the same way.
std::optional<std::string> mapping_problem(const rapidjson::Document& doc, std::string_view body) {
    for (std::string_view code : {"PROPERTY_DOESNT_EXIST", "READ_ONLY_VALUE", "READ_ONLY_PROPERTY"}) {
        if (body.find(code) == std::string_view::npos) continue;
        std::string property;
        if (const auto* errors = member(doc, "errors"); errors && errors->IsArray())
            for (const auto& e : errors->GetArray())
                if (const auto* context = member(e, "context"))
                    if (const auto* names = member(*context, "propertyName"); names && names->IsArray() && !names->Empty())
                        property = string_or(&(*names)[0], "");
        std::string what = code == "PROPERTY_DOESNT_EXIST" ? "does not exist" : "is read-only";
        return "HubSpot says a mapped property " + what +
               (property.empty() ? std::string() : " (\"" + property + "\")") +
               ": create the property in HubSpot or fix the mapping's properties with crmsync.map(); nothing is "
               "dead-lettered, the records wait in the slot. HubSpot's answer: " + short_body(body);
    }
    return std::nullopt;
}

// The policy a 429 names [LIM].
std::string policy_name(const rapidjson::Document& doc) { return string_or(member(doc, "policyName"), ""); }

ResponseVerdict rejections_or_split(const rapidjson::Document& doc, bool parsed, const PartView& part,
                                    const CrmAnswer& answer, bool others_applied) {
    const std::string summary = "HTTP " + std::to_string(answer.status) + ": " + short_body(answer.body);
    ResponseVerdict v = verdict(Kind::per_record, summary);
    v.others_applied = others_applied;
    const rapidjson::Value* errors = parsed ? member(doc, "errors") : nullptr;
    if (errors && errors->IsArray()) {
        auto keys = index_by_key(part);
        std::vector<bool> seen(part.entries.size(), false);
        for (const auto& error : errors->GetArray())
            for (std::size_t i : named_inputs(error, part, keys))
                if (!seen[i]) {
                    seen[i] = true;
                    v.records.push_back({i, RecordOutcome::Kind::rejected, error_message(error)});
                }
    }
    // A batch-level error names no input of ours (real HubSpot batch errors usually do not):
    // which record is at fault is unknown.
    if (v.records.empty()) return verdict(Kind::rejected_unnamed, summary);
    return v;
}

// 200/201/207 to an upsert: every input must be accounted for [UP]. A result is matched to an
// input by its idProperty value; results that do not echo it are matched by count.
ResponseVerdict classify_upsert_success(const rapidjson::Document& doc, bool parsed, const PartView& part,
                                        const CrmAnswer& answer) {
    const rapidjson::Value* errors = parsed ? member(doc, "errors") : nullptr;
    if (errors && errors->IsArray() && !errors->Empty()) return rejections_or_split(doc, parsed, part, answer, true);
    const rapidjson::Value* results = parsed ? member(doc, "results") : nullptr;
    if (!results || !results->IsArray())
        return verdict(Kind::retry, "HubSpot answered " + std::to_string(answer.status) +
                                        " to an upsert without results, so no record is known to be applied: " +
                                        short_body(answer.body));
    auto keys = index_by_key(part);
    std::vector<bool> matched(part.entries.size(), false);
    std::size_t unmatched_results = 0;
    const std::string id_property(part.id_field);
    for (const auto& result : results->GetArray()) {
        const rapidjson::Value* props = member(result, "properties");
        const rapidjson::Value* value = props && !id_property.empty() ? member(*props, id_property.c_str()) : nullptr;
        if (!value || !value->IsString()) {
            ++unmatched_results;
            continue;
        }
        bool found = false;
        auto [first, last] = keys.equal_range(lowercase_if_email(id_property, answers::string_view_of(*value)));
        for (auto it = first; it != last; ++it)
            if (!matched[it->second]) {
                matched[it->second] = found = true;
                break;
            }
        if (!found) ++unmatched_results;
    }
    std::vector<std::size_t> missing;
    for (std::size_t i = 0; i < matched.size(); ++i)
        if (!matched[i]) missing.push_back(i);
    if (missing.size() <= unmatched_results) return verdict(Kind::accepted);
    ResponseVerdict v = verdict(Kind::per_record);
    v.others_applied = true;
    v.error = "HubSpot's answer accounts for " + std::to_string(part.entries.size() - missing.size() + unmatched_results) +
              " of " + std::to_string(part.entries.size()) + " inputs";
    for (std::size_t i : missing)
        v.records.push_back({i, RecordOutcome::Kind::retry, v.error + "; this one is sent again"});
    return v;
}

// batch/read by idProperty before an archive [RD].
ResponseVerdict classify_lookup(const rapidjson::Document& doc, bool parsed, const PartView& part,
                                const CrmAnswer& answer) {
    const rapidjson::Value* results = parsed ? member(doc, "results") : nullptr;
    if (!results || !results->IsArray())
        return verdict(Kind::retry, "HubSpot batch read answered without results: " + short_body(answer.body));
    ResponseVerdict v = verdict(Kind::accepted);
    v.crm_ids.assign(part.entries.size(), std::nullopt);
    std::vector<bool> accounted(part.entries.size(), false);
    auto keys = index_by_key(part);
    const std::string id_property(part.id_field);
    for (const auto& result : results->GetArray()) {
        std::string hubspot_id = string_or(member(result, "id"), "");
        const rapidjson::Value* props = member(result, "properties");
        // Only the idProperty: the other properties (hs_object_id, createdate, ...) could equal
        // another entry's key, e.g. numeric keys against HubSpot ids.
        const rapidjson::Value* value = props ? member(*props, id_property.c_str()) : nullptr;
        if (hubspot_id.empty() || !value || !value->IsString()) continue;
        auto [first, last] = keys.equal_range(lowercase_if_email(id_property, answers::string_view_of(*value)));
        for (auto it = first; it != last; ++it) {
            v.crm_ids[it->second] = hubspot_id;
            accounted[it->second] = true;
        }
    }
    const rapidjson::Value* errors = member(doc, "errors");
    std::string other_error;
    if (errors && errors->IsArray())
        for (const auto& error : errors->GetArray()) {
            const bool not_found = string_or(member(error, "category"), "") == "OBJECT_NOT_FOUND";
            auto named = named_inputs(error, part, keys);
            if (!not_found) {
                other_error = error_message(error);
                continue;
            }
            for (std::size_t i : named) accounted[i] = true;  // not there: nothing to archive
        }
    for (std::size_t i = 0; i < accounted.size(); ++i) {
        if (accounted[i]) continue;
        // An error other than "not found", or no word at all: the record may exist. A delete is
        // never dropped on that; it is looked up again.
        v.kind = Kind::per_record;
        v.others_applied = true;
        v.records.push_back({i, RecordOutcome::Kind::retry,
                             other_error.empty() ? "HubSpot's batch read did not account for this record"
                                                 : "HubSpot's batch read failed for it: " + other_error});
    }
    return v;
}

std::optional<std::uint64_t> header_number(const CrmAnswer& answer, std::string_view name) {
    auto text = answer.header(name);
    if (!text || text->empty() || text->size() > 18) return std::nullopt;
    std::uint64_t value = 0;
    for (char c : *text) {
        if (c < '0' || c > '9') return std::nullopt;
        value = value * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return value;
}

}  // namespace

// [LIM] "API usage guidelines and limits": every answer carries the app's budget,
// X-HubSpot-RateLimit-Max requests per X-HubSpot-RateLimit-Interval-Milliseconds with
// -Remaining left, and the daily budget in -Daily / -Daily-Remaining.
QuotaReport HubspotAdapter::quota(const CrmAnswer& answer) const {
    QuotaReport report;
    auto u32 = [](std::optional<std::uint64_t> v) -> std::optional<std::uint32_t> {
        if (!v || *v > UINT32_MAX) return std::nullopt;
        return static_cast<std::uint32_t>(*v);
    };
    report.window_max = u32(header_number(answer, "x-hubspot-ratelimit-max"));
    report.window_remaining = u32(header_number(answer, "x-hubspot-ratelimit-remaining"));
    if (auto ms = header_number(answer, "x-hubspot-ratelimit-interval-milliseconds"); ms && *ms > 0 && *ms < 86'400'000)
        report.window = std::chrono::milliseconds(*ms);
    report.daily_max = header_number(answer, "x-hubspot-ratelimit-daily");
    report.daily_remaining = header_number(answer, "x-hubspot-ratelimit-daily-remaining");
    return report;
}

bool keyed_by_hubspot_id(std::string_view id_field) { return id_field.empty() || id_field == "hs_object_id"; }

HubspotAdapter::HubspotAdapter(std::string api_version, WallClockZone time_zone, PropertySource property_source)
    : api_version_(std::move(api_version)),
      time_zone_(std::move(time_zone)),
      property_source_(std::move(property_source)) {}

bool HubspotAdapter::needs_schema(const Batch& part) const {
    return part.action == Action::upsert && schemas_.needs(part.object);
}

std::vector<RecordOutcome> HubspotAdapter::convert(Batch& part) const {
    return convert_batch(ValueDialect::hubspot, schemas_.find(part.object), part, time_zone_, property_source_);
}

std::string HubspotAdapter::objects_path(std::string_view object, std::string_view operation) const {
    const std::string segment = encode_path_segment(object);
    if (api_version_ == "v3") return "/crm/v3/objects/" + segment + "/batch/" + std::string(operation);
    return "/crm/objects/" + api_version_ + "/" + segment + "/batch/" + std::string(operation);
}

Stage HubspotAdapter::first_stage(const Batch& part) const {
    return part.action == Action::delete_ && !keyed_by_hubspot_id(part.id_field) ? Stage::lookup : Stage::send;
}

Result<CrmRequest> HubspotAdapter::build(Stage stage, const Batch& part, std::span<const std::string> crm_ids) const {
    if (part.entries.empty()) return Error{"empty batch"};
    for (const auto& entry : part.entries)
        if (entry.action != part.action || entry.object != part.object || !entry.key)
            return Error{"batch mixes objects or actions, or holds a keyless record"};
    CrmRequest request;
    request.idempotency_key = idempotency_key(part.first_event(), part.last_event());
    auto archive = [&](auto id_of) {
        request.path = objects_path(part.object, "archive");
        request.body = R"({"inputs":[)";
        for (std::size_t i = 0; i < part.entries.size(); ++i) {
            if (i) request.body += ',';
            request.body += R"({"id":)";
            append_json_string(request.body, id_of(i));
            request.body += '}';
        }
        request.body += "]}";
    };
    switch (stage) {
        case Stage::send:
            if (part.action == Action::upsert) {
                request.path = objects_path(part.object, "upsert");
                request.body = splice_records(R"({"inputs":[)", part, "]}");
                return request;
            }
            if (part.action == Action::delete_ && keyed_by_hubspot_id(part.id_field)) {
                archive([&](std::size_t i) -> std::string_view { return *part.entries[i].key; });
                return request;
            }
            break;
        case Stage::lookup:
            request.path = objects_path(part.object, "read");
            // The idProperty comes back too, so each HubSpot id can be matched to its key.
            request.body = R"({"idProperty":)";
            append_json_string(request.body, part.id_field);
            request.body += R"(,"properties":[)";
            append_json_string(request.body, part.id_field);
            request.body += R"(,"hs_object_id"],"propertiesWithHistory":[],"inputs":[)";
            for (std::size_t i = 0; i < part.entries.size(); ++i) {
                if (i) request.body += ',';
                request.body += R"({"id":)";
                append_json_string(request.body, *part.entries[i].key);
                request.body += '}';
            }
            request.body += "]}";
            request.idempotency_key += "-lookup";
            return request;
        case Stage::by_crm_id:
            if (crm_ids.size() != part.entries.size()) return Error{"archive without an id per record"};
            archive([&](std::size_t i) -> std::string_view { return crm_ids[i]; });
            request.idempotency_key += "-archive";
            return request;
        case Stage::schema:
            request.method = HttpMethod::get;
            request.path = hubspot::properties_path(part.object);
            request.idempotency_key.clear();
            return request;
        case Stage::verify:
            break;
    }
    return Error{"hubspot cannot deliver " + std::string(action_name(part.action)) + " at this stage"};
}

ResponseVerdict HubspotAdapter::classify(Stage stage, const PartView& part, const CrmAnswer& answer,
                                         std::chrono::system_clock::time_point now) {
    ResponseVerdict v = classify_answer(stage, part, answer, now);
    // HubSpot refused a property or a value (VALIDATION_ERROR: unknown property, not an
    // option, not a date...): the schema may have changed, read it again before the next upsert.
    schemas_.note_verdict(stage, part, v, now);
    return v;
}

// [PR] "CRM API | Properties": GET /crm/v3/properties/{objectType} lists the object's
// properties with their types and options (hubspot_schema.cpp reads it). Reading it needs the
// crm.schemas.<object>.read scope; without it (403), or for any answer but 200, the values
// go out as rendered, and the reason is logged.
ResponseVerdict HubspotAdapter::classify_schema(const PartView& part, const CrmAnswer& answer,
                                                std::chrono::system_clock::time_point now) {
    SchemaFetch fetch = hubspot::read_properties(part.object, answer.status, answer.body);
    if (fetch.problem == SchemaFetch::Problem::unauthorized)
        return verdict(Kind::unauthorized, "HubSpot refused the token (HTTP 401): " + fetch.detail);
    ResponseVerdict v = verdict(Kind::accepted);
    if (fetch.problem != SchemaFetch::Problem::none)
        v.error = "cannot read HubSpot's properties of " + std::string(part.object) + " (HTTP " +
                  std::to_string(answer.status) + ": " + fetch.detail + "), so its values go out as rendered, "
                  "unconverted to the property types" +
                  (fetch.problem == SchemaFetch::Problem::forbidden
                       ? "; grant the private app the scope crm.schemas." + std::string(part.object) + ".read"
                       : std::string());
    schemas_.store(std::move(fetch), now);
    return v;
}

ResponseVerdict HubspotAdapter::classify_answer(Stage stage, const PartView& part, const CrmAnswer& answer,
                                                std::chrono::system_clock::time_point now) {
    rapidjson::Document doc;
    const bool parsed = answers::parse(answer.body, doc);
    if (answer.status == 429 && parsed && policy_name(doc) == "DAILY") {
        // The daily budget is spent; the next second will not be different [LIM].
        ResponseVerdict v = verdict(Kind::retry, "HubSpot's daily API limit is used up (429 DAILY): " +
                                                     short_body(answer.body));
        v.retry_after = std::chrono::minutes(5);
        v.daily_quota_exhausted = true;
        return v;
    }
    if (auto common = answers::transport_or_transient(answer, now, kCrm)) return *common;
    if (stage == Stage::schema) return classify_schema(part, answer, now);
    const std::string summary = "HTTP " + std::to_string(answer.status) + ": " + short_body(answer.body);
    if (answer.status >= 200 && answer.status < 300) {
        if (stage == Stage::lookup) return classify_lookup(doc, parsed, part, answer);
        if (part.action == Action::upsert) return classify_upsert_success(doc, parsed, part, answer);
        if (answer.status == 207) return rejections_or_split(doc, parsed, part, answer, true);
        return verdict(Kind::accepted);
    }
    switch (answer.status) {
        case 401:
            return verdict(Kind::unauthorized, "HubSpot refused the token (HTTP 401): " + short_body(answer.body));
        case 403:
            return verdict(Kind::configuration,
                           "HubSpot refused access to " + std::string(part.object) +
                               " (HTTP 403): the token lacks a scope (crm.objects." + std::string(part.object) +
                               ".write/.read, or the custom object's scope); grant it to the private app and "
                               "rotate the token. " + short_body(answer.body));
        case 404:
        case 405:
            return verdict(Kind::configuration,
                           "HubSpot has no endpoint for object \"" + std::string(part.object) +
                               "\" (HTTP 404): check the mapping's object type (contacts, companies, deals, "
                               "a custom object's id) and target.url. " + short_body(answer.body));
        case 423:
            return verdict(Kind::retry, "HubSpot locked the records (HTTP 423): " + short_body(answer.body));
        case 400:
        case 409:
        case 413:
        case 414:
        case 422:
            if (parsed)
                if (auto problem = mapping_problem(doc, answer.body)) return verdict(Kind::configuration, *problem);
            return rejections_or_split(doc, parsed, part, answer, false);
        default:
            return verdict(Kind::retry, summary + " (unexpected answer; not a record's fault, so it is retried)");
    }
}

}  // namespace crmsync::sender
