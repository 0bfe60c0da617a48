#include "crm/hubspot/hubspot_schema.hpp"

#include "core/request_body.hpp"
#include "crm/common_answers.hpp"

namespace crmsync::sender::hubspot {
namespace {

using answers::member;

bool flag(const rapidjson::Value& object, const char* name) {
    const rapidjson::Value* v = member(object, name);
    return v && v->IsBool() && v->GetBool();
}

// "Property type and fieldType values" (https://developers.hubspot.com/docs/api/crm/properties):
// type is the stored kind (bool, enumeration, date, datetime, string, number,
// phone_number, ...); fieldType only says how the form shows it, except that an enumeration
// shown as "checkbox" holds several values (";"-separated).
CrmType normalise(std::string_view type, std::string_view field_type) {
    if (type == "string") return field_type == "textarea" || field_type == "html" ? CrmType::text : CrmType::string;
    if (type == "phone_number") return CrmType::string;
    if (type == "number") return CrmType::number;
    if (type == "bool") return CrmType::boolean;
    if (type == "date") return CrmType::date;
    if (type == "datetime") return CrmType::datetime;
    if (type == "enumeration") return field_type == "checkbox" ? CrmType::multi_enumeration : CrmType::enumeration;
    return CrmType::other;
}

}  // namespace

std::string properties_path(std::string_view object) {
    // v3 whatever target.api_version says: the properties API is served under v3 alongside the
    // date-versioned object endpoints.
    return "/crm/v3/properties/" + encode_path_segment(object);
}

std::string scope(std::string_view kind, std::string_view object, std::string_view access) {
    // The standard objects have their own scopes; custom objects (p_<name>, 2-<id>) share
    // crm.<kind>.custom.*.
    const bool custom = object.starts_with("p_") || object.starts_with("2-");
    return "crm." + std::string(kind) + "." + (custom ? std::string("custom") : std::string(object)) + "." +
           std::string(access);
}

std::string write_scope(std::string_view object) { return scope("objects", object, "write"); }

std::optional<std::vector<std::string>> read_token_scopes(long status, std::string_view body) {
    if (status != 200) return std::nullopt;
    rapidjson::Document doc;
    const rapidjson::Value* scopes = answers::parse(body, doc) ? member(doc, "scopes") : nullptr;
    if (!scopes || !scopes->IsArray()) return std::nullopt;
    std::vector<std::string> out;
    for (const auto& s : scopes->GetArray())
        if (s.IsString()) out.emplace_back(answers::string_view_of(s));
    return out;
}

SchemaFetch read_properties(std::string_view object, long status, std::string_view body) {
    SchemaFetch fetch;
    fetch.status = status;
    fetch.schema.object = std::string(object);
    rapidjson::Document doc;
    const bool json = answers::parse(body, doc);
    if (status != 200) {
        // HubSpot's error shape {"status":"error","message":...,"category":...}.
        fetch.detail = json ? answers::string_or(member(doc, "message"), answers::short_body(body))
                            : answers::short_body(body);
        fetch.problem = status == 401                     ? SchemaFetch::Problem::unauthorized
                        : status == 403                   ? SchemaFetch::Problem::forbidden
                        : status == 400 || status == 404  ? SchemaFetch::Problem::unknown_object
                                                          : SchemaFetch::Problem::bad_answer;
        return fetch;
    }
    const rapidjson::Value* results = json ? member(doc, "results") : nullptr;
    if (!results || !results->IsArray()) {
        fetch.problem = SchemaFetch::Problem::bad_answer;
        fetch.detail = "the answer has no \"results\" array: " + answers::short_body(body);
        return fetch;
    }
    for (const auto& item : results->GetArray()) {
        const std::string name = answers::string_or(member(item, "name"), "");
        if (name.empty()) continue;
        CrmProperty p;
        p.name = name;
        const std::string type = answers::string_or(member(item, "type"), "");
        const std::string field_type = answers::string_or(member(item, "fieldType"), "");
        p.type = normalise(type, field_type);
        p.raw_type = field_type.empty() ? type : type + "/" + field_type;
        p.unique_or_external_id = p.unique = flag(item, "hasUniqueValue");
        // A calculated property, or one whose value only HubSpot sets, refuses writes.
        const rapidjson::Value* meta = member(item, "modificationMetadata");
        const bool read_only = flag(item, "calculated") || (meta && flag(*meta, "readOnlyValue"));
        p.creatable = p.updatable = !read_only;
        // Every option, hidden ones too: "hidden" only keeps an option off HubSpot's forms and
        // pickers; records may still hold it.
        if (const rapidjson::Value* options = member(item, "options"); options && options->IsArray())
            for (const auto& o : options->GetArray()) p.options.push_back(answers::string_or(member(o, "value"), ""));
        p.restricted_options = p.type == CrmType::enumeration || p.type == CrmType::multi_enumeration;
        fetch.schema.properties.push_back(std::move(p));
    }
    return fetch;
}

}  // namespace crmsync::sender::hubspot
