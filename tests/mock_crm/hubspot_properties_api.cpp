#include "hubspot_properties_api.h"

namespace crmsync::mock_crm {
namespace {

// Unknown object types: the documents give no body; real responses read "Unable to infer
// object type from: <type>" (400, VALIDATION_ERROR), as for the object endpoints.
std::optional<HttpReply> unknown_object(const ApiRequest& req, const SharedState& shared, std::string& object) {
    auto type = shared.hubspot_schema.object_type(req.path_params.at(0));
    if (!type)
        return HttpReply{400, hubspot_error_body("VALIDATION_ERROR", "Unable to infer object type from: " + req.path_params.at(0)), {}};
    object = *type;
    return std::nullopt;
}

}  // namespace

HttpReply hubspot_list_properties(const ApiRequest& req, ApiContext& ctx) {
    std::lock_guard lock(ctx.shared.mutex);
    std::string object;
    if (auto bad = unknown_object(req, ctx.shared, object)) return *bad;
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, "results");
    w.StartArray();
    for (const auto& [name, p] : *ctx.shared.hubspot_schema.properties(object)) HubSpotSchema::write_property(w, p);
    w.EndArray();
    w.EndObject();
    return {200, writer_text(buf), {}};
}

HttpReply hubspot_get_property(const ApiRequest& req, ApiContext& ctx) {
    std::lock_guard lock(ctx.shared.mutex);
    std::string object;
    if (auto bad = unknown_object(req, ctx.shared, object)) return *bad;
    const std::string& name = req.path_params.at(1);
    const HubSpotProperty* p = ctx.shared.hubspot_schema.find(object, name);
    // The reference lists 404 for a property that does not exist without its body; the
    // mock answers HubSpot's usual error shape with category OBJECT_NOT_FOUND.
    if (!p)
        return {404, hubspot_error_body("OBJECT_NOT_FOUND", "Unable to find property " + name + " for object type " + object), {}};
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    HubSpotSchema::write_property(w, *p);
    return {200, writer_text(buf), {}};
}

HttpReply hubspot_create_property(const ApiRequest& req, ApiContext& ctx) {
    JsonParseResult parsed = parse_json(req.body);
    if (!parsed.error.empty())
        return {400, hubspot_error_body("VALIDATION_ERROR", "Invalid input JSON: " + parsed.error), {}};
    std::lock_guard lock(ctx.shared.mutex);
    std::string object;
    if (auto bad = unknown_object(req, ctx.shared, object)) return *bad;
    auto [status, message] = ctx.shared.hubspot_schema.create(object, parsed.doc);
    // 409 for a name that exists: the reference lists 409 Conflict without a body; the
    // category is the one HubSpot uses for existing objects (documents silent on the text).
    if (status == 409) return {409, hubspot_error_body("OBJECT_ALREADY_EXISTS", message), {}};
    if (status != 201) return {status, hubspot_error_body("VALIDATION_ERROR", message), {}};
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    HubSpotSchema::write_property(w, *ctx.shared.hubspot_schema.find(object, string_of(parsed.doc["name"])));
    return {201, writer_text(buf), {}};
}

}  // namespace crmsync::mock_crm
