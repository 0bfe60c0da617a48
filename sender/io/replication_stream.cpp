#include "io/replication_stream.hpp"

#include "io/libpq_handles.hpp"

namespace crmsync::sender {
namespace {

std::string quote_identifier(std::string_view name) {
    std::string quoted = "\"";
    for (char c : name) {
        if (c == '"') quoted += '"';
        quoted += c;
    }
    return quoted + "\"";
}

}  // namespace

Result<bool> resolve_failover(std::optional<bool> wanted, int server_version) {
    constexpr int kFirstWithFailoverSlots = 170000;
    const bool supported = server_version >= kFirstWithFailoverSlots;
    if (wanted.value_or(supported) && !supported)
        return Error{"source.failover = true needs PostgreSQL 17 or later (failover slots); this server is " +
                     std::to_string(server_version / 10000) + "." + std::to_string(server_version % 10000) +
                     ": remove the key to create the slot without failover where the server cannot"};
    return wanted.value_or(supported);
}

std::string quote_replication_literal(std::string_view value) {
    std::string quoted = "'";
    for (char c : value) {
        if (c == '\'') quoted += '\'';
        quoted += c;
    }
    return quoted + "'";
}

Result<std::unique_ptr<ReplicationStream>> ReplicationStream::connect(const std::string& conninfo) {
    // dbname first and expanded: the user's conninfo; what follows overrides it.
    const char* keywords[] = {"dbname", "replication", "fallback_application_name", nullptr};
    const char* values[] = {conninfo.c_str(), "database", "crmsync-sender", nullptr};
    PGconn* conn = PQconnectdbParams(keywords, values, 1);
    if (!conn || PQstatus(conn) != CONNECTION_OK) {
        std::string error = "could not connect to Postgres for replication: " + pq_error(conn);
        if (conn) PQfinish(conn);
        return Error{error};
    }
    return std::unique_ptr<ReplicationStream>(new ReplicationStream(conn));
}

ReplicationStream::~ReplicationStream() {
    release_frame();
    if (conn_) PQfinish(conn_);
}

void ReplicationStream::release_frame() {
    if (frame_) PQfreemem(frame_);
    frame_ = nullptr;
}

int ReplicationStream::socket() const { return PQsocket(conn_); }

int ReplicationStream::server_version() const { return PQserverVersion(conn_); }

std::string ReplicationStream::last_error() const { return pq_error(conn_); }

Result<std::vector<std::vector<std::string>>> ReplicationStream::query(const std::string& sql) {
    PgResult result(PQexec(conn_, sql.c_str()));
    ExecStatusType status = PQresultStatus(result.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) return Error{last_error()};
    std::vector<std::vector<std::string>> rows;
    for (int r = 0; r < PQntuples(result.get()); ++r) {
        std::vector<std::string> row;
        for (int c = 0; c < PQnfields(result.get()); ++c)
            row.emplace_back(PQgetisnull(result.get(), r, c) ? "" : PQgetvalue(result.get(), r, c));
        rows.push_back(std::move(row));
    }
    return rows;
}

Result<SlotInfo> ReplicationStream::slot_info(const std::string& slot) {
    std::string sql =
        "SELECT plugin, active, coalesce(active_pid, 0), coalesce(wal_status, ''), "
        "coalesce(confirmed_flush_lsn::text, '0/0') FROM pg_catalog.pg_replication_slots WHERE slot_name = " +
        quote_replication_literal(slot);
    auto rows = query(sql);
    if (!rows) return Error{"could not read pg_replication_slots: " + rows.error()};
    SlotInfo info;
    if (rows->empty()) return info;
    const auto& row = rows->front();
    info.exists = true;
    info.plugin = row[0];
    info.active = row[1] == "t";
    info.active_pid = std::stoi(row[2]);
    info.wal_status = row[3];
    info.confirmed_flush = parse_lsn(row[4]).value_or(Lsn{});
    return info;
}

Result<CreatedSlot> ReplicationStream::create_slot(const std::string& slot, bool export_snapshot, bool failover) {
    std::string command = "CREATE_REPLICATION_SLOT " + quote_identifier(slot) + " LOGICAL crmsync (SNAPSHOT '" +
                          (export_snapshot ? "export" : "nothing") + "'" + (failover ? ", FAILOVER true" : "") + ")";
    PgResult result(PQexec(conn_, command.c_str()));
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK)
        return Error{"could not create replication slot \"" + slot + "\": " + last_error()};
    auto lsn = parse_lsn(PQgetvalue(result.get(), 0, 1));
    if (!lsn) return Error{"CREATE_REPLICATION_SLOT returned no consistent point"};
    CreatedSlot created{*lsn, {}};
    if (export_snapshot && !PQgetisnull(result.get(), 0, 2)) created.snapshot_name = PQgetvalue(result.get(), 0, 2);
    return created;
}

Status ReplicationStream::start(const std::string& slot, Lsn from,
                                const std::vector<std::pair<std::string, std::string>>& options) {
    std::string command = "START_REPLICATION SLOT " + quote_identifier(slot) + " LOGICAL " + format_lsn(from);
    if (!options.empty()) {
        command += " (";
        for (size_t i = 0; i < options.size(); ++i) {
            if (i) command += ", ";
            command += quote_identifier(options[i].first) + " " + quote_replication_literal(options[i].second);
        }
        command += ")";
    }
    PgResult result(PQexec(conn_, command.c_str()));
    if (PQresultStatus(result.get()) != PGRES_COPY_BOTH)
        return Error{"could not start replication from slot \"" + slot + "\": " + last_error()};
    if (PQsetnonblocking(conn_, 1) != 0) return Error{"could not make the replication connection non-blocking"};
    return ok_status();
}

ReplicationStream::ReadStatus ReplicationStream::read_frame(std::string_view& frame) {
    release_frame();
    int n = PQgetCopyData(conn_, &frame_, 1);
    if (n == 0) {
        if (PQconsumeInput(conn_) == 0) return ReadStatus::Failed;
        n = PQgetCopyData(conn_, &frame_, 1);
        if (n == 0) return ReadStatus::WouldBlock;
    }
    if (n > 0) {
        frame = std::string_view(frame_, static_cast<size_t>(n));
        return ReadStatus::Frame;
    }
    if (n == -1) {
        // The server ended the stream; collect its final result for the error text.
        PgResult result(PQgetResult(conn_));
        return PQresultStatus(result.get()) == PGRES_COMMAND_OK ? ReadStatus::Ended : ReadStatus::Failed;
    }
    return ReadStatus::Failed;
}

Status ReplicationStream::send_status(const StandbyStatusUpdate& update) {
    auto frame = build_standby_status_update(update);
    if (PQputCopyData(conn_, frame.data(), static_cast<int>(frame.size())) != 1)
        return Error{"could not send a status update to Postgres: " + last_error()};
    return flush();
}

Status ReplicationStream::flush() {
    int rc = PQflush(conn_);
    if (rc < 0) return Error{"could not send to Postgres: " + last_error()};
    wants_write_ = rc == 1;
    return ok_status();
}

}  // namespace crmsync::sender
