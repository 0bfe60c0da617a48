#include "webhook_api.h"

#include "commit_time.h"

namespace crmsync::mock_crm {
namespace {

enum class Action { kUpsert, kDelete, kTruncate, kMessage };

struct Event {
    Action action = Action::kMessage;
    std::string_view object;
    std::string_view key;
    EventPosition position;
    std::optional<int64_t> commit_time_us;
    std::vector<PropertyValue> props;  // json: views into the request's PropertyTexts
};

// Every property value of a request as JSON text, in one buffer: one allocation per request
// instead of one per property. The buffer moves as it grows, so views are taken at the end,
// by the order in which the values were added.
class PropertyTexts {
public:
    void add(const rapidjson::Value& v) {
        size_t start = buf_.GetSize();
        JsonWriter w(buf_);
        write_value(w, v);
        spans_.push_back({start, buf_.GetSize() - start});
    }
    std::string_view text(size_t nth) const { return {buf_.GetString() + spans_[nth].first, spans_[nth].second}; }

private:
    rapidjson::StringBuffer buf_;
    std::vector<std::pair<size_t, size_t>> spans_;
};

struct Rejection {
    size_t index;
    std::string event_id;  // empty when the event has no usable id
    std::string message;
};

std::optional<std::string_view> string_member(const rapidjson::Value& v, std::string_view name) {
    const rapidjson::Value* m = find_member(v, name);
    if (!m || !is_string(*m)) return std::nullopt;
    return string_of(*m);
}

// Fills `e` from one message; returns why it is unacceptable, or "" if it is fine.
std::string read_event(const rapidjson::Value& v, const std::string& reject_value, PropertyTexts& texts,
                       Event& e, std::string& event_id) {
    if (!v.IsObject()) return std::string("event must be an object, got ") + json_type_name(v);
    auto lsn_text = string_member(v, "commit_lsn");
    const rapidjson::Value* seq_value = find_member(v, "seq");
    auto seq = seq_value ? as_uint64(*seq_value) : std::nullopt;
    if (lsn_text && seq) event_id = event_id_text(*lsn_text, *seq);
    auto lsn = lsn_text ? parse_lsn(*lsn_text) : std::nullopt;
    if (!lsn) return "commit_lsn is required and must be an LSN like \"0/16B37A0\"";
    if (!seq || *seq == 0 || *seq > UINT32_MAX)
        return "seq is required and must be an integer from 1 to 4294967295";
    e.position = {*lsn, *seq};

    auto action = string_member(v, "action");
    if (!action) return "action is required and must be a string";
    if (*action == "upsert") {
        e.action = Action::kUpsert;
    } else if (*action == "delete") {
        e.action = Action::kDelete;
    } else if (*action == "truncate") {
        e.action = Action::kTruncate;
    } else if (*action == "message") {
        e.action = Action::kMessage;
    } else if (*action == "commit") {
        return "commit markers are not events: the sender must leave them out";
    } else {
        return "action must be one of upsert, delete, truncate, message; got \"" + std::string(*action) + "\"";
    }

    if (const rapidjson::Value* t = find_member(v, "commit_time"); t && !t->IsNull()) {
        e.commit_time_us = is_string(*t) ? parse_commit_time_us(string_of(*t)) : std::nullopt;
        if (!e.commit_time_us) return "commit_time must be ISO 8601 UTC like \"2026-11-24T10:00:00.123456Z\"";
    }
    if (e.action == Action::kMessage) return {};

    auto object = string_member(v, "object");
    if (!object || object->empty()) return "object is required and must be a non-empty string";
    e.object = *object;
    if (e.action == Action::kTruncate) return {};

    const rapidjson::Value* key = find_member(v, "key");
    if (!key || key->IsNull()) {
        std::string why = "key is null";
        if (auto error = string_member(v, "error")) why += " (" + std::string(*error) + ")";
        return why;
    }
    if (!is_string(*key)) return std::string("key must be a string, got ") + json_type_name(*key);
    e.key = string_of(*key);
    if (e.action == Action::kDelete) return {};

    const rapidjson::Value* record = find_member(v, "record");
    if (!record || !record->IsObject()) return "record is required and must be an object";
    const rapidjson::Value* props = find_member(*record, "properties");
    if (!props || !props->IsObject()) return "record.properties is required and must be an object";
    std::string poison;
    e.props.reserve(props->MemberCount());
    for (const auto& m : props->GetObject()) {
        std::string_view name(m.name.GetString(), m.name.GetStringLength());
        if (is_poison_value(m.value, reject_value) && poison.empty()) poison = name;
        e.props.push_back({name, {}});  // its text is filled in once the request is read
        texts.add(m.value);
    }
    if (!poison.empty())
        return "property \"" + poison + "\" contains the rejected value \"" + reject_value + "\"";
    return {};
}

}  // namespace

HttpReply webhook_deliver(const ApiRequest& req, ApiContext& ctx) {
    JsonParseResult parsed = parse_json(req.body);
    if (!parsed.error.empty()) return {400, webhook_error_body(parsed.error), {}};
    const rapidjson::Value* events = find_member(parsed.doc, "events");
    if (!parsed.doc.IsObject() || !events || !events->IsArray())
        return {400, webhook_error_body("body must be an object with an \"events\" array"), {}};

    std::vector<Event> batch(events->Size());
    std::vector<Rejection> rejected;
    PropertyTexts texts;
    for (rapidjson::SizeType i = 0; i < events->Size(); ++i) {
        std::string event_id;
        std::string why = read_event((*events)[i], req.reject_value, texts, batch[i], event_id);
        if (!why.empty()) rejected.push_back({i, std::move(event_id), std::move(why)});
    }
    size_t nth = 0;
    for (Event& e : batch)
        for (PropertyValue& p : e.props) p.json = texts.text(nth++);
    if (!rejected.empty()) {
        rapidjson::StringBuffer buf;
        JsonWriter w(buf);
        w.StartObject();
        write_key(w, "error");
        write_string(w, std::to_string(rejected.size()) + " of " + std::to_string(batch.size()) +
                            " events rejected; nothing in this request was applied");
        write_key(w, "rejected");
        w.StartArray();
        for (const Rejection& r : rejected) {
            w.StartObject();
            write_key(w, "index");
            w.Uint64(r.index);
            write_key(w, "event_id");
            if (r.event_id.empty()) {
                w.Null();
            } else {
                write_string(w, r.event_id);
            }
            write_key(w, "message");
            write_string(w, r.message);
            w.EndObject();
        }
        w.EndArray();
        w.EndObject();
        ctx.stats.add_records({.rejected = rejected.size()});
        return {400, writer_text(buf), {}};
    }

    RecordCounts counts;
    uint64_t accepted = 0;
    std::vector<int64_t> latencies_us;
    {
        std::lock_guard lock(ctx.shared.mutex);
        CrmState& state = ctx.shared.state;
        for (const Event& e : batch) {
            // Duplicate: this exact event was applied before (a redelivery); applying it again
            // could undo a later change to the same key.
            if (!ctx.shared.applied_events.insert(e.position)) {
                ++counts.duplicates;
                continue;
            }
            ++accepted;
            if ((e.action == Action::kUpsert || e.action == Action::kDelete) &&
                e.position < state.high_water(e.object, e.key)) {
                // Applied anyway, as a receiver that trusts delivery order would: the state
                // then shows the damage the violation does.
                ++counts.order_violations;
            }
            switch (e.action) {
            case Action::kUpsert:
                state.upsert(e.object, e.key, e.props);
                state.raise_high_water(e.object, e.key, e.position);
                ++counts.upserted;
                break;
            case Action::kDelete:
                state.erase(e.object, e.key, /*keep_position=*/true);
                state.raise_high_water(e.object, e.key, e.position);
                ++counts.deleted;
                break;
            case Action::kTruncate:
                state.truncate(e.object, e.position);
                ++counts.truncates;
                break;
            case Action::kMessage: ++counts.messages; break;
            }
            if (e.commit_time_us) latencies_us.push_back(req.received_us - *e.commit_time_us);
        }
    }
    ctx.stats.add_records(counts);
    for (int64_t us : latencies_us) ctx.stats.add_latency(us);

    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, "accepted");
    w.Uint64(accepted);
    write_key(w, "duplicates");
    w.Uint64(counts.duplicates);
    write_key(w, "order_violations");
    w.Uint64(counts.order_violations);
    w.EndObject();
    return {200, writer_text(buf), {}};
}

}  // namespace crmsync::mock_crm
