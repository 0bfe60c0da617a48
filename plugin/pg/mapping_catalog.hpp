// Reads crmsync.mappings. The table is a user_catalog_table, so inside a decoding callback
// a plain scan sees it as of the WAL position being decoded (the historic snapshot): a
// mapping change takes effect exactly where it was committed, in step with the data.
#pragma once
#include "pg/postgres.hpp"

namespace crmsync::pg {

// One row of crmsync.mappings, copied into the caller's memory context.
struct MappingRow {
    char* object;
    char* id_column;
    char* id_property;  // nullptr when the column is NULL
    Jsonb* properties;  // nullptr when NULL: all columns under their own names
    bool action_insert;
    bool action_update;
    bool action_delete;
    bool action_truncate;
    char* row_filter;       // the filter as written, or nullptr
    char* row_filter_plan;  // its checked node tree (set by the catalog's trigger), or nullptr
    bool delete_on_filter_exit;  // on_filter_exit = 'delete'
    Jsonb* properties_plan;  // {"property": "<node tree>"} of the computed properties, or nullptr
};

// The OID of crmsync.mappings as the current (possibly historic) catalog sees it, or
// InvalidOid when the extension is not there.
Oid mappings_relid();

// Finds the mapping of `relid` for `crm`. Returns false when there is none.
bool find_mapping(Oid mappings_oid, const char* crm, Oid relid, MappingRow* out);

// Checks, with the current catalog, that the extension exists and that `crm` has at least
// one mapping (or that the slot is the crm's own, crmsync_<crm>, which may be drained after
// its last table was unmapped); otherwise an ERROR saying what to do. Starts a transaction
// if needed.
void check_crm_is_mapped(const char* crm, const char* slot_name);

}  // namespace crmsync::pg
