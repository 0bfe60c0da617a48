#include "crm/webhook/webhook_adapter.hpp"

#include "crm/common_answers.hpp"

namespace crmsync::sender {
namespace {

using Kind = ResponseVerdict::Kind;
using answers::member;
using answers::short_body;
using answers::string_or;
using answers::verdict;

}  // namespace

Result<CrmRequest> WebhookAdapter::build(Stage stage, const Batch& part, std::span<const std::string>) const {
    if (part.entries.empty()) return Error{"empty batch"};
    if (stage != Stage::send) return Error{"webhook has no stage but send"};
    for (const auto& entry : part.entries)
        if (!entry.whole_message) return Error{"webhook batch holds a coalesced record"};
    CrmRequest request;
    request.idempotency_key = idempotency_key(part.first_event(), part.last_event());
    request.body = splice_messages(R"({"events":[)", part, "]}");
    return request;
}

ResponseVerdict WebhookAdapter::classify(Stage, const PartView& part, const CrmAnswer& answer,
                                         std::chrono::system_clock::time_point now) {
    if (auto common = answers::transport_or_transient(answer, now, "the webhook receiver")) return *common;
    if (answer.status >= 200 && answer.status < 300) return verdict(Kind::accepted);
    const std::string summary = "HTTP " + std::to_string(answer.status) + ": " + short_body(answer.body);
    switch (answer.status) {
        case 401:
            return verdict(Kind::unauthorized, "the webhook receiver refused the token (" + summary + ")");
        case 403:
        case 404:
        case 405:
            return verdict(Kind::configuration,
                           "the webhook receiver refused the request (" + summary +
                               "): check target.url and the token; the events wait in the slot");
        case 400:
        case 409:
        case 413:
        case 422:
            break;
        default:
            return verdict(Kind::retry, summary + " (unexpected answer; not an event's fault, so it is retried)");
    }
    rapidjson::Document doc;
    ResponseVerdict v = verdict(Kind::per_record, summary);
    v.others_applied = false;  // the receiver applies all of a request or none of it
    if (answers::parse(answer.body, doc))
        if (const rapidjson::Value* rejected = member(doc, "rejected"); rejected && rejected->IsArray()) {
            std::vector<bool> seen(part.entries.size(), false);
            for (const auto& r : rejected->GetArray()) {
                const auto* index = member(r, "index");
                if (!index || !index->IsUint64() || index->GetUint64() >= part.entries.size()) continue;
                if (seen[index->GetUint64()]) continue;
                seen[index->GetUint64()] = true;
                v.records.push_back({static_cast<std::size_t>(index->GetUint64()), RecordOutcome::Kind::rejected,
                                     string_or(member(r, "message"), summary)});
            }
        }
    if (v.records.empty()) return verdict(Kind::rejected_unnamed, summary);
    return v;
}

}  // namespace crmsync::sender
