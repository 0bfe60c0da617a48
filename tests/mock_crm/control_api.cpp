#include "control_api.h"

#include "commit_time.h"
#include "hubspot_associations_api.h"
#include "salesforce_api.h"

namespace crmsync::mock_crm {
namespace {

HttpReply state_reply(const ControlRequest& req, ControlContext& ctx) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    {
        std::lock_guard lock(ctx.shared.mutex);
        const SharedState& shared = ctx.shared;
        // Links beside each record's properties (README): "@associations" for HubSpot records,
        // the relationships of a Salesforce record's lookups ("Account":{"Id","key"}).
        ctx.shared.state.write_state(w, req.object, req.key,
                                     [&](std::string_view object, const CrmState::RecordRef& r, JsonWriter& out) {
                                         write_record_associations(shared, object, r.index, out);
                                         write_record_lookups(shared, object, r, out);
                                     });
    }
    return {200, writer_text(buf), {}};
}

HttpReply stats_reply(ControlContext& ctx) {
    size_t stored;
    {
        std::lock_guard lock(ctx.shared.mutex);
        stored = ctx.shared.state.live_records();
    }
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    ctx.stats.write_json(w, stored);
    return {200, writer_text(buf), {}};
}

HttpReply faults_reply(ControlContext& ctx) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    ctx.faults.write_json(w);
    return {200, writer_text(buf), {}};
}

}  // namespace

HttpReply control_request(const ControlRequest& req, ControlContext& ctx) {
    const bool get = req.method == "GET", post = req.method == "POST";
    if (get && req.endpoint == "state") return state_reply(req, ctx);
    if (get && req.endpoint == "stats") return stats_reply(ctx);
    if (get && req.endpoint == "faults") return faults_reply(ctx);
    if (get && req.endpoint == "health") return {200, "{\"status\":\"ok\"}", {}};
    if (post && req.endpoint == "faults") {
        JsonParseResult parsed = parse_json(req.body);
        if (!parsed.error.empty()) return {400, webhook_error_body(parsed.error), {}};
        std::string error = ctx.faults.configure(parsed.doc);
        if (!error.empty()) return {400, webhook_error_body(error), {}};
        return faults_reply(ctx);
    }
    if (post && (req.endpoint == "salesforce/fields" || req.endpoint == "salesforce/duplicates")) {
        // Setup stands-ins: custom fields and objects are made in Setup (or the Metadata API),
        // not through the REST data API, and a duplicate of a non-unique idLookup value is what
        // a user creates in the UI. These endpoints set that up for a test.
        JsonParseResult parsed = parse_json(req.body);
        if (!parsed.error.empty()) return {400, webhook_error_body(parsed.error), {}};
        std::lock_guard lock(ctx.shared.mutex);
        std::string error = req.endpoint == "salesforce/fields" ? ctx.shared.salesforce_schema.declare(parsed.doc)
                                                                : ctx.shared.salesforce_schema.add_duplicate(parsed.doc);
        if (!error.empty()) return {400, webhook_error_body(error), {}};
        return {200, "{\"status\":\"ok\"}", {}};
    }
    if (req.endpoint == "tokens" && (get || post)) {
        // Rotation, as an admin rotates a private app's token: the list replaces the accepted
        // static tokens, each issued now (so --token-ttl-s runs from here). OAuth-issued tokens
        // are left alone. Optional "scopes": {"<token>": ["crm.objects.contacts.write", ...]}:
        // the HubSpot scopes that token was granted (others: every scope).
        if (post) {
            JsonParseResult parsed = parse_json(req.body);
            const rapidjson::Value* list = parsed.error.empty() && parsed.doc.IsObject() ? find_member(parsed.doc, "tokens") : nullptr;
            if (!list || !list->IsArray()) return {400, webhook_error_body("expected {\"tokens\":[\"token\",...]}"), {}};
            std::vector<std::string> tokens;
            for (const auto& t : list->GetArray()) {
                if (!is_string(t) || t.GetStringLength() == 0)
                    return {400, webhook_error_body("tokens must be non-empty strings"), {}};
                tokens.emplace_back(string_of(t));
            }
            std::map<std::string, std::vector<std::string>> scopes;
            if (const rapidjson::Value* granted = find_member(parsed.doc, "scopes")) {
                if (!granted->IsObject())
                    return {400, webhook_error_body("scopes must be {\"<token>\": [\"<scope>\", ...]}"), {}};
                for (const auto& m : granted->GetObject()) {
                    if (!m.value.IsArray()) return {400, webhook_error_body("each token's scopes must be a list"), {}};
                    auto& list = scopes[std::string(string_of(m.name))];
                    for (const auto& s : m.value.GetArray()) {
                        if (!is_string(s)) return {400, webhook_error_body("scopes must be strings"), {}};
                        list.emplace_back(string_of(s));
                    }
                }
            }
            ctx.tokens.rotate(std::move(tokens), wall_clock_now_us() / 1000000, std::move(scopes));
        }
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
        w.StartObject();
        write_key(w, "tokens");
        w.StartArray();
        for (const auto& t : ctx.tokens.static_tokens()) write_string(w, t);
        w.EndArray();
        write_key(w, "ttl_s");
        w.Int64(ctx.tokens.ttl_s());
        w.EndObject();
        return {200, writer_text(buf), {}};
    }
    if (post && req.endpoint == "reset") {
        {
            std::lock_guard lock(ctx.shared.mutex);
            ctx.shared.state.clear();
            ctx.shared.applied_events.clear();
            ctx.shared.associations.clear();
        }
        ctx.stats.clear();
        ctx.faults.reset();
        ctx.quotas.reset();
        return {200, "{\"status\":\"reset\"}", {}};
    }
    return {404, webhook_error_body("no mock endpoint " + std::string(req.method) + " /_mock/" +
                                    std::string(req.endpoint) +
                                    "; there are GET state, stats, faults, health and POST faults, reset, "
                                    "salesforce/fields, salesforce/duplicates, GET|POST tokens"),
            {}};
}

}  // namespace crmsync::mock_crm
