#include "delivery/crm_response.hpp"

#include "core/backoff.hpp"
#include "core/rapidjson.hpp"

#include <rapidjson/document.h>

#include <unordered_map>

namespace crmsync::sender {
namespace {

using Kind = ResponseVerdict::Kind;

std::string short_body(std::string_view body) {
    constexpr size_t kMax = 500;
    std::string text(body.substr(0, kMax));
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
                  !doc.Parse(answer.body.data(), answer.body.size()).HasParseError();

    if (format == Format::hubspot) {
        if (kind == RequestKind::hubspot_lookup) {
            ResponseVerdict v = verdict(Kind::accepted);
            v.hubspot_ids.assign(entries.size(), std::nullopt);
            const rapidjson::Value* results = parsed ? member(doc, "results") : nullptr;
            if (!results || !results->IsArray())
                return verdict(Kind::retry, "HubSpot batch read answered without results: " + short_body(answer.body));
            // Results carry the HubSpot id and the properties asked for; match them to entries
            // by the idProperty value, which is the entry's key.
            auto keys = index_by_key(entries);
            for (const auto& result : results->GetArray()) {
                std::string hs_id = string_or(member(result, "id"), "");
                const rapidjson::Value* props = member(result, "properties");
                if (hs_id.empty() || !props || !props->IsObject()) continue;
                for (const auto& prop : props->GetObject()) {
                    if (!prop.value.IsString()) continue;
                    auto it = keys.find(std::string(prop.value.GetString(), prop.value.GetStringLength()));
                    if (it != keys.end()) v.hubspot_ids[it->second] = hs_id;
                }
            }
            return v;
        }
        ResponseVerdict v = verdict(Kind::accepted);
        if (answer.status == 207 && parsed && hubspot_rejections(doc, entries, v)) v.kind = Kind::partially_rejected;
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
    if (!results || !results->IsArray()) return v;
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
    bool parsed = !answer.body.empty() && !doc.Parse(answer.body.data(), answer.body.size()).HasParseError();
    ResponseVerdict v = verdict(Kind::rejected_unnamed, summary);
    if (!parsed) return v;
    if (format == Format::webhook) {
        const rapidjson::Value* rejected = member(doc, "rejected");
        if (rejected && rejected->IsArray()) {
            for (const auto& r : rejected->GetArray()) {
                const auto* index = member(r, "index");
                if (!index || !index->IsUint64() || index->GetUint64() >= entries.size()) continue;
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
    return status == 0 || status == 408 || status == 429 || status >= 500 || status == 401 || status == 403 ||
           status == 404 || status == 405;
}

ResponseVerdict classify_response(Format format, RequestKind kind, const std::vector<const BatchEntry*>& entries,
                                  const CrmAnswer& answer, std::chrono::system_clock::time_point now) {
    if (answer.status == 0)
        return verdict(Kind::retry, "no answer from the CRM: " + std::string(answer.transport_error));
    if (answer.status >= 200 && answer.status < 300) return classify_2xx(format, kind, entries, answer);
    if (is_retryable_status(answer.status)) {
        std::string what = answer.status == 401 || answer.status == 403
                               ? " (the CRM refused the token: check target.token_file / token_env)"
                           : answer.status == 404 || answer.status == 405
                               ? " (no such endpoint: check target.url and target.format)"
                               : "";
        ResponseVerdict v =
            verdict(Kind::retry, "HTTP " + std::to_string(answer.status) + what + ": " + short_body(answer.body));
        if (answer.retry_after_header) v.retry_after = parse_retry_after(*answer.retry_after_header, now);
        return v;
    }
    return classify_4xx(format, entries, answer);
}

}  // namespace crmsync::sender
