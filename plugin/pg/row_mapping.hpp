// Map step: a decoded row (old and/or new tuple) to what the CRM record is made of, the
// key and the properties, as the relation's plan says. Used by the decoder and by
// crmsync.render(), so a rendered preview or backfill is the same as a streamed change.
#pragma once
#include "pg/relation_cache.hpp"

namespace crmsync::pg {

struct MappedUpsert {
    render::Value id;
    const char* error;    // set when the row has no usable id: sent unkeyed, with this text
    bool key_changed;     // the update moved the row to another key ...
    render::Value old_id; // ... this one, whose record is deleted first
    int nprops;           // properties in entry->props
};

// How a row is mapped. `deformed`: the entry's value arrays already hold the tuples (the
// row filter read them). `whole_row`: send every property (a row entering the row filter
// is a new record for the CRM), taking unchanged TOASTed values from a full old row.
struct MapHow {
    bool changed_only = false;
    bool deformed = false;
    bool whole_row = false;
};

// Fills entry->props. `old_tuple` may be null (insert, or an update without an old row).
void map_upsert(RelationSyncEntry* entry, TupleDesc desc, HeapTuple old_tuple, HeapTuple new_tuple, MapHow how,
                MappedUpsert* out);

// The key of a deleted row, or the reason it has none (the message still goes out).
void map_delete(RelationSyncEntry* entry, TupleDesc desc, HeapTuple old_tuple, bool deformed, render::Value* id,
                const char** error);

}  // namespace crmsync::pg
