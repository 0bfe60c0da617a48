#include "pg/row_mapping.hpp"

namespace crmsync::pg {
namespace {

bool is_unchanged_toast(const Form_pg_attribute attr, Datum value) {
    return attr->attlen == -1 && VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(value));
}

void add_property(RelationSyncEntry* entry, int* n, const ColumnPlan& plan, Datum value) {
    render::Property& p = entry->props[(*n)++];
    p.name = plan.name;
    column_value(plan, value, &p.value);
}

// A computed property, evaluated on the new row. A column it reads that is an unchanged
// TOASTed value (not in the WAL) comes from a full old row; without one the property is
// left out, as such a column is: the CRM keeps what it has. With changed-only, it is sent
// only when a column it reads changed (the expression is immutable).
void add_computed_property(RelationSyncEntry* entry, TupleDesc desc, const ComputedProperty& computed, bool have_old,
                           bool changed_only, int* n) {
    PreparedExpression* expression = computed.expression;
    const Datum* values = entry->new_values;
    Datum* merged = nullptr;
    bool changed = !changed_only;
    for (int r = 0; r < expression->nreads; ++r) {
        int i = expression->reads[r] - 1;
        Form_pg_attribute attr = TupleDescAttr(desc, i);
        if (!entry->new_nulls[i] && is_unchanged_toast(attr, entry->new_values[i])) {
            if (!have_old || entry->old_nulls[i] || is_unchanged_toast(attr, entry->old_values[i])) return;
            if (!merged) {
                merged = static_cast<Datum*>(palloc(sizeof(Datum) * entry->natts));
                memcpy(merged, entry->new_values, sizeof(Datum) * entry->natts);
                values = merged;
            }
            merged[i] = entry->old_values[i];
        }
        if (!changed)
            changed = entry->new_nulls[i] != entry->old_nulls[i] ||
                      (!entry->new_nulls[i] &&
                       !datumIsEqual(entry->old_values[i], values[i], attr->attbyval, attr->attlen));
    }
    if (!changed) return;
    bool isnull;
    Datum value = evaluate_expression(expression, values, entry->new_nulls, &isnull);
    if (isnull)
        entry->props[(*n)++] = {computed.plan.name, render::Value::null()};
    else
        add_property(entry, n, computed.plan, value);
}

}  // namespace

void map_delete(RelationSyncEntry* entry, TupleDesc desc, HeapTuple old_tuple, bool deformed, render::Value* id,
                const char** error) {
    *error = entry->id_error;
    if (*error) return;
    if (!old_tuple) {
        *error = psprintf("the delete carries no old row: table %s has REPLICA IDENTITY NOTHING, or DEFAULT without "
                          "a primary key; run ALTER TABLE %s REPLICA IDENTITY FULL",
                          entry->qualified_name, entry->qualified_name);
        return;
    }
    if (!deformed) heap_deform_tuple(old_tuple, desc, entry->old_values, entry->old_nulls);
    int i = entry->id.attnum - 1;
    if (!entry->old_nulls[i]) {
        column_value(entry->id, entry->old_values[i], id);
        return;
    }
    *error = entry->delete_key_error
                 ? entry->delete_key_error
                 : psprintf("id column of table %s is NULL in the deleted row", entry->qualified_name);
}

void map_upsert(RelationSyncEntry* entry, TupleDesc desc, HeapTuple old_tuple, HeapTuple new_tuple, MapHow how,
                MappedUpsert* out) {
    bool have_old = old_tuple != nullptr;
    if (!how.deformed) {
        heap_deform_tuple(new_tuple, desc, entry->new_values, entry->new_nulls);
        if (have_old) heap_deform_tuple(old_tuple, desc, entry->old_values, entry->old_nulls);
    }

    out->error = entry->id_error;
    out->key_changed = false;
    if (!out->error) {
        int i = entry->id.attnum - 1;
        Form_pg_attribute attr = TupleDescAttr(desc, i);
        bool id_from_old = !entry->new_nulls[i] && is_unchanged_toast(attr, entry->new_values[i]);
        if (entry->new_nulls[i]) {
            out->error = psprintf("id column of table %s is NULL; the row cannot be matched to a CRM record",
                                  entry->qualified_name);
            // It had a key before: that record no longer matches the row.
            if (have_old && !entry->old_nulls[i]) {
                out->key_changed = true;
                column_value(entry->id, entry->old_values[i], &out->old_id);
            }
        }
        else if (id_from_old && !(have_old && !entry->old_nulls[i]))
            out->error = psprintf("id column of table %s is an unchanged TOASTed value the update does not carry",
                                  entry->qualified_name);
        else
            column_value(entry->id, id_from_old ? entry->old_values[i] : entry->new_values[i], &out->id);

        if (!out->error && have_old && !id_from_old && !entry->old_nulls[i] &&
            !column_values_equal(entry->id, attr, entry->old_values[i], entry->new_values[i])) {
            out->key_changed = true;
            column_value(entry->id, entry->old_values[i], &out->old_id);
        }
    }

    // Only REPLICA IDENTITY FULL logs whole old rows; with any other identity an old row
    // holds just the key columns and says nothing about what else changed.
    // A row that moved to another key is a new record there: send all of it.
    bool changed_only = how.changed_only && have_old && entry->full_identity && !out->key_changed && !how.whole_row;
    // Its unchanged TOASTed values are only in a full old row.
    bool toast_from_old = (out->key_changed || how.whole_row) && have_old && entry->full_identity;
    int n = 0;
    for (int c = 0; c < entry->ncolumns; ++c) {
        const ColumnPlan& plan = entry->columns[c];
        int i = plan.attnum - 1;
        Form_pg_attribute attr = TupleDescAttr(desc, i);
        if (entry->new_nulls[i]) {
            if (changed_only && entry->old_nulls[i]) continue;
            entry->props[n++] = {plan.name, render::Value::null()};
            continue;
        }
        // A TOASTed value the update did not touch is not in the WAL: leave the CRM's as is.
        if (is_unchanged_toast(attr, entry->new_values[i])) {
            if (toast_from_old && !entry->old_nulls[i] && !is_unchanged_toast(attr, entry->old_values[i]))
                add_property(entry, &n, plan, entry->old_values[i]);
            continue;
        }
        if (changed_only && !entry->old_nulls[i] &&
            column_values_equal(plan, attr, entry->old_values[i], entry->new_values[i]))
            continue;
        add_property(entry, &n, plan, entry->new_values[i]);
    }
    for (int c = 0; c < entry->ncomputed; ++c)
        add_computed_property(entry, desc, entry->computed[c], have_old, changed_only, &n);
    out->nprops = n;
}

}  // namespace crmsync::pg
