#include "hubspot_associations_api.h"

#include <ctime>

#include "commit_time.h"
#include "hubspot_api.h"

namespace crmsync::mock_crm {
namespace {

HttpReply validation_error(std::string_view message) {
    return {400, hubspot_error_body("VALIDATION_ERROR", message), {}};
}

// ISO 8601 UTC with milliseconds, as the batch responses' startedAt/completedAt.
std::string iso_now() {
    int64_t us = wall_clock_now_us();
    std::time_t s = static_cast<std::time_t>(us / 1000000);
    std::tm tm{};
    gmtime_r(&s, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(us / 1000 % 1000));
    return out;
}

// The two object types of the path. The guide lets contacts, companies, deals be named by type
// id or by name, singular too ("for contacts, companies, deals, tickets, and notes, you can
// use the object name (e.g., contact, company)", Associations v4 guide). An unknown type gets
// the answer the object endpoints give for it (hubspot_api.cpp).
struct ObjectPair {
    std::string from;
    std::string to;
};

std::optional<std::string> object_of(const HubSpotSchema& schema, std::string_view path_type) {
    if (path_type == "contact") return "contacts";
    if (path_type == "company") return "companies";
    if (path_type == "deal") return "deals";
    return schema.object_type(path_type);
}

std::optional<HttpReply> resolve_pair(const ApiRequest& req, ApiContext& ctx, ObjectPair& pair) {
    std::lock_guard lock(ctx.shared.mutex);
    for (size_t i = 0; i < 2; ++i) {
        auto object = object_of(ctx.shared.hubspot_schema, req.path_params.at(i));
        if (!object) return validation_error("Unable to infer object type from: " + req.path_params.at(i));
        (i == 0 ? pair.from : pair.to) = *object;
    }
    return std::nullopt;
}

// {"inputs":[...]} with at most `limit` inputs, or the 400 naming what is wrong.
std::optional<HttpReply> parse_inputs(const ApiRequest& req, size_t limit, JsonParseResult& parsed) {
    parsed = parse_json(req.body);
    if (!parsed.error.empty()) return validation_error("Invalid input JSON: " + parsed.error);
    if (!parsed.doc.IsObject())
        return validation_error(std::string("Invalid input JSON: expected an object, got ") + json_type_name(parsed.doc));
    const rapidjson::Value* inputs = find_member(parsed.doc, "inputs");
    if (!inputs || !inputs->IsArray())
        return validation_error("Invalid input JSON: \"inputs\" is required and must be an array");
    if (inputs->Size() > limit)
        return validation_error("Batch input limit exceeded: at most " + std::to_string(limit) +
                                " inputs per request, got " + std::to_string(inputs->Size()));
    return std::nullopt;
}

// A PublicObjectId {"id": "..."}: the id as text (the spec types it a string; a JSON number is
// taken as its digits, as the object endpoints take it).
std::optional<std::string> object_id_of(const rapidjson::Value* v) {
    const rapidjson::Value* id = v && v->IsObject() ? find_member(*v, "id") : nullptr;
    if (!id || !(id->IsString()) || string_of(*id).empty()) return std::nullopt;
    return std::string(string_of(*id));
}

// The live record a HubSpot id names, if any. Caller holds the lock.
std::optional<RecordAddress> record_of(const CrmState& state, const std::string& object, const std::string& id) {
    auto index = hubspot_index_of(id);
    if (!index || !state.find_by_index(object, *index)) return std::nullopt;
    return RecordAddress{object, *index};
}

// One entry of a batch response's "errors" (StandardError in the spec).
struct InputError {
    std::string category;
    std::string sub_category;
    std::string message;
    std::vector<std::pair<std::string, std::string>> context;  // name -> one value
};

void write_errors(JsonWriter& w, const std::vector<InputError>& errors) {
    write_key(w, "numErrors");
    w.Uint64(errors.size());
    write_key(w, "errors");
    w.StartArray();
    for (const auto& e : errors) {
        w.StartObject();
        write_key(w, "status");
        write_string(w, "error");
        write_key(w, "category");
        write_string(w, e.category);
        if (!e.sub_category.empty()) {
            write_key(w, "subCategory");
            write_string(w, e.sub_category);
        }
        write_key(w, "message");
        write_string(w, e.message);
        write_key(w, "context");
        w.StartObject();
        for (const auto& [name, value] : e.context) {
            write_key(w, name);
            w.StartArray();
            write_string(w, value);
            w.EndArray();
        }
        w.EndObject();
        write_key(w, "errors");
        w.StartArray();
        w.EndArray();
        write_key(w, "links");
        w.StartObject();
        w.EndObject();
        w.EndObject();
    }
    w.EndArray();
}

void write_batch_head(JsonWriter& w, const std::string& started) {
    write_key(w, "status");
    write_string(w, "COMPLETE");
    write_key(w, "startedAt");
    write_string(w, started);
    write_key(w, "completedAt");
    write_string(w, iso_now());
}

// A record an input names that the portal does not hold. The reference pages give no body for
// it; the mock fails that input alone (207), category OBJECT_NOT_FOUND as batch read of objects
// answers for ids that do not exist (hubspot_api.cpp), naming the object type and id.
InputError missing_record(const std::string& object, const std::string& id, const char* side) {
    return {"OBJECT_NOT_FOUND", "", "No " + hubspot_object_type_id(object) + " record with id " + id + " exists.",
            {{side, id}}};
}

// Associates from -> to with type t and to -> from with its inverse. A labeled type brings the
// unlabeled one with it ("When a record has a primary association or a custom association
// label, those types will be listed alongside the unlabeled association type"), and a Primary
// replaces the record's previous Primary (one main company per record). Caller holds the lock.
void associate(SharedState& s, const RecordAddress& from, const RecordAddress& to, const AssociationType& t) {
    const AssociationType* inverse = s.hubspot_association_types.inverse(t);
    if (t.primary && inverse)
        for (const auto& old : s.associations.remove_type_from_all(from, t.spec))
            s.associations.remove_type(old, from, inverse->spec);
    if (inverse && inverse->primary)
        for (const auto& old : s.associations.remove_type_from_all(to, inverse->spec))
            s.associations.remove_type(old, to, t.spec);
    s.associations.add(from, to, t.spec);
    if (inverse) s.associations.add(to, from, inverse->spec);
    if (!t.unlabeled)
        if (const AssociationType* plain = s.hubspot_association_types.unlabeled(from.object, to.object))
            associate(s, from, to, *plain);
}

struct CreateInput {
    std::string from_id;
    std::string to_id;
    std::vector<AssociationSpec> specs;
};

std::optional<HttpReply> parse_create_input(const rapidjson::Value& in, size_t i, CreateInput& out) {
    std::string where = "inputs[" + std::to_string(i) + "]";
    if (!in.IsObject()) return validation_error(where + " must be an object");
    auto from = object_id_of(find_member(in, "from"));
    auto to = object_id_of(find_member(in, "to"));
    if (!from) return validation_error(where + ".from.id is required and must be a non-empty string");
    if (!to) return validation_error(where + ".to.id is required and must be a non-empty string");
    const rapidjson::Value* types = find_member(in, "types");
    if (!types || !types->IsArray() || types->Empty())
        return validation_error(where + ".types is required and must be a non-empty array");
    out = {*from, *to, {}};
    for (rapidjson::SizeType k = 0; k < types->Size(); ++k) {
        const rapidjson::Value& t = (*types)[k];
        std::string at = where + ".types[" + std::to_string(k) + "]";
        const rapidjson::Value* category = t.IsObject() ? find_member(t, "associationCategory") : nullptr;
        const rapidjson::Value* type_id = t.IsObject() ? find_member(t, "associationTypeId") : nullptr;
        // AssociationSpec: associationCategory one of the enum, associationTypeId an int32.
        if (!category || !is_string(*category) ||
            (string_of(*category) != "HUBSPOT_DEFINED" && string_of(*category) != "USER_DEFINED" &&
             string_of(*category) != "INTEGRATOR_DEFINED"))
            return validation_error(at + ".associationCategory must be one of HUBSPOT_DEFINED, USER_DEFINED, "
                                         "INTEGRATOR_DEFINED");
        auto id = type_id ? as_uint64(*type_id) : std::nullopt;
        if (!id || *id > INT32_MAX) return validation_error(at + ".associationTypeId must be an integer");
        out.specs.push_back({std::string(string_of(*category)), static_cast<int64_t>(*id)});
    }
    return std::nullopt;
}

void write_label_spec(JsonWriter& w, const AssociationType& t) {
    w.StartObject();
    write_key(w, "category");
    write_string(w, t.spec.category);
    write_key(w, "typeId");
    w.Int64(t.spec.type_id);
    write_key(w, "label");
    if (t.label) {
        write_string(w, *t.label);
    } else {
        w.Null();
    }
    w.EndObject();
}

}  // namespace

HttpReply hubspot_associations_create(const ApiRequest& req, ApiContext& ctx) {
    const std::string started = iso_now();
    ObjectPair pair;
    if (auto bad = resolve_pair(req, ctx, pair)) return *bad;
    JsonParseResult parsed;
    if (auto bad = parse_inputs(req, kHubSpotMaxAssociationWriteInputs, parsed)) return *bad;
    const rapidjson::Value& inputs = parsed.doc["inputs"];
    std::vector<CreateInput> batch(inputs.Size());
    for (rapidjson::SizeType i = 0; i < inputs.Size(); ++i)
        if (auto bad = parse_create_input(inputs[i], i, batch[i])) return *bad;

    rapidjson::StringBuffer results_buf;
    JsonWriter r(results_buf);
    r.StartArray();
    std::vector<InputError> errors;
    {
        std::lock_guard lock(ctx.shared.mutex);
        SharedState& s = ctx.shared;
        for (const CreateInput& in : batch) {
            auto from = record_of(s.state, pair.from, in.from_id);
            auto to = record_of(s.state, pair.to, in.to_id);
            if (!from) {
                errors.push_back(missing_record(pair.from, in.from_id, "fromObjectId"));
                continue;
            }
            if (!to) {
                errors.push_back(missing_record(pair.to, in.to_id, "toObjectId"));
                continue;
            }
            // Every type must be one the portal defines from `from` to `to` in that category
            // (types are directional and ids unique only within a category); else the input
            // fails, nothing of it applied. The body for it is not documented.
            std::vector<const AssociationType*> types;
            for (const auto& spec : in.specs)
                if (const AssociationType* t = s.hubspot_association_types.find(pair.from, pair.to, spec)) types.push_back(t);
            if (types.size() != in.specs.size()) {
                const AssociationSpec& bad = in.specs[types.size()];
                errors.push_back({"VALIDATION_ERROR", "",
                                  bad.category + " association type " + std::to_string(bad.type_id) +
                                      " does not exist between " + hubspot_object_type_id(pair.from) + " and " +
                                      hubspot_object_type_id(pair.to),
                                  {{"associationTypeId", std::to_string(bad.type_id)}}});
                continue;
            }
            for (const AssociationType* t : types) associate(s, *from, *to, *t);
            // LabelsBetweenObjectPair: the pair and the labels of the types just set.
            r.StartObject();
            write_key(r, "fromObjectTypeId");
            write_string(r, hubspot_object_type_id(pair.from));
            write_key(r, "fromObjectId");
            write_string(r, in.from_id);
            write_key(r, "toObjectTypeId");
            write_string(r, hubspot_object_type_id(pair.to));
            write_key(r, "toObjectId");
            write_string(r, in.to_id);
            write_key(r, "labels");
            r.StartArray();
            for (const AssociationType* t : types)
                if (t->label) write_string(r, *t->label);
            r.EndArray();
            r.EndObject();
        }
    }
    r.EndArray();

    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_batch_head(w, started);
    write_key(w, "results");
    write_raw(w, writer_text(results_buf));
    if (!errors.empty()) write_errors(w, errors);
    w.EndObject();
    // 201 "successful operation", 207 "multiple statuses" (associations.json, batch/create).
    return {errors.empty() ? 201 : 207, writer_text(buf), {}};
}

HttpReply hubspot_associations_default(const ApiRequest& req, ApiContext& ctx) {
    const std::string started = iso_now();
    ObjectPair pair;
    if (auto bad = resolve_pair(req, ctx, pair)) return *bad;
    JsonParseResult parsed;
    if (auto bad = parse_inputs(req, kHubSpotMaxAssociationWriteInputs, parsed)) return *bad;
    const rapidjson::Value& inputs = parsed.doc["inputs"];
    std::vector<std::pair<std::string, std::string>> batch;
    for (rapidjson::SizeType i = 0; i < inputs.Size(); ++i) {
        std::string where = "inputs[" + std::to_string(i) + "]";
        auto from = object_id_of(inputs[i].IsObject() ? find_member(inputs[i], "from") : nullptr);
        auto to = object_id_of(inputs[i].IsObject() ? find_member(inputs[i], "to") : nullptr);
        if (!from || !to) return validation_error(where + ".from.id and " + where + ".to.id are required strings");
        batch.emplace_back(*from, *to);
    }

    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    std::vector<InputError> errors;
    w.StartObject();
    {
        std::lock_guard lock(ctx.shared.mutex);
        SharedState& s = ctx.shared;
        // "Create the default (most generic) association type between two object types": the
        // unlabeled type. Pairs with none (custom objects without one) cannot take a default
        // association ("the default association is available only for HubSpot main objects",
        // Workato's HubSpot connector documentation); the request fails as a whole.
        const AssociationType* plain = s.hubspot_association_types.unlabeled(pair.from, pair.to);
        if (!plain)
            return validation_error("There is no default association type from " + hubspot_object_type_id(pair.from) +
                                    " to " + hubspot_object_type_id(pair.to));
        write_batch_head(w, started);
        write_key(w, "results");
        w.StartArray();
        for (const auto& [from_id, to_id] : batch) {
            auto from = record_of(s.state, pair.from, from_id);
            auto to = record_of(s.state, pair.to, to_id);
            if (!from || !to) {
                errors.push_back(from ? missing_record(pair.to, to_id, "toObjectId")
                                      : missing_record(pair.from, from_id, "fromObjectId"));
                continue;
            }
            associate(s, *from, *to, *plain);
            w.StartObject();  // PublicDefaultAssociation
            write_key(w, "from");
            w.StartObject();
            write_key(w, "id");
            write_string(w, from_id);
            w.EndObject();
            write_key(w, "to");
            w.StartObject();
            write_key(w, "id");
            write_string(w, to_id);
            w.EndObject();
            write_key(w, "associationSpec");
            w.StartObject();
            write_key(w, "associationCategory");
            write_string(w, plain->spec.category);
            write_key(w, "associationTypeId");
            w.Int64(plain->spec.type_id);
            w.EndObject();
            w.EndObject();
        }
        w.EndArray();
    }
    if (!errors.empty()) write_errors(w, errors);
    w.EndObject();
    // The spec lists only 200 for this endpoint, its body (BatchResponsePublicDefaultAssociation)
    // carrying numErrors and errors: failed inputs are reported there, still with 200.
    return {200, writer_text(buf), {}};
}

HttpReply hubspot_associations_archive(const ApiRequest& req, ApiContext& ctx) {
    ObjectPair pair;
    if (auto bad = resolve_pair(req, ctx, pair)) return *bad;
    JsonParseResult parsed;
    if (auto bad = parse_inputs(req, kHubSpotMaxAssociationWriteInputs, parsed)) return *bad;
    const rapidjson::Value& inputs = parsed.doc["inputs"];
    // PublicAssociationMultiArchive: {"from":{"id"},"to":[{"id"},...]}.
    std::vector<std::pair<std::string, std::vector<std::string>>> batch;
    for (rapidjson::SizeType i = 0; i < inputs.Size(); ++i) {
        std::string where = "inputs[" + std::to_string(i) + "]";
        const rapidjson::Value& in = inputs[i];
        auto from = object_id_of(in.IsObject() ? find_member(in, "from") : nullptr);
        const rapidjson::Value* to = in.IsObject() ? find_member(in, "to") : nullptr;
        if (!from) return validation_error(where + ".from.id is required and must be a non-empty string");
        if (!to || !to->IsArray()) return validation_error(where + ".to is required and must be an array of {\"id\"}");
        std::vector<std::string> to_ids;
        for (rapidjson::SizeType k = 0; k < to->Size(); ++k) {
            auto id = object_id_of(&(*to)[k]);
            if (!id) return validation_error(where + ".to[" + std::to_string(k) + "].id is required");
            to_ids.push_back(*id);
        }
        batch.emplace_back(*from, std::move(to_ids));
    }
    {
        // "Batch delete associations for objects": every type between each pair, both ways
        // (the single-pair DELETE "deletes all associations between two records"). 204 with no
        // body; pairs not associated, or ids that name no record, are left as they are (the
        // spec gives no error answer; archiving is idempotent as for objects).
        std::lock_guard lock(ctx.shared.mutex);
        SharedState& s = ctx.shared;
        for (const auto& [from_id, to_ids] : batch) {
            auto from = hubspot_index_of(from_id);
            if (!from) continue;
            for (const auto& to_id : to_ids)
                if (auto to = hubspot_index_of(to_id))
                    s.associations.remove_between({pair.from, *from}, {pair.to, *to});
        }
    }
    return {204, {}, {}};
}

HttpReply hubspot_associations_read(const ApiRequest& req, ApiContext& ctx) {
    const std::string started = iso_now();
    ObjectPair pair;
    if (auto bad = resolve_pair(req, ctx, pair)) return *bad;
    JsonParseResult parsed;
    if (auto bad = parse_inputs(req, kHubSpotMaxAssociationReadInputs, parsed)) return *bad;
    const rapidjson::Value& inputs = parsed.doc["inputs"];
    std::vector<std::string> ids;
    for (rapidjson::SizeType i = 0; i < inputs.Size(); ++i) {
        const rapidjson::Value* id = inputs[i].IsObject() ? find_member(inputs[i], "id") : nullptr;
        if (!id || !id->IsString() || string_of(*id).empty())
            return validation_error("inputs[" + std::to_string(i) + "].id is required and must be a non-empty string");
        ids.emplace_back(string_of(*id));
    }

    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    std::vector<InputError> errors;
    w.StartObject();
    write_batch_head(w, started);
    write_key(w, "results");
    w.StartArray();
    {
        std::lock_guard lock(ctx.shared.mutex);
        const SharedState& s = ctx.shared;
        for (const std::string& id : ids) {
            auto from = record_of(s.state, pair.from, id);
            auto targets = from ? s.associations.targets(*from, pair.to) : std::map<RecordAddress, AssociationStore::Types>{};
            if (targets.empty()) {
                // An id with no associations of that type (or no record) is an error entry, not
                // an empty result: what real responses carry (category OBJECT_NOT_FOUND,
                // subCategory crm.associations.NO_ASSOCIATIONS_FOUND); the reference only gives
                // the 207 "multiple statuses" answer for it.
                errors.push_back({"OBJECT_NOT_FOUND", "crm.associations.NO_ASSOCIATIONS_FOUND",
                                  "No " + hubspot_object_type_id(pair.to) + " is associated with " +
                                      hubspot_object_type_id(pair.from) + " " + id + ".",
                                  {{"fromObjectId", id}}});
                continue;
            }
            // PublicAssociationMultiWithLabel. All associations of the record come in one page:
            // the mock gives no paging cursor (a record has few associations in tests).
            w.StartObject();
            write_key(w, "from");
            w.StartObject();
            write_key(w, "id");
            write_string(w, id);
            w.EndObject();
            write_key(w, "to");
            w.StartArray();
            for (const auto& [to, types] : targets) {
                w.StartObject();
                write_key(w, "toObjectId");
                write_string(w, hubspot_object_id(to.index));
                write_key(w, "associationTypes");
                w.StartArray();
                for (const auto& spec : types)
                    if (const AssociationType* t = s.hubspot_association_types.find(pair.from, pair.to, spec))
                        write_label_spec(w, *t);
                w.EndArray();
                w.EndObject();
            }
            w.EndArray();
            w.EndObject();
        }
    }
    w.EndArray();
    if (!errors.empty()) write_errors(w, errors);
    w.EndObject();
    return {errors.empty() ? 200 : 207, writer_text(buf), {}};
}

HttpReply hubspot_association_labels_list(const ApiRequest& req, ApiContext& ctx) {
    ObjectPair pair;
    if (auto bad = resolve_pair(req, ctx, pair)) return *bad;
    // CollectionResponseAssociationSpecWithLabelNoPaging: {"results":[{category,typeId,label}]}.
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, "results");
    w.StartArray();
    {
        std::lock_guard lock(ctx.shared.mutex);
        for (const AssociationType* t : ctx.shared.hubspot_association_types.between(pair.from, pair.to))
            write_label_spec(w, *t);
    }
    w.EndArray();
    w.EndObject();
    return {200, writer_text(buf), {}};
}

HttpReply hubspot_association_labels_create(const ApiRequest& req, ApiContext& ctx) {
    ObjectPair pair;
    if (auto bad = resolve_pair(req, ctx, pair)) return *bad;
    JsonParseResult parsed = parse_json(req.body);
    if (!parsed.error.empty()) return validation_error("Invalid input JSON: " + parsed.error);
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    {
        std::lock_guard lock(ctx.shared.mutex);
        std::vector<const AssociationType*> created;
        auto [status, message] = ctx.shared.hubspot_association_types.create_label(pair.from, pair.to, parsed.doc, created);
        if (status != 200)
            return {status, hubspot_error_body(status == 409 ? "CONFLICT" : "VALIDATION_ERROR", message), {}};
        // The new USER_DEFINED type and its inverse, as the labels list shows them.
        w.StartObject();
        write_key(w, "results");
        w.StartArray();
        for (const AssociationType* t : created) write_label_spec(w, *t);
        w.EndArray();
        w.EndObject();
    }
    return {200, writer_text(buf), {}};
}

void write_record_associations(const SharedState& shared, std::string_view object, uint32_t index, JsonWriter& w) {
    const auto* all = shared.associations.all_of({std::string(object), index});
    if (!all || all->empty()) return;
    // Grouped by the associated object; within it by the associated record's key.
    std::map<std::string, std::map<std::string, std::pair<uint32_t, const AssociationStore::Types*>>> by_object;
    for (const auto& [to, types] : *all) {
        auto r = shared.state.find_by_index(to.object, to.index);
        if (r && !types.empty()) by_object[to.object][std::string(r->key)] = {to.index, &types};
    }
    if (by_object.empty()) return;
    write_key(w, "@associations");
    w.StartObject();
    for (const auto& [to_object, records] : by_object) {
        write_key(w, to_object);
        w.StartArray();
        for (const auto& [key, entry] : records) {
            w.StartObject();
            write_key(w, "key");
            write_string(w, key);
            write_key(w, "id");
            write_string(w, hubspot_object_id(entry.first));
            write_key(w, "types");
            w.StartArray();
            for (const auto& spec : *entry.second) {
                w.StartObject();
                write_key(w, "category");
                write_string(w, spec.category);
                write_key(w, "typeId");
                w.Int64(spec.type_id);
                w.EndObject();
            }
            w.EndArray();
            w.EndObject();
        }
        w.EndArray();
    }
    w.EndObject();
}

}  // namespace crmsync::mock_crm
