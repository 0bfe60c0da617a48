#include "pg/mapping_expression.hpp"

#include "pg/compat.hpp"

extern "C" {
#include "access/transam.h"
#include "catalog/pg_proc.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "parser/parser.h"
#include "utils/regproc.h"
#include "utils/relcache.h"
}

namespace crmsync::pg {
namespace {

// Every error raised while an expression is checked shows it. A parser error's cursor
// points into the filter, not into the statement that wrote the mapping: report it as an
// internal query, the way SPI does for the statements it runs.
struct ErrorPlace {
    const char* what;  // "crmsync row filter", "crmsync computed property \"x\""
    const char* text;
};

void expression_error_context(void* arg) {
    auto* place = static_cast<ErrorPlace*>(arg);
    const char* filter = place->text;
    int position = geterrposition();
    if (position > 0) {
        errposition(0);
        internalerrposition(position);
        internalerrquery(filter);
    }
    errcontext("%s: %s", place->what, filter);
}

[[noreturn]] void refuse(const char* why, const char* hint) {
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("%s", why),
                    hint ? errhint("%s", hint) : 0));
    pg_unreachable();
}

void check_function(Oid funcid, const char* what) {
    if (funcid >= FirstNormalObjectId)
        refuse(psprintf("%s may call only built-in functions; %s is user-defined", what, format_procedure(funcid)),
               "Postgres' own immutable functions and operators are allowed (lower(), ||, =, date_trunc on a "
               "date, ...).");
    if (func_volatile(funcid) != PROVOLATILE_IMMUTABLE)
        refuse(psprintf("%s may call only immutable functions; %s is not (its result can change for the same row)",
                        what, format_procedure(funcid)),
               "It is evaluated when the change is decoded, perhaps much later: it must give the same "
               "answer for the same row every time (no now(), random() or lookups).");
}

void check_operator(Oid opno, Oid funcid, const char* what) {
    if (opno >= FirstNormalObjectId)
        refuse(psprintf("%s may use only built-in operators; %s is user-defined", what, format_operator(opno)),
               nullptr);
    check_function(funcid, what);
}

// For the refusal of an expression that is not allowed: what the user wrote, roughly.
const char* kind_of(Node* node) {
    switch (nodeTag(node)) {
        case T_SubscriptingRef: return "subscripts (a[1], j['key'])";
        case T_FieldSelect: return "a field of a composite value ((row).field)";
        case T_SQLValueFunction: return "CURRENT_DATE, CURRENT_USER or a similar value";
        case T_XmlExpr: return "XML expressions";
        case T_Param: return "parameters";
        case T_NextValueExpr: return "sequence values";
        default: return "this kind of expression";
    }
}

// Which kinds of expression a filter may contain: those whose value depends only on the
// row (and constants), as Postgres allows in a publication's WHERE.
bool check_node(Node* node, void* context) {
    if (node == nullptr) return false;
    const char* what = static_cast<const char*>(context);
    if (IsA(node, List)) return walk_expression(node, check_node, context);
    switch (nodeTag(node)) {
        case T_Var:
            if (reinterpret_cast<Var*>(node)->varattno <= 0)
                refuse(psprintf("%s cannot read system columns (ctid, xmin, ...)", what),
                       "Filter on the table's own columns.");
            break;
        case T_FuncExpr:
            check_function(reinterpret_cast<FuncExpr*>(node)->funcid, what);
            break;
        case T_OpExpr:
        case T_DistinctExpr:
        case T_NullIfExpr: {
            auto* op = reinterpret_cast<OpExpr*>(node);
            set_opfuncid(op);
            check_operator(op->opno, op->opfuncid, what);
            break;
        }
        case T_ScalarArrayOpExpr: {
            auto* op = reinterpret_cast<ScalarArrayOpExpr*>(node);
            set_sa_opfuncid(op);
            check_operator(op->opno, op->opfuncid, what);
            break;
        }
        case T_Const:
        case T_BoolExpr:
        case T_NullTest:
        case T_BooleanTest:
        case T_CaseExpr:
        case T_CaseTestExpr:
        case T_ArrayExpr:
        case T_RowExpr:
        case T_CoalesceExpr:
        case T_MinMaxExpr:
        case T_RelabelType:
        case T_CollateExpr:
        case T_CoerceViaIO:      // input/output functions: immutability checked below
        case T_ArrayCoerceExpr:
            break;
        case T_SubLink:
            refuse(psprintf("%s cannot contain a subquery", what),
                   "It sees only the changed row: use its own columns, or keep the looked-up value in a column "
                   "of the table.");
        default:
            refuse(psprintf("%s cannot contain %s", what, kind_of(node)),
                   "Allowed: columns, constants, built-in immutable functions and operators, AND/OR/NOT, CASE, "
                   "COALESCE, IS [NOT] NULL, IN (...), casts.");
    }
    Oid type = exprType(node);
    if (type >= FirstNormalObjectId)
        refuse(psprintf("%s cannot use user-defined types; %s is one", what, format_type_be(type)),
               "Use columns of built-in types.");
    if (exprCollation(node) >= FirstNormalObjectId || exprInputCollation(node) >= FirstNormalObjectId)
        refuse(psprintf("%s cannot use user-defined collations", what), nullptr);
    return walk_expression(node, check_node, context);
}

// The raw expression of "filter", refusing anything but a single expression (a filter
// that tries to close it and add clauses or statements parses as something else).
Node* parse_single_expression(const char* filter, const char* what) {
    List* statements = raw_parser(filter, RAW_PARSE_PLPGSQL_EXPR);
    SelectStmt* select = nullptr;
    if (list_length(statements) == 1) {
        Node* statement = reinterpret_cast<RawStmt*>(linitial(statements))->stmt;
        if (IsA(statement, SelectStmt)) select = reinterpret_cast<SelectStmt*>(statement);
    }
    if (select == nullptr || select->op != SETOP_NONE || list_length(select->targetList) != 1 ||
        select->distinctClause || select->intoClause || select->fromClause || select->whereClause ||
        select->groupClause || select->havingClause || select->windowClause || select->sortClause ||
        select->limitCount || select->limitOffset || select->lockingClause || select->withClause ||
        reinterpret_cast<ResTarget*>(linitial(select->targetList))->name != nullptr)
        ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR), errmsg("%s must be one expression", what),
                        errhint("Examples: NOT is_test AND tenant_id = 7; first_name || ' ' || last_name (no SELECT, "
                                "FROM or ;).")));
    return reinterpret_cast<ResTarget*>(linitial(select->targetList))->val;
}

// The first column the expression reads that the replica identity lacks, or nullptr.
const char* column_outside_identity(Relation relation, Node* expr) {
    if (relation->rd_rel->relreplident == REPLICA_IDENTITY_FULL) return nullptr;
    Bitmapset* read = nullptr;
    pull_varattnos(expr, 1, &read);
    Bitmapset* identity = relation->rd_rel->relreplident == REPLICA_IDENTITY_NOTHING
                              ? nullptr
                              : RelationGetIndexAttrBitmap(relation, INDEX_ATTR_BITMAP_IDENTITY_KEY);
    for (int member = -1; (member = bms_next_member(read, member)) >= 0;)
        if (!bms_is_member(member, identity))
            return get_attname(RelationGetRelid(relation), member + FirstLowInvalidHeapAttributeNumber, false);
    return nullptr;
}

char* qualified_name(Relation relation) {
    return quote_qualified_identifier(get_namespace_name(RelationGetNamespace(relation)),
                                      RelationGetRelationName(relation));
}

struct FitContext {
    TupleDesc desc;
    const char* problem;  // set on the first mismatch
};

// A stored plan refers to columns by number and type: after ALTER TABLE it may not fit.
bool check_fit(Node* node, void* context) {
    if (node == nullptr) return false;
    auto* fit = static_cast<FitContext*>(context);
    if (IsA(node, Var)) {
        auto* var = reinterpret_cast<Var*>(node);
        if (var->varattno < 1 || var->varattno > fit->desc->natts) {
            fit->problem = "reads a column that no longer exists";
            return true;
        }
        Form_pg_attribute attr = TupleDescAttr(fit->desc, var->varattno - 1);
        if (attr->attisdropped) {
            fit->problem = "reads a column that was dropped";
            return true;
        }
        if (attr->atttypid != var->vartype || attr->attcollation != var->varcollid) {
            fit->problem = psprintf("reads column \"%s\", whose type changed", NameStr(attr->attname));
            return true;
        }
        return false;
    }
    return walk_expression(node, check_fit, context);
}

// Parses and checks `text` as `what` (for messages) of `relation`; a row filter is made
// boolean. Returns the checked expression.
Node* plan_expression(Relation relation, const char* text, const char* what, const char* context_name, bool boolean,
                      bool filters_old_rows) {
    ErrorPlace place{context_name, text};
    ErrorContextCallback context{error_context_stack, expression_error_context, &place};
    error_context_stack = &context;

    Node* raw = parse_single_expression(text, what);
    ParseState* pstate = make_parsestate(nullptr);
    pstate->p_sourcetext = text;
    ParseNamespaceItem* item = addRangeTableEntryForRelation(pstate, relation, AccessShareLock, nullptr, false, false);
    addNSItemToQuery(pstate, item, false, true, true);
    // WHERE's rules: aggregates, window and set-returning functions are refused by the parser.
    Node* expr = transformExpr(pstate, raw, EXPR_KIND_WHERE);
    if (boolean) expr = coerce_to_boolean(pstate, expr, "crmsync row filter");
    assign_expr_collations(pstate, expr);
    check_node(expr, const_cast<char*>(what));
    if (contain_mutable_functions(expr))
        refuse(psprintf("%s may call only immutable functions; a cast or value in it is not (e.g. text::date, "
                        "CURRENT_DATE)",
                        what),
               "It is evaluated when the change is decoded, perhaps much later: it must give the same "
               "answer for the same row every time.");
    if (filters_old_rows)
        if (const char* column = column_outside_identity(relation, expr)) {
            char* table = qualified_name(relation);
            ereport(ERROR,
                    (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                     errmsg("%s reads column \"%s\", which is not part of the replica identity of table %s, so "
                            "updates and deletes could not be filtered (their old row carries only the identity)",
                            what, column, table),
                     errhint("Run ALTER TABLE %s REPLICA IDENTITY FULL, or filter on identity columns only, or map "
                             "only inserts (actions => '{insert}').",
                             table)));
        }
    free_parsestate(pstate);
    error_context_stack = context.previous;
    return expr;
}

}  // namespace

char* plan_row_filter(Relation relation, const char* filter, bool filters_old_rows) {
    return nodeToString(plan_expression(relation, filter, "a row filter", "crmsync row filter", true, filters_old_rows));
}

char* plan_computed_property(Relation relation, const char* property, const char* expression) {
    char* what = psprintf("computed property \"%s\"", property);
    // Its result type is checked with every node's: a user-defined one is refused.
    return nodeToString(plan_expression(relation, expression, what, psprintf("crmsync %s", what), false, false));
}

ExpressionSet* create_expression_set(Relation relation, MemoryContext context) {
    MemoryContext caller = MemoryContextSwitchTo(context);
    auto* set = static_cast<ExpressionSet*>(palloc0(sizeof(ExpressionSet)));
    set->estate = CreateExecutorState();
    set->econtext = GetPerTupleExprContext(set->estate);
    TupleDesc desc = CreateTupleDescCopy(RelationGetDescr(relation));
    set->slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
    set->natts = desc->natts;
    MemoryContextSwitchTo(caller);
    return set;
}

void reset_expressions(ExpressionSet* set) {
    ResetExprContext(set->econtext);
    set->loaded_values = nullptr;
    set->loaded_nulls = nullptr;
}

PreparedExpression* prepare_expression(const char* plan, Relation relation, ExpressionSet* set, const char* what,
                                       bool filters_old_rows, MemoryContext context, char** error) {
    MemoryContext caller = MemoryContextSwitchTo(context);
    char* table = qualified_name(relation);
    auto* expr = static_cast<Node*>(stringToNode(plan));
    FitContext fit{RelationGetDescr(relation), nullptr};
    if (check_fit(expr, &fit)) {
        *error = psprintf("%s of table %s %s: it cannot be evaluated until the mapping is set again with "
                          "crmsync.map()",
                          what, table, fit.problem);
        MemoryContextSwitchTo(caller);
        return nullptr;
    }
    if (filters_old_rows)
        if (const char* column = column_outside_identity(relation, expr)) {
            *error = psprintf("%s of table %s reads column \"%s\", which is no longer part of its replica identity, "
                              "so old rows cannot be filtered: run ALTER TABLE %s REPLICA IDENTITY FULL",
                              what, table, column, table);
            MemoryContextSwitchTo(caller);
            return nullptr;
        }
    auto* prepared = static_cast<PreparedExpression*>(palloc0(sizeof(PreparedExpression)));
    prepared->set = set;
    prepared->state = ExecPrepareExpr(reinterpret_cast<Expr*>(expr), set->estate);
    prepared->type = exprType(expr);
    Bitmapset* read = nullptr;
    pull_varattnos(expr, 1, &read);
    prepared->reads = static_cast<AttrNumber*>(palloc(sizeof(AttrNumber) * (bms_num_members(read) + 1)));
    for (int member = -1; (member = bms_next_member(read, member)) >= 0;)
        prepared->reads[prepared->nreads++] = static_cast<AttrNumber>(member + FirstLowInvalidHeapAttributeNumber);
    MemoryContextSwitchTo(caller);
    return prepared;
}

namespace {

Datum evaluate(PreparedExpression* expression, const Datum* values, const bool* nulls, bool* isnull) {
    ExpressionSet* set = expression->set;
    // The filter and every computed property of a change read the same row: stored once.
    if (set->loaded_values != values || set->loaded_nulls != nulls) {
        TupleTableSlot* slot = set->slot;
        ExecClearTuple(slot);
        memcpy(slot->tts_values, values, sizeof(Datum) * set->natts);
        memcpy(slot->tts_isnull, nulls, sizeof(bool) * set->natts);
        ExecStoreVirtualTuple(slot);
        set->econtext->ecxt_scantuple = slot;
        set->loaded_values = values;
        set->loaded_nulls = nulls;
    }
    return ExecEvalExprSwitchContext(expression->state, set->econtext, isnull);
}

}  // namespace

bool row_filter_passes(RowFilter* filter, const Datum* values, const bool* nulls) {
    bool isnull;
    Datum result = evaluate(filter, values, nulls, &isnull);
    return !isnull && DatumGetBool(result);
}

Datum evaluate_expression(PreparedExpression* expression, const Datum* values, const bool* nulls, bool* isnull) {
    return evaluate(expression, values, nulls, isnull);
}

}  // namespace crmsync::pg
