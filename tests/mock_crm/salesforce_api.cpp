#include "salesforce_api.h"

#include <deque>
#include <set>

namespace crmsync::mock_crm {
namespace {

HttpReply request_error(std::string_view code, std::string_view message) {
    return {400, salesforce_error_body(code, message), {}};
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

struct UpsertRecord {
    std::string key;
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
    return std::vector<std::string>{s[4], s[5], s[6]};
}

}  // namespace

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
    const std::string& sobject = req.path_params.at(0);
    const std::string& external_id_field = req.path_params.at(1);
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
        const rapidjson::Value* ext = find_member(rec, external_id_field);
        if (!ext || !ext->IsString() || ext->GetStringLength() == 0) {
            u.error = RecordError{"MISSING_ARGUMENT", external_id_field + " not specified", {external_id_field}};
            continue;
        }
        u.key = string_of(*ext);
        RecordError poison{"FIELD_CUSTOM_VALIDATION_EXCEPTION",
                           "value rejected by validation rule (contains \"" + req.reject_value + "\")",
                           {}};
        for (const auto& m : rec.GetObject()) {
            std::string_view name(m.name.GetString(), m.name.GetStringLength());
            if (name == "attributes") continue;
            if (is_poison_value(m.value, req.reject_value)) poison.fields.emplace_back(name);
            u.texts.push_back(to_json_text(m.value));
            u.props.push_back({name, u.texts.back()});
        }
        if (!poison.fields.empty()) {
            u.error = std::move(poison);
        } else if (!seen.insert(u.key).second) {
            u.error = RecordError{"DUPLICATE_EXTERNAL_ID",
                                  "Duplicate external id specified: " + u.key, {external_id_field}};
        }
    }

    size_t failed = 0;
    for (const auto& u : batch) failed += u.error ? 1 : 0;
    bool rolled_back = *all_or_none && failed > 0;
    size_t applied = 0;

    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartArray();
    {
        std::lock_guard lock(ctx.shared.mutex);
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

HttpReply salesforce_delete(const ApiRequest& req, ApiContext& ctx) {
    const std::string& sobject = req.path_params.at(0);
    const std::string& value = req.path_params.at(2);
    bool deleted;
    {
        std::lock_guard lock(ctx.shared.mutex);
        deleted = ctx.shared.state.erase(sobject, value);
    }
    if (!deleted) {
        return {404,
                "[{\"errorCode\":\"NOT_FOUND\",\"message\":\"The requested resource does not exist\"}]",
                {}};
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
        std::set<std::pair<std::string, std::string>> gone;
        bool any_failed = false;
        for (Sub& sub : batch) {
            if (sub.status != 0) {
                any_failed = true;
                continue;
            }
            const auto& t = *sub.target;
            if (!state.find(t[0], t[2]) || !gone.emplace(t[0], t[2]).second) {
                sub.status = 404;
                sub.error_body =
                    "[{\"errorCode\":\"NOT_FOUND\",\"message\":\"The requested resource does not exist\"}]";
                any_failed = true;
            } else {
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
            const auto& t = *sub.target;
            if (state.erase(t[0], t[2])) ++deleted;
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

}  // namespace crmsync::mock_crm
