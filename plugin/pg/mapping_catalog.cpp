#include "pg/mapping_catalog.hpp"

namespace crmsync::pg {
namespace {

// Column numbers of crmsync.mappings, fixed by the extension script.
enum MappingColumn : AttrNumber {
    kCrm = 1,
    kSource,
    kObject,
    kIdColumn,
    kIdProperty,
    kProperties,
    kActions,
    kRowFilter,
    kRowFilterPlan,
    kOnFilterExit,
    kPropertiesPlan,
    kMappingColumns = kPropertiesPlan
};

void check_mapping_table_shape(Relation rel) {
    TupleDesc desc = RelationGetDescr(rel);
    if (desc->natts < kMappingColumns || strcmp(NameStr(TupleDescAttr(desc, kCrm - 1)->attname), "crm") != 0 ||
        strcmp(NameStr(TupleDescAttr(desc, kActions - 1)->attname), "actions") != 0 ||
        strcmp(NameStr(TupleDescAttr(desc, kPropertiesPlan - 1)->attname), "properties_plan") != 0)
        ereport(ERROR, (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                        errmsg("table crmsync.mappings does not have the columns this crmsync library expects"),
                        errhint("Update the extension with ALTER EXTENSION crmsync UPDATE.")));
}

// Calls visit(values, nulls) for each row whose crm column equals `crm`, under the
// current catalog snapshot (the historic one inside decoding callbacks). visit returns
// false to stop.
template <typename Visit>
void scan_mappings(Oid mappings_oid, const char* crm, Visit&& visit) {
    Relation rel = table_open(mappings_oid, AccessShareLock);
    check_mapping_table_shape(rel);
    TupleDesc desc = RelationGetDescr(rel);
    SysScanDesc scan = systable_beginscan(rel, InvalidOid, false, nullptr, 0, nullptr);
    Datum values[kMappingColumns + 8];
    bool nulls[kMappingColumns + 8];
    HeapTuple tuple;
    while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
        if (desc->natts > kMappingColumns + 8) break;
        heap_deform_tuple(tuple, desc, values, nulls);
        if (nulls[kCrm - 1]) continue;
        text* row_crm = DatumGetTextPP(values[kCrm - 1]);
        if (crm && (strlen(crm) != VARSIZE_ANY_EXHDR(row_crm) ||
                    memcmp(crm, VARDATA_ANY(row_crm), VARSIZE_ANY_EXHDR(row_crm)) != 0))
            continue;
        if (!visit(values, nulls)) break;
    }
    systable_endscan(scan);
    table_close(rel, AccessShareLock);
}

}  // namespace

Oid mappings_relid() {
    Oid nsp = get_namespace_oid("crmsync", true);
    if (!OidIsValid(nsp)) return InvalidOid;
    return get_relname_relid("mappings", nsp);
}

bool find_mapping(Oid mappings_oid, const char* crm, Oid relid, MappingRow* out) {
    bool found = false;
    scan_mappings(mappings_oid, crm, [&](Datum* values, bool* nulls) {
        if (nulls[kSource - 1] || DatumGetObjectId(values[kSource - 1]) != relid) return true;
        out->object = TextDatumGetCString(values[kObject - 1]);
        out->id_column = pstrdup(NameStr(*DatumGetName(values[kIdColumn - 1])));
        out->id_property = nulls[kIdProperty - 1] ? nullptr : TextDatumGetCString(values[kIdProperty - 1]);
        out->properties = nulls[kProperties - 1] ? nullptr : DatumGetJsonbPCopy(values[kProperties - 1]);
        out->row_filter = nulls[kRowFilter - 1] ? nullptr : TextDatumGetCString(values[kRowFilter - 1]);
        out->row_filter_plan = nulls[kRowFilterPlan - 1] ? nullptr : TextDatumGetCString(values[kRowFilterPlan - 1]);
        out->delete_on_filter_exit =
            nulls[kOnFilterExit - 1] || strcmp(TextDatumGetCString(values[kOnFilterExit - 1]), "ignore") != 0;
        out->properties_plan = nulls[kPropertiesPlan - 1] ? nullptr : DatumGetJsonbPCopy(values[kPropertiesPlan - 1]);
        out->action_insert = out->action_update = out->action_delete = out->action_truncate = false;
        if (!nulls[kActions - 1]) {
            Datum* actions;
            bool* action_nulls;
            int count;
            deconstruct_array(DatumGetArrayTypeP(values[kActions - 1]), TEXTOID, -1, false, TYPALIGN_INT, &actions,
                              &action_nulls, &count);
            for (int i = 0; i < count; ++i) {
                if (action_nulls[i]) continue;
                char* action = TextDatumGetCString(actions[i]);
                if (strcmp(action, "insert") == 0) out->action_insert = true;
                else if (strcmp(action, "update") == 0) out->action_update = true;
                else if (strcmp(action, "delete") == 0) out->action_delete = true;
                else if (strcmp(action, "truncate") == 0) out->action_truncate = true;
            }
        }
        found = true;
        return false;
    });
    return found;
}

void check_crm_is_mapped(const char* crm, const char* slot_name) {
    bool own_transaction = !IsTransactionState();
    if (own_transaction) StartTransactionCommand();

    Oid mappings = mappings_relid();
    if (!OidIsValid(mappings))
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_OBJECT),
                        errmsg("extension crmsync is not installed in database \"%s\"",
                               get_database_name(MyDatabaseId)),
                        errhint("Run CREATE EXTENSION crmsync in this database, then map tables with "
                                "crmsync.map().")));
    bool mapped = false;
    scan_mappings(mappings, crm, [&](Datum*, bool*) {
        mapped = true;
        return false;
    });
    // The crm's own slot may be drained after its last table was unmapped: it holds
    // changes made while the mappings existed.
    if (!mapped && slot_name && strncmp(slot_name, "crmsync_", 8) == 0 && strcmp(slot_name + 8, crm) == 0)
        mapped = true;
    if (!mapped) {
        StringInfoData known;  // ", a, b," while collecting
        initStringInfo(&known);
        appendStringInfoChar(&known, ',');
        scan_mappings(mappings, nullptr, [&](Datum* values, bool*) {
            // A handful of names is enough for a hint; rows of one crm are listed once.
            char* name = psprintf(", %s,", TextDatumGetCString(values[kCrm - 1]));
            if (strstr(known.data, name) == nullptr && known.len < 200) appendStringInfoString(&known, name + 1);
            return true;
        });
        ereport(ERROR, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                        errmsg("unknown crm \"%s\": crmsync.mappings has no mapping for it", crm),
                        known.len > 1 ? errdetail("Mapped crms: %.*s.", known.len - 3, known.data + 2)
                                      : errdetail("No crm has a mapping yet."),
                        errhint("Map a table first: SELECT crmsync.map('%s', 'public.contacts', 'contacts', "
                                "'email');",
                                crm)));
    }
    if (own_transaction) CommitTransactionCommand();
}

}  // namespace crmsync::pg
