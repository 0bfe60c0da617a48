// Postgres' stored numeric and jsonb, read and printed without Postgres. Both are on-disk
// formats, fixed by pg_upgrade's promise that a new server reads an old cluster's files.
// Printing them here, straight into the output, replaces numeric_out and jsonb_out, which
// allocate and build a text that was then copied again (together 16 % of the decoding
// backend's time on the benchmark's CRM-like rows). The text is byte for byte what those
// functions print; pg_regress compares the two on every value it writes (sql/types.sql,
// sql/stored_formats.sql).
//
// Little-endian only, as the layout constants below are: the Postgres zone uses Postgres'
// own output functions on big-endian servers.
#pragma once
#include "render/out_buffer.hpp"

#include <cstddef>
#include <cstdint>
#include <stdexcept>

namespace crmsync::render {

// Thrown for stored bytes that do not hold together: the row is damaged, not the renderer.
struct DamagedValue : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The layout constants, checked against Postgres' headers where those publish them
// (pg/column_values.cpp); numeric's live in numeric.c only.
namespace stored_jsonb {
inline constexpr uint32_t kCountMask = 0x0FFFFFFF;  // JB_CMASK
inline constexpr uint32_t kScalar = 0x10000000;     // JB_FSCALAR: a raw scalar, stored as a one-item array
inline constexpr uint32_t kObject = 0x20000000;     // JB_FOBJECT
inline constexpr uint32_t kArray = 0x40000000;      // JB_FARRAY
inline constexpr uint32_t kOffLenMask = 0x0FFFFFFF; // JENTRY_OFFLENMASK
inline constexpr uint32_t kTypeMask = 0x70000000;   // JENTRY_TYPEMASK
inline constexpr uint32_t kHasOff = 0x80000000;     // JENTRY_HAS_OFF: the field is an end offset, not a length
inline constexpr uint32_t kString = 0x00000000;     // JENTRY_ISSTRING
inline constexpr uint32_t kNumeric = 0x10000000;    // JENTRY_ISNUMERIC
inline constexpr uint32_t kFalse = 0x20000000;      // JENTRY_ISBOOL_FALSE
inline constexpr uint32_t kTrue = 0x30000000;       // JENTRY_ISBOOL_TRUE
inline constexpr uint32_t kNull = 0x40000000;       // JENTRY_ISNULL
inline constexpr uint32_t kContainer = 0x50000000;  // JENTRY_ISCONTAINER
}  // namespace stored_jsonb

// `payload` is a numeric datum's bytes after its varlena header; writes numeric_out's text:
// exact digits with the value's display scale, or NaN / Infinity / -Infinity (between quotes
// with quote_specials, where the text must stay valid JSON). Malformed bytes throw
// DamagedValue naming what is wrong.
void write_stored_numeric(OutBuffer& out, const char* payload, size_t n, bool quote_specials = false);

// `root` is a jsonb datum's bytes after its varlena header (the root container); writes
// jsonb_out's text: `{"a": 1, "b": [true, null]}`. Nesting depth is limited only by memory.
void write_stored_jsonb(OutBuffer& out, const char* root, size_t n);

}  // namespace crmsync::render
