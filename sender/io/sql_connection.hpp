// A plain (non-replication) libpq connection for the sender's own SQL: the backfill's reads
// and its progress rows. Blocking and short: each call is one statement.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "io/libpq_handles.hpp"

namespace crmsync::sender {

using SqlRow = std::vector<std::optional<std::string>>;  // text format; nullopt = SQL NULL

// A text[] literal ('{"a","b\\"c"}') for a parameter cast to an array type.
std::string text_array_literal(const std::vector<std::string>& items);

class SqlConnection {
public:
    SqlConnection(std::string conninfo, std::string application_name);
    // Connects on first use and after a lost connection.
    Result<std::vector<SqlRow>> exec(const std::string& sql, const std::vector<std::optional<std::string>>& params = {});
    // Closes the connection (ends any open transaction).
    void reset() { conn_.reset(); }

private:
    Status ensure_connected();
    std::string conninfo_;
    std::string application_name_;
    PgConn conn_;
};

}  // namespace crmsync::sender
