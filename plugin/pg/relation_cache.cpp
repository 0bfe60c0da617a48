#include "pg/relation_cache.hpp"

#include "pg/guard.hpp"
#include "pg/mapping_catalog.hpp"
#include "pg/stringinfo_out.hpp"

extern "C" {
#include "utils/fmgroids.h"
}

namespace crmsync::pg {
namespace {

HTAB* g_cache = nullptr;
MemoryContext g_cache_context = nullptr;
// The entry of the last relation asked for: changes come in runs of one table, and entries
// stay where they are until the cache goes (they are never removed one by one).
RelationSyncEntry* g_last = nullptr;
Oid g_mappings_relid = InvalidOid;
bool g_mappings_relid_known = false;
bool g_callbacks_registered = false;

void invalidate_entries() {
    if (!g_cache) return;
    HASH_SEQ_STATUS status;
    hash_seq_init(&status, g_cache);
    while (auto* entry = static_cast<RelationSyncEntry*>(hash_seq_search(&status))) entry->valid = false;
}

// Invalidation callbacks only mark entries stale: they can fire in the middle of our own
// callbacks (any catalog access may process invalidations), so nothing is freed here.
void relcache_callback(Datum, Oid relid) {
    if (!g_cache) return;
    if (relid == InvalidOid || relid == g_mappings_relid) {
        g_mappings_relid_known = false;
        invalidate_entries();
        return;
    }
    if (auto* entry = static_cast<RelationSyncEntry*>(hash_search(g_cache, &relid, HASH_FIND, nullptr)))
        entry->valid = false;
}

// A renamed schema changes the "table" field of every message about its tables.
void namespace_callback(Datum, int, uint32) { invalidate_entries(); }

void cache_context_reset(void*) {
    g_cache = nullptr;
    g_cache_context = nullptr;
    g_last = nullptr;
    g_mappings_relid_known = false;
}

char* to_utf8(const char* s) { return pg_server_to_any(s, static_cast<int>(strlen(s)), PG_UTF8); }

struct PropertyPair {
    char* column;
    char* property;
    bool used;
};

// The mapping's {"column": "property"} object, as pairs. Shape errors were rejected by
// crmsync.map(); a row written around it is reported and its odd members skipped.
PropertyPair* read_property_pairs(Jsonb* properties, const char* table, int* count) {
    *count = 0;
    if (!JB_ROOT_IS_OBJECT(properties)) {
        ereport(WARNING, (errmsg("crmsync mapping of table %s has properties that are not a JSON object; "
                                 "sending no properties",
                                 table),
                          errhint("Fix it with crmsync.map().")));
        return nullptr;
    }
    int capacity = JB_ROOT_COUNT(properties);
    auto* pairs = static_cast<PropertyPair*>(palloc0(sizeof(PropertyPair) * (capacity ? capacity : 1)));
    JsonbIterator* it = JsonbIteratorInit(&properties->root);
    JsonbValue value;
    JsonbIteratorToken token;
    char* key = nullptr;
    while ((token = JsonbIteratorNext(&it, &value, true)) != WJB_DONE) {
        if (token == WJB_KEY) {
            key = pnstrdup(value.val.string.val, value.val.string.len);
        } else if (token == WJB_VALUE && key) {
            if (value.type == jbvString && *count < capacity)
                pairs[(*count)++] = {key, pnstrdup(value.val.string.val, value.val.string.len), false};
            else if (value.type == jbvBinary)
                ;  // {"expr": ...}: a computed property, prepared from properties_plan
            else
                ereport(WARNING, (errmsg("crmsync mapping of table %s maps column \"%s\" to a non-string; "
                                         "property skipped",
                                         table, key),
                                  errhint("Property names are JSON strings: {\"column\": \"property\"}.")));
            key = nullptr;
        }
    }
    return pairs;
}

// The computed properties of properties_plan ({"property": "<node tree>"}), prepared. A
// plan that no longer fits the table sets *error (the entry's expression_error).
ComputedProperty* prepare_computed(Jsonb* plans, Relation relation, ExpressionSet* set, MemoryContext context,
                                   int* count, const char*** names, char** error) {
    *count = 0;
    if (!plans || !JB_ROOT_IS_OBJECT(plans) || JB_ROOT_COUNT(plans) == 0) return nullptr;
    auto* computed = static_cast<ComputedProperty*>(palloc0(sizeof(ComputedProperty) * JB_ROOT_COUNT(plans)));
    *names = static_cast<const char**>(palloc0(sizeof(char*) * JB_ROOT_COUNT(plans)));
    JsonbIterator* it = JsonbIteratorInit(&plans->root);
    JsonbValue value;
    JsonbIteratorToken token;
    char* property = nullptr;
    while ((token = JsonbIteratorNext(&it, &value, true)) != WJB_DONE) {
        if (token == WJB_KEY) {
            property = pnstrdup(value.val.string.val, value.val.string.len);
        } else if (token == WJB_VALUE && property && value.type == jbvString) {
            char* plan = pnstrdup(value.val.string.val, value.val.string.len);
            char* what = psprintf("computed property \"%s\"", property);
            PreparedExpression* expression = prepare_expression(plan, relation, set, what, false, context, error);
            if (!expression) {
                *count = 0;
                return nullptr;
            }
            (*names)[*count] = property;
            ComputedProperty& c = computed[(*count)++];
            c.expression = expression;
            plan_column_type(&c.plan, expression->type, context);
            property = nullptr;
        }
    }
    return computed;
}

bool is_in_replica_identity(Relation relation, AttrNumber attnum) {
    if (relation->rd_rel->relreplident == REPLICA_IDENTITY_FULL) return true;
    Bitmapset* identity = RelationGetIndexAttrBitmap(relation, INDEX_ATTR_BITMAP_IDENTITY_KEY);
    return bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber, identity);
}

void render_or_error(const char* what, const char* table, PureError& err, bool ok) {
    if (!ok)
        ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                        errmsg("crmsync could not render %s of table %s: %s", what, table, err.message)));
}

}  // namespace

void relation_cache_init(MemoryContext context) {
    HASHCTL ctl;
    ctl.keysize = sizeof(Oid);
    ctl.entrysize = sizeof(RelationSyncEntry);
    ctl.hcxt = context;
    g_cache = hash_create("crmsync relation cache", 64, &ctl, HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
    g_cache_context = context;
    g_last = nullptr;
    g_mappings_relid_known = false;

    auto* reset = static_cast<MemoryContextCallback*>(MemoryContextAllocZero(context, sizeof(MemoryContextCallback)));
    reset->func = cache_context_reset;
    MemoryContextRegisterResetCallback(context, reset);

    if (!g_callbacks_registered) {
        CacheRegisterRelcacheCallback(relcache_callback, 0);
        CacheRegisterSyscacheCallback(NAMESPACEOID, namespace_callback, 0);
        g_callbacks_registered = true;
    }
}

void relation_cache_invalidate_all() { invalidate_entries(); }

Oid relation_cache_mappings_relid() {
    if (!g_mappings_relid_known) {
        g_mappings_relid = mappings_relid();
        g_mappings_relid_known = true;
    }
    return g_mappings_relid;
}

bool build_relation_entry(RelationSyncEntry* entry, Relation relation, const PluginOptions& options,
                          Oid mappings, MemoryContext context) {
    MemoryContext caller = MemoryContextSwitchTo(context);
    entry->context = context;
    entry->mapped = false;

    MappingRow row;
    if (!OidIsValid(mappings) || !find_mapping(mappings, options.crm, RelationGetRelid(relation), &row)) {
        MemoryContextSwitchTo(caller);
        return false;
    }

    entry->on_insert = row.action_insert;
    entry->on_update = row.action_update;
    entry->on_delete = row.action_delete;
    entry->on_truncate = row.action_truncate;
    entry->qualified_name = quote_qualified_identifier(get_namespace_name(RelationGetNamespace(relation)),
                                                       RelationGetRelationName(relation));
    entry->full_identity = relation->rd_rel->relreplident == REPLICA_IDENTITY_FULL;
    entry->row_filter = nullptr;
    entry->expression_error = nullptr;
    entry->expressions = row.row_filter_plan || row.properties_plan ? create_expression_set(relation, context) : nullptr;
    entry->delete_on_filter_exit = row.delete_on_filter_exit;
    if (row.row_filter_plan)
        entry->row_filter = prepare_expression(row.row_filter_plan, relation, entry->expressions, "the row filter",
                                               entry->on_update || entry->on_delete, context, &entry->expression_error);
    else if (row.row_filter)
        entry->expression_error = psprintf("the row filter of table %s has no plan (its mapping row was written with "
                                       "the catalog's triggers disabled); set it again with crmsync.map()",
                                       entry->qualified_name);

    int npairs = 0;
    PropertyPair* pairs = row.properties ? read_property_pairs(row.properties, entry->qualified_name, &npairs) : nullptr;

    TupleDesc desc = RelationGetDescr(relation);
    entry->natts = desc->natts;
    entry->columns = static_cast<ColumnPlan*>(palloc0(sizeof(ColumnPlan) * (desc->natts ? desc->natts : 1)));
    entry->ncolumns = 0;
    entry->id.attnum = 0;
    const char* id_property_name = nullptr;
    const char** property_names = static_cast<const char**>(palloc0(sizeof(char*) * (desc->natts ? desc->natts : 1)));

    for (int i = 0; i < desc->natts; ++i) {
        Form_pg_attribute attr = TupleDescAttr(desc, i);
        if (attr->attisdropped) continue;
        const char* column = NameStr(attr->attname);
        const char* property = column;
        if (row.properties) {
            property = nullptr;
            for (int p = 0; p < npairs; ++p)
                if (strcmp(pairs[p].column, column) == 0) {
                    property = pairs[p].property;
                    pairs[p].used = true;
                }
        }
        if (strcmp(column, row.id_column) == 0) {
            entry->id.attnum = attr->attnum;
            plan_column_type(&entry->id, attr->atttypid, context);
            id_property_name = property;
        }
        if (!property) continue;
        ColumnPlan* plan = &entry->columns[entry->ncolumns];
        plan->attnum = attr->attnum;
        plan_column_type(plan, attr->atttypid, context);
        property_names[entry->ncolumns++] = property;
    }
    for (int p = 0; p < npairs; ++p)
        if (!pairs[p].used)
            ereport(WARNING, (errmsg("crmsync mapping of table %s names column \"%s\", which does not exist; "
                                     "property \"%s\" is not sent",
                                     entry->qualified_name, pairs[p].column, pairs[p].property),
                              errhint("Update the mapping with crmsync.map() after renaming or dropping a column.")));

    // The CRM's matching property: as configured, else the id column's property name.
    const char* id_property = row.id_property ? row.id_property : (id_property_name ? id_property_name : row.id_column);

    entry->id_error = nullptr;
    entry->delete_key_error = nullptr;
    if (entry->id.attnum == 0) {
        entry->id_error = psprintf("id column \"%s\" does not exist in table %s; update the mapping with crmsync.map()",
                                   row.id_column, entry->qualified_name);
    } else if (!is_in_replica_identity(relation, entry->id.attnum)) {
        entry->delete_key_error =
            psprintf("the deleted row does not carry id column \"%s\": it is not part of the replica identity of "
                     "table %s; run ALTER TABLE %s REPLICA IDENTITY FULL, or USING INDEX with a unique index "
                     "on it",
                     row.id_column, entry->qualified_name, entry->qualified_name);
    }

    // Salesforce sends the external id as a top-level field already; don't repeat it.
    if (options.format == render::Format::Salesforce) {
        int kept = 0;
        for (int c = 0; c < entry->ncolumns; ++c) {
            if (entry->columns[c].attnum == entry->id.attnum && strcmp(property_names[c], id_property) == 0) continue;
            entry->columns[kept] = entry->columns[c];
            property_names[kept++] = property_names[c];
        }
        entry->ncolumns = kept;
    }

    const char** computed_names = nullptr;
    entry->computed = prepare_computed(row.properties_plan, relation, entry->expressions, context, &entry->ncomputed,
                                       &computed_names, &entry->expression_error);

    // Pre-render every property name and the relation's message pieces, in UTF-8.
    StringInfoData names;
    initStringInfo(&names);
    StringInfoData shape_text;
    initStringInfo(&shape_text);
    render::OutBuffer names_out = stringinfo_out(&names);
    render::OutBuffer shape_out = stringinfo_out(&shape_text);
    const int nnames = entry->ncolumns + entry->ncomputed;
    uint32_t* name_offsets = static_cast<uint32_t*>(palloc(sizeof(uint32_t) * (nnames + 1)));
    const char** utf8_names = static_cast<const char**>(palloc(sizeof(char*) * (nnames ? nnames : 1)));
    for (int c = 0; c < entry->ncolumns; ++c) utf8_names[c] = to_utf8(property_names[c]);
    for (int c = 0; c < entry->ncomputed; ++c) utf8_names[entry->ncolumns + c] = to_utf8(computed_names[c]);
    const char* object = to_utf8(row.object);
    const char* table = to_utf8(entry->qualified_name);
    const char* id_prop = to_utf8(id_property);
    PureError err;
    bool ok = run_pure(err, [&] {
        for (int c = 0; c < nnames; ++c) {
            name_offsets[c] = static_cast<uint32_t>(names_out.len);
            render::write_property_name(names_out, utf8_names[c]);
        }
        name_offsets[nnames] = static_cast<uint32_t>(names_out.len);
        render::build_relation_shape(shape_out, entry->shape, options.format, object, table, id_prop);
    });
    render_or_error("the mapping", entry->qualified_name, err, ok);
    finish_stringinfo(&names, names_out);
    finish_stringinfo(&shape_text, shape_out);
    entry->shape.text = shape_text.data;
    for (int c = 0; c < entry->ncolumns; ++c)
        entry->columns[c].name = {names.data + name_offsets[c], name_offsets[c + 1] - name_offsets[c]};
    for (int c = 0, n = entry->ncolumns; c < entry->ncomputed; ++c, ++n)
        entry->computed[c].plan.name = {names.data + name_offsets[n], name_offsets[n + 1] - name_offsets[n]};

    int natts = desc->natts ? desc->natts : 1;
    entry->new_values = static_cast<Datum*>(palloc(sizeof(Datum) * natts));
    entry->new_nulls = static_cast<bool*>(palloc(sizeof(bool) * natts));
    entry->old_values = static_cast<Datum*>(palloc(sizeof(Datum) * natts));
    entry->old_nulls = static_cast<bool*>(palloc(sizeof(bool) * natts));
    entry->props = static_cast<render::Property*>(palloc(sizeof(render::Property) * (nnames + 1)));
    entry->mapped = true;
    MemoryContextSwitchTo(caller);
    return true;
}

RelationSyncEntry* relation_cache_get(Relation relation, const PluginOptions& options) {
    Oid relid = RelationGetRelid(relation);
    if (g_last && g_last->relid == relid && g_last->valid) return g_last;
    bool found;
    auto* entry = static_cast<RelationSyncEntry*>(hash_search(g_cache, &relid, HASH_ENTER, &found));
    if (!found) {
        entry->valid = false;
        entry->mapped = false;
        entry->context = nullptr;
    }
    g_last = entry;
    if (entry->valid) return entry;

    // Valid from here on: an invalidation that arrives while we rebuild clears it again,
    // and the entry is rebuilt at its next use.
    entry->valid = true;
    entry->mapped = false;
    if (entry->context) MemoryContextDelete(entry->context);
    entry->context = AllocSetContextCreate(g_cache_context, "crmsync relation", ALLOCSET_SMALL_SIZES);
    build_relation_entry(entry, relation, options, relation_cache_mappings_relid(), entry->context);
    return entry;
}

}  // namespace crmsync::pg
