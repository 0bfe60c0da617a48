#include "hubspot_api.h"

#include <cctype>
#include <charconv>
#include <deque>
#include <random>
#include <set>

namespace crmsync::mock_crm {
namespace {

// Real HubSpot ids are large integers; starting high keeps them from looking like indexes.
constexpr uint64_t kObjectIdBase = 100000001;
// The account ("portal") id errors name; any fixed number.
constexpr std::string_view kMockPortalId = "12345678";

HttpReply validation_error(std::string_view message) {
    return {400, hubspot_error_body("VALIDATION_ERROR", message), {}};
}

// The parsed body, or a 400 reply naming what is wrong with it.
std::optional<HttpReply> parse_batch_body(const ApiRequest& req, JsonParseResult& parsed) {
    parsed = parse_json(req.body);
    if (!parsed.error.empty()) return validation_error("Invalid input JSON: " + parsed.error);
    if (!parsed.doc.IsObject())
        return validation_error(std::string("Invalid input JSON: expected an object, got ") +
                                json_type_name(parsed.doc));
    const rapidjson::Value* inputs = find_member(parsed.doc, "inputs");
    if (!inputs) return validation_error("Invalid input JSON: missing required field \"inputs\"");
    if (!inputs->IsArray())
        return validation_error(std::string("Invalid input JSON: \"inputs\" must be an array, got ") +
                                json_type_name(*inputs));
    if (inputs->Size() > kHubSpotMaxBatchInputs)
        return validation_error("Batch input limit exceeded: at most " +
                                std::to_string(kHubSpotMaxBatchInputs) + " inputs per request, got " +
                                std::to_string(inputs->Size()));
    return std::nullopt;
}

// HubSpot stores every property value as a string and coerces numbers and booleans;
// null and "" clear the property (stored as "").
std::optional<std::string> hubspot_value_text(const rapidjson::Value& v) {
    if (v.IsNull()) return std::string("\"\"");
    if (v.IsBool()) return std::string(v.GetBool() ? "\"true\"" : "\"false\"");
    if (is_number(v)) return quote_json_string(string_of(v));
    if (v.IsString()) return to_json_text(v);
    return std::nullopt;
}

std::optional<std::string> id_text(const rapidjson::Value* v) {
    if (!v || !(v->IsString())) return std::nullopt;  // JSON string or number
    return std::string(string_of(*v));
}

struct UpsertInput {
    std::string id_property;
    std::string id;
    std::deque<std::string> texts;  // deque: views into it stay valid as it grows
    std::vector<PropertyValue> props;
    std::vector<std::string> poison_properties;
};

// The object type of the path, or the error HubSpot answers for a type it does not know.
// The documents do not give that body; a real response reads "Unable to infer object type
// from: <type>" with category VALIDATION_ERROR (HTTP 400), which the mock reproduces.
std::optional<HttpReply> resolve_object(const ApiRequest& req, ApiContext& ctx, std::string& object) {
    std::lock_guard lock(ctx.shared.mutex);
    auto type = ctx.shared.hubspot_schema.object_type(req.path_params.at(0));
    if (!type) return validation_error("Unable to infer object type from: " + req.path_params.at(0));
    object = *type;
    return std::nullopt;
}

// "0-1" for contacts etc. (object type ids in "Understanding the CRM",
// https://developers.hubspot.com/docs/api/crm/understanding-the-crm); custom types keep their name.
std::string object_type_id(const std::string& object) {
    if (object == "contacts") return "0-1";
    if (object == "companies") return "0-2";
    if (object == "deals") return "0-3";
    return object;
}

// HubSpot keeps emails in lower case and matches them without regard to case ("Contacts"
// guide, https://developers.hubspot.com/docs/api/crm/contacts: email is the unique identifier;
// HubSpot's "Understanding the CRM"/knowledge base: email addresses are stored lower-cased).
std::string normalise_id(std::string_view id_property, std::string id) {
    if (id_property == "email")
        for (char& c : id) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return id;
}

// The batch error for property values the schema refuses, in the shape HubSpot documents:
// "Upcoming: Property Validations Rules will be enforced for APIs and Integrations"
// (https://developers.hubspot.com/changelog/upcoming-property-validations-rules-will-be-enforced-for-apis-and-integrations)
// and "Breaking Change: Enhanced Validations for Non-String Properties"
// (https://developers.hubspot.com/changelog/breaking-change-enhanced-validations-for-non-string-properties-in-hubspots-crmobject-apis):
//   400 {"status":"error","message":"Property values were not valid: [{\"isValid\":false,
//        \"message\":...,\"error\":CODE,\"name\":PROPERTY}, ...]","correlationId":...,
//        "category":"VALIDATION_ERROR"}
// plus context.propertyName (the names, as real batch responses carry them). It names no input:
// there is no context.id, so a client cannot tell which record of the batch was at fault.
HttpReply property_values_error(const std::vector<HubSpotValueError>& errors) {
    rapidjson::StringBuffer list_buf;
    JsonWriter l(list_buf);
    l.StartArray();
    for (const auto& e : errors) {
        l.StartObject();
        write_key(l, "isValid");
        l.Bool(false);
        write_key(l, "message");
        write_string(l, e.message);
        write_key(l, "error");
        write_string(l, e.error);
        write_key(l, "name");
        write_string(l, e.name);
        l.EndObject();
    }
    l.EndArray();
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, "status");
    write_string(w, "error");
    write_key(w, "message");
    write_string(w, "Property values were not valid: " + writer_text(list_buf));
    write_key(w, "correlationId");
    write_string(w, hubspot_correlation_id());
    write_key(w, "context");
    w.StartObject();
    write_key(w, "propertyName");
    w.StartArray();
    std::set<std::string> names;
    for (const auto& e : errors)
        if (names.insert(e.name).second) write_string(w, e.name);
    w.EndArray();
    w.EndObject();
    write_key(w, "category");
    write_string(w, "VALIDATION_ERROR");
    w.EndObject();
    return {400, writer_text(buf), {}};
}

}  // namespace

std::string hubspot_object_id(uint32_t index) { return std::to_string(kObjectIdBase + index); }

std::optional<uint32_t> hubspot_index_of(std::string_view object_id) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(object_id.data(), object_id.data() + object_id.size(), v);
    if (ec != std::errc() || end != object_id.data() + object_id.size() || v < kObjectIdBase ||
        v - kObjectIdBase >= UINT32_MAX)
        return std::nullopt;
    return static_cast<uint32_t>(v - kObjectIdBase);
}

HttpReply hubspot_batch_upsert(const ApiRequest& req, ApiContext& ctx) {
    std::string object;
    if (auto bad = resolve_object(req, ctx, object)) return *bad;
    JsonParseResult parsed;
    if (auto bad = parse_batch_body(req, parsed)) return *bad;
    const rapidjson::Value& inputs = parsed.doc["inputs"];

    std::vector<UpsertInput> batch(inputs.Size());
    std::set<std::pair<std::string, std::string>> seen;
    std::vector<std::string> duplicate_ids;
    std::vector<HubSpotValueError> value_errors;
    for (rapidjson::SizeType i = 0; i < inputs.Size(); ++i) {
        const rapidjson::Value& in = inputs[i];
        std::string where = "inputs[" + std::to_string(i) + "]";
        if (!in.IsObject()) return validation_error(where + " must be an object");
        const rapidjson::Value* id_property = find_member(in, "idProperty");
        if (!id_property || !is_string(*id_property) || id_property->GetStringLength() == 0)
            return validation_error(where + ".idProperty is required and must be a property name");
        auto id = id_text(find_member(in, "id"));
        if (!id || id->empty())
            return validation_error(where + ".id is required and must be a non-empty string");
        const rapidjson::Value* props = find_member(in, "properties");
        if (!props || !props->IsObject())
            return validation_error(where + ".properties is required and must be an object");

        UpsertInput& u = batch[i];
        u.id_property = string_of(*id_property);
        {
            // idProperty must name a property whose values are unique (hasUniqueValue):
            // "Create or update a batch of objects by unique property values ... idProperty
            // refers to a property whose values are unique for the object"
            // (https://developers.hubspot.com/docs/api-reference/latest/crm/objects/custom-objects/batch/upsert-custom-objects.md).
            // The error text is the one real responses carry ("Unable to perform update/upsert
            // by non-unique 0-2 property hs_object_id in portal ID ...", segmentio/action-destinations#3957).
            std::lock_guard lock(ctx.shared.mutex);
            const HubSpotProperty* p = ctx.shared.hubspot_schema.find(object, u.id_property);
            if (!p || !p->has_unique_value)
                return validation_error("Unable to perform update/upsert by non-unique " + object_type_id(object) +
                                        " property " +
                                        u.id_property + " in portal ID " + std::string(kMockPortalId));
            for (const auto& m : props->GetObject()) {
                std::string_view name(m.name.GetString(), m.name.GetStringLength());
                if (m.value.IsObject() || m.value.IsArray()) continue;  // refused below, by name
                if (auto e = ctx.shared.hubspot_schema.check_value(object, name, m.value))
                    value_errors.push_back(std::move(*e));
            }
        }
        u.id = normalise_id(u.id_property, *id);
        bool sets_id_property = false;
        for (const auto& m : props->GetObject()) {
            std::string_view name(m.name.GetString(), m.name.GetStringLength());
            auto text = hubspot_value_text(m.value);
            if (!text)
                return validation_error(where + ".properties." + std::string(name) +
                                        " must be a string, number or boolean, got " +
                                        json_type_name(m.value));
            if (is_poison_value(m.value, req.reject_value)) u.poison_properties.emplace_back(name);
            if (name == u.id_property && name == "email" && m.value.IsString())
                text = quote_json_string(normalise_id(name, std::string(string_of(m.value))));
            u.texts.push_back(std::move(*text));
            u.props.push_back({name, u.texts.back()});
            sets_id_property |= name == u.id_property;
        }
        // The real API sets the idProperty on the record it creates; a merge keeps it equal.
        if (!sets_id_property) {
            u.texts.push_back(quote_json_string(u.id));
            u.props.push_back({u.id_property, u.texts.back()});
        }
        if (!seen.emplace(u.id_property, u.id).second) duplicate_ids.push_back(u.id);
    }
    if (!duplicate_ids.empty()) {
        std::string list;
        for (const auto& id : duplicate_ids) list += (list.empty() ? "" : ", ") + id;
        return validation_error("Duplicate IDs found in batch input: [" + list + "]");
    }
    if (!value_errors.empty()) {
        ctx.stats.add_records({.rejected = batch.size()});
        return property_values_error(value_errors);
    }

    size_t poison = 0;
    for (const auto& u : batch) poison += u.poison_properties.empty() ? 0 : 1;
    if (poison > 0) {
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
        w.StartObject();
        write_key(w, "status");
        write_string(w, "error");
        write_key(w, "category");
        write_string(w, "VALIDATION_ERROR");
        write_key(w, "message");
        write_string(w, std::to_string(poison) + " of " + std::to_string(batch.size()) +
                            " inputs have property values that were not valid");
        write_key(w, "errors");
        w.StartArray();
        for (const auto& u : batch) {
            if (u.poison_properties.empty()) continue;
            w.StartObject();
            write_key(w, "message");
            write_string(w, "Property values were not valid: \"" + u.poison_properties.front() +
                                "\" of \"" + u.id + "\" contains the rejected value \"" +
                                req.reject_value + "\"");
            write_key(w, "code");
            write_string(w, "INVALID_OPTION");
            write_key(w, "context");
            w.StartObject();
            write_key(w, "id");
            w.StartArray();
            write_string(w, u.id);
            w.EndArray();
            write_key(w, "propertyName");
            w.StartArray();
            for (const auto& p : u.poison_properties) write_string(w, p);
            w.EndArray();
            w.EndObject();
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        ctx.stats.add_records({.rejected = poison});
        return {400, writer_text(buf), {}};
    }

    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, "status");
    write_string(w, "COMPLETE");
    write_key(w, "results");
    w.StartArray();
    {
        std::lock_guard lock(ctx.shared.mutex);
        CrmState& state = ctx.shared.state;
        // Fault rate_omit_result: the input is applied, its result left out of the answer. The
        // upsert reference promises one result per input; this stands in for an answer that
        // breaks that, which must not confirm the input left out.
        std::mt19937_64 omit_rng(req.lock_row_seed ^ 0x6f6d6974ULL);
        for (const auto& u : batch) {
            auto outcome = state.upsert(object, u.id, u.props);
            if (req.omit_result_rate > 0 && double(omit_rng() >> 11) * 0x1.0p-53 < req.omit_result_rate) continue;
            w.StartObject();
            write_key(w, "id");
            write_string(w, hubspot_object_id(outcome.index));
            write_key(w, "properties");
            state.write_properties(w, *state.find(object, u.id));
            write_key(w, "new");
            w.Bool(outcome.created);
            w.EndObject();
        }
    }
    w.EndArray();
    w.EndObject();
    ctx.stats.add_records({.upserted = batch.size()});
    if (req.commit_time_us) ctx.stats.add_latency(req.received_us - *req.commit_time_us, batch.size());
    return {200, writer_text(buf), {}};
}

HttpReply hubspot_batch_read(const ApiRequest& req, ApiContext& ctx) {
    std::string object;
    if (auto bad = resolve_object(req, ctx, object)) return *bad;
    JsonParseResult parsed;
    if (auto bad = parse_batch_body(req, parsed)) return *bad;
    const rapidjson::Value& inputs = parsed.doc["inputs"];

    // Without idProperty the ids are HubSpot's own object ids, as in the real API.
    std::optional<std::string> id_property;
    if (const rapidjson::Value* p = find_member(parsed.doc, "idProperty"); p && !p->IsNull()) {
        if (!is_string(*p)) return validation_error("idProperty must be a string");
        id_property = std::string(string_of(*p));
    }
    std::optional<std::vector<std::string>> only;
    if (const rapidjson::Value* p = find_member(parsed.doc, "properties"); p && !p->IsNull()) {
        if (!p->IsArray()) return validation_error("properties must be an array of property names");
        only.emplace();
        for (const auto& name : p->GetArray()) {
            if (!is_string(name)) return validation_error("properties must be an array of property names");
            only->emplace_back(string_of(name));
        }
        if (only->empty()) only.reset();
    }
    std::vector<std::string> ids;
    for (rapidjson::SizeType i = 0; i < inputs.Size(); ++i) {
        auto id = id_text(find_member(inputs[i], "id"));
        if (!id) return validation_error("inputs[" + std::to_string(i) + "].id is required and must be a string");
        ids.push_back(id_property ? normalise_id(*id_property, std::move(*id)) : std::move(*id));
    }

    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    std::vector<std::string> missing;
    w.StartObject();
    write_key(w, "status");
    write_string(w, "COMPLETE");
    write_key(w, "results");
    w.StartArray();
    {
        std::lock_guard lock(ctx.shared.mutex);
        const CrmState& state = ctx.shared.state;
        for (const std::string& id : ids) {
            std::optional<CrmState::RecordRef> r;
            if (id_property) {
                r = state.find(object, id);
            } else if (auto index = hubspot_index_of(id)) {
                r = state.find_by_index(object, *index);
            }
            if (!r) {
                missing.push_back(id);
                continue;
            }
            w.StartObject();
            write_key(w, "id");
            write_string(w, hubspot_object_id(r->index));
            write_key(w, "properties");
            state.write_properties(w, *r, only ? &*only : nullptr);
            w.EndObject();
        }
    }
    w.EndArray();
    if (!missing.empty()) {
        write_key(w, "numErrors");
        w.Uint64(1);
        write_key(w, "errors");
        w.StartArray();
        w.StartObject();
        write_key(w, "status");
        write_string(w, "error");
        write_key(w, "category");
        write_string(w, "OBJECT_NOT_FOUND");
        write_key(w, "message");
        write_string(w, "Could not get some " + object +
                            " objects, they may be deleted or not exist. Check that ids are valid.");
        write_key(w, "context");
        w.StartObject();
        write_key(w, "ids");
        w.StartArray();
        for (const auto& id : missing) write_string(w, id);
        w.EndArray();
        w.EndObject();
        w.EndObject();
        w.EndArray();
    }
    w.EndObject();
    return {missing.empty() ? 200 : 207, writer_text(buf), {}};
}

HttpReply hubspot_batch_archive(const ApiRequest& req, ApiContext& ctx) {
    std::string object;
    if (auto bad = resolve_object(req, ctx, object)) return *bad;
    JsonParseResult parsed;
    if (auto bad = parse_batch_body(req, parsed)) return *bad;
    const rapidjson::Value& inputs = parsed.doc["inputs"];
    std::vector<std::string> ids;
    for (rapidjson::SizeType i = 0; i < inputs.Size(); ++i) {
        auto id = id_text(find_member(inputs[i], "id"));
        if (!id) return validation_error("inputs[" + std::to_string(i) + "].id is required and must be a string");
        ids.push_back(std::move(*id));
    }
    uint64_t deleted = 0;
    {
        std::lock_guard lock(ctx.shared.mutex);
        CrmState& state = ctx.shared.state;
        for (const std::string& id : ids) {
            auto index = hubspot_index_of(id);
            auto r = index ? state.find_by_index(object, *index) : std::nullopt;
            // Unknown ids are ignored, as HubSpot does: archiving is idempotent. The key is
            // copied: it views the record that erase frees.
            if (!r) continue;
            uint32_t archived = r->index;
            if (state.erase(object, std::string(r->key))) ++deleted;
            // An archived record's associations go with it, on both sides: the other record
            // no longer shows it (hubspot_associations.h).
            ctx.shared.associations.remove_record({object, archived});
        }
    }
    ctx.stats.add_records({.deleted = deleted});
    if (req.commit_time_us) ctx.stats.add_latency(req.received_us - *req.commit_time_us, ids.size());
    return {204, {}, {}};
}

}  // namespace crmsync::mock_crm
