// Reads the existing rows of a mapped table for a backfill, rendered by crmsync.render()
// (the plugin's own code: a backfilled record is byte for byte a streamed one), in chunks
// ordered by the id column (keyset pagination: each chunk starts after the last id sent, so
// a resumed backfill continues where the CRM's accepted rows end).
//
// Two ways to read (docs/backfill.md):
// * in the snapshot the replication slot exported when it was created (initial sync): one
//   REPEATABLE READ transaction for every chunk of every table, exactly the state at the
//   slot's consistent point;
// * with a watermark (re-sync while streaming): each chunk in its own REPEATABLE READ
//   transaction that also records its snapshot and emits a transactional logical message;
//   the message's place in the stream is where the chunk's rows are delivered.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/pg_snapshot.hpp"
#include "io/sql_connection.hpp"

namespace crmsync::sender {

struct BackfillTable {
    std::string source;          // as regclass prints it
    std::string qualified_name;  // as the plugin writes "table"
    std::string id_column;       // quoted for SQL
    std::string id_type;         // format_type() of the id column, for the keyset parameter
    std::int64_t estimate = 0;   // rows (planner statistics, or a count when there are none)
    bool id_not_null = false;    // the id column is NOT NULL: no row lacks a key
    std::string unusable;        // non-empty: why this table cannot be backfilled as mapped
};

struct ChunkRow {
    std::string id_text;  // the id column's value as text: where the next chunk starts
    std::string message;  // crmsync.render()'s message, unstamped
    bool reread = false;  // asked for by id (read again), not part of the keyset range
};

struct Chunk {
    std::vector<ChunkRow> rows;          // rows read again first, then the keyset range in id order
    std::optional<std::string> last_id;  // the keyset range's last id, if it had rows
    bool last = false;                   // the keyset range had fewer rows than asked for: nothing after them
    std::size_t filtered = 0;            // rows read that the mapping's row filter leaves out (not in rows)
    std::optional<PgSnapshot> snapshot;  // watermark mode: what the rows were read under
    std::string watermark;               // watermark mode: the logical message's content
};

class TableReader {
public:
    TableReader(const std::string& conninfo, std::string crm, std::string format, std::size_t chunk_rows);

    Result<BackfillTable> describe(const std::string& source);
    // Rows whose id column is NULL: they have no key, and a backfill cannot send them.
    Result<std::int64_t> rows_without_id(const BackfillTable& table);

    // Initial sync: every read_in_snapshot() until end_snapshot() sees the slot's snapshot.
    Status begin_snapshot(const std::string& snapshot_name);
    Result<Chunk> read_in_snapshot(const BackfillTable& table, const std::optional<std::string>& after_id);
    Status end_snapshot();

    // Re-sync: in one transaction, the snapshot, the rows with `reread_ids`, the keyset range
    // after `after_id` (unless `keyset_done`) and, when any row was read, the watermark message.
    Result<Chunk> read_with_watermark(const BackfillTable& table, const std::optional<std::string>& after_id,
                                      const std::vector<std::string>& reread_ids, bool keyset_done,
                                      const std::string& watermark);
    // A new transaction id: once every snapshot's xmin has passed it, every transaction that
    // may have committed before now is visible (see docs/backfill.md for why that matters).
    Result<std::uint64_t> new_xid();
    Result<bool> all_snapshots_past(std::uint64_t xid);

private:
    Result<Chunk> read_chunk(const BackfillTable& table, const std::optional<std::string>& after_id);
    Status read_by_id(const BackfillTable& table, const std::vector<std::string>& ids, Chunk& into);
    std::string crm_;
    std::string format_;
    std::size_t chunk_rows_;
    SqlConnection sql_;
};

}  // namespace crmsync::sender
