// The messages the plugin sends, one JSON object each. Field order is fixed and `record`
// is always last, so the sender can splice a record's bytes into a batch body without
// parsing it:
//   {"action":"upsert","object":..,"key":..,"table":..,"commit_lsn":..,"seq":..,"xid":..,
//    "commit_time":..,"record":{..}}
//   {"action":"commit","xid":..,"commit_lsn":..,"end_lsn":..,"commit_time":..,"count":..}
// Everything that is the same for every change of a relation (or of a transaction) is
// rendered once into a shape and copied per change.
#pragma once
#include "render/value.hpp"

#include <cstdint>
#include <string_view>

namespace crmsync::render {

// The per-relation pieces of every message about one mapped table.
struct RelationShape {
    enum Piece : uint8_t {
        UpsertHead,    // {"action":"upsert","object":"contacts","key":
        DeleteHead,    // {"action":"delete","object":"contacts","key":
        TruncateHead,  // {"action":"truncate","object":"contacts","key":null
        TableField,    // ,"table":"public.contacts"
        RecordHead,    // {"id":  |  {"idProperty":"email","id":  |  {"attributes":{"type":"Contact"},"Email":
        PropsOpen,     // ,"properties":{  |  (nothing: salesforce fields are top-level)
        RecordClose,   // }}  |  }
        PieceCount
    };
    Format format = Format::Webhook;
    const char* text = nullptr;  // all pieces, owned by the caller (see build_relation_shape)
    uint32_t pos[PieceCount] = {};
    uint32_t len[PieceCount] = {};

    std::string_view piece(Piece p) const { return {text + pos[p], len[p]}; }
};

// Renders the pieces into `text` (appending) and records their offsets in `shape`. The caller
// then copies text's bytes to storage that lives as long as the shape and points
// shape.text at them.
void build_relation_shape(OutBuffer& text, RelationShape& shape, Format format, std::string_view object,
                          std::string_view qualified_table, std::string_view id_property);

// A property's name as rendered once: `,"email":` (the leading comma is skipped for the
// first property of a "properties" object).
void write_property_name(OutBuffer& out, std::string_view name);

// The per-transaction pieces: `,"commit_lsn":"0/16B37A0","seq":` and
// `,"xid":761,"commit_time":"2026-11-24T10:00:00.123456Z"`.
struct TxnStamp {
    char lsn_field[48];
    uint8_t lsn_len = 0;
    char tail[96];
    uint8_t tail_len = 0;
    uint64_t commit_lsn = 0;
    uint32_t xid = 0;
    int64_t commit_time = 0;
    bool has_commit_time = false;
};
// xid 0 and has_commit_time false render as null (non-transactional messages).
void build_txn_stamp(TxnStamp& stamp, uint64_t commit_lsn, uint32_t xid, bool has_commit_time, int64_t commit_time_pg_us);

// A row inserted or updated. `id` is the id column's value: the key, and in salesforce the
// typed external-id field.
void write_upsert(OutBuffer& out, const RelationShape& shape, const TxnStamp& txn, uint32_t seq, const Value& id,
                  const Property* props, size_t nprops);

// A row deleted. When the old tuple does not carry the id column, pass id == nullptr and an
// error text: the message still goes out, with "key":null, the error and "record":null.
void write_delete(OutBuffer& out, const RelationShape& shape, const TxnStamp& txn, uint32_t seq, const Value* id,
                  std::string_view error);

// An upsert that cannot name its record (the id column is gone or NULL): sent with
// "key":null and the error so that it is dead-lettered, never silently dropped.
void write_unkeyed_upsert(OutBuffer& out, const RelationShape& shape, const TxnStamp& txn, uint32_t seq,
                          std::string_view error, const Property* props, size_t nprops);

void write_truncate(OutBuffer& out, const RelationShape& shape, const TxnStamp& txn, uint32_t seq);

// A pg_logical_emit_message payload: embedded as JSON when it is valid UTF-8 JSON,
// otherwise as a JSON string.
void write_logical_message(OutBuffer& out, const TxnStamp& txn, uint32_t seq, std::string_view prefix,
                           bool transactional, const char* content, size_t len);

// The commit marker: end_lsn is what a client confirms once everything before it is
// delivered. Also sent after a non-transactional message (end_lsn = the message's end), so
// such a message is confirmed like a transaction of one.
void write_commit(OutBuffer& out, const TxnStamp& txn, uint64_t end_lsn, uint32_t count);

}  // namespace crmsync::render
