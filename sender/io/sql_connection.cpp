#include "io/sql_connection.hpp"

namespace crmsync::sender {

std::string text_array_literal(const std::vector<std::string>& items) {
    std::string out = "{";
    for (std::size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        out += '"';
        for (char c : items[i]) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    return out + "}";
}

SqlConnection::SqlConnection(std::string conninfo, std::string application_name)
    : conninfo_(std::move(conninfo)), application_name_(std::move(application_name)) {}

Status SqlConnection::ensure_connected() {
    if (conn_ && PQstatus(conn_.get()) == CONNECTION_OK) return ok_status();
    const char* keywords[] = {"dbname", "fallback_application_name", nullptr};
    const char* values[] = {conninfo_.c_str(), application_name_.c_str(), nullptr};
    conn_.reset(PQconnectdbParams(keywords, values, 1));
    if (PQstatus(conn_.get()) != CONNECTION_OK) {
        std::string error = "could not connect to Postgres: " + pq_error(conn_.get());
        conn_.reset();
        return Error{error};
    }
    return ok_status();
}

Result<std::vector<SqlRow>> SqlConnection::exec(const std::string& sql,
                                                const std::vector<std::optional<std::string>>& params) {
    if (auto connected = ensure_connected(); !connected) return Error{connected.error()};
    std::vector<const char*> values;
    values.reserve(params.size());
    for (const auto& param : params) values.push_back(param ? param->c_str() : nullptr);
    PgResult result(PQexecParams(conn_.get(), sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                                 nullptr, nullptr, 0));
    const ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        std::string error = pq_error(conn_.get());
        if (PQstatus(conn_.get()) != CONNECTION_OK) conn_.reset();
        return Error{error};
    }
    std::vector<SqlRow> rows;
    const int nrows = PQntuples(result.get()), ncols = PQnfields(result.get());
    rows.reserve(nrows);
    for (int r = 0; r < nrows; ++r) {
        SqlRow row;
        row.reserve(ncols);
        for (int c = 0; c < ncols; ++c) {
            if (PQgetisnull(result.get(), r, c))
                row.emplace_back(std::nullopt);
            else
                row.emplace_back(std::string(PQgetvalue(result.get(), r, c),
                                             static_cast<std::size_t>(PQgetlength(result.get(), r, c))));
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

}  // namespace crmsync::sender
