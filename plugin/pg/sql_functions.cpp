// SQL-callable functions of the extension that need the plugin's own code.
//   crmsync.render(crm, source, row, format): the message the plugin would send for this
//   row as an upsert: preview of a mapping, and the unit of backfill (byte-identical
//   records, because it is the same map and render code).
#include "pg/guard.hpp"
#include "pg/mapping_catalog.hpp"
#include "pg/options.hpp"
#include "pg/relation_cache.hpp"
#include "pg/row_mapping.hpp"
#include "pg/stringinfo_out.hpp"
#include "render/message.hpp"

extern "C" {
PG_FUNCTION_INFO_V1(crmsync_render);
PGDLLEXPORT Datum crmsync_render(PG_FUNCTION_ARGS);
}

namespace crmsync::pg {
namespace {

// One plan per call site, kept across the rows of a statement (a backfill renders
// millions of rows with one plan).
struct RenderPlan {
    Oid relid;
    char crm[kMaxCrmNameLength + 1];
    render::Format format;
    MemoryContext context;
    RelationSyncEntry entry;
};

}  // namespace
}  // namespace crmsync::pg

Datum crmsync_render(PG_FUNCTION_ARGS) {
    using namespace crmsync::pg;
    using namespace crmsync;

    char* crm = text_to_cstring(PG_GETARG_TEXT_PP(0));
    Oid relid = PG_GETARG_OID(1);
    HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(2);
    char* format_name = text_to_cstring(PG_GETARG_TEXT_PP(3));

    PluginOptions options;
    if (!crm_name_is_valid(crm))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid crm name \"%s\"", crm),
                        errhint("A crm name is 1 to 48 characters: a lower-case letter, then lower-case letters, "
                                "digits or underscores.")));
    strlcpy(options.crm, crm, sizeof options.crm);
    if (!render::parse_format(format_name, options.format))
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE), errmsg("invalid format \"%s\"", format_name),
                        errhint("Valid formats are: webhook, hubspot, salesforce.")));

    Relation relation = table_open(relid, AccessShareLock);
    if (HeapTupleHeaderGetTypeId(row) != relation->rd_rel->reltype)
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("row is of type %s, not a row of table %s", format_type_be(HeapTupleHeaderGetTypeId(row)),
                               RelationGetRelationName(relation)),
                        errhint("Pass the table's own rows: SELECT crmsync.render('crm', 'tbl', t) FROM tbl t.")));

    auto* plan = static_cast<RenderPlan*>(fcinfo->flinfo->fn_extra);
    if (!plan || plan->relid != relid || strcmp(plan->crm, crm) != 0 || plan->format != options.format) {
        if (plan) MemoryContextDelete(plan->context);
        MemoryContext context = AllocSetContextCreate(fcinfo->flinfo->fn_mcxt, "crmsync render", ALLOCSET_SMALL_SIZES);
        plan = static_cast<RenderPlan*>(MemoryContextAllocZero(context, sizeof(RenderPlan)));
        plan->context = context;
        plan->relid = relid;
        strlcpy(plan->crm, crm, sizeof plan->crm);
        plan->format = options.format;
        fcinfo->flinfo->fn_extra = nullptr;
        if (!build_relation_entry(&plan->entry, relation, options, mappings_relid(), context)) {
            MemoryContextDelete(context);
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                            errmsg("crm \"%s\" has no mapping for table %s", crm, RelationGetRelationName(relation)),
                            errhint("Map it first with crmsync.map().")));
        }
        fcinfo->flinfo->fn_extra = plan;
    }

    HeapTupleData tuple;
    tuple.t_len = HeapTupleHeaderGetDatumLength(row);
    ItemPointerSetInvalid(&tuple.t_self);
    tuple.t_tableOid = relid;
    tuple.t_data = row;

    MappedUpsert mapped;
    RelationSyncEntry* entry = &plan->entry;
    map_upsert(entry, RelationGetDescr(relation), nullptr, &tuple, false, &mapped);

    // Not a decoded event: no commit LSN, xid or commit time ("0/0", seq 0, nulls).
    StringInfoData buf;
    initStringInfo(&buf);
    render::OutBuffer out = stringinfo_out(&buf);
    render::TxnStamp stamp;
    PureError err;
    bool ok = run_pure(err, [&] {
        render::build_txn_stamp(stamp, 0, 0, false, 0);
        if (mapped.error)
            render::write_unkeyed_upsert(out, entry->shape, stamp, 0, mapped.error, entry->props, mapped.nprops);
        else
            render::write_upsert(out, entry->shape, stamp, 0, mapped.id, entry->props, mapped.nprops);
    });
    if (!ok)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                        errmsg("crmsync could not render a row of table %s: %s", entry->qualified_name, err.message)));
    finish_stringinfo(&buf, out);
    table_close(relation, AccessShareLock);
    // json's representation is text's; in a non-UTF-8 database convert back for SQL.
    char* result = pg_any_to_server(buf.data, buf.len, PG_UTF8);
    PG_RETURN_TEXT_P(cstring_to_text(result));
}
