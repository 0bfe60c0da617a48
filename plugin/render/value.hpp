// Column values as the renderer sees them, and how each CRM format writes them.
#pragma once
#include "render/out_buffer.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace crmsync::render {

enum class Format : uint8_t { Webhook, Hubspot, Salesforce };

// Parses "webhook" | "hubspot" | "salesforce"; false on anything else.
bool parse_format(std::string_view name, Format& out);
std::string_view format_name(Format f);

enum class ValueKind : uint8_t {
    Null,
    Bool,
    Int64,
    Float32,
    Float64,
    NumericText,  // numeric's own text: exact digits, or NaN / Infinity / -Infinity
    Text,         // UTF-8 (anything invalid is replaced on output)
    Json,         // JSON text, embedded as a value where the format is typed
    TimestampTz,  // microseconds since 2000-01-01 00:00:00 UTC, Postgres' epoch
    Timestamp,    // the same, without time zone
    Date,         // days since 2000-01-01
    Uuid,         // 16 bytes
    Bytea,        // raw bytes, written as base64
    Array,        // one-dimensional; items may be Null
    StoredNumeric,  // Postgres' stored numeric, after the varlena header (render/stored_formats.hpp)
    StoredJsonb,    // Postgres' stored jsonb root container, after the varlena header
};

struct Value {
    ValueKind kind = ValueKind::Null;
    union {
        bool boolean;
        int64_t int64;
        float float32;
        double float64;
        int32_t date;
        struct {
            const char* data;
            size_t len;
        } bytes;
        struct {
            const Value* items;
            size_t count;
        } array;
    };

    Value() : int64(0) {}
    static Value null() { return Value(); }
    static Value from_bool(bool b) { Value v; v.kind = ValueKind::Bool; v.boolean = b; return v; }
    static Value from_int(int64_t i) { Value v; v.kind = ValueKind::Int64; v.int64 = i; return v; }
    static Value from_float4(float f) { Value v; v.kind = ValueKind::Float32; v.float32 = f; return v; }
    static Value from_float8(double d) { Value v; v.kind = ValueKind::Float64; v.float64 = d; return v; }
    static Value from_bytes(ValueKind k, const char* p, size_t n) {
        Value v;
        v.kind = k;
        v.bytes = {p, n};
        return v;
    }
    static Value text(std::string_view s) { return from_bytes(ValueKind::Text, s.data(), s.size()); }
    static Value json(std::string_view s) { return from_bytes(ValueKind::Json, s.data(), s.size()); }
    static Value numeric(std::string_view s) { return from_bytes(ValueKind::NumericText, s.data(), s.size()); }
    static Value timestamptz(int64_t us) { Value v; v.kind = ValueKind::TimestampTz; v.int64 = us; return v; }
    static Value timestamp(int64_t us) { Value v; v.kind = ValueKind::Timestamp; v.int64 = us; return v; }
    static Value date_days(int32_t d) { Value v; v.kind = ValueKind::Date; v.date = d; return v; }
    static Value uuid(const uint8_t* b16) { return from_bytes(ValueKind::Uuid, reinterpret_cast<const char*>(b16), 16); }
    static Value bytea(const char* p, size_t n) { return from_bytes(ValueKind::Bytea, p, n); }
    static Value stored_numeric(const char* p, size_t n) { return from_bytes(ValueKind::StoredNumeric, p, n); }
    static Value stored_jsonb(const char* p, size_t n) { return from_bytes(ValueKind::StoredJsonb, p, n); }
    static Value array_of(const Value* items, size_t n) {
        Value v;
        v.kind = ValueKind::Array;
        v.array = {items, n};
        return v;
    }
    bool is_null() const { return kind == ValueKind::Null; }
};

// Postgres' infinite timestamps and dates.
inline constexpr int64_t kTimestampMinusInfinity = INT64_MIN;
inline constexpr int64_t kTimestampInfinity = INT64_MAX;
inline constexpr int32_t kDateMinusInfinity = INT32_MIN;
inline constexpr int32_t kDateInfinity = INT32_MAX;

struct Slice {
    const char* data = nullptr;
    uint32_t len = 0;
    std::string_view view() const { return {data, len}; }
};

// One property of a record: its name as rendered once (`,"email":`, see
// write_property_name in render/message.hpp) and its value.
struct Property {
    Slice name;
    Value value;
};

// The properties as `"name":value` pairs, comma-separated. The first name goes without its
// comma unless `comma_first` (salesforce fields follow the record's external id).
void write_properties(OutBuffer& out, const Property* props, size_t n, Format format, bool comma_first);

// A property value as the format wants it:
//  webhook     typed JSON; timestamps with microseconds; arrays as JSON arrays
//  salesforce  typed JSON; timestamps with milliseconds; arrays as "a;b" (multi-select picklists)
//  hubspot     always a string; NULL is "" (clears the property); timestamps with
//              milliseconds; arrays as "a;b"; json as its text (jsonb as jsonb_out prints it)
void write_value(OutBuffer& out, const Value& v, Format format);

// A record key: always a JSON string (null only for a NULL value).
void write_key(OutBuffer& out, const Value& v);

// ISO 8601 UTC: "2026-11-24T10:00:00.123456Z" (micro) or "...00.123Z" (milli), quoted.
void write_timestamptz(OutBuffer& out, int64_t pg_us, bool millis);
// "X/Y" hexadecimal, as Postgres prints an LSN, unquoted.
void write_lsn_body(OutBuffer& out, uint64_t lsn);
void write_uint(OutBuffer& out, uint64_t v);

}  // namespace crmsync::render
