#include "salesforce_api.h"

#include <cctype>
#include <deque>
#include <random>
#include <set>
#include <tuple>

namespace crmsync::mock_crm {
namespace {

HttpReply request_error(std::string_view code, std::string_view message) {
    return {400, salesforce_error_body(code, message), {}};
}

// An sObject the org does not have. The REST API's answer for a resource path naming one:
// 404 NOT_FOUND "The requested resource does not exist" ("Status Codes and Error Responses":
// 404 "The requested resource couldn't be found").
HttpReply unknown_sobject(std::string_view) {
    return {404, salesforce_error_body("NOT_FOUND", "The requested resource does not exist"), {}};
}

std::string key_prefix(std::string_view sobject) {
    if (sobject == "Account") return "001";
    if (sobject == "Contact") return "003";
    if (sobject == "User") return "005";
    if (sobject == "Opportunity") return "006";
    if (sobject == "Lead") return "00Q";
    if (sobject == "Case") return "500";
    return "a01";  // custom objects
}

struct RecordError {
    std::string status_code;
    std::string message;
    std::vector<std::string> fields;
};

// A relationship given by the related record's external id: "Account":{"External_Id__c":"42"}.
struct ReferenceInput {
    const SalesforceField* field;  // the lookup field it sets (AccountId)
    const rapidjson::Value* value;
};

struct UpsertRecord {
    std::string key;
    std::vector<ReferenceInput> references;
    std::deque<std::string> names;  // canonical field names (the API matches them case-insensitively)
    std::deque<std::string> texts;
    std::vector<PropertyValue> props;
    std::optional<RecordError> error;
};

void write_record_error(JsonWriter& w, const RecordError& e) {
    w.StartObject();
    write_key(w, "statusCode");
    write_string(w, e.status_code);
    write_key(w, "message");
    write_string(w, e.message);
    write_key(w, "fields");
    w.StartArray();
    for (const auto& f : e.fields) write_string(w, f);
    w.EndArray();
    w.EndObject();
}

std::optional<bool> all_or_none_of(const rapidjson::Value& body, std::string& error) {
    const rapidjson::Value* v = find_member(body, "allOrNone");
    if (!v || v->IsNull()) return false;
    if (!v->IsBool()) {
        error = std::string("allOrNone must be a boolean, got ") + json_type_name(*v);
        return std::nullopt;
    }
    return v->GetBool();
}

// "/services/data/v59.0/sobjects/Contact/Email/ann%40example.com" -> {Contact, Email, value}
std::optional<std::vector<std::string>> parse_sobject_url(std::string_view url) {
    auto segments = split_path(url);
    if (!segments || segments->size() != 7) return std::nullopt;
    const auto& s = *segments;
    if (s[0] != "services" || s[1] != "data" || s[2].size() < 2 || s[2][0] != 'v' ||
        s[3] != "sobjects")
        return std::nullopt;
    return std::vector<std::string>{s[4], s[5], s[6], s[2]};
}

// Both the lookup field (AccountId) and its relationship (Account) in one record. The text is
// the one Salesforce answers for it ("Cannot specify both an external ID reference Account and a
// salesforce id, AccountId", INVALID_FIELD); the documents do not list it.
std::optional<RecordError> lookup_given_twice(const UpsertRecord& u) {
    for (const auto& ref : u.references)
        for (const auto& name : u.names)
            if (name == ref.field->name)
                return RecordError{"INVALID_FIELD",
                                   "Cannot specify both an external ID reference " + ref.field->relationship_name +
                                       " and a salesforce id, " + ref.field->name,
                                   {}};
    return std::nullopt;
}

// A stored property's value as the match key external ids compare by ("" if not text or number).
std::string stored_match_key(std::string_view json) {
    JsonParseResult v = parse_json(json);
    if (!v.error.empty() || !(v.doc.IsString())) return {};
    return salesforce_match_key(string_of(v.doc));
}

struct LookupResult {
    std::string id;
    std::optional<RecordError> error;
};

LookupResult lookup_error(std::string code, std::string message) {
    return {{}, RecordError{std::move(code), std::move(message), {}}};
}

// The indexes of the live records of `related` whose field has this value. The record stored
// under the value as key is tried first (the usual case: the relationship names the field the
// related object is upserted by); otherwise every record is compared.
std::vector<uint32_t> records_with(const SharedState& shared, const SalesforceObject& related,
                                   const SalesforceField& f, const std::string& key) {
    std::vector<uint32_t> found;
    if (auto r = shared.state.find(related.name, key)) {
        auto v = shared.state.property(*r, f.name);
        if (v && stored_match_key(*v) == key) {
            found.push_back(r->index);
            // A second record with the value, as /_mock/salesforce/duplicates sets up.
            if (shared.salesforce_schema.is_duplicate(related.name, key)) found.push_back(r->index + 0x40000000u);
            return found;
        }
    }
    shared.state.for_each_record(related.name, [&](const CrmState::RecordRef& r) {
        auto v = shared.state.property(r, f.name);
        if (v && stored_match_key(*v) == key) found.push_back(r.index);
    });
    return found;
}

// Resolves "Account":{"External_Id__c":"42"} to the Account's id, as "Upsert Records Using an
// External ID" describes for relationship fields (REST API Developer Guide,
// https://developer.salesforce.com/docs/platform/api-rest/guide/dome-upsert.html: a record can
// reference another object "using an external ID" through the relationship) and sObject
// Collections upsert takes in each record
// (https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-upsert.html).
// The errors carry the codes and texts Salesforce answers for them (no document lists them
// for REST; these are the texts real responses and the Data Loader/Bulk logs carry):
//   not found:  INVALID_FIELD "Foreign key external ID: 42 not found for field External_Id__c in entity Account"
//   several:    DUPLICATE_EXTERNAL_ID "<field label>: more than one record found for external id field: [ids]"
//   two fields: INVALID_FIELD "More than 1 field provided in an external foreign key reference in entity: Account"
//   a field the related object lacks: INVALID_FIELD "No such column 'X' on sobject of type Account"
//   a field that is no external id: INVALID_FIELD "Field name provided, X does not match an External ID,
//               Salesforce Id, or indexed field for Account" (as for the upsert's own field).
// Caller holds the lock.
LookupResult resolve_lookup(const SharedState& shared, const SalesforceField& ref, const rapidjson::Value& value) {
    const std::string& entity = ref.reference_to;
    if (value.IsNull())
        // Documents silent on a null relationship; the documented way to clear a lookup is
        // null for the field itself ("AccountId": null, "Update a Record": null clears a
        // field), so the mock refuses this rather than guess.
        return lookup_error("INVALID_FIELD", "A null relationship " + ref.relationship_name +
                                                 " sets nothing: clear the lookup with \"" + ref.name + "\": null");
    std::vector<const rapidjson::Value::Member*> keys;
    for (const auto& m : value.GetObject())
        if (string_of(m.name) != "attributes") keys.push_back(&m);
    if (keys.size() > 1)
        return lookup_error("INVALID_FIELD", "More than 1 field provided in an external foreign key reference in entity: " + entity);
    if (keys.empty())
        return lookup_error("INVALID_FIELD", "No field provided in an external foreign key reference in entity: " + entity);
    const SalesforceObject* related = shared.salesforce_schema.find(entity);
    std::string field_name(string_of(keys[0]->name));
    const rapidjson::Value& v = keys[0]->value;
    std::string text = v.IsString() ? std::string(string_of(v)) : std::string();
    if (!related) return lookup_error("INVALID_FIELD", "Foreign key external ID: " + text + " not found for field " +
                                                           field_name + " in entity " + entity);
    const SalesforceField* f = related->field(field_name);
    if (!f) return lookup_error("INVALID_FIELD", "No such column '" + field_name + "' on sobject of type " + related->name);
    if (f->name == "Id") {
        auto index = salesforce_index_of(related->name, text);
        if (!index || !shared.state.find_by_index(related->name, *index))
            return lookup_error("INVALID_FIELD", "Foreign key external ID: " + text + " not found for field Id in entity " +
                                                     related->name);
        return {salesforce_record_id(related->name, *index), std::nullopt};
    }
    if (!f->external_id && !f->id_lookup)
        return lookup_error("INVALID_FIELD", "Field name provided, " + f->name +
                                                 " does not match an External ID, Salesforce Id, or indexed field for " +
                                                 related->name);
    std::vector<uint32_t> found = text.empty() ? std::vector<uint32_t>{}
                                               : records_with(shared, *related, *f, salesforce_match_key(text));
    if (found.empty())
        return lookup_error("INVALID_FIELD", "Foreign key external ID: " + text + " not found for field " + f->name +
                                                 " in entity " + related->name);
    if (found.size() > 1) {
        std::string ids;
        for (uint32_t i : found) ids += (ids.empty() ? "" : ", ") + salesforce_record_id(related->name, i);
        return lookup_error("DUPLICATE_EXTERNAL_ID",
                            f->label + ": more than one record found for external id field: [" + ids + "]");
    }
    return {salesforce_record_id(related->name, found[0]), std::nullopt};
}

// Sets each relationship's lookup field to the related record's id; on the first that does
// not resolve the record fails with its error. Caller holds the lock.
bool resolve_references(const SharedState& shared, UpsertRecord& u) {
    for (const auto& ref : u.references) {
        LookupResult r = resolve_lookup(shared, *ref.field, *ref.value);
        if (r.error) {
            u.error = std::move(r.error);
            return false;
        }
        u.names.push_back(ref.field->name);
        u.texts.push_back(quote_json_string(r.id));
        u.props.push_back({u.names.back(), u.texts.back()});
    }
    return true;
}

}  // namespace

std::optional<uint32_t> salesforce_index_of(std::string_view sobject, std::string_view id) {
    static constexpr std::string_view kBase62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    if (id.size() != 15 && id.size() != 18) return std::nullopt;
    uint64_t n = 0;
    for (char c : id.substr(6, 9)) {
        size_t digit = kBase62.find(c);
        if (digit == std::string_view::npos) return std::nullopt;
        n = n * 62 + digit;
    }
    if (n == 0 || n - 1 > UINT32_MAX) return std::nullopt;
    auto index = static_cast<uint32_t>(n - 1);
    // The prefix, the fixed middle and (for 18 characters) the case checksum must all match.
    if (salesforce_record_id(sobject, index).substr(0, id.size()) != id) return std::nullopt;
    return index;
}

void write_record_lookups(const SharedState& shared, std::string_view sobject, const CrmState::RecordRef& r,
                          JsonWriter& w) {
    const SalesforceObject* o = shared.salesforce_schema.find(sobject);
    if (!o || o->name != sobject) return;  // HubSpot and webhook objects have other names
    for (const auto& f : o->fields) {
        if (f.relationship_name.empty()) continue;
        auto value = shared.state.property(r, f.name);
        if (!value) continue;
        JsonParseResult id = parse_json(*value);
        if (!id.error.empty() || !id.doc.IsString()) continue;  // null: the lookup is clear
        std::string id_text(string_of(id.doc));
        auto index = salesforce_index_of(f.reference_to, id_text);
        auto related = index ? shared.state.find_by_index(f.reference_to, *index) : std::nullopt;
        write_key(w, f.relationship_name);
        w.StartObject();
        write_key(w, "Id");
        write_string(w, id_text);
        write_key(w, "key");
        if (related) {
            write_string(w, related->key);
        } else {
            w.Null();
        }
        w.EndObject();
    }
}

std::string salesforce_record_id(std::string_view sobject, uint32_t index) {
    static constexpr char kBase62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string id = key_prefix(sobject) + "5g0";  // key prefix, pod, reserved
    std::string number(9, '0');
    uint64_t n = uint64_t{index} + 1;
    for (int i = 8; i >= 0 && n; --i, n /= 62) number[i] = kBase62[n % 62];
    id += number;
    // The 18-character form appends, per 5-character chunk, which characters are upper case.
    static constexpr char kSuffix[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    for (int chunk = 0; chunk < 3; ++chunk) {
        int flags = 0;
        for (int j = 0; j < 5; ++j) {
            char c = id[chunk * 5 + j];
            if (c >= 'A' && c <= 'Z') flags |= 1 << j;
        }
        id += kSuffix[flags];
    }
    return id;
}

HttpReply salesforce_upsert(const ApiRequest& req, ApiContext& ctx) {
    std::string sobject;
    std::string external_id_field;
    SalesforceObject schema;  // a copy: the lock is not held while the body is checked
    {
        std::lock_guard lock(ctx.shared.mutex);
        const SalesforceObject* o = ctx.shared.salesforce_schema.find(req.path_params.at(0));
        if (!o) return unknown_sobject(req.path_params.at(0));
        schema = *o;
    }
    sobject = schema.name;
    // "Upsert Records Using sObject Collections"
    // (https://developer.salesforce.com/docs/platform/api-rest/guide/resources-composite-sobjects-collections-upsert.html):
    // "Only external ids are supported. Don't use record ids." The body for Id, and for a field
    // that is neither an External ID nor idLookup, is not documented; the mock answers 400 with
    // INVALID_FIELD and the text Salesforce gives for the same mistake in Bulk API upserts
    // ("Field name provided, X does not match an External ID, Salesforce Id, or indexed field for Y").
    const SalesforceField* ext = schema.field(req.path_params.at(1));
    if (ext && ext->name == "Id")
        return request_error("INVALID_FIELD", "Id is not allowed as the external ID field of an sObject Collections "
                                              "upsert: only external ids are supported, not record ids");
    if (!ext || !(ext->external_id || ext->id_lookup))
        return request_error("INVALID_FIELD", "Field name provided, " + req.path_params.at(1) +
                                                  " does not match an External ID, Salesforce Id, or indexed field for " +
                                                  sobject);
    external_id_field = ext->name;
    JsonParseResult parsed = parse_json(req.body);
    if (!parsed.error.empty()) return request_error("JSON_PARSER_ERROR", parsed.error);
    if (!parsed.doc.IsObject())
        return request_error("JSON_PARSER_ERROR",
                             std::string("expected an object, got ") + json_type_name(parsed.doc));
    std::string error;
    auto all_or_none = all_or_none_of(parsed.doc, error);
    if (!all_or_none) return request_error("JSON_PARSER_ERROR", error);
    const rapidjson::Value* records = find_member(parsed.doc, "records");
    if (!records || !records->IsArray())
        return request_error("JSON_PARSER_ERROR", "records is required and must be an array");
    if (records->Size() > kSalesforceMaxRecords)
        return request_error("EXCEEDED_ID_LIMIT",
                             "record limit reached. cannot submit more than " +
                                 std::to_string(kSalesforceMaxRecords) + " records into this call (got " +
                                 std::to_string(records->Size()) + ")");

    std::vector<UpsertRecord> batch(records->Size());
    std::set<std::string> seen;
    for (rapidjson::SizeType i = 0; i < records->Size(); ++i) {
        const rapidjson::Value& rec = (*records)[i];
        if (!rec.IsObject())
            return request_error("JSON_PARSER_ERROR", "records[" + std::to_string(i) +
                                                          "] must be an object, got " + json_type_name(rec));
        UpsertRecord& u = batch[i];
        if (const rapidjson::Value* attrs = find_member(rec, "attributes"); attrs && !attrs->IsNull()) {
            const rapidjson::Value* type = find_member(*attrs, "type");
            if (!type || !is_string(*type))
                return request_error("JSON_PARSER_ERROR",
                                     "records[" + std::to_string(i) + "].attributes.type must be a string");
            if (string_of(*type) != sobject) {
                u.error = RecordError{"INVALID_TYPE",
                                      "record type " + std::string(string_of(*type)) +
                                          " does not match the sObject " + sobject + " of the request",
                                      {}};
                continue;
            }
        }
        const rapidjson::Value* ext_value = nullptr;
        for (const auto& m : rec.GetObject())
            if (schema.field(string_of(m.name)) == ext) ext_value = &m.value;
        if (!ext_value || !(ext_value->IsString() || is_number(*ext_value)) || string_of(*ext_value).empty()) {
            u.error = RecordError{"MISSING_ARGUMENT", external_id_field + " not specified", {external_id_field}};
            continue;
        }
        u.key = salesforce_match_key(string_of(*ext_value));
        RecordError poison{"FIELD_CUSTOM_VALIDATION_EXCEPTION",
                           "value rejected by validation rule (contains \"" + req.reject_value + "\")",
                           {}};
        std::vector<std::string> unknown, read_only;
        for (const auto& m : rec.GetObject()) {
            std::string_view name(m.name.GetString(), m.name.GetStringLength());
            if (name == "attributes") continue;
            const SalesforceField* f = schema.field(name);
            if (!f) {
                if (const SalesforceField* ref = schema.relationship(name)) {
                    // A relationship takes an object naming the related record by one of its
                    // external id fields; another JSON type fails the request in the
                    // deserializer, as a wrong value type for a field does.
                    if (!m.value.IsObject() && !m.value.IsNull())
                        return request_error("JSON_PARSER_ERROR",
                                             std::string("Cannot deserialize instance of ") + ref->reference_to +
                                                 " from " + json_type_name(m.value) + " value for " + std::string(name));
                    u.references.push_back({ref, &m.value});
                    continue;
                }
                unknown.emplace_back(name);
                continue;
            }
            if (!f->createable && !f->updateable) {
                read_only.push_back(f->name);
                continue;
            }
            // A value of the wrong type fails the whole request: the REST API deserializes the
            // body before it looks at any record ("Status Codes and Error Responses": 400 "The
            // request couldn't be understood, usually because the JSON or XML body contains an
            // error", https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/errorcodes.htm).
            // The message is the deserializer's as real responses carry it (JSON_PARSER_ERROR
            // "Cannot deserialize instance of date from VALUE_STRING value ...").
            if (auto complaint = SalesforceSchema::check_value(*f, m.value))
                return request_error("JSON_PARSER_ERROR", *complaint);
            if (is_poison_value(m.value, req.reject_value)) poison.fields.push_back(f->name);
            u.texts.push_back(to_json_text(m.value));  // as sent; only the match key is case-folded
            u.names.push_back(f->name);
            u.props.push_back({u.names.back(), u.texts.back()});
        }
        if (!unknown.empty()) {
            // An unknown field fails the record: INVALID_FIELD "No such column 'X' on sobject
            // of type Y", the text Salesforce's API answers for a field the object lacks
            // (documents silent on the exact text for Collections).
            u.error = RecordError{"INVALID_FIELD",
                                  "No such column '" + unknown.front() + "' on sobject of type " + sobject, {}};
        } else if (!read_only.empty()) {
            // A field the profile cannot write (Id, CreatedDate...): INVALID_FIELD_FOR_INSERT_UPDATE
            // ("Core Data Types: StatusCode": "You can't combine a... / field not createable").
            std::string list;
            for (const auto& f : read_only) list += (list.empty() ? "" : ", ") + f;
            u.error = RecordError{"INVALID_FIELD_FOR_INSERT_UPDATE",
                                  "Unable to create/update fields: " + list +
                                      ". Please check the security settings of this field and verify that it is "
                                      "read/write for your profile or permission set.",
                                  read_only};
        } else if (auto both = lookup_given_twice(u)) {
            u.error = std::move(both);
        } else if (!poison.fields.empty()) {
            u.error = std::move(poison);
        } else if (!seen.insert(u.key).second) {
            u.error = RecordError{"DUPLICATE_EXTERNAL_ID",
                                  "Duplicate external id specified: " + u.key, {external_id_field}};
        }
    }

    size_t failed = 0;
    for (const auto& u : batch) failed += u.error ? 1 : 0;
    bool rolled_back = false;
    size_t applied = 0;

    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartArray();
    {
        std::lock_guard lock(ctx.shared.mutex);
        for (auto& u : batch) {
            // An external id that matches more than one record: the single-record upsert answers
            // 300 ("If the external ID matches multiple existing records, then a 300 error is
            // returned, and no records are created or updated", "Upsert Records Using sObject
            // Rows by External ID"); in a collection the record fails with the StatusCode the SOAP
            // reference gives for it: DUPLICATE_EXTERNAL_ID "A user-specified external ID matches
            // more than one record during an upsert" (Core Data Types, StatusCode).
            if (!u.error && ctx.shared.salesforce_schema.is_duplicate(sobject, u.key)) {
                u.error = RecordError{"DUPLICATE_EXTERNAL_ID",
                                      "The external ID provided matches more than one record: " + u.key,
                                      {external_id_field}};
                ++failed;
            }
            // Relationships resolve against the records the org held before this request: the
            // collection is one DML operation, its foreign keys looked up before it applies.
            if (!u.error && !u.references.empty() && !resolve_references(ctx.shared, u)) ++failed;
        }
        // Transient lock contention (fault rate_lock_row): the record fails with
        // UNABLE_TO_LOCK_ROW while the others go through. StatusCode reference ("Core Data
        // Types Used in API Calls", StatusCode, https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_concepts_core_data_objects.htm):
        // "UNABLE_TO_LOCK_ROW: A deadlock or timeout condition has been detected"; the message is
        // the one Salesforce puts with it ("unable to obtain exclusive access to this record").
        if (req.lock_row_rate > 0) {
            std::mt19937_64 rng(req.lock_row_seed);
            for (auto& u : batch) {
                double draw = double(rng() >> 11) * 0x1.0p-53;
                if (u.error || draw >= req.lock_row_rate) continue;
                u.error = RecordError{"UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record", {}};
                ++failed;
            }
        }
        rolled_back = *all_or_none && failed > 0;
        for (const auto& u : batch) {
            w.StartObject();
            if (u.error || rolled_back) {
                write_key(w, "success");
                w.Bool(false);
                write_key(w, "errors");
                w.StartArray();
                write_record_error(w, u.error ? *u.error
                                              : RecordError{"ALL_OR_NONE_OPERATION_ROLLED_BACK",
                                                            "Record rolled back because not all records "
                                                            "were valid and the request was using "
                                                            "AllOrNone header",
                                                            {}});
                w.EndArray();
            } else {
                auto outcome = ctx.shared.state.upsert(sobject, u.key, u.props);
                ++applied;
                write_key(w, "id");
                write_string(w, salesforce_record_id(sobject, outcome.index));
                write_key(w, "success");
                w.Bool(true);
                write_key(w, "errors");
                w.StartArray();
                w.EndArray();
                write_key(w, "created");
                w.Bool(outcome.created);
            }
            w.EndObject();
        }
    }
    w.EndArray();
    ctx.stats.add_records({.upserted = applied, .rejected = failed});
    if (req.commit_time_us && applied)
        ctx.stats.add_latency(req.received_us - *req.commit_time_us, applied);
    return {200, writer_text(buf), {}};
}

namespace {

// Where a delete by external id lands: the record's key, or the error reply. The three 404s
// differ as Salesforce's do: an sObject the org lacks, a field that is not an external id or
// idLookup field ("Provided external ID field does not exist or is not accessible: FIELD", the
// REST API's text for it), and no record with that value (NOT_FOUND "The requested resource
// does not exist"). Several records with the value: 300 with the list of matching records
// ("Status Codes and Error Responses": "300 The value returned when an external ID exists in
// more than one record. The response body contains the list of matching records.").
// Documents: "Delete Records Using sObject Rows by External ID"
// (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_upsert_delete.htm)
// and the status-code page (errorcodes.htm). Caller holds the lock.
struct DeleteTarget {
    std::string sobject;
    std::string key;
    std::optional<HttpReply> error;
};

DeleteTarget delete_target(const SharedState& shared, const std::string& api_version, const std::string& sobject,
                           const std::string& field, const std::string& value) {
    DeleteTarget t;
    const SalesforceObject* o = shared.salesforce_schema.find(sobject);
    if (!o) {
        t.error = unknown_sobject(sobject);
        return t;
    }
    t.sobject = o->name;
    const SalesforceField* f = o->field(field);
    if (!f || !(f->external_id || f->id_lookup) || f->name == "Id") {
        t.error = HttpReply{404,
                            salesforce_error_body("NOT_FOUND",
                                                  "Provided external ID field does not exist or is not accessible: " + field),
                            {}};
        return t;
    }
    t.key = salesforce_match_key(value);
    auto r = shared.state.find(t.sobject, t.key);
    if (r && shared.salesforce_schema.is_duplicate(t.sobject, t.key)) {
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
        w.StartArray();
        std::string base = "/services/data/" + api_version + "/sobjects/" + t.sobject + "/";
        write_string(w, base + salesforce_record_id(t.sobject, r->index));
        // The second record stands for one made outside the API (the control endpoint).
        write_string(w, base + salesforce_record_id(t.sobject, r->index + 0x40000000u));
        w.EndArray();
        t.error = HttpReply{300, writer_text(buf), {}};
        return t;
    }
    if (!r) t.error = HttpReply{404, salesforce_error_body("NOT_FOUND", "The requested resource does not exist"), {}};
    return t;
}

// --- what a delete does to the records that look the deleted one up ----------------------
//
// A record whose lookup field holds the deleted record's id is, per the field's delete
// constraint (salesforce_schema.h):
//   SetNull  (the default for custom lookups, "Clear the value of this field"): the field is
//            set to null, so the record shows no link any more;
//   Cascade  (Contact.AccountId; a custom lookup declared "Delete this record also"): deleted
//            too, and so on down its own children;
//   Restrict ("Don't allow deletion of the lookup record that's part of a lookup
//            relationship"): the whole delete fails and nothing changes.
// Documents: SOAP API delete() ("supports cascading deletions ... as long as each child object
// can be deleted", https://developer.salesforce.com/docs/atlas.en-us.api.meta/api/sforce_api_calls_delete.htm),
// Apex ChildRelationship (isCascadeDelete "the child object is deleted when the parent object is
// deleted", isRestrictedDelete "the parent object can't be deleted because it is referenced by a
// child object", https://developer.salesforce.com/docs/atlas.en-us.apexref.meta/apexref/apex_class_Schema_ChildRelationship.htm),
// and Knowledge Article 000382017 (https://help.salesforce.com/s/articleView?id=000382017&type=1):
// in a chain A <- B <- C where A cascades to B and B restricts C, "If you try to delete A,
// you'll get an error saying that B can't be deleted because it's linked to C."
//
// The error is DELETE_FAILED ("Core Data Types", StatusCode: DELETE_FAILED "You can't delete a
// record because it's in use by another object") with the text Salesforce answers, e.g.
// [{"errorCode":"DELETE_FAILED","message":"Your attempt to delete Mr. Josh Davis could not be
// completed because it is associated with the following cases.: 00001005\n","fields":[]}] (a REST
// response quoted in a Salesforce client's source; no document lists the text). The mock names
// the records by their Name (a Contact or Lead by first and last name; a record without one by
// its 15-character id, as Salesforce names an unnamed custom record) and the related object by
// its plural label in lower case; it leaves out the trailing newline. The single-record DELETE
// answers 400 with it ("Status Codes and Error Responses": 400 for a request that "couldn't be
// understood" or failed; documents silent on the status for DELETE_FAILED, 400 is what it gets).

struct RecordAt {
    std::string sobject;
    uint32_t index;
    std::string key;
};

// What a composite request's earlier subrequests will have done, so later ones are planned
// against it: records deleted and lookups cleared.
struct DeleteOverlay {
    std::set<std::pair<std::string, uint32_t>> erased;
    std::set<std::tuple<std::string, uint32_t, std::string>> cleared;
};

struct DeletePlan {
    std::vector<RecordAt> erase;                          // the record, then its cascade
    std::vector<std::pair<RecordAt, std::string>> clear;  // lookups set to null
    std::optional<HttpReply> error;
};

struct ChildLink {
    const SalesforceObject* object;
    const SalesforceField* field;
    RecordAt record;
};

// The live records whose lookup holds the id of `parent`. Caller holds the lock.
std::vector<ChildLink> children_of(const SharedState& shared, const RecordAt& parent, const DeleteOverlay& overlay) {
    std::vector<ChildLink> out;
    for (const auto& [lname, o] : shared.salesforce_schema.objects()) {
        for (const auto& f : o.fields) {
            if (f.reference_to != parent.sobject) continue;
            shared.state.for_each_record(o.name, [&](const CrmState::RecordRef& r) {
                auto v = shared.state.property(r, f.name);
                // A quoted 15- or 18-character id; anything else (null, cleared) links nothing.
                if (!v || (v->size() != 17 && v->size() != 20) || v->front() != '"') return;
                auto index = salesforce_index_of(parent.sobject, v->substr(1, v->size() - 2));
                if (!index || *index != parent.index) return;
                if (overlay.erased.count({o.name, r.index}) || overlay.cleared.count({o.name, r.index, f.name})) return;
                out.push_back({&o, &f, {o.name, r.index, std::string(r.key)}});
            });
        }
    }
    return out;
}

std::string string_property(const SharedState& shared, const CrmState::RecordRef& r, std::string_view name) {
    auto v = shared.state.property(r, name);
    if (!v) return {};
    JsonParseResult p = parse_json(*v);
    return p.error.empty() && p.doc.IsString() ? std::string(string_of(p.doc)) : std::string();
}

// How Salesforce names a record in a message: Name, a person's first and last name, else its id.
std::string record_name(const SharedState& shared, const RecordAt& at) {
    if (auto r = shared.state.find_by_index(at.sobject, at.index)) {
        if (std::string name = string_property(shared, *r, "Name"); !name.empty()) return name;
        std::string first = string_property(shared, *r, "FirstName"), last = string_property(shared, *r, "LastName");
        if (!last.empty()) return first.empty() ? last : first + " " + last;
    }
    return salesforce_record_id(at.sobject, at.index).substr(0, 15);
}

std::string plural_label(const SalesforceObject& o) {
    std::string label = o.label;
    for (char& c : label) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return label + "s";
}

// Everything deleting `target` does, or the DELETE_FAILED reply. Changes nothing. Caller holds the lock.
DeletePlan delete_plan(const SharedState& shared, const RecordAt& target, const DeleteOverlay& overlay) {
    DeletePlan plan;
    std::set<std::pair<std::string, uint32_t>> doomed{{target.sobject, target.index}};
    std::vector<std::pair<RecordAt, ChildLink>> restricted;
    plan.erase.push_back(target);
    for (size_t i = 0; i < plan.erase.size(); ++i) {
        RecordAt parent = plan.erase[i];  // a copy: erase grows below
        for (ChildLink& child : children_of(shared, parent, overlay)) {
            switch (child.field->delete_constraint) {
                case DeleteConstraint::Cascade:
                    if (doomed.emplace(child.record.sobject, child.record.index).second) plan.erase.push_back(child.record);
                    break;
                case DeleteConstraint::Restrict:
                    restricted.emplace_back(parent, std::move(child));
                    break;
                case DeleteConstraint::SetNull:
                    plan.clear.emplace_back(child.record, child.field->name);
                    break;
            }
        }
    }
    // A restricting record that the cascade deletes anyway does not hold the delete up.
    for (const auto& [parent, child] : restricted) {
        if (doomed.count({child.record.sobject, child.record.index})) continue;
        std::string names;
        for (const auto& [p, c] : restricted)
            if (p.sobject == parent.sobject && p.index == parent.index && c.object == child.object &&
                !doomed.count({c.record.sobject, c.record.index}))
                names += (names.empty() ? "" : ", ") + record_name(shared, c.record);
        plan.error = HttpReply{400,
                               salesforce_error_body("DELETE_FAILED", "Your attempt to delete " + record_name(shared, parent) +
                                                                          " could not be completed because it is associated with the following " +
                                                                          plural_label(*child.object) + ".: " + names),
                               {}};
        return plan;
    }
    std::erase_if(plan.clear, [&](const auto& c) { return doomed.count({c.first.sobject, c.first.index}) > 0; });
    return plan;
}

void add_to_overlay(DeleteOverlay& overlay, const DeletePlan& plan) {
    for (const auto& r : plan.erase) overlay.erased.emplace(r.sobject, r.index);
    for (const auto& [r, field] : plan.clear) overlay.cleared.emplace(r.sobject, r.index, field);
}

// Applies a plan made against the current state (plus the overlay of the plans applied before
// it). Caller holds the lock.
void apply_delete_plan(CrmState& state, const DeletePlan& plan) {
    for (const auto& [r, field] : plan.clear) {
        // "Clear the value of this field": null, as "AccountId": null in an upsert leaves it.
        state.upsert(r.sobject, r.key, {{field, "null"}});
    }
    for (const auto& r : plan.erase) state.erase(r.sobject, r.key);
}

}  // namespace

HttpReply salesforce_delete(const ApiRequest& req, ApiContext& ctx) {
    {
        std::lock_guard lock(ctx.shared.mutex);
        DeleteTarget t = delete_target(ctx.shared, req.path_params.at(3), req.path_params.at(0),
                                       req.path_params.at(1), req.path_params.at(2));
        if (t.error) return *t.error;
        auto r = ctx.shared.state.find(t.sobject, t.key);
        DeletePlan plan = delete_plan(ctx.shared, {t.sobject, r->index, t.key}, {});
        if (plan.error) return *plan.error;
        apply_delete_plan(ctx.shared.state, plan);
    }
    ctx.stats.add_records({.deleted = 1});
    if (req.commit_time_us) ctx.stats.add_latency(req.received_us - *req.commit_time_us);
    return {204, {}, {}};
}

HttpReply salesforce_composite(const ApiRequest& req, ApiContext& ctx) {
    JsonParseResult parsed = parse_json(req.body);
    if (!parsed.error.empty()) return request_error("JSON_PARSER_ERROR", parsed.error);
    if (!parsed.doc.IsObject())
        return request_error("JSON_PARSER_ERROR",
                             std::string("expected an object, got ") + json_type_name(parsed.doc));
    std::string error;
    auto all_or_none = all_or_none_of(parsed.doc, error);
    if (!all_or_none) return request_error("JSON_PARSER_ERROR", error);
    const rapidjson::Value* subs = find_member(parsed.doc, "compositeRequest");
    if (!subs || !subs->IsArray())
        return request_error("JSON_PARSER_ERROR", "compositeRequest is required and must be an array");
    if (subs->Size() > kSalesforceMaxSubrequests)
        return request_error("LIMIT_EXCEEDED", "the composite request has " + std::to_string(subs->Size()) +
                                                   " subrequests; the limit is " +
                                                   std::to_string(kSalesforceMaxSubrequests));

    struct Sub {
        std::string reference_id;
        std::string method;
        std::optional<std::vector<std::string>> target;  // {SObject, field, value}
        int status = 0;
        std::string error_body;  // JSON array when status is an error
        DeletePlan plan;         // status 204: what the subrequest deletes and clears
    };
    std::vector<Sub> batch(subs->Size());
    std::set<std::string> reference_ids;
    for (rapidjson::SizeType i = 0; i < subs->Size(); ++i) {
        const rapidjson::Value& s = (*subs)[i];
        std::string where = "compositeRequest[" + std::to_string(i) + "]";
        const rapidjson::Value* method = find_member(s, "method");
        const rapidjson::Value* url = find_member(s, "url");
        const rapidjson::Value* ref = find_member(s, "referenceId");
        if (!method || !is_string(*method)) return request_error("INVALID_INPUT", where + ".method is required");
        if (!url || !is_string(*url)) return request_error("INVALID_INPUT", where + ".url is required");
        if (!ref || !is_string(*ref) || ref->GetStringLength() == 0)
            return request_error("INVALID_INPUT", where + ".referenceId is required");
        Sub& sub = batch[i];
        sub.reference_id = string_of(*ref);
        if (!reference_ids.insert(sub.reference_id).second)
            return request_error("INVALID_INPUT", "Duplicate referenceId " + sub.reference_id);
        sub.method = string_of(*method);
        sub.target = parse_sobject_url(string_of(*url));
        if (sub.method != "DELETE") {
            sub.status = 405;
            sub.error_body = "[{\"errorCode\":\"METHOD_NOT_ALLOWED\",\"message\":\"this mock CRM "
                             "supports only DELETE subrequests\"}]";
        } else if (!sub.target) {
            sub.status = 404;
            sub.error_body =
                "[{\"errorCode\":\"NOT_FOUND\",\"message\":\"The requested resource does not exist\"}]";
        }
    }

    uint64_t deleted = 0;
    {
        std::lock_guard lock(ctx.shared.mutex);
        CrmState& state = ctx.shared.state;
        // First pass decides every outcome without changing state, so allOrNone can roll back.
        // Subrequests run in order, so each is planned against what the ones before it that
        // succeed will have deleted or cleared (the overlay): a record an earlier subrequest
        // deleted, itself or by cascade, is not found; a restricting record deleted earlier no
        // longer holds a delete up.
        DeleteOverlay overlay;
        bool any_failed = false;
        for (Sub& sub : batch) {
            if (sub.status != 0) {
                any_failed = true;
                continue;
            }
            auto& t = *sub.target;
            DeleteTarget target = delete_target(ctx.shared, t[3], t[0], t[1], t[2]);
            if (!target.error) {
                auto r = state.find(target.sobject, target.key);
                if (overlay.erased.count({target.sobject, r->index})) {
                    target.error = HttpReply{404, salesforce_error_body("NOT_FOUND", "The requested resource does not exist"), {}};
                } else {
                    sub.plan = delete_plan(ctx.shared, {target.sobject, r->index, target.key}, overlay);
                    if (sub.plan.error) {
                        target.error = std::move(sub.plan.error);
                    } else {
                        add_to_overlay(overlay, sub.plan);
                    }
                }
            }
            if (target.error) {
                sub.status = target.error->status;
                sub.error_body = target.error->body;
                any_failed = true;
            } else {
                t[0] = target.sobject;
                t[2] = target.key;
                sub.status = 204;
            }
        }
        for (Sub& sub : batch) {
            if (sub.status != 204) continue;
            if (*all_or_none && any_failed) {
                sub.status = 400;
                sub.error_body = "[{\"errorCode\":\"PROCESSING_HALTED\",\"message\":\"The transaction was "
                                 "rolled back since another operation in the same transaction failed.\"}]";
                continue;
            }
            apply_delete_plan(state, sub.plan);
            ++deleted;
        }
    }

    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, "compositeResponse");
    w.StartArray();
    for (const Sub& sub : batch) {
        w.StartObject();
        write_key(w, "body");
        if (sub.status == 204) {
            w.Null();
        } else {
            write_raw(w, sub.error_body);
        }
        write_key(w, "httpHeaders");
        w.StartObject();
        w.EndObject();
        write_key(w, "httpStatusCode");
        w.Int(sub.status);
        write_key(w, "referenceId");
        write_string(w, sub.reference_id);
        w.EndObject();
    }
    w.EndArray();
    w.EndObject();
    ctx.stats.add_records({.deleted = deleted});
    if (req.commit_time_us && deleted) ctx.stats.add_latency(req.received_us - *req.commit_time_us, deleted);
    return {200, writer_text(buf), {}};
}

HttpReply salesforce_describe(const ApiRequest& req, ApiContext& ctx) {
    // "sObject Describe" (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_sobject_describe.htm).
    std::lock_guard lock(ctx.shared.mutex);
    const SalesforceObject* o = ctx.shared.salesforce_schema.find(req.path_params.at(0));
    if (!o) return unknown_sobject(req.path_params.at(0));
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    SalesforceSchema::write_describe(w, *o);
    return {200, writer_text(buf), {}};
}

}  // namespace crmsync::mock_crm
