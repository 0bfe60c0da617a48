#include "pg/column_values.hpp"

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

// The readers below are inlined into column_value(): a Value returned through the stack
// from a call was read back before its stores had landed, a store-forwarding stall per
// column (perf: the hottest instruction of the map step).
#define CRMSYNC_INLINE inline __attribute__((always_inline))

CRMSYNC_INLINE render::Value utf8_value(render::ValueKind kind, const char* p, size_t n) {
    if (g_convert_to_utf8) {
        char* converted = pg_server_to_any(p, static_cast<int>(n), PG_UTF8);
        if (converted != p) return render::Value::from_bytes(kind, converted, strlen(converted));
    }
    return render::Value::from_bytes(kind, p, n);
}

CRMSYNC_INLINE render::Value varlena_value(render::ValueKind kind, Datum datum) {
    struct varlena* v = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(datum)));
    return utf8_value(kind, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
}

// The stored bytes after the varlena header, for the renderer to read (render/stored_formats.hpp).
CRMSYNC_INLINE render::Value stored_value(render::ValueKind kind, Datum datum) {
    struct varlena* v = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(datum)));
    return render::Value::from_bytes(kind, VARDATA_ANY(v), VARSIZE_ANY_EXHDR(v));
}

render::Value output_text(const TypePlan& plan, Datum datum, render::ValueKind kind) {
    char* text = OutputFunctionCall(const_cast<FmgrInfo*>(&plan.output), datum);
    return utf8_value(kind, text, strlen(text));
}

CRMSYNC_INLINE render::Value scalar_value(const TypePlan& plan, Datum datum) {
    using render::Value;
    using render::ValueKind;
    switch (plan.category) {
        case Category::Bool: return Value::from_bool(DatumGetBool(datum));
        case Category::Int2: return Value::from_int(DatumGetInt16(datum));
        case Category::Int4: return Value::from_int(DatumGetInt32(datum));
        case Category::Int8: return Value::from_int(DatumGetInt64(datum));
        case Category::Oid: return Value::from_int(DatumGetObjectId(datum));
        case Category::Float4: return Value::from_float4(DatumGetFloat4(datum));
        case Category::Float8: return Value::from_float8(DatumGetFloat8(datum));
        case Category::Numeric: {
            if (kRendererReadsStoredFormats) return stored_value(ValueKind::StoredNumeric, datum);
            char* digits = OutputFunctionCall(const_cast<FmgrInfo*>(&plan.output), datum);
            return Value::numeric(digits);
        }
        case Category::Text: return varlena_value(ValueKind::Text, datum);
        case Category::Name: {
            const char* name = NameStr(*DatumGetName(datum));
            return utf8_value(ValueKind::Text, name, strlen(name));
        }
        case Category::Json: return varlena_value(ValueKind::Json, datum);
        case Category::Jsonb:
            // Its strings are in the database encoding: elsewhere than UTF-8, jsonb_out's text is converted.
            if (kRendererReadsStoredFormats && !g_convert_to_utf8) return stored_value(ValueKind::StoredJsonb, datum);
            return output_text(plan, datum, ValueKind::Json);
        case Category::TimestampTz: return Value::timestamptz(DatumGetTimestampTz(datum));
        case Category::Timestamp: return Value::timestamp(DatumGetTimestamp(datum));
        case Category::Date: return Value::date_days(DatumGetDateADT(datum));
        case Category::Uuid: return Value::uuid(DatumGetUUIDP(datum)->data);
        case Category::Bytea: {
            bytea* b = DatumGetByteaPP(datum);
            return Value::bytea(VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
        }
        case Category::Array:
        case Category::Other: return output_text(plan, datum, ValueKind::Text);
    }
    return Value::null();
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

void column_value(const ColumnPlan& plan, Datum datum, render::Value* out) {
    if (plan.type.category != Category::Array) {
        *out = scalar_value(plan.type, datum);
        return;
    }
    ArrayType* array = DatumGetArrayTypeP(datum);
    int ndim = ARR_NDIM(array);
    if (ndim > 1) {
        *out = output_text(plan.type, PointerGetDatum(array), render::ValueKind::Text);
        return;
    }
    if (ndim == 0) {
        *out = render::Value::array_of(nullptr, 0);
        return;
    }
    int count = ArrayGetNItems(ndim, ARR_DIMS(array));
    auto* values = static_cast<render::Value*>(palloc(sizeof(render::Value) * (count ? count : 1)));
    array_iter items;
    array_iter_setup(&items, reinterpret_cast<AnyArrayType*>(array));
    for (int i = 0; i < count; ++i) {
        bool is_null;
        Datum item = array_iter_next(&items, &is_null, i, plan.elem_len, plan.elem_byval, plan.elem_align);
        values[i] = is_null ? render::Value::null() : scalar_value(plan.elem, item);
    }
    *out = render::Value::array_of(values, static_cast<size_t>(count));
}

bool column_values_equal(const ColumnPlan&, Form_pg_attribute attr, Datum a, Datum b) {
    if (attr->attlen != -1) return datumIsEqual(a, b, attr->attbyval, attr->attlen);
    // Compare varlena contents, not representations: one side may be compressed or packed.
    struct varlena* va = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(a)));
    struct varlena* vb = pg_detoast_datum_packed(reinterpret_cast<struct varlena*>(DatumGetPointer(b)));
    size_t na = VARSIZE_ANY_EXHDR(va);
    return na == VARSIZE_ANY_EXHDR(vb) && memcmp(VARDATA_ANY(va), VARDATA_ANY(vb), na) == 0;
}

}  // namespace crmsync::pg
