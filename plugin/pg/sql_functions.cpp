// SQL-callable functions of the extension that need the plugin's own code.
//   crmsync._mappings_changed(): statement trigger on crmsync.mappings.
//   crmsync._plugin_libraries_problem(): whether the server would refuse to load crmsync.
//   crmsync.render(crm, source, row, format): the message the plugin would send for this
//   row as an upsert: preview of a mapping, and the unit of backfill (byte-identical
//   records, because it is the same map and render code); NULL for a row the mapping's
//   row filter leaves out.
//   crmsync._row_filter_plan(source, filter, actions): a row filter checked and planned.
//   crmsync._expression_plan(source, property, expression): the same for a computed property.
#include "pg/column_values.hpp"
#include "pg/guard.hpp"
#include "pg/mapping_catalog.hpp"
#include "pg/options.hpp"
#include "pg/relation_cache.hpp"
#include "pg/mapping_expression.hpp"
#include "pg/row_mapping.hpp"
#include "pg/stringinfo_out.hpp"
#include "render/message.hpp"

extern "C" {
#include "commands/trigger.h"
#include "utils/varlena.h"

PG_FUNCTION_INFO_V1(crmsync_render);
PGDLLEXPORT Datum crmsync_render(PG_FUNCTION_ARGS);
PG_FUNCTION_INFO_V1(crmsync_mappings_changed);
PGDLLEXPORT Datum crmsync_mappings_changed(PG_FUNCTION_ARGS);
PG_FUNCTION_INFO_V1(crmsync_plugin_libraries_problem);
PGDLLEXPORT Datum crmsync_plugin_libraries_problem(PG_FUNCTION_ARGS);
PG_FUNCTION_INFO_V1(crmsync_row_filter_plan);
PGDLLEXPORT Datum crmsync_row_filter_plan(PG_FUNCTION_ARGS);
PG_FUNCTION_INFO_V1(crmsync_expression_plan);
PGDLLEXPORT Datum crmsync_expression_plan(PG_FUNCTION_ARGS);
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
    Oid row_type = get_fn_expr_argtype(fcinfo->flinfo, 2);
    if (!OidIsValid(row_type) || !type_is_rowtype(row_type))
        ereport(ERROR, (errcode(ERRCODE_DATATYPE_MISMATCH),
                        errmsg("crmsync.render needs a row of the table, not a value of type %s",
                               OidIsValid(row_type) ? format_type_be(row_type) : "unknown"),
                        errhint("Pass the table's own rows: SELECT crmsync.render('crm', 'tbl', t) FROM tbl t.")));
    HeapTupleHeader row = PG_GETARG_HEAPTUPLEHEADER(2);
    set_database_encoding_conversion();
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
    if (entry->expression_error)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE), errmsg("%s", entry->expression_error)));
    bool deformed = false;
    if (entry->row_filter) {
        // A row the filter leaves out is not sent: no record, NULL (a backfill skips it).
        heap_deform_tuple(&tuple, RelationGetDescr(relation), entry->new_values, entry->new_nulls);
        deformed = true;
        if (!row_filter_passes(entry->row_filter, entry->new_values, entry->new_nulls)) {
            reset_expressions(entry->expressions);
            table_close(relation, AccessShareLock);
            PG_RETURN_NULL();
        }
    }
    map_upsert(entry, RelationGetDescr(relation), nullptr, &tuple, {false, deformed, false}, &mapped);

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
        ereport(ERROR, (CRMSYNC_PURE_ERROR_CODE_AND_HINT(err),
                        errmsg("crmsync could not render a row of table %s: %s", entry->qualified_name, err.message)));
    finish_stringinfo(&buf, out);
    // The next row reuses the entry's arrays: what the expressions computed for this one goes.
    if (entry->expressions) reset_expressions(entry->expressions);
    table_close(relation, AccessShareLock);
    // json's representation is text's; in a non-UTF-8 database convert back for SQL.
    char* result = pg_any_to_server(buf.data, buf.len, PG_UTF8);
    PG_RETURN_TEXT_P(cstring_to_text(result));
}

// Writes to crmsync.mappings are plain DML: on their own they invalidate nothing, and a
// transaction that was already being decoded when a mapping changed would keep its cached
// plan. A relcache invalidation of crmsync.mappings is WAL-logged with the change, replayed
// by logical decoding at that position (also into concurrent transactions), and makes the
// plugin drop every cached mapping.
Datum crmsync_mappings_changed(PG_FUNCTION_ARGS) {
    if (!CALLED_AS_TRIGGER(fcinfo))
        ereport(ERROR, (errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
                        errmsg("crmsync._mappings_changed() is a trigger function")));
    auto* trigger = reinterpret_cast<TriggerData*>(fcinfo->context);
    CacheInvalidateRelcache(trigger->tg_relation);
    return PointerGetDatum(nullptr);
}

// NULL when crmsync may be used as an output plugin; otherwise the current value of
// output_plugin_libraries, to build an actionable error. Reads the setting directly, so
// that a REPLICATION role without pg_read_all_settings gets the same answer.
Datum crmsync_plugin_libraries_problem(PG_FUNCTION_ARGS) {
    const char* libraries = output_plugin_libraries_string;
    if (libraries == nullptr) PG_RETURN_NULL();
    char* copy = pstrdup(libraries);
    List* names = NIL;
    bool any_name = false;
    if (SplitIdentifierString(copy, ',', &names)) {
        ListCell* cell;
        foreach (cell, names) {
            const char* name = static_cast<char*>(lfirst(cell));
            if (strcmp(name, "crmsync") == 0) PG_RETURN_NULL();
            any_name = any_name || name[0] != '\0';
        }
    }
    // SET output_plugin_libraries = '' stores "": a list of no names, reported as empty.
    PG_RETURN_TEXT_P(cstring_to_text(any_name ? libraries : ""));
}

// The mapping catalog's trigger calls this for every written row with a filter. Updates and
// deletes are filtered on the old row, so then the replica identity must cover the filter.
Datum crmsync_row_filter_plan(PG_FUNCTION_ARGS) {
    using namespace crmsync::pg;
    Oid relid = PG_GETARG_OID(0);
    char* filter = text_to_cstring(PG_GETARG_TEXT_PP(1));
    ArrayType* actions = PG_GETARG_ARRAYTYPE_P(2);
    Datum* items;
    bool* item_nulls;
    int count;
    deconstruct_array(actions, TEXTOID, -1, false, TYPALIGN_INT, &items, &item_nulls, &count);
    bool filters_old_rows = false;
    for (int i = 0; i < count; ++i) {
        if (item_nulls[i]) continue;
        char* action = TextDatumGetCString(items[i]);
        filters_old_rows = filters_old_rows || strcmp(action, "update") == 0 || strcmp(action, "delete") == 0;
    }
    Relation relation = table_open(relid, AccessShareLock);
    char* plan = plan_row_filter(relation, filter, filters_old_rows);
    table_close(relation, AccessShareLock);
    PG_RETURN_TEXT_P(cstring_to_text(plan));
}

Datum crmsync_expression_plan(PG_FUNCTION_ARGS) {
    using namespace crmsync::pg;
    Oid relid = PG_GETARG_OID(0);
    char* property = text_to_cstring(PG_GETARG_TEXT_PP(1));
    char* expression = text_to_cstring(PG_GETARG_TEXT_PP(2));
    Relation relation = table_open(relid, AccessShareLock);
    char* plan = plan_computed_property(relation, property, expression);
    table_close(relation, AccessShareLock);
    PG_RETURN_TEXT_P(cstring_to_text(plan));
}
