#include "control_api.h"

namespace crmsync::mock_crm {
namespace {

HttpReply state_reply(const ControlRequest& req, ControlContext& ctx) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    {
        std::lock_guard lock(ctx.shared.mutex);
        ctx.shared.state.write_state(w, req.object, req.key);
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
    if (post && req.endpoint == "reset") {
        {
            std::lock_guard lock(ctx.shared.mutex);
            ctx.shared.state.clear();
            ctx.shared.applied_events.clear();
        }
        ctx.stats.clear();
        ctx.faults.reset();
        return {200, "{\"status\":\"reset\"}", {}};
    }
    return {404, webhook_error_body("no mock endpoint " + std::string(req.method) + " /_mock/" +
                                    std::string(req.endpoint) +
                                    "; there are GET state, stats, faults, health and POST faults, reset, "
                                    "salesforce/fields, salesforce/duplicates"),
            {}};
}

}  // namespace crmsync::mock_crm
