#include "crm/salesforce/salesforce_schema.hpp"

#include "core/request_body.hpp"
#include "crm/common_answers.hpp"

namespace crmsync::sender::salesforce {
namespace {

using answers::member;

bool flag(const rapidjson::Value& object, const char* name, bool fallback = false) {
    const rapidjson::Value* v = member(object, name);
    return v && v->IsBool() ? v->GetBool() : fallback;
}

// "Field Types" (https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/field_types.htm,
// the types REST describe reports): the text-like types take
// any string; picklist values must be listed unless the picklist is unrestricted (combobox is).
CrmType normalise(std::string_view type) {
    if (type == "string" || type == "email" || type == "phone" || type == "url" || type == "encryptedstring" ||
        type == "combobox")
        return CrmType::string;
    if (type == "textarea") return CrmType::text;
    if (type == "int" || type == "double" || type == "currency" || type == "percent" || type == "long")
        return CrmType::number;
    if (type == "boolean") return CrmType::boolean;
    if (type == "date") return CrmType::date;
    if (type == "datetime") return CrmType::datetime;
    if (type == "picklist") return CrmType::enumeration;
    if (type == "multipicklist") return CrmType::multi_enumeration;
    if (type == "id") return CrmType::id;
    if (type == "reference") return CrmType::reference;
    return CrmType::other;
}

// Salesforce's error shape: [{"message":...,"errorCode":...}].
std::string error_text(std::string_view body) {
    rapidjson::Document doc;
    if (answers::parse(body, doc) && doc.IsArray() && !doc.Empty()) {
        const std::string code = answers::string_or(member(doc[0], "errorCode"), "");
        const std::string message = answers::string_or(member(doc[0], "message"), "");
        if (!code.empty() || !message.empty()) return code.empty() ? message : code + ": " + message;
    }
    return answers::short_body(body);
}

}  // namespace

std::string describe_path(std::string_view api_version, std::string_view sobject) {
    return "/services/data/" + std::string(api_version) + "/sobjects/" + encode_path_segment(sobject) + "/describe";
}

SchemaFetch read_describe(std::string_view sobject, long status, std::string_view body) {
    SchemaFetch fetch;
    fetch.status = status;
    fetch.schema.object = std::string(sobject);
    if (status != 200) {
        fetch.detail = error_text(body);
        fetch.problem = status == 401   ? SchemaFetch::Problem::unauthorized
                        : status == 403 ? SchemaFetch::Problem::forbidden
                        : status == 404 ? SchemaFetch::Problem::unknown_object
                                        : SchemaFetch::Problem::bad_answer;
        return fetch;
    }
    rapidjson::Document doc;
    const rapidjson::Value* fields = answers::parse(body, doc) ? member(doc, "fields") : nullptr;
    if (!fields || !fields->IsArray()) {
        fetch.problem = SchemaFetch::Problem::bad_answer;
        fetch.detail = "the answer has no \"fields\" array: " + answers::short_body(body);
        return fetch;
    }
    fetch.schema.creatable = flag(doc, "createable", true);
    fetch.schema.updatable = flag(doc, "updateable", true);
    for (const auto& item : fields->GetArray()) {
        const std::string name = answers::string_or(member(item, "name"), "");
        if (name.empty()) continue;
        CrmProperty p;
        p.name = name;
        p.raw_type = answers::string_or(member(item, "type"), "");
        p.type = normalise(p.raw_type);
        p.unique_or_external_id = flag(item, "externalId");
        p.unique = flag(item, "unique");
        p.id_lookup = flag(item, "idLookup");
        p.creatable = flag(item, "createable");
        p.updatable = flag(item, "updateable");
        p.restricted_options = flag(item, "restrictedPicklist");
        if (const rapidjson::Value* values = member(item, "picklistValues"); values && values->IsArray())
            for (const auto& v : values->GetArray())
                if (flag(v, "active", true)) p.options.push_back(answers::string_or(member(v, "value"), ""));
        fetch.schema.properties.push_back(std::move(p));
    }
    return fetch;
}

}  // namespace crmsync::sender::salesforce
