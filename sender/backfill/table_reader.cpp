#include "backfill/table_reader.hpp"

#include <algorithm>

namespace crmsync::sender {
namespace {

// Rows of (id, crmsync.render(...)): a NULL record is a row the mapping's row filter leaves
// out (docs/mapping.md, "Row filters"): nothing to send.
void add_rendered_rows(std::vector<SqlRow>& rows, bool reread, Chunk& into) {
    for (auto& row : rows) {
        if (!row[1]) {
            ++into.filtered;
            continue;
        }
        into.rows.push_back(ChunkRow{std::move(*row[0]), std::move(*row[1]), reread});
    }
}

}  // namespace

TableReader::TableReader(const std::string& conninfo, std::string crm, std::string format, std::size_t chunk_rows)
    : crm_(std::move(crm)), format_(std::move(format)), chunk_rows_(chunk_rows), sql_(conninfo, "crmsync-sender backfill") {}

Result<BackfillTable> TableReader::describe(const std::string& source) {
    auto rows = sql_.exec(
        "SELECT format('%I.%I', n.nspname, c.relname), quote_ident(m.id_column), format_type(a.atttypid, a.atttypmod), "
        "       c.reltuples::bigint, a.attnotnull "
        "FROM crmsync.mappings m JOIN pg_class c ON c.oid = m.source JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = m.id_column AND NOT a.attisdropped "
        "WHERE m.crm = $1 AND m.source = $2::regclass",
        {crm_, source});
    if (!rows) return Error{"looking up the mapping of " + source + ": " + rows.error()};
    if (rows->empty()) {
        BackfillTable unmapped;
        unmapped.source = source;
        unmapped.unusable = "table " + source + " has no mapping for crm \"" + crm_ +
                            "\": map it with crmsync.map(), or leave it out of the backfill";
        return unmapped;
    }
    auto& row = rows->front();
    BackfillTable table{source, *row[0], *row[1], row[2].value_or(""), row[3] ? std::stoll(*row[3]) : -1,
                        row[4] == "t", {}};
    if (!row[2]) {
        table.unusable = "the id column " + row[1].value_or("?") + " of " + source +
                         " does not exist any more: fix the mapping with crmsync.map()";
        return table;
    }
    if (table.estimate <= 0) {  // never analyzed (-1) or looks empty: count
        // A failure here (no SELECT on the table) shows again, with its reason, on the first read.
        auto counted = sql_.exec("SELECT count(*) FROM " + table.qualified_name);
        table.estimate = counted ? std::stoll(*counted->front()[0]) : 0;
    }
    return table;
}

Result<std::int64_t> TableReader::rows_without_id(const BackfillTable& table) {
    if (table.id_not_null) return std::int64_t{0};  // no scan of the whole table for nothing
    auto rows = sql_.exec("SELECT count(*) FROM " + table.qualified_name + " WHERE " + table.id_column + " IS NULL");
    if (!rows) return Error{"counting rows of " + table.source + " without an id: " + rows.error()};
    return std::stoll(*rows->front()[0]);
}

Result<Chunk> TableReader::read_chunk(const BackfillTable& table, const std::optional<std::string>& after_id) {
    std::string sql = "SELECT t." + table.id_column + "::text, crmsync.render($1, $2::regclass, t, $3)::text FROM " +
                      table.qualified_name + " t WHERE t." + table.id_column + " IS NOT NULL";
    std::vector<std::optional<std::string>> params = {crm_, table.source, format_};
    if (after_id) {
        sql += " AND t." + table.id_column + " > $4::" + table.id_type;
        params.push_back(*after_id);
    }
    sql += " ORDER BY t." + table.id_column + " LIMIT " + std::to_string(chunk_rows_);
    auto rows = sql_.exec(sql, params);
    if (!rows) return Error{"reading " + table.source + " for the backfill: " + rows.error()};
    Chunk chunk;
    chunk.last = rows->size() < chunk_rows_;
    chunk.rows.reserve(rows->size());
    // The keyset goes on after the last row read, sent or not.
    if (!rows->empty()) chunk.last_id = *rows->back()[0];
    add_rendered_rows(*rows, false, chunk);
    return chunk;
}

Status TableReader::read_by_id(const BackfillTable& table, const std::vector<std::string>& ids, Chunk& into) {
    auto rows = sql_.exec("SELECT t." + table.id_column + "::text, crmsync.render($1, $2::regclass, t, $3)::text FROM " +
                              table.qualified_name + " t WHERE t." + table.id_column + " = ANY ($4::" + table.id_type +
                              "[])",
                          {crm_, table.source, format_, text_array_literal(ids)});
    if (!rows) return Error{"reading rows of " + table.source + " again: " + rows.error()};
    add_rendered_rows(*rows, true, into);
    return ok_status();
}

Status TableReader::begin_snapshot(const std::string& snapshot_name) {
    // Exported snapshot names are hex digits and dashes; anything else is not one.
    if (snapshot_name.empty() || !std::all_of(snapshot_name.begin(), snapshot_name.end(),
                                              [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == '-'; }))
        return Error{"the replication slot exported no usable snapshot (\"" + snapshot_name + "\")"};
    sql_.reset();
    if (auto begun = sql_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"); !begun)
        return Error{"starting the initial sync's transaction: " + begun.error()};
    if (auto set = sql_.exec("SET TRANSACTION SNAPSHOT '" + snapshot_name + "'"); !set)
        return Error{"importing the slot's snapshot " + snapshot_name + ": " + set.error()};
    return ok_status();
}

Result<Chunk> TableReader::read_in_snapshot(const BackfillTable& table, const std::optional<std::string>& after_id) {
    return read_chunk(table, after_id);
}

Status TableReader::end_snapshot() {
    if (auto done = sql_.exec("COMMIT"); !done) return Error{"ending the initial sync's transaction: " + done.error()};
    return ok_status();
}

Result<Chunk> TableReader::read_with_watermark(const BackfillTable& table, const std::optional<std::string>& after_id,
                                               const std::vector<std::string>& reread_ids, bool keyset_done,
                                               const std::string& watermark) {
    auto fail = [&](const std::string& what, const std::string& error) -> Result<Chunk> {
        (void)sql_.exec("ROLLBACK");
        return Error{what.empty() ? error : what + ": " + error};
    };
    if (auto begun = sql_.exec("BEGIN ISOLATION LEVEL REPEATABLE READ"); !begun)
        return Error{"starting a re-sync chunk's transaction: " + begun.error()};
    // The first statement takes the transaction's snapshot: the chunk below is read under it.
    auto snapshot_text = sql_.exec("SELECT pg_current_snapshot()::text");
    if (!snapshot_text) return fail("reading the chunk's snapshot", snapshot_text.error());
    auto snapshot = PgSnapshot::parse(*snapshot_text->front()[0]);
    if (!snapshot) return fail("reading the chunk's snapshot", snapshot.error());
    Chunk chunk;
    chunk.last = true;
    if (!reread_ids.empty())
        if (auto read = read_by_id(table, reread_ids, chunk); !read) return fail("", read.error());
    std::optional<std::string> after = after_id;
    while (!keyset_done) {
        auto range = read_chunk(table, after);
        if (!range) return fail("", range.error());
        chunk.last = range->last;
        chunk.last_id = range->last_id;
        chunk.filtered += range->filtered;
        for (ChunkRow& row : range->rows) chunk.rows.push_back(std::move(row));
        // A range the row filter left wholly out is not the end of the table: read on, so
        // that a chunk without rows still means the table is done.
        if (!chunk.rows.empty() || range->last || !range->last_id) break;
        after = range->last_id;
    }
    if (chunk.rows.empty()) {
        (void)sql_.exec("ROLLBACK");
        return chunk;
    }
    auto emitted = sql_.exec("SELECT pg_logical_emit_message(true, $1, $2)", {"crmsync-backfill:" + crm_, watermark});
    if (!emitted)
        return fail("emitting the chunk's watermark (the sender's role needs EXECUTE on pg_logical_emit_message)",
                    emitted.error());
    if (auto committed = sql_.exec("COMMIT"); !committed)
        return Error{"committing a re-sync chunk's watermark: " + committed.error()};
    chunk.snapshot = std::move(*snapshot);
    chunk.watermark = watermark;
    return chunk;
}

Result<std::uint64_t> TableReader::new_xid() {
    auto rows = sql_.exec("SELECT pg_current_xact_id()::text");
    if (!rows) return Error{"taking a transaction id for the re-sync: " + rows.error()};
    return std::stoull(*rows->front()[0]);
}

Result<bool> TableReader::all_snapshots_past(std::uint64_t xid) {
    auto rows = sql_.exec("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::numeric > $1::numeric",
                          {std::to_string(xid)});
    if (!rows) return Error{"reading the oldest running transaction: " + rows.error()};
    return *rows->front()[0] == "t";
}

}  // namespace crmsync::sender
