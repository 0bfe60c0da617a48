#include "io/mapping_columns.hpp"

namespace crmsync::sender {

MappingColumns::MappingColumns(std::string conninfo, std::string crm)
    : sql_(std::move(conninfo), "crmsync-sender mappings"), crm_(std::move(crm)) {}

std::string MappingColumns::source_of(std::string_view object, std::string_view property) {
    const auto now = std::chrono::steady_clock::now();
    if (now - known_since_ > std::chrono::minutes(1)) {
        known_.clear();  // mappings change with crmsync.map(); a minute-old answer is good enough
        known_since_ = now;
    }
    const auto key = std::make_pair(std::string(object), std::string(property));
    if (auto it = known_.find(key); it != known_.end()) return it->second;
    // A mapping without properties sends every column under its own name (docs/mapping.md).
    static const std::string kQuery =
        "SELECT pg_catalog.format('%s.%s', pg_catalog.quote_ident(n.nspname), pg_catalog.quote_ident(c.relname)), "
        "       a.attname::text "
        "FROM crmsync.mappings m "
        "JOIN pg_catalog.pg_class c ON c.oid = m.source "
        "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_catalog.pg_attribute a ON a.attrelid = m.source AND a.attnum > 0 AND NOT a.attisdropped "
        "WHERE m.crm = $1 AND m.object = $2 "
        "  AND coalesce(m.properties ->> a.attname::text, "
        "               CASE WHEN m.properties IS NULL THEN a.attname::text END) = $3 "
        "ORDER BY 1, 2";
    auto rows = sql_.exec(kQuery, {crm_, std::string(object), std::string(property)});
    if (!rows) return {};
    std::string text;
    for (const auto& row : *rows) {
        if (row.size() < 2 || !row[0] || !row[1]) continue;
        text += (text.empty() ? "" : ", ") + *row[1] + " of " + *row[0];
    }
    if (!text.empty()) text = (rows->size() > 1 ? "columns " : "column ") + text;
    known_[key] = text;
    return text;
}

}  // namespace crmsync::sender
