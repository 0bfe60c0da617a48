// Mapping expressions: row filters, a boolean SQL expression over a mapped table's columns
// that decides which rows reach the CRM, and computed properties, an expression whose value
// is sent as a property (docs/mapping.md, "Row filters", "Computed properties"). Checked and
// planned once, when the mapping row is written (a trigger calls crmsync._row_filter_plan and
// crmsync._expression_plan), and stored as node trees; prepared once per relation cache
// entry; evaluated per change in the walsender, in the expression's own per-evaluation
// memory, reset after each row.
//
// The checks follow PostgreSQL's own for publication row filters (CREATE PUBLICATION ...
// WHERE): immutable built-in functions and operators only, no user-defined types or
// collations, no subqueries, aggregates, window or set-returning functions, no system
// columns; and the replica identity must cover the columns read when updates or deletes
// are mapped, since those are filtered on the old row, which holds only its identity.
#pragma once
#include "pg/postgres.hpp"

extern "C" {
#include "executor/executor.h"
}

namespace crmsync::pg {

// SQL side, in a normal transaction: parses `filter` against `relation`, checks it and
// returns its node tree (nodeToString). Every problem is an ERROR that names it.
char* plan_row_filter(Relation relation, const char* filter, bool filters_old_rows);

// The same for computed property `property`: any result type but a user-defined one.
char* plan_computed_property(Relation relation, const char* property, const char* expression);

// What all expressions of one mapped table share: one executor state, one slot the row is
// stored in once per change (not once per expression), and one per-change memory, reset by
// reset_expressions() after the change is sent (computed values are rendered from it).
struct ExpressionSet {
    EState* estate;
    ExprContext* econtext;
    TupleTableSlot* slot;  // virtual, the relation's columns
    int natts;
    const Datum* loaded_values;  // the row in the slot since the last reset, or nullptr
    const bool* loaded_nulls;
};

ExpressionSet* create_expression_set(Relation relation, MemoryContext context);

// Frees what the expressions of the last change allocated, their values included.
void reset_expressions(ExpressionSet* set);

struct PreparedExpression {
    ExprState* state;
    ExpressionSet* set;
    Oid type;              // the result's
    AttrNumber* reads;     // the columns it reads
    int nreads;
};
using RowFilter = PreparedExpression;

// Decoding side: prepares the stored `plan` for `relation` in `context`. Returns nullptr
// with *error set when the plan no longer fits the table (a column it reads was dropped or
// changed type, or, for a filter on old rows, left the replica identity): the caller
// reports that per change. `what` names it in that error ("the row filter", "computed
// property \"x\"").
PreparedExpression* prepare_expression(const char* plan, Relation relation, ExpressionSet* set, const char* what,
                                       bool filters_old_rows, MemoryContext context, char** error);

// Whether a row (deformed into values/nulls, the relation's natts) passes. NULL counts as
// false, as in a WHERE clause.
bool row_filter_passes(RowFilter* filter, const Datum* values, const bool* nulls);

// The expression's value for a row, valid until reset_expressions().
Datum evaluate_expression(PreparedExpression* expression, const Datum* values, const bool* nulls, bool* isnull);

}  // namespace crmsync::pg
