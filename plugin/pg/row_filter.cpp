#include "pg/row_filter.hpp"

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

constexpr char kWhat[] = "a row filter";

// Every error raised while a filter is checked shows the filter. A parser error's cursor
// points into the filter, not into the statement that wrote the mapping: report it as an
// internal query, the way SPI does for the statements it runs.
void row_filter_error_context(void* arg) {
    const char* filter = static_cast<const char*>(arg);
    int position = geterrposition();
    if (position > 0) {
        errposition(0);
        internalerrposition(position);
        internalerrquery(filter);
    }
    errcontext("crmsync row filter: %s", filter);
}

[[noreturn]] void refuse(const char* why, const char* hint) {
    ereport(ERROR, (errcode(ERRCODE_FEATURE_NOT_SUPPORTED), errmsg("%s", why),
                    hint ? errhint("%s", hint) : 0));
    pg_unreachable();
}

void check_function(Oid funcid) {
    if (funcid >= FirstNormalObjectId)
        refuse(psprintf("%s may call only built-in functions; %s is user-defined", kWhat, format_procedure(funcid)),
               "Postgres' own immutable functions and operators are allowed (lower(), ||, =, date_trunc on a "
               "date, ...).");
    if (func_volatile(funcid) != PROVOLATILE_IMMUTABLE)
        refuse(psprintf("%s may call only immutable functions; %s is not (its result can change for the same row)",
                        kWhat, format_procedure(funcid)),
               "A filter is evaluated when the change is decoded, perhaps much later: it must give the same "
               "answer for the same row every time (no now(), random() or lookups).");
}

void check_operator(Oid opno, Oid funcid) {
    if (opno >= FirstNormalObjectId)
        refuse(psprintf("%s may use only built-in operators; %s is user-defined", kWhat, format_operator(opno)),
               nullptr);
    check_function(funcid);
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
    if (IsA(node, List)) return walk_expression(node, check_node, context);
    switch (nodeTag(node)) {
        case T_Var:
            if (reinterpret_cast<Var*>(node)->varattno <= 0)
                refuse(psprintf("%s cannot read system columns (ctid, xmin, ...)", kWhat),
                       "Filter on the table's own columns.");
            break;
        case T_FuncExpr:
            check_function(reinterpret_cast<FuncExpr*>(node)->funcid);
            break;
        case T_OpExpr:
        case T_DistinctExpr:
        case T_NullIfExpr: {
            auto* op = reinterpret_cast<OpExpr*>(node);
            set_opfuncid(op);
            check_operator(op->opno, op->opfuncid);
            break;
        }
        case T_ScalarArrayOpExpr: {
            auto* op = reinterpret_cast<ScalarArrayOpExpr*>(node);
            set_sa_opfuncid(op);
            check_operator(op->opno, op->opfuncid);
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
            refuse(psprintf("%s cannot contain a subquery", kWhat),
                   "A filter sees only the changed row: filter on its own columns, or keep the looked-up value "
                   "in a column of the table.");
        default:
            refuse(psprintf("%s cannot contain %s", kWhat, kind_of(node)),
                   "Allowed: columns, constants, built-in immutable functions and operators, AND/OR/NOT, CASE, "
                   "COALESCE, IS [NOT] NULL, IN (...), casts.");
    }
    Oid type = exprType(node);
    if (type >= FirstNormalObjectId)
        refuse(psprintf("%s cannot use user-defined types; %s is one", kWhat, format_type_be(type)),
               "Filter on columns of built-in types.");
    if (exprCollation(node) >= FirstNormalObjectId || exprInputCollation(node) >= FirstNormalObjectId)
        refuse(psprintf("%s cannot use user-defined collations", kWhat), nullptr);
    return walk_expression(node, check_node, context);
}

// The raw expression of "filter", refusing anything but a single expression (a filter
// that tries to close it and add clauses or statements parses as something else).
Node* parse_single_expression(const char* filter) {
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
        ereport(ERROR, (errcode(ERRCODE_SYNTAX_ERROR), errmsg("%s must be one boolean expression", kWhat),
                        errhint("Example: NOT is_test AND tenant_id = 7 (no SELECT, FROM or ;).")));
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

}  // namespace

char* plan_row_filter(Relation relation, const char* filter, bool filters_old_rows) {
    ErrorContextCallback context{error_context_stack, row_filter_error_context, const_cast<char*>(filter)};
    error_context_stack = &context;

    Node* raw = parse_single_expression(filter);
    ParseState* pstate = make_parsestate(nullptr);
    pstate->p_sourcetext = filter;
    ParseNamespaceItem* item = addRangeTableEntryForRelation(pstate, relation, AccessShareLock, nullptr, false, false);
    addNSItemToQuery(pstate, item, false, true, true);
    // WHERE's rules: aggregates, window and set-returning functions are refused by the parser.
    Node* expr = transformExpr(pstate, raw, EXPR_KIND_WHERE);
    expr = coerce_to_boolean(pstate, expr, "crmsync row filter");
    assign_expr_collations(pstate, expr);
    check_node(expr, nullptr);
    if (contain_mutable_functions(expr))
        refuse(psprintf("%s may call only immutable functions; a cast or value in it is not (e.g. text::date, "
                        "CURRENT_DATE)",
                        kWhat),
               "A filter is evaluated when the change is decoded, perhaps much later: it must give the same "
               "answer for the same row every time.");
    if (filters_old_rows)
        if (const char* column = column_outside_identity(relation, expr)) {
            char* table = qualified_name(relation);
            ereport(ERROR,
                    (errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
                     errmsg("%s reads column \"%s\", which is not part of the replica identity of table %s, so "
                            "updates and deletes could not be filtered (their old row carries only the identity)",
                            kWhat, column, table),
                     errhint("Run ALTER TABLE %s REPLICA IDENTITY FULL, or filter on identity columns only, or map "
                             "only inserts (actions => '{insert}').",
                             table)));
        }
    free_parsestate(pstate);
    error_context_stack = context.previous;
    return nodeToString(expr);
}

RowFilter* prepare_row_filter(const char* plan, Relation relation, bool filters_old_rows, MemoryContext context,
                              char** error) {
    MemoryContext caller = MemoryContextSwitchTo(context);
    char* table = qualified_name(relation);
    auto* expr = static_cast<Node*>(stringToNode(plan));
    FitContext fit{RelationGetDescr(relation), nullptr};
    if (check_fit(expr, &fit)) {
        *error = psprintf("the row filter of table %s %s: it cannot be evaluated until the mapping is set again "
                          "with crmsync.map()",
                          table, fit.problem);
        MemoryContextSwitchTo(caller);
        return nullptr;
    }
    if (filters_old_rows)
        if (const char* column = column_outside_identity(relation, expr)) {
            *error = psprintf("the row filter of table %s reads column \"%s\", which is no longer part of its replica "
                              "identity, so old rows cannot be filtered: run ALTER TABLE %s REPLICA IDENTITY FULL",
                              table, column, table);
            MemoryContextSwitchTo(caller);
            return nullptr;
        }
    auto* filter = static_cast<RowFilter*>(palloc0(sizeof(RowFilter)));
    filter->estate = CreateExecutorState();
    filter->state = ExecPrepareExpr(reinterpret_cast<Expr*>(expr), filter->estate);
    TupleDesc desc = CreateTupleDescCopy(RelationGetDescr(relation));
    filter->slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
    filter->natts = desc->natts;
    MemoryContextSwitchTo(caller);
    return filter;
}

bool row_filter_passes(RowFilter* filter, const Datum* values, const bool* nulls) {
    TupleTableSlot* slot = filter->slot;
    ExecClearTuple(slot);
    memcpy(slot->tts_values, values, sizeof(Datum) * filter->natts);
    memcpy(slot->tts_isnull, nulls, sizeof(bool) * filter->natts);
    ExecStoreVirtualTuple(slot);
    ExprContext* econtext = GetPerTupleExprContext(filter->estate);
    econtext->ecxt_scantuple = slot;
    bool isnull;
    Datum result = ExecEvalExprSwitchContext(filter->state, econtext, &isnull);
    bool passes = !isnull && DatumGetBool(result);
    ResetExprContext(econtext);
    return passes;
}

}  // namespace crmsync::pg
