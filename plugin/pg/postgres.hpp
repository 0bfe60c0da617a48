// The only way into Postgres' headers for the plugin's Postgres zone. C++ may not see them
// outside extern "C", and a few of their macros clash with the standard library.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "replication/logical.h"
#include "replication/origin.h"
#include "replication/output_plugin.h"
#include "access/xact.h"
#include "utils/array.h"
#include "utils/arrayaccess.h"
#include "utils/builtins.h"
#include "commands/dbcommands.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/uuid.h"
#include "utils/timestamp.h"
#include "utils/date.h"
}

// Built with -fvisibility=hidden: only what Postgres looks up by name (the magic block,
// _PG_output_plugin_init, SQL functions and their info records) is exported. PG 15's
// PGDLLEXPORT is empty on Linux, so give it the visibility attribute here.
#undef PGDLLEXPORT
#define PGDLLEXPORT __attribute__((visibility("default")))

// Postgres defines these as macros; they break <algorithm> and friends.
#undef Max
#undef Min
