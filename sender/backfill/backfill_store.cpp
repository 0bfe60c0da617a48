#include "backfill/backfill_store.hpp"

#include "core/rapidjson.hpp"

#include <rapidjson/document.h>

namespace crmsync::sender {
namespace {

std::int64_t as_int(const std::optional<std::string>& text) { return text ? std::stoll(*text) : 0; }

// The elements of a text[] that the query printed with array_to_json (a JSON array of strings).
std::vector<std::string> json_strings(const std::optional<std::string>& json) {
    std::vector<std::string> out;
    rapidjson::Document doc;
    if (!json || doc.Parse(json->data(), json->size()).HasParseError() || !doc.IsArray()) return out;
    for (const auto& item : doc.GetArray())
        if (item.IsString()) out.emplace_back(item.GetString(), item.GetStringLength());
    return out;
}

}  // namespace

BackfillStore::BackfillStore(const std::string& conninfo, std::string crm)
    : crm_(std::move(crm)), sql_(conninfo, "crmsync-sender backfill progress") {}

Result<std::vector<std::string>> BackfillStore::mapped_tables() {
    auto rows = sql_.exec(
        "SELECT source::text FROM crmsync.mappings WHERE crm = $1 AND actions && '{insert,update}' "
        "ORDER BY source::text",
        {crm_});
    if (!rows) return Error{"reading crmsync.mappings: " + rows.error()};
    std::vector<std::string> out;
    for (auto& row : *rows) out.push_back(*row[0]);
    return out;
}

Status BackfillStore::request(const std::vector<std::string>& sources, const std::string& method) {
    auto done = sql_.exec(
        "INSERT INTO crmsync.backfills AS b (crm, source, state, method, requested_at, updated_at) "
        "SELECT $1, s::regclass, 'pending', $3, now(), now() FROM unnest($2::text[]) s "
        "ON CONFLICT (crm, source) DO UPDATE SET state = 'pending', method = EXCLUDED.method, last_key = NULL, "
        "pending_ids = '{}', rows_sent = 0, rows_reread = 0, rows_estimate = NULL, requested_at = now(), started_at = NULL, "
        "updated_at = now(), finished_at = NULL",
        {crm_, text_array_literal(sources), method});
    if (!done) return Error{"recording the backfill request in crmsync.backfills: " + done.error()};
    return ok_status();
}

Result<std::vector<BackfillProgress>> BackfillStore::select(const std::string& where,
                                                             const std::vector<std::optional<std::string>>& params) {
    auto rows = sql_.exec("SELECT source::text, state, method, last_key, rows_sent, rows_reread, rows_estimate, "
                          "array_to_json(pending_ids) "
                          "FROM crmsync.backfills WHERE crm = $1 AND " + where +
                              " ORDER BY requested_at, source::text",
                          params);
    if (!rows) return Error{"reading crmsync.backfills: " + rows.error()};
    std::vector<BackfillProgress> out;
    for (auto& row : *rows) {
        BackfillProgress p;
        p.source = *row[0];
        p.state = *row[1];
        p.method = row[2];
        p.last_key = row[3];
        p.rows_sent = as_int(row[4]);
        p.rows_reread = as_int(row[5]);
        if (row[6]) p.rows_estimate = as_int(row[6]);
        p.pending_ids = json_strings(row[7]);
        out.push_back(std::move(p));
    }
    return out;
}

Result<std::vector<BackfillProgress>> BackfillStore::unfinished() { return select("state <> 'done'", {crm_}); }

Result<std::vector<BackfillProgress>> BackfillStore::of(const std::vector<std::string>& sources) {
    return select("source = ANY ($2::regclass[])", {crm_, text_array_literal(sources)});
}

Status BackfillStore::start(const std::string& source, const std::string& method, std::int64_t estimate) {
    auto done = sql_.exec(
        "UPDATE crmsync.backfills SET state = 'running', method = $3, rows_estimate = $4, "
        "started_at = coalesce(started_at, now()), updated_at = now() WHERE crm = $1 AND source = $2::regclass",
        {crm_, source, method, std::to_string(estimate)});
    if (!done) return Error{"updating crmsync.backfills: " + done.error()};
    return ok_status();
}

Status BackfillStore::save_progress(const std::string& source, const std::string& last_key,
                                    const std::vector<std::string>& pending_ids, std::int64_t rows_sent,
                                    std::int64_t rows_reread) {
    auto done = sql_.exec(
        "UPDATE crmsync.backfills SET last_key = $3, pending_ids = $4::text[], rows_sent = $5, rows_reread = $6, "
        "updated_at = now() WHERE crm = $1 AND source = $2::regclass",
        {crm_, source, last_key, text_array_literal(pending_ids), std::to_string(rows_sent), std::to_string(rows_reread)});
    if (!done) return Error{"saving backfill progress in crmsync.backfills: " + done.error()};
    return ok_status();
}

Status BackfillStore::finish(const std::string& source, std::int64_t rows_sent, std::int64_t rows_reread) {
    auto done = sql_.exec(
        "UPDATE crmsync.backfills SET state = 'done', pending_ids = '{}', rows_sent = $3, rows_reread = $4, "
        "updated_at = now(), finished_at = now() WHERE crm = $1 AND source = $2::regclass",
        {crm_, source, std::to_string(rows_sent), std::to_string(rows_reread)});
    if (!done) return Error{"updating crmsync.backfills: " + done.error()};
    return ok_status();
}

}  // namespace crmsync::sender
