/*
 * crmsync_bench_floor: the floor for decode-throughput benchmarks.
 *
 * An output plugin that does the least any real plugin must do: it deforms every new and
 * old tuple it is handed (heap_deform_tuple over the relation's descriptor) and writes
 * nothing. What remains of the decode time is Postgres' own share: reading WAL, the
 * reorder buffer, historic snapshots, relcache lookups. A real plugin's distance to this
 * floor is what its own work costs.
 *
 * With the option emit = 'per-change' it also writes one two-byte message ("{}") per change:
 * what any plugin that sends one message per change pays at least, in Postgres and on the
 * wire. Its throughput is the ceiling for such a plugin. With message-bytes = N (2 to
 * 65536) as well, each of those messages is a JSON string of N bytes instead: the ceiling
 * for a plugin whose messages are that long. Any other option is ignored.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "nodes/pg_list.h"
#include "nodes/value.h"
#include "replication/logical.h"
#include "replication/output_plugin.h"
#include "utils/memutils.h"
#include "utils/rel.h"

PG_MODULE_MAGIC;

extern void _PG_output_plugin_init(OutputPluginCallbacks *cb);

typedef struct FloorState
{
	MemoryContext change_context;	/* reset after every change */
	uint64		columns_deformed;	/* keeps the work observable to the compiler */
	bool		emit_per_change;	/* emit = 'per-change' */
	char	   *message;		/* what each message says: "{}" or a JSON string */
	int			message_len;
} FloorState;

static void
floor_startup(LogicalDecodingContext *ctx, OutputPluginOptions *opt, bool is_init)
{
	FloorState *state = palloc0(sizeof(FloorState));
	ListCell   *option;

	state->change_context = AllocSetContextCreate(ctx->context, "crmsync_bench_floor change",
												  ALLOCSET_DEFAULT_SIZES);
	ctx->output_plugin_private = state;
	state->message = "{}";
	state->message_len = 2;
	foreach(option, ctx->output_plugin_options)
	{
		DefElem    *elem = lfirst(option);

		if (strcmp(elem->defname, "message-bytes") == 0)
		{
			char	   *end = NULL;
			long		n = elem->arg ? strtol(strVal(elem->arg), &end, 10) : 0;

			if (end == NULL || *end != '\0' || n < 2 || n > 65536)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("option \"message-bytes\" must be a number of bytes from 2 to 65536, not \"%s\"",
								elem->arg ? strVal(elem->arg) : "")));
			state->message = palloc(n + 1);
			memset(state->message, 'x', n);
			state->message[0] = state->message[n - 1] = '"';
			state->message[n] = '\0';
			state->message_len = n;
			continue;
		}
		if (strcmp(elem->defname, "emit") != 0)
			continue;
		if (elem->arg == NULL || (strcmp(strVal(elem->arg), "per-change") != 0 &&
								  strcmp(strVal(elem->arg), "nothing") != 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("option \"emit\" must be \"nothing\" or \"per-change\"")));
		state->emit_per_change = strcmp(strVal(elem->arg), "per-change") == 0;
	}
	opt->output_type = OUTPUT_PLUGIN_TEXTUAL_OUTPUT;
	opt->receive_rewrites = false;
}

static void
floor_shutdown(LogicalDecodingContext *ctx)
{
}

static void
floor_begin(LogicalDecodingContext *ctx, ReorderBufferTXN *txn)
{
}

static void
floor_commit(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, XLogRecPtr commit_lsn)
{
}

/* 17 removed ReorderBufferTupleBuf: a change carries the HeapTuple itself (upstream 08e6344f). */
#if PG_VERSION_NUM >= 170000
typedef HeapTuple ChangeTuple;
#define CHANGE_HEAP_TUPLE(t) (t)
#else
typedef ReorderBufferTupleBuf *ChangeTuple;
#define CHANGE_HEAP_TUPLE(t) (&(t)->tuple)
#endif

static void
deform(FloorState *state, TupleDesc desc, ChangeTuple tuple)
{
	Datum	   *values;
	bool	   *nulls;

	if (tuple == NULL)
		return;
	values = palloc(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(CHANGE_HEAP_TUPLE(tuple), desc, values, nulls);
	for (int i = 0; i < desc->natts; i++)
		state->columns_deformed += !nulls[i];
}

static void
floor_change(LogicalDecodingContext *ctx, ReorderBufferTXN *txn, Relation relation,
			 ReorderBufferChange *change)
{
	FloorState *state = ctx->output_plugin_private;
	MemoryContext old = MemoryContextSwitchTo(state->change_context);
	TupleDesc	desc = RelationGetDescr(relation);

	switch (change->action)
	{
		case REORDER_BUFFER_CHANGE_INSERT:
		case REORDER_BUFFER_CHANGE_UPDATE:
		case REORDER_BUFFER_CHANGE_DELETE:
			deform(state, desc, change->data.tp.newtuple);
			deform(state, desc, change->data.tp.oldtuple);
			break;
		default:
			break;
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(state->change_context);
	if (state->emit_per_change)
	{
		OutputPluginPrepareWrite(ctx, true);
		appendBinaryStringInfo(ctx->out, state->message, state->message_len);
		OutputPluginWrite(ctx, true);
	}
}

void
_PG_output_plugin_init(OutputPluginCallbacks *cb)
{
	cb->startup_cb = floor_startup;
	cb->begin_cb = floor_begin;
	cb->change_cb = floor_change;
	cb->commit_cb = floor_commit;
	cb->shutdown_cb = floor_shutdown;
}
