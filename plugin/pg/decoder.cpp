// The output plugin's callbacks: decode (Postgres hands us a change) -> map (the relation's
// cached plan) -> render (pure zone, straight into ctx->out) -> socket (OutputPluginWrite).
// These functions are called by Postgres and call back into it; they hold no C++ object
// with a destructor, so an ERROR's longjmp through them is safe. Pure C++ is reached only
// through run_pure(), whose failures become ERRORs here, after C++ has been left.
#include "pg/column_values.hpp"
#include "pg/compat.hpp"
#include "pg/guard.hpp"
#include "pg/mapping_catalog.hpp"
#include "pg/options.hpp"
#include "pg/relation_cache.hpp"
#include "pg/mapping_expression.hpp"
#include "pg/row_mapping.hpp"
#include "pg/stringinfo_out.hpp"
#include "render/message.hpp"

namespace crmsync::pg {
namespace {

struct DecodingState {
    PluginOptions options;
    MemoryContext change_context;  // reset after every change
    MemoryContext cache_context;   // the relation cache
    render::TxnStamp txn;
    uint32_t seq;  // messages sent for the current transaction
};

DecodingState* state_of(LogicalDecodingContext* ctx) { return static_cast<DecodingState*>(ctx->output_plugin_private); }

// PG 15: a long transaction whose changes are all filtered out must still report progress,
// or the walsender sends nothing for wal_sender_timeout and the client is cut off.
void update_progress(LogicalDecodingContext* ctx, bool skipped_xact) {
    static int changes_since_update = 0;
    if (ctx->end_xact || ++changes_since_update >= 100) {
        OutputPluginUpdateProgress(ctx, skipped_xact);
        changes_since_update = 0;
    }
}

void render_failed(const char* what, const char* table, const PureError& err) {
    ereport(ERROR, (CRMSYNC_PURE_ERROR_CODE_AND_HINT(err),
                    errmsg("crmsync could not render %s%s%s: %s", what, table ? " of table " : "", table ? table : "",
                           err.message)));
}

// Renders one message into ctx->out and sends it.
template <typename Render>
void send_message(LogicalDecodingContext* ctx, const char* what, const char* table, Render&& render) {
    OutputPluginPrepareWrite(ctx, true);
    render::OutBuffer out = stringinfo_out(ctx->out);
    PureError err;
    if (!run_pure(err, [&] { render(out); })) render_failed(what, table, err);
    finish_stringinfo(ctx->out, out);
    OutputPluginWrite(ctx, true);
}

void send_delete(LogicalDecodingContext* ctx, DecodingState* state, RelationSyncEntry* entry, TupleDesc desc,
                 HeapTuple old_tuple, bool deformed) {
    render::Value id;
    const char* error;
    map_delete(entry, desc, old_tuple, deformed, &id, &error);
    if (entry->expression_error) error = entry->expression_error;
    uint32_t seq = ++state->seq;
    send_message(ctx, "a delete", entry->qualified_name, [&](render::OutBuffer& out) {
        render::write_delete(out, entry->shape, state->txn, seq, error ? nullptr : &id, error ? error : "");
    });
}

void send_upsert(LogicalDecodingContext* ctx, DecodingState* state, RelationSyncEntry* entry, TupleDesc desc,
                 HeapTuple old_tuple, HeapTuple new_tuple, bool deformed = false, bool whole_row = false) {
    MappedUpsert row;
    map_upsert(entry, desc, old_tuple, new_tuple, {state->options.changed_only, deformed, whole_row}, &row);
    // A filter that cannot be evaluated: the change goes out with the reason, not silently.
    if (entry->expression_error) {
        row.error = entry->expression_error;
        row.key_changed = false;
    }
    // The key itself changed: the record under the old key goes away first (unless the
    // row only now enters the row filter: there is no such record).
    if (row.key_changed && entry->on_delete && !whole_row) {
        uint32_t seq = ++state->seq;
        send_message(ctx, "a key change", entry->qualified_name, [&](render::OutBuffer& out) {
            render::write_delete(out, entry->shape, state->txn, seq, &row.old_id, "");
        });
    }
    uint32_t seq = ++state->seq;
    send_message(ctx, "a change", entry->qualified_name, [&](render::OutBuffer& out) {
        if (row.error)
            render::write_unkeyed_upsert(out, entry->shape, state->txn, seq, row.error, entry->props, row.nprops);
        else
            render::write_upsert(out, entry->shape, state->txn, seq, row.id, entry->props, row.nprops);
    });
}

// An update's new row as the filter must see it: an unchanged TOASTed value is not in the
// WAL's new row, but the old row carries it when the column is in the replica identity
// (which a filter on updates must cover), as pgoutput does for its row filters.
bool new_row_passes(RelationSyncEntry* entry, TupleDesc desc, bool have_old) {
    const Datum* values = entry->new_values;
    Datum* merged = nullptr;
    for (int i = 0; have_old && i < entry->natts; ++i) {
        if (entry->new_nulls[i] || entry->old_nulls[i] || TupleDescAttr(desc, i)->attlen != -1) continue;
        if (!VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(entry->new_values[i])) ||
            VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(entry->old_values[i])))
            continue;
        if (!merged) {
            merged = static_cast<Datum*>(palloc(sizeof(Datum) * entry->natts));
            memcpy(merged, entry->new_values, sizeof(Datum) * entry->natts);
            values = merged;
        }
        merged[i] = entry->old_values[i];
    }
    return row_filter_passes(entry->row_filter, values, entry->new_nulls);
}

// Insert and update through the row filter. Cases as for publication row filters: a row
// that neither was nor is in the filter is skipped; one that leaves it is a delete (when
// on_filter_exit = 'delete' and deletes are mapped); one that enters it is sent whole.
void send_filtered_upsert(LogicalDecodingContext* ctx, DecodingState* state, RelationSyncEntry* entry, TupleDesc desc,
                          HeapTuple old_tuple, HeapTuple new_tuple) {
    heap_deform_tuple(new_tuple, desc, entry->new_values, entry->new_nulls);
    if (old_tuple) heap_deform_tuple(old_tuple, desc, entry->old_values, entry->old_nulls);
    bool new_passes = new_row_passes(entry, desc, old_tuple != nullptr);
    bool old_passes = old_tuple ? row_filter_passes(entry->row_filter, entry->old_values, entry->old_nulls) : new_passes;
    if (new_passes) {
        send_upsert(ctx, state, entry, desc, old_tuple, new_tuple, true, !old_passes);
    } else if (old_passes && old_tuple && entry->delete_on_filter_exit && entry->on_delete) {
        send_delete(ctx, state, entry, desc, old_tuple, true);
    }
}

void crmsync_startup(LogicalDecodingContext* ctx, OutputPluginOptions* opt, bool is_init) {
    auto* state = static_cast<DecodingState*>(MemoryContextAllocZero(ctx->context, sizeof(DecodingState)));
    state->change_context = AllocSetContextCreate(ctx->context, "crmsync change", ALLOCSET_DEFAULT_SIZES);
    state->cache_context = AllocSetContextCreate(ctx->context, "crmsync relation cache", ALLOCSET_SMALL_SIZES);
    ctx->output_plugin_private = state;

    // The JSON is always UTF-8. Declared textual only where that is the database encoding
    // too; elsewhere binary, read with pg_logical_slot_get_binary_changes().
    int encoding = GetDatabaseEncoding();
    opt->output_type = (encoding == PG_UTF8 || encoding == PG_SQL_ASCII) ? OUTPUT_PLUGIN_TEXTUAL_OUTPUT
                                                                        : OUTPUT_PLUGIN_BINARY_OUTPUT;
    opt->receive_rewrites = false;
    set_database_encoding_conversion();

    if (is_init) return;  // slot creation passes no options
    parse_plugin_options(ctx->output_plugin_options, &state->options);
    check_crm_is_mapped(state->options.crm, ctx->slot ? NameStr(ctx->slot->data.name) : nullptr);
    relation_cache_init(state->cache_context);
}

void crmsync_shutdown(LogicalDecodingContext*) {
    // Everything lives in ctx->context and goes with it; the relation cache's reset
    // callback forgets the cache (this callback is skipped when SQL decoding errors out).
}

void crmsync_begin(LogicalDecodingContext* ctx, ReorderBufferTXN* txn) {
    DecodingState* state = state_of(ctx);
    state->seq = 0;
    PureError err;
    if (!run_pure(err, [&] {
            render::build_txn_stamp(state->txn, txn->final_lsn, txn->xid, true, txn->xact_time.commit_time);
        }))
        render_failed("a transaction", nullptr, err);
}

void crmsync_commit(LogicalDecodingContext* ctx, ReorderBufferTXN* txn, XLogRecPtr) {
    DecodingState* state = state_of(ctx);
    bool skipped = state->seq == 0;
    update_progress(ctx, skipped);
    // Transactions that touched nothing mapped send nothing, not even a commit marker.
    if (skipped || !state->options.include_commits) return;
    uint32_t count = state->seq;
    send_message(ctx, "a commit", nullptr,
                 [&](render::OutBuffer& out) { render::write_commit(out, state->txn, txn->end_lsn, count); });
}

void crmsync_change(LogicalDecodingContext* ctx, ReorderBufferTXN*, Relation relation,
                               ReorderBufferChange* change) {
    DecodingState* state = state_of(ctx);
    update_progress(ctx, false);

    // A mapping changed: what follows in the WAL is decoded with the new one.
    if (RelationGetRelid(relation) == relation_cache_mappings_relid()) {
        relation_cache_invalidate_all();
        return;
    }
    RelationSyncEntry* entry = relation_cache_get(relation, state->options);
    if (!entry->mapped) return;

    MemoryContext caller = MemoryContextSwitchTo(state->change_context);
    TupleDesc desc = RelationGetDescr(relation);
    HeapTuple old_tuple = change_tuple(change->data.tp.oldtuple);
    HeapTuple new_tuple = change_tuple(change->data.tp.newtuple);
    bool filtered = entry->row_filter != nullptr;
    switch (change->action) {
        case REORDER_BUFFER_CHANGE_INSERT:
            if (!entry->on_insert) break;
            if (filtered) send_filtered_upsert(ctx, state, entry, desc, nullptr, new_tuple);
            else send_upsert(ctx, state, entry, desc, nullptr, new_tuple);
            break;
        case REORDER_BUFFER_CHANGE_UPDATE:
            if (!entry->on_update) break;
            if (filtered) send_filtered_upsert(ctx, state, entry, desc, old_tuple, new_tuple);
            else send_upsert(ctx, state, entry, desc, old_tuple, new_tuple);
            break;
        case REORDER_BUFFER_CHANGE_DELETE:
            if (!entry->on_delete) break;
            // Without an old row (REPLICA IDENTITY NOTHING) nothing can be filtered; the
            // delete goes out with the reason it has no key.
            if (filtered && old_tuple) {
                heap_deform_tuple(old_tuple, desc, entry->old_values, entry->old_nulls);
                if (row_filter_passes(entry->row_filter, entry->old_values, entry->old_nulls))
                    send_delete(ctx, state, entry, desc, old_tuple, true);
            } else {
                send_delete(ctx, state, entry, desc, old_tuple, false);
            }
            break;
        default:
            break;
    }
    MemoryContextSwitchTo(caller);
    MemoryContextReset(state->change_context);
    if (entry->expressions) reset_expressions(entry->expressions);
}

void crmsync_truncate(LogicalDecodingContext* ctx, ReorderBufferTXN*, int nrelations,
                                 Relation relations[], ReorderBufferChange*) {
    DecodingState* state = state_of(ctx);
    update_progress(ctx, false);
    for (int r = 0; r < nrelations; ++r) {
        if (RelationGetRelid(relations[r]) == relation_cache_mappings_relid()) {
            relation_cache_invalidate_all();
            continue;
        }
        RelationSyncEntry* entry = relation_cache_get(relations[r], state->options);
        if (!entry->mapped || !entry->on_truncate) continue;
        uint32_t seq = ++state->seq;
        send_message(ctx, "a truncate", entry->qualified_name, [&](render::OutBuffer& out) {
            render::write_truncate(out, entry->shape, state->txn, seq);
        });
    }
}

bool message_is_ours(const char* prefix, const char* crm) {
    if (strncmp(prefix, "crmsync", 7) != 0) return false;
    if (prefix[7] == '\0') return true;
    return prefix[7] == ':' && strcmp(prefix + 8, crm) == 0;
}

// "crmsync-backfill:<crm>": the sender's backfill watermarks (docs/backfill.md). They pass
// even with messages=false: the sender needs their position in the stream, not the user.
bool message_is_backfill_watermark(const char* prefix, const char* crm) {
    constexpr char kPrefix[] = "crmsync-backfill:";
    return strncmp(prefix, kPrefix, sizeof kPrefix - 1) == 0 && strcmp(prefix + sizeof kPrefix - 1, crm) == 0;
}

void crmsync_message(LogicalDecodingContext* ctx, ReorderBufferTXN*, XLogRecPtr message_lsn,
                                bool transactional, const char* prefix, Size size, const char* content) {
    DecodingState* state = state_of(ctx);
    update_progress(ctx, false);
    if (!message_is_backfill_watermark(prefix, state->options.crm) &&
        (!state->options.messages || !message_is_ours(prefix, state->options.crm)))
        return;

    render::TxnStamp own_stamp;
    const render::TxnStamp* stamp = &state->txn;
    uint32_t seq;
    if (transactional) {
        seq = ++state->seq;
    } else {
        // Sent at once, outside any transaction's order: its own LSN identifies it.
        // No xid either: the message does not belong to the transaction that emitted it,
        // which may still roll back.
        PureError err;
        // Its id is (the LSN of its last byte, 1): message_lsn is where the next record
        // starts, maybe the commit record of the transaction that emitted it, which would
        // give two events one id. No commit record can start inside the message.
        if (!run_pure(err, [&] {
                render::build_txn_stamp(own_stamp, message_lsn - 1, InvalidTransactionId, false, 0);
            }))
            render_failed("a message", nullptr, err);
        stamp = &own_stamp;
        seq = 1;
    }
    send_message(ctx, "a message", nullptr, [&](render::OutBuffer& out) {
        render::write_logical_message(out, *stamp, seq, prefix, transactional, content, size);
    });
    // A non-transactional message is its own unit of delivery: it gets a commit marker whose
    // end_lsn is the message's end (message_lsn), past which a restart does not resend it.
    if (!transactional && state->options.include_commits)
        send_message(ctx, "a message's commit", nullptr,
                     [&](render::OutBuffer& out) { render::write_commit(out, own_stamp, message_lsn, 1); });
}

bool crmsync_filter_by_origin(LogicalDecodingContext* ctx, RepOriginId origin_id) {
    return state_of(ctx)->options.skip_origin_changes && origin_id != InvalidRepOriginId;
}

}  // namespace

}  // namespace crmsync::pg

extern "C" {
PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_output_plugin_init(OutputPluginCallbacks* cb);

void _PG_output_plugin_init(OutputPluginCallbacks* cb) {
    using namespace crmsync::pg;
    cb->startup_cb = crmsync_startup;
    cb->begin_cb = crmsync_begin;
    cb->change_cb = crmsync_change;
    cb->truncate_cb = crmsync_truncate;
    cb->message_cb = crmsync_message;
    cb->commit_cb = crmsync_commit;
    cb->filter_by_origin_cb = crmsync_filter_by_origin;
    cb->shutdown_cb = crmsync_shutdown;
}
}
