#include "render/pure_zone.hpp"  // first: this file must not see Postgres
#include "render/message.hpp"

#include "render/crm_shapes.hpp"
#include "render/json_text.hpp"

#include <cstring>
#include <stdexcept>

namespace crmsync::render {
namespace {

void put_string(OutBuffer& out, std::string_view s) { write_json_string(out, s.data(), s.size()); }

void append_slice(OutBuffer& out, const char* p, size_t n) { out.append(p, n); }

// Where the header's key text is in the buffer: the record's id repeats it byte for byte.
struct KeyText {
    size_t pos = 0;
    size_t len = 0;
};

KeyText write_header(OutBuffer& out, const RelationShape& shape, RelationShape::Piece head, const Value* key,
                     const TxnStamp& txn, uint32_t seq) {
    out.append(shape.piece(head));
    KeyText key_text;
    if (head != RelationShape::TruncateHead) {
        key_text.pos = out.len;
        if (key)
            write_key(out, *key);
        else
            out.append("null", 4);
        key_text.len = out.len - key_text.pos;
    }
    out.append(shape.piece(RelationShape::TableField));
    append_slice(out, txn.lsn_field, txn.lsn_len);
    write_uint(out, seq);
    append_slice(out, txn.tail, txn.tail_len);
    return key_text;
}

void write_error_field(OutBuffer& out, std::string_view error) {
    if (error.empty()) return;
    out.append(",\"error\":", 9);
    put_string(out, error);
}

// `key` is the header's text of the same id: webhook and hubspot ids are that text again
// (copied rather than formatted twice); salesforce's external id is a typed value.
void write_record_id(OutBuffer& out, const RelationShape& shape, const Value* id, KeyText key) {
    out.append(shape.piece(RelationShape::RecordHead));
    if (!id) {
        out.append("null", 4);
    } else if (with_shape(shape.format, [](auto s) { return decltype(s)::typed_id; })) {
        write_value(out, *id, shape.format);
    } else {
        out.reserve(key.len);  // before reading from the buffer: growing it may move it
        out.append_unchecked(out.data + key.pos, key.len);
    }
}

void write_record_properties(OutBuffer& out, const RelationShape& shape, const Property* props, size_t nprops) {
    out.append(shape.piece(RelationShape::PropsOpen));
    // Inside a "properties" object the first name goes without its comma; fields beside the
    // id (no properties object: Salesforce) follow it, so every one keeps it.
    const bool fields_follow_id = with_shape(shape.format, [](auto s) { return decltype(s)::props_open.empty(); });
    write_properties(out, props, nprops, shape.format, fields_follow_id);
    out.append(shape.piece(RelationShape::RecordClose));
}

}  // namespace

void build_relation_shape(OutBuffer& text, RelationShape& shape, Format format, std::string_view object,
                          std::string_view qualified_table, std::string_view id_property) {
    shape.format = format;
    auto piece = [&](RelationShape::Piece p, auto&& render) {
        shape.pos[p] = static_cast<uint32_t>(text.len);
        render();
        shape.len[p] = static_cast<uint32_t>(text.len - shape.pos[p]);
    };
    auto head = [&](std::string_view action) {
        text.append("{\"action\":\"");
        text.append(action);
        text.append("\",\"object\":");
        put_string(text, object);
        text.append(",\"key\":");
    };
    piece(RelationShape::UpsertHead, [&] { head("upsert"); });
    piece(RelationShape::DeleteHead, [&] { head("delete"); });
    piece(RelationShape::TruncateHead, [&] {
        head("truncate");
        text.append("null");
    });
    piece(RelationShape::TableField, [&] {
        text.append(",\"table\":");
        put_string(text, qualified_table);
    });
    // The record's envelope, as the target's shape writes it (crm_shapes.hpp).
    with_shape(format, [&](auto target) {
        using Shape = decltype(target);
        piece(RelationShape::RecordHead, [&] { Shape::record_head(text, object, id_property); });
        piece(RelationShape::PropsOpen, [&] { text.append(Shape::props_open); });
        piece(RelationShape::RecordClose, [&] { text.append(Shape::record_close); });
    });
}

void write_property_name(OutBuffer& out, std::string_view name) {
    out.put(',');
    put_string(out, name);
    out.put(':');
}

void build_txn_stamp(TxnStamp& stamp, uint64_t commit_lsn, uint32_t xid, bool has_commit_time,
                     int64_t commit_time_pg_us) {
    stamp.commit_lsn = commit_lsn;
    stamp.xid = xid;
    stamp.has_commit_time = has_commit_time;
    stamp.commit_time = commit_time_pg_us;

    OutBuffer fixed;  // renders into the stamp's arrays, which are sized for the longest case
    fixed.grow = [](OutBuffer&, size_t) { throw std::length_error("transaction stamp overflow"); };

    fixed.data = stamp.lsn_field;
    fixed.cap = sizeof stamp.lsn_field;
    fixed.append(",\"commit_lsn\":\"");
    write_lsn_body(fixed, commit_lsn);
    fixed.append("\",\"seq\":");
    stamp.lsn_len = static_cast<uint8_t>(fixed.len);

    fixed.data = stamp.tail;
    fixed.cap = sizeof stamp.tail;
    fixed.len = 0;
    fixed.append(",\"xid\":");
    if (xid)
        write_uint(fixed, xid);
    else
        fixed.append("null");
    fixed.append(",\"commit_time\":");
    if (has_commit_time)
        write_timestamptz(fixed, commit_time_pg_us, false);
    else
        fixed.append("null");
    stamp.tail_len = static_cast<uint8_t>(fixed.len);
}

void write_upsert(OutBuffer& out, const RelationShape& shape, const TxnStamp& txn, uint32_t seq, const Value& id,
                  const Property* props, size_t nprops) {
    const KeyText key = write_header(out, shape, RelationShape::UpsertHead, &id, txn, seq);
    out.append(",\"record\":", 10);
    write_record_id(out, shape, &id, key);
    write_record_properties(out, shape, props, nprops);
    out.put('}');
}

void write_unkeyed_upsert(OutBuffer& out, const RelationShape& shape, const TxnStamp& txn, uint32_t seq,
                          std::string_view error, const Property* props, size_t nprops) {
    write_header(out, shape, RelationShape::UpsertHead, nullptr, txn, seq);
    write_error_field(out, error);
    out.append(",\"record\":", 10);
    write_record_id(out, shape, nullptr, {});
    write_record_properties(out, shape, props, nprops);
    out.put('}');
}

void write_delete(OutBuffer& out, const RelationShape& shape, const TxnStamp& txn, uint32_t seq, const Value* id,
                  std::string_view error) {
    const KeyText key = write_header(out, shape, RelationShape::DeleteHead, id, txn, seq);
    write_error_field(out, error);
    out.append(",\"record\":", 10);
    if (!id) {
        out.append("null}", 5);
        return;
    }
    write_record_id(out, shape, id, key);
    out.append("}}", 2);
}

void write_truncate(OutBuffer& out, const RelationShape& shape, const TxnStamp& txn, uint32_t seq) {
    write_header(out, shape, RelationShape::TruncateHead, nullptr, txn, seq);
    out.append(",\"record\":null}", 15);
}

void write_logical_message(OutBuffer& out, const TxnStamp& txn, uint32_t seq, std::string_view prefix,
                           bool transactional, const char* content, size_t len) {
    out.append("{\"action\":\"message\",\"object\":null,\"key\":null,\"table\":null");
    append_slice(out, txn.lsn_field, txn.lsn_len);
    write_uint(out, seq);
    append_slice(out, txn.tail, txn.tail_len);
    out.append(",\"prefix\":");
    put_string(out, prefix);
    out.append(transactional ? ",\"transactional\":true" : ",\"transactional\":false");
    out.append(",\"record\":", 10);
    if (len > 0 && is_valid_json(content, len))
        out.append(content, len);
    else
        write_json_string(out, content, len);
    out.put('}');
}

void write_commit(OutBuffer& out, const TxnStamp& txn, uint64_t end_lsn, uint32_t count) {
    out.append("{\"action\":\"commit\",\"xid\":");
    if (txn.xid)
        write_uint(out, txn.xid);
    else
        out.append("null", 4);
    out.append(",\"commit_lsn\":\"");
    write_lsn_body(out, txn.commit_lsn);
    out.append("\",\"end_lsn\":\"");
    write_lsn_body(out, end_lsn);
    out.append("\",\"commit_time\":");
    if (txn.has_commit_time)
        write_timestamptz(out, txn.commit_time, false);
    else
        out.append("null", 4);
    out.append(",\"count\":");
    write_uint(out, count);
    out.put('}');
}

}  // namespace crmsync::render
