#include "pg/column_values.hpp"
#include "pg/guard.hpp"

#include "render/stored_formats.hpp"

namespace crmsync::pg {
namespace {

bool g_convert_to_utf8 = false;

// The renderer prints stored numeric and jsonb itself where it knows their layout.
#ifdef WORDS_BIGENDIAN
constexpr bool kRendererReadsStoredFormats = false;
#else
constexpr bool kRendererReadsStoredFormats = true;
namespace layout = render::stored_jsonb;
static_assert(layout::kCountMask == JB_CMASK && layout::kScalar == JB_FSCALAR && layout::kObject == JB_FOBJECT &&
              layout::kArray == JB_FARRAY);
static_assert(layout::kOffLenMask == JENTRY_OFFLENMASK && layout::kTypeMask == JENTRY_TYPEMASK &&
              layout::kHasOff == JENTRY_HAS_OFF);
static_assert(layout::kString == JENTRY_ISSTRING && layout::kNumeric == JENTRY_ISNUMERIC &&
              layout::kFalse == JENTRY_ISBOOL_FALSE && layout::kTrue == JENTRY_ISBOOL_TRUE &&
              layout::kNull == JENTRY_ISNULL && layout::kContainer == JENTRY_ISCONTAINER);
#endif

Category category_of(Oid base_type) {
    switch (base_type) {
        case BOOLOID: return Category::Bool;
        case INT2OID: return Category::Int2;
        case INT4OID: return Category::Int4;
        case INT8OID: return Category::Int8;
        case OIDOID: return Category::Oid;
        case FLOAT4OID: return Category::Float4;
        case FLOAT8OID: return Category::Float8;
        case NUMERICOID: return Category::Numeric;
        case TEXTOID:
        case VARCHAROID:
        case BPCHAROID: return Category::Text;
        case NAMEOID: return Category::Name;
        case JSONOID: return Category::Json;
        case JSONBOID: return Category::Jsonb;
        case TIMESTAMPTZOID: return Category::TimestampTz;
        case TIMESTAMPOID: return Category::Timestamp;
        case DATEOID: return Category::Date;
        case UUIDOID: return Category::Uuid;
        case BYTEAOID: return Category::Bytea;
        default: return Category::Other;
    }
}

void plan_type(TypePlan* plan, Oid base_type, MemoryContext context) {
    plan->category = category_of(base_type);
    Oid output_fn;
    bool varlena;
    getTypeOutputInfo(base_type, &output_fn, &varlena);
    fmgr_info_cxt(output_fn, &plan->output, context);
}

// The readers below write each Value field by field into its final place. A Value built in a
// temporary and then assigned is copied with 16-byte loads that straddle the temporary's
// separate 1- and 8-byte stores: a store-forwarding stall per column, which perf showed as the
// hottest instruction of the map step.
#define CRMSYNC_INLINE inline __attribute__((always_inline))

CRMSYNC_INLINE void put_bytes(render::Value* out, render::ValueKind kind, const char* p, size_t n) {
    out->kind = kind;
    out->bytes.data = p;
    out->bytes.len = n;
}

CRMSYNC_INLINE void put_int(render::Value* out, render::ValueKind kind, int64_t v) {
    out->kind = kind;
    out->int64 = v;
}

CRMSYNC_INLINE void put_utf8(render::Value* out, render::ValueKind kind, const char* p, size_t n) {
    if (g_convert_to_utf8) {
        char* converted = pg_server_to_any(p, static_cast<int>(n), PG_UTF8);
        if (converted != p) {
            put_bytes(out, kind, converted, strlen(converted));
            return;
        }
    }
    put_bytes(out, kind, p, n);
}

// pg_detoast_datum_packed's test, inline: most values are neither compressed nor external,
// and a call per column into Postgres for them showed in the map step's profile.
CRMSYNC_INLINE struct varlena* packed_varlena(Datum datum) {
    auto* v = reinterpret_cast<struct varlena*>(DatumGetPointer(datum));
    return (VARATT_IS_COMPRESSED(v) || VARATT_IS_EXTERNAL(v)) ? pg_detoast_datum_packed(v) : v;
}

CRMSYNC_INLINE void put_varlena(render::Value* out, render::ValueKind kind, Datum datum) {
    struct varlena* v = packed_varlena(datum);
    put_utf8(out, kind, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
}

// The stored bytes after the varlena header, as they are: bytea's, or numeric's and jsonb's
// for the renderer to read (render/stored_formats.hpp).
CRMSYNC_INLINE void put_stored(render::Value* out, render::ValueKind kind, Datum datum) {
    struct varlena* v = packed_varlena(datum);
    put_bytes(out, kind, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
}

void put_output_text(render::Value* out, const TypePlan& plan, Datum datum, render::ValueKind kind) {
    char* text = OutputFunctionCall(const_cast<FmgrInfo*>(&plan.output), datum);
    put_utf8(out, kind, text, strlen(text));
}

CRMSYNC_INLINE void read_scalar(const TypePlan& plan, Datum datum, render::Value* out) {
    using render::ValueKind;
    switch (plan.category) {
        case Category::Bool:
            out->kind = ValueKind::Bool;
            out->boolean = DatumGetBool(datum);
            return;
        case Category::Int2: put_int(out, ValueKind::Int64, DatumGetInt16(datum)); return;
        case Category::Int4: put_int(out, ValueKind::Int64, DatumGetInt32(datum)); return;
        case Category::Int8: put_int(out, ValueKind::Int64, DatumGetInt64(datum)); return;
        case Category::Oid: put_int(out, ValueKind::Int64, DatumGetObjectId(datum)); return;
        case Category::Float4:
            out->kind = ValueKind::Float32;
            out->float32 = DatumGetFloat4(datum);
            return;
        case Category::Float8:
            out->kind = ValueKind::Float64;
            out->float64 = DatumGetFloat8(datum);
            return;
        case Category::Numeric:
            if (kRendererReadsStoredFormats) {
                put_stored(out, ValueKind::StoredNumeric, datum);
                return;
            }
            put_output_text(out, plan, datum, ValueKind::NumericText);
            return;
        case Category::Text: put_varlena(out, ValueKind::Text, datum); return;
        case Category::Name: {
            const char* name = NameStr(*DatumGetName(datum));
            put_utf8(out, ValueKind::Text, name, strlen(name));
            return;
        }
        case Category::Json: put_varlena(out, ValueKind::Json, datum); return;
        case Category::Jsonb:
            // Its strings are in the database encoding: elsewhere than UTF-8, jsonb_out's text is converted.
            if (kRendererReadsStoredFormats && !g_convert_to_utf8) {
                put_stored(out, ValueKind::StoredJsonb, datum);
                return;
            }
            put_output_text(out, plan, datum, ValueKind::Json);
            return;
        case Category::TimestampTz: put_int(out, ValueKind::TimestampTz, DatumGetTimestampTz(datum)); return;
        case Category::Timestamp: put_int(out, ValueKind::Timestamp, DatumGetTimestamp(datum)); return;
        case Category::Date:
            out->kind = ValueKind::Date;
            out->date = DatumGetDateADT(datum);
            return;
        case Category::Uuid:
            put_bytes(out, ValueKind::Uuid, reinterpret_cast<const char*>(DatumGetUUIDP(datum)->data), 16);
            return;
        case Category::Bytea: put_stored(out, ValueKind::Bytea, datum); return;
        case Category::Array:
        case Category::Other: put_output_text(out, plan, datum, ValueKind::Text); return;
    }
    *out = render::Value::null();
}

}  // namespace

void set_database_encoding_conversion() {
    int encoding = GetDatabaseEncoding();
    g_convert_to_utf8 = encoding != PG_UTF8 && encoding != PG_SQL_ASCII;
}

void plan_column_type(ColumnPlan* plan, Oid typid, MemoryContext context) {
    Oid base = getBaseType(typid);
    plan_type(&plan->type, base, context);
    plan->elem_type = InvalidOid;
    Oid elem = get_element_type(base);
    if (OidIsValid(elem) && get_typlen(base) == -1) {
        plan->type.category = Category::Array;
        plan->elem_type = elem;
        get_typlenbyvalalign(elem, &plan->elem_len, &plan->elem_byval, &plan->elem_align);
        plan_type(&plan->elem, getBaseType(elem), context);
        // Items are read as scalars; an array of arrays does not exist in Postgres.
        if (plan->elem.category == Category::Array) plan->elem.category = Category::Other;
    }
}

namespace {

// An array's bytes, read where they are stored. DatumGetArrayTypeP would copy an array
// stored with a 1-byte varlena header (any array under 127 bytes: most tag lists) only to
// give it a 4-byte one; the bytes after the header are the same either way. Items are
// aligned by their offset from the array's start (arrays are built in MAXALIGNed memory), so
// offsets count from where a 4-byte header would begin and are read `VARHDRSZ` earlier than
// the header's end.
class StoredArray {
public:
    // The header's fields are read only from an array at least as long as its header.
    explicit StoredArray(struct varlena* v) : body_(VARDATA_ANY(v)), size_(VARSIZE_ANY_EXHDR(v) + VARHDRSZ) {
        if (size_ < sizeof(ArrayType)) return;
        ndim_ = int_at(offsetof(ArrayType, ndim));
        dataoffset_ = int_at(offsetof(ArrayType, dataoffset));
    }

    bool has_header() const { return size_ >= sizeof(ArrayType); }
    int32 ndim() const { return ndim_; }
    int32 first_dim() const { return int_at(sizeof(ArrayType)); }
    // ARR_NULLBITMAP and ARR_DATA_OFFSET, as offsets.
    bool has_nulls() const { return dataoffset_ != 0; }
    size_t null_bitmap_offset() const { return sizeof(ArrayType) + 2 * sizeof(int) * static_cast<size_t>(ndim_); }
    size_t data_offset() const {
        return dataoffset_ != 0 ? static_cast<size_t>(dataoffset_) : ARR_OVERHEAD_NONULLS(ndim_);
    }
    size_t size() const { return size_; }
    const char* at(size_t offset) const { return body_ + offset - VARHDRSZ; }

private:
    int32 int_at(size_t offset) const {
        int32 v;
        memcpy(&v, at(offset), sizeof v);
        return v;
    }
    const char* body_;
    size_t size_;
    int32 ndim_ = 0;
    int32 dataoffset_ = 0;
};

// fetch_att() for an item that may be unaligned in memory (its offset is aligned, its address
// need not be).
CRMSYNC_INLINE Datum fetch_item(const char* p, bool byval, int16 len) {
    if (!byval) return PointerGetDatum(p);
    switch (len) {
        case 1: return CharGetDatum(*p);
        case 2: {
            int16 v;
            memcpy(&v, p, sizeof v);
            return Int16GetDatum(v);
        }
        case 4: {
            int32 v;
            memcpy(&v, p, sizeof v);
            return Int32GetDatum(v);
        }
        default: {
            int64 v;
            memcpy(&v, p, sizeof v);
            return Int64GetDatum(v);
        }
    }
}

// Postgres wrote the array; bytes that do not hold together mean the row is damaged.
[[noreturn, gnu::cold, gnu::noinline]] void damaged_array(const char* what) {
    ereport(ERROR, (errcode(ERRCODE_DATA_CORRUPTED), errmsg("crmsync cannot read a damaged array value: %s", what),
                    errhint("%s", kDamagedValueHint)));
}

}  // namespace

void column_value(const ColumnPlan& plan, Datum datum, render::Value* out) {
    if (plan.type.category != Category::Array) {
        read_scalar(plan.type, datum, out);
        return;
    }
    const StoredArray array(packed_varlena(datum));
    if (!array.has_header())
        damaged_array(psprintf("%zu bytes, fewer than an array's %zu-byte header", array.size(), sizeof(ArrayType)));
    const int ndim = array.ndim();
    if (ndim > 1) {
        put_output_text(out, plan.type, datum, render::ValueKind::Text);
        return;
    }
    out->kind = render::ValueKind::Array;
    if (ndim == 0) {
        out->array.items = nullptr;
        out->array.count = 0;
        return;
    }
    if (ndim < 0) damaged_array(psprintf("%d dimensions", ndim));
    const size_t data_offset = array.data_offset();
    if (data_offset > array.size())
        damaged_array(psprintf("its items start at byte %zu of %zu", data_offset, array.size()));
    const int count = array.first_dim();
    if (count < 0) damaged_array(psprintf("%d items", count));
    const bits8* nulls = nullptr;
    if (array.has_nulls()) {
        if (array.null_bitmap_offset() + (static_cast<size_t>(count) + 7) / 8 > data_offset)
            damaged_array(psprintf("a NULL bitmap for %d items does not fit before byte %zu", count, data_offset));
        nulls = reinterpret_cast<const bits8*>(array.at(array.null_bitmap_offset()));
    }
    auto* values = static_cast<render::Value*>(palloc(sizeof(render::Value) * (count ? count : 1)));
    size_t offset = data_offset;
    for (int i = 0; i < count; ++i) {
        if (nulls && !(nulls[i / 8] & (1 << (i % 8)))) {
            values[i].kind = render::ValueKind::Null;
            continue;
        }
        offset = att_align_nominal(offset, plan.elem_align);
        if (offset >= array.size())
            damaged_array(psprintf("item %d starts at byte %zu of %zu", i + 1, offset, array.size()));
        const char* item = array.at(offset);
        read_scalar(plan.elem, fetch_item(item, plan.elem_byval, plan.elem_len), &values[i]);
        offset = att_addlength_pointer(offset, plan.elem_len, item);
        if (offset > array.size())
            damaged_array(psprintf("item %d ends at byte %zu of %zu", i + 1, offset, array.size()));
    }
    out->array.items = values;
    out->array.count = static_cast<size_t>(count);
}

bool column_values_equal(const ColumnPlan&, Form_pg_attribute attr, Datum a, Datum b) {
    if (attr->attlen != -1) return datumIsEqual(a, b, attr->attbyval, attr->attlen);
    // Compare varlena contents, not representations: one side may be compressed or packed.
    struct varlena* va = packed_varlena(a);
    struct varlena* vb = packed_varlena(b);
    size_t na = VARSIZE_ANY_EXHDR(va);
    return na == VARSIZE_ANY_EXHDR(vb) && memcmp(VARDATA_ANY(va), VARDATA_ANY(vb), na) == 0;
}

}  // namespace crmsync::pg
