#include "delivery/crm_response.hpp"

#include "core/backoff.hpp"
#include "core/rapidjson.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <unordered_map>

namespace crmsync::sender {
namespace {

using Kind = ResponseVerdict::Kind;

std::string short_body(std::string_view body) {
    constexpr size_t kMax = 500;
    size_t cut = std::min(body.size(), kMax);
    // Never cut a UTF-8 sequence in two: the text ends up in crmsync.dead_letters.crm_error,
    // and Postgres refuses invalid UTF-8.
    if (cut < body.size())
        while (cut > 0 && (static_cast<unsigned char>(body[cut]) & 0xC0) == 0x80) --cut;
    std::string text(body.substr(0, cut));
    for (char& c : text)
        if (c == '\n' || c == '\r') c = ' ';
    if (body.size() > kMax) text += "...";
    return text;
}

ResponseVerdict verdict(Kind kind, std::string error = {}) {
    ResponseVerdict v;
    v.kind = kind;
    v.error = std::move(error);
    return v;
}

const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
    if (!object.IsObject()) return nullptr;
    auto it = object.FindMember(name);
    return it == object.MemberEnd() ? nullptr : &it->value;
}

std::string string_or(const rapidjson::Value* value, std::string fallback) {
    return value && value->IsString() ? std::string(value->GetString(), value->GetStringLength()) : fallback;
}

// The keys of entries, for matching a CRM's "these ids failed" back to records.
std::unordered_map<std::string, std::size_t> index_by_key(const std::vector<const BatchEntry*>& entries) {
    std::unordered_map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < entries.size(); ++i)
        if (entries[i]->key) index.emplace(*entries[i]->key, i);
    return index;
}

// HubSpot names failing inputs in errors[].context.id (or .ids). Returns false when it
// named none we know.
bool hubspot_rejections(const rapidjson::Document& doc, const std::vector<const BatchEntry*>& entries,
                        ResponseVerdict& out) {
    const rapidjson::Value* errors = member(doc, "errors");
    if (!errors || !errors->IsArray()) return false;
    auto keys = index_by_key(entries);
    std::vector<bool> seen(entries.size(), false);
    for (const auto& error : errors->GetArray()) {
        std::string message = string_or(member(error, "message"), "rejected by HubSpot");
        const rapidjson::Value* context = member(error, "context");
        for (const char* field : {"id", "ids"}) {
            const rapidjson::Value* ids = context ? member(*context, field) : nullptr;
            if (!ids || !ids->IsArray()) continue;
            for (const auto& id : ids->GetArray()) {
                if (!id.IsString()) continue;
                auto it = keys.find(std::string(id.GetString(), id.GetStringLength()));
                if (it == keys.end() || seen[it->second]) continue;
                seen[it->second] = true;
                out.rejections.push_back({it->second, message});
            }
        }
    }
    return !out.rejections.empty();
}

ResponseVerdict classify_2xx(Format format, RequestKind kind, const std::vector<const BatchEntry*>& entries,
                             const CrmAnswer& answer) {
    if (format == Format::webhook) return verdict(Kind::accepted);

    rapidjson::Document doc;
    bool parsed = !answer.body.empty() &&
                  !doc.Parse<rapidjson::kParseIterativeFlag>(answer.body.data(), answer.body.size()).HasParseError();

    if (format == Format::hubspot) {
        if (kind == RequestKind::hubspot_lookup) {
            ResponseVerdict v = verdict(Kind::accepted);
            v.hubspot_ids.assign(entries.size(), std::nullopt);
            const rapidjson::Value* results = parsed ? member(doc, "results") : nullptr;
            if (!results || !results->IsArray())
                return verdict(Kind::retry, "HubSpot batch read answered without results: " + short_body(answer.body));
            // Results carry the HubSpot id and the properties asked for; match them to entries
            // by the idProperty value, which is the entry's key. Only the idProperty: the others
            // (hs_object_id, createdate, ...) could equal another entry's key, e.g. numeric keys
            // against HubSpot ids.
            auto keys = index_by_key(entries);
            std::string id_property;
            if (!entries.empty())
                if (auto field = record_id_field(Format::hubspot, entries.front()->record())) id_property = *field;
            for (const auto& result : results->GetArray()) {
                std::string hs_id = string_or(member(result, "id"), "");
                const rapidjson::Value* props = member(result, "properties");
                if (hs_id.empty() || !props || !props->IsObject()) continue;
                for (const auto& prop : props->GetObject()) {
                    if (!prop.value.IsString()) continue;
                    if (!id_property.empty() && id_property != std::string_view(prop.name.GetString(),
                                                                                 prop.name.GetStringLength()))
                        continue;
                    auto it = keys.find(std::string(prop.value.GetString(), prop.value.GetStringLength()));
                    if (it != keys.end()) v.hubspot_ids[it->second] = hs_id;
                }
            }
            return v;
        }
        ResponseVerdict v = verdict(Kind::accepted);
        const rapidjson::Value* errors = parsed ? member(doc, "errors") : nullptr;
        if (answer.status == 207 && errors && errors->IsArray() && !errors->Empty()) {
            if (hubspot_rejections(doc, entries, v)) {
                v.kind = Kind::partially_rejected;
            } else {
                // Some records failed, but the errors name none of ours: which is unknown.
                return verdict(Kind::rejected_unnamed, "HTTP 207: " + short_body(answer.body));
            }
        }
        return v;
    }

    // Salesforce: per-record results, in request order.
    if (!parsed) return verdict(Kind::retry, "Salesforce answered " + std::to_string(answer.status) +
                                                 " with a body that is not JSON: " + short_body(answer.body));
    ResponseVerdict v = verdict(Kind::accepted);
    const rapidjson::Value* results = &doc;
    bool composite = false;
    if (doc.IsObject()) {
        results = member(doc, "compositeResponse");
        composite = true;
    }
    // Every record needs its result: one without is not known to be accepted (SPEC rule 2).
    if (!results || !results->IsArray() || results->Size() < entries.size())
        return verdict(Kind::retry, "Salesforce answered " + std::to_string(answer.status) +
                                        " without a result for every record: " + short_body(answer.body));
    std::size_t i = 0;
    for (const auto& result : results->GetArray()) {
        if (i >= entries.size()) break;
        if (composite) {
            long status = 0;
            if (const auto* code = member(result, "httpStatusCode"); code && code->IsInt()) status = code->GetInt();
            // A delete of a record that is already gone has done its job.
            if (!(status >= 200 && status < 300) && status != 404) {
                std::string message = "HTTP " + std::to_string(status);
                if (const auto* body = member(result, "body"); body && body->IsArray() && !body->Empty())
                    message = string_or(member((*body)[0], "message"), message);
                if (is_retryable_status(status)) return verdict(Kind::retry, "Salesforce subrequest: " + message);
                v.rejections.push_back({i, message});
            }
        } else {
            const auto* success = member(result, "success");
            if (success && success->IsBool() && !success->GetBool()) {
                std::string message = "rejected by Salesforce";
                if (const auto* errors = member(result, "errors"); errors && errors->IsArray() && !errors->Empty()) {
                    const auto& first = (*errors)[0];
                    message = string_or(member(first, "statusCode"), "") + ": " +
                              string_or(member(first, "message"), "rejected");
                }
                v.rejections.push_back({i, message});
            }
        }
        ++i;
    }
    if (!v.rejections.empty()) v.kind = Kind::partially_rejected;
    return v;
}

ResponseVerdict classify_4xx(Format format, const std::vector<const BatchEntry*>& entries, const CrmAnswer& answer) {
    std::string summary = "HTTP " + std::to_string(answer.status) + ": " + short_body(answer.body);
    rapidjson::Document doc;
    bool parsed = !answer.body.empty() && !doc.Parse<rapidjson::kParseIterativeFlag>(answer.body.data(), answer.body.size()).HasParseError();
    ResponseVerdict v = verdict(Kind::rejected_unnamed, summary);
    if (!parsed) return v;
    if (format == Format::webhook) {
        const rapidjson::Value* rejected = member(doc, "rejected");
        if (rejected && rejected->IsArray()) {
            std::vector<bool> seen(entries.size(), false);
            for (const auto& r : rejected->GetArray()) {
                const auto* index = member(r, "index");
                if (!index || !index->IsUint64() || index->GetUint64() >= entries.size()) continue;
                if (seen[index->GetUint64()]) continue;
                seen[index->GetUint64()] = true;
                v.rejections.push_back({static_cast<std::size_t>(index->GetUint64()),
                                        string_or(member(r, "message"), summary)});
            }
        }
    } else if (format == Format::hubspot) {
        hubspot_rejections(doc, entries, v);
    }
    if (!v.rejections.empty()) v.kind = Kind::partially_rejected;
    return v;
}

}  // namespace

bool is_retryable_status(long status) {
    // Only these blame the records; every other answer is retried (see the header).
    const bool blames_records = status == 400 || status == 409 || status == 413 || status == 422;
    return !blames_records && !(status >= 200 && status < 300);
}

ResponseVerdict classify_response(Format format, RequestKind kind, const std::vector<const BatchEntry*>& entries,
                                  const CrmAnswer& answer, std::chrono::system_clock::time_point now) {
    if (answer.status == 0)
        return verdict(Kind::retry, "no answer from the CRM: " + std::string(answer.transport_error));
    if (answer.status >= 200 && answer.status < 300) return classify_2xx(format, kind, entries, answer);
    // Redirects are not followed: the request was not processed, and the URL is the operator's.
    if (answer.status < 400)
        return verdict(Kind::retry, "HTTP " + std::to_string(answer.status) +
                                        " (redirected: check target.url): " + short_body(answer.body));
    if (is_retryable_status(answer.status)) {
        std::string what = answer.status == 401 || answer.status == 403
                               ? " (the CRM refused the token: check target.token_file / token_env)"
                           : answer.status == 404 || answer.status == 405
                               ? " (no such endpoint: check target.url and target.format)"
                           : answer.status < 500 && answer.status != 408 && answer.status != 429
                               ? " (unexpected answer; not a record's fault, so it is retried)"
                               : "";
        ResponseVerdict v =
            verdict(Kind::retry, "HTTP " + std::to_string(answer.status) + what + ": " + short_body(answer.body));
        if (answer.retry_after_header) v.retry_after = parse_retry_after(*answer.retry_after_header, now);
        return v;
    }
    return classify_4xx(format, entries, answer);
}

}  // namespace crmsync::sender
