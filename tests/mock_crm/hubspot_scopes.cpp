#include "hubspot_scopes.h"

#include <algorithm>

#include "json.h"

namespace crmsync::mock_crm {
namespace {

bool custom_object(const std::string& object) { return object.rfind("p_", 0) == 0 || object.rfind("2-", 0) == 0; }

// Every scope the mock's objects have: what a token without a scope list was granted.
std::vector<std::string> every_scope() {
    std::vector<std::string> out;
    for (const char* object : {"contacts", "companies", "deals", "custom"})
        for (const char* kind : {"objects", "schemas"})
            for (const char* access : {"read", "write"})
                out.push_back(std::string("crm.") + kind + "." + object + "." + access);
    return out;
}

}  // namespace

std::optional<std::string> required_hubspot_scope(const std::string& route_name, const std::string& object) {
    const std::string name = custom_object(object) ? "custom" : object;
    if (route_name == "hubspot.batch_upsert" || route_name == "hubspot.batch_archive") return "crm.objects." + name + ".write";
    if (route_name == "hubspot.batch_read") return "crm.objects." + name + ".read";
    if (route_name == "hubspot.properties_list" || route_name == "hubspot.properties_get")
        return "crm.schemas." + name + ".read";
    if (route_name == "hubspot.properties_create") return "crm.schemas." + name + ".write";
    // Associations v4: the reference pages list the object scopes as "one of the following
    // scopes" (crm.objects.<object>.read/.write of contacts, companies, deals, custom, ...,
    // associations.json and associationsSchema.json in HubSpot-public-api-spec-collection). The
    // mock asks for the one of the from-object that fits the call (write to change, read to
    // look), the narrowest reading: a token scoped for deals only cannot link contacts.
    if (route_name == "hubspot.associations_create" || route_name == "hubspot.associations_default" ||
        route_name == "hubspot.associations_archive" || route_name == "hubspot.association_labels_create")
        return "crm.objects." + name + ".write";
    if (route_name == "hubspot.associations_read" || route_name == "hubspot.association_labels_list")
        return "crm.objects." + name + ".read";
    return std::nullopt;
}

bool has_scope(const std::optional<std::vector<std::string>>& granted, const std::string& scope) {
    return !granted || std::find(granted->begin(), granted->end(), scope) != granted->end();
}

HttpReply missing_scopes_reply(const std::string& scope) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, "status");
    write_string(w, "error");
    write_key(w, "message");
    write_string(w, "This app hasn't been granted all required scopes to make this call. Read more about required "
                    "scopes here: https://developers.hubspot.com/scopes.");
    write_key(w, "correlationId");
    write_string(w, hubspot_correlation_id());
    write_key(w, "errors");
    w.StartArray();
    w.StartObject();
    write_key(w, "message");
    write_string(w, "One or more of the following scopes are required.");
    write_key(w, "context");
    w.StartObject();
    write_key(w, "requiredGranularScopes");
    w.StartArray();
    write_string(w, scope);
    w.EndArray();
    w.EndObject();
    w.EndObject();
    w.EndArray();
    write_key(w, "category");
    write_string(w, "MISSING_SCOPES");
    w.EndObject();
    return {403, writer_text(buf), {}};
}

HttpReply access_token_info(const std::string& body, const TokenStore& tokens) {
    JsonParseResult parsed = parse_json(body);
    const rapidjson::Value* key = parsed.error.empty() && parsed.doc.IsObject() ? find_member(parsed.doc, "tokenKey") : nullptr;
    if (!key || !is_string(*key))
        return {400, hubspot_error_body("VALIDATION_ERROR", "tokenKey is required"), {}};
    const std::string token(string_of(*key));
    if (!tokens.known(token))
        return {401, hubspot_error_body("INVALID_AUTHENTICATION", "The access token provided is not valid."), {}};
    const std::vector<std::string> scopes = tokens.scopes_of(token).value_or(every_scope());
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, "userId");
    w.Int64(1);
    write_key(w, "hubId");
    w.Int64(12345678);
    write_key(w, "appId");
    w.Int64(1);
    write_key(w, "scopes");
    w.StartArray();
    for (const auto& s : scopes) write_string(w, s);
    w.EndArray();
    w.EndObject();
    return {200, writer_text(buf), {}};
}

}  // namespace crmsync::mock_crm
