// From a column's Datum to the renderer's Value: how each Postgres type is read. Decided
// once per column when the relation's plan is built (ColumnPlan), applied per change.
#pragma once
#include "pg/postgres.hpp"
#include "render/message.hpp"

namespace crmsync::pg {

enum class Category : uint8_t {
    Bool,
    Int2,
    Int4,
    Int8,
    Oid,
    Float4,
    Float8,
    Numeric,      // exact digits, as numeric_out prints them
    Text,         // text, varchar, bpchar: the bytes as stored
    Name,
    Json,         // json: the stored text, embedded
    Jsonb,        // embedded, as jsonb_out prints it
    TimestampTz,
    Timestamp,
    Date,
    Uuid,
    Bytea,
    Array,        // one-dimensional arrays become lists; others use the output function
    Other,        // the type's output function, as text
};

struct TypePlan {
    Category category;
    FmgrInfo output;  // the type's output function (Numeric, Jsonb, Other, multi-dim Array)
};

struct ColumnPlan {
    AttrNumber attnum;  // 1-based position in the relation's tuple descriptor
    TypePlan type;
    // For Array: the element type.
    Oid elem_type;
    int16 elem_len;
    bool elem_byval;
    char elem_align;
    TypePlan elem;
    render::Slice name;  // `,"property":`, rendered once
};

// Fills the column's type plan (domains resolve to their base type). Output functions are
// looked up into `context`, once, not per row.
void plan_column_type(ColumnPlan* plan, Oid typid, MemoryContext context);

// Set at startup: whether text must be converted from the database encoding to UTF-8.
void set_database_encoding_conversion();

// Reads a non-NULL datum into *out (written in place, see column_values.cpp). Anything allocated (detoasted copies, output
// function text, array items) goes into CurrentMemoryContext, the per-change context.
void column_value(const ColumnPlan& plan, Datum datum, render::Value* out);

// Equality of two non-NULL datums of the column, for changed-only updates.
bool column_values_equal(const ColumnPlan& plan, Form_pg_attribute attr, Datum a, Datum b);

}  // namespace crmsync::pg
