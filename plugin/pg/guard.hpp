// The wall between the zones. Postgres reports errors by longjmp, which must never cross
// a C++ frame that owns resources; C++ reports them by exceptions, which must never cross
// into Postgres. Two guards, one per direction:
//   run_pure()   Postgres zone -> pure C++: catches every exception and returns its text,
//                so the caller (holding no C++ objects) can ereport after leaving C++.
//   pg_call()    pure C++ -> a Postgres function that may ERROR: turns the ERROR into a
//                C++ exception thrown after the Postgres error state is cleaned up.
#pragma once
#include "pg/postgres.hpp"
#include "render/stored_formats.hpp"

#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <stdexcept>

namespace crmsync::pg {

struct PgError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct PureError {
    char message[512];
    bool damaged_value = false;  // render::DamagedValue: the row's stored bytes, not crmsync
};

// What an operator can do about a damaged stored value (numeric, jsonb, array): the bytes
// came from the WAL (decoding) or the table (crmsync.render), so repairing the row does not
// take the change out of the slot; going past it does (docs/troubleshooting.md).
inline constexpr char kDamagedValueHint[] =
    "Repair the row (amcheck's verify_heapam() finds damaged tuples). A decoding slot stays at "
    "this change: advance it past the change's transaction with pg_replication_slot_advance(), "
    "then re-sync the table with crmsync-sender backfill; see docs/troubleshooting.md.";

// The SQLSTATE and hint of a render error, for ereport: a damaged value is data corruption
// with a remedy; anything else is crmsync's own failure.
#define CRMSYNC_PURE_ERROR_CODE_AND_HINT(err)                                                     \
    errcode((err).damaged_value ? ERRCODE_DATA_CORRUPTED : ERRCODE_INTERNAL_ERROR),              \
        ((err).damaged_value ? errhint("%s", kDamagedValueHint) : 0)

template <typename Fn>
bool run_pure(PureError& err, Fn&& fn) noexcept {
    try {
        fn();
        return true;
    } catch (const std::bad_alloc&) {
        std::snprintf(err.message, sizeof err.message, "out of memory");
    } catch (const render::DamagedValue& e) {
        std::snprintf(err.message, sizeof err.message, "%s", e.what());
        err.damaged_value = true;
    } catch (const std::exception& e) {
        std::snprintf(err.message, sizeof err.message, "%s", e.what());
    } catch (...) {
        std::snprintf(err.message, sizeof err.message, "unexpected C++ exception");
    }
    return false;
}

template <typename Fn>
void pg_call(Fn&& fn) {
    static char message[512];
    bool failed = false;
    MemoryContext caller_context = CurrentMemoryContext;
    PG_TRY();
    {
        fn();
    }
    PG_CATCH();
    {
        MemoryContextSwitchTo(caller_context);
        ErrorData* edata = CopyErrorData();
        FlushErrorState();
        std::snprintf(message, sizeof message, "%s", edata->message ? edata->message : "error");
        FreeErrorData(edata);
        failed = true;
    }
    PG_END_TRY();
    if (failed) throw PgError(message);
}

}  // namespace crmsync::pg
