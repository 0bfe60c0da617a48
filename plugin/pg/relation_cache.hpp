// Everything the plugin needs per mapped relation, built once and reused for every change:
// the mapping, the column plan (output functions included), pre-rendered property names
// and message pieces. Modeled on pgoutput's RelationSyncCache: invalidation callbacks only
// clear `valid`; the entry is rebuilt at its next use, never freed inside a callback.
#pragma once
#include "pg/column_values.hpp"
#include "pg/options.hpp"
#include "pg/mapping_expression.hpp"
#include "render/message.hpp"

namespace crmsync::pg {

// A property whose value is an expression over the row (docs/mapping.md, "Computed properties").
struct ComputedProperty {
    PreparedExpression* expression;
    ColumnPlan plan;  // how its result type is rendered, and its pre-rendered name (attnum 0)
};

struct RelationSyncEntry {
    Oid relid;  // hash key
    bool valid;
    bool mapped;  // false: the crm has no mapping for this relation, changes are skipped
    MemoryContext context;  // owns the plan below; replaced on rebuild

    bool on_insert, on_update, on_delete, on_truncate;
    char* qualified_name;
    render::RelationShape shape;
    ColumnPlan* columns;  // mapped columns, in attribute order
    int ncolumns;
    ComputedProperty* computed;  // sent after the columns, in the order jsonb keeps their names
    int ncomputed;
    ColumnPlan id;        // the id column (id.attnum == 0 when it no longer exists)
    char* id_error;       // why there is no usable id column, or nullptr
    char* delete_key_error;  // set when deleted rows cannot carry the id column
    bool full_identity;   // REPLICA IDENTITY FULL: updates carry the old row (changed-only)
    ExpressionSet* expressions;  // shared by the filter and computed properties; nullptr without them
    RowFilter* row_filter;   // nullptr: every row passes
    char* expression_error;  // the filter or a computed property cannot be evaluated (the table changed), or nullptr
    bool delete_on_filter_exit;  // an update leaving the filter deletes the record (if deletes are mapped)

    // Scratch for one change, sized for the relation, reused change after change.
    int natts;
    Datum* new_values;
    bool* new_nulls;
    Datum* old_values;
    bool* old_nulls;
    render::Property* props;
};

// Creates the cache in `context` (dropped with it) and registers the invalidation
// callbacks once per process.
void relation_cache_init(MemoryContext context);

// The entry for `relation`, rebuilt first if it was invalidated. Reads crmsync.mappings
// with the current (historic) snapshot.
RelationSyncEntry* relation_cache_get(Relation relation, const PluginOptions& options);

// Marks every entry stale: a change to crmsync.mappings was decoded.
void relation_cache_invalidate_all();

// The OID of crmsync.mappings as of the WAL being decoded (InvalidOid if absent).
Oid relation_cache_mappings_relid();

// Builds a standalone entry (not cached) in `context`, for crmsync.render(). Returns
// false when `crm` has no mapping for the relation.
bool build_relation_entry(RelationSyncEntry* entry, Relation relation, const PluginOptions& options,
                          Oid mappings_oid, MemoryContext context);

}  // namespace crmsync::pg
