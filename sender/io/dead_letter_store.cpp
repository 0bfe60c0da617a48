#include "io/dead_letter_store.hpp"

#include "io/libpq_handles.hpp"

namespace crmsync::sender {

DeadLetterStore::DeadLetterStore(std::string conninfo, std::string crm)
    : conninfo_(std::move(conninfo)), crm_(std::move(crm)) {}

DeadLetterStore::~DeadLetterStore() {
    if (conn_) PQfinish(conn_);
}

Status DeadLetterStore::ensure_connected() {
    if (conn_ && PQstatus(conn_) == CONNECTION_OK) return ok_status();
    if (conn_) PQfinish(conn_);
    const char* keywords[] = {"dbname", "fallback_application_name", nullptr};
    const char* values[] = {conninfo_.c_str(), "crmsync-sender dead letters", nullptr};
    conn_ = PQconnectdbParams(keywords, values, 1);
    if (PQstatus(conn_) != CONNECTION_OK) return Error{"could not connect to Postgres: " + pq_error(conn_)};
    return ok_status();
}

Status DeadLetterStore::write(const std::vector<DeadLetter>& letters) {
    if (letters.empty()) return ok_status();
    if (auto connected = ensure_connected(); !connected) return connected;
    PgResult begin(PQexec(conn_, "BEGIN"));
    if (PQresultStatus(begin.get()) != PGRES_COMMAND_OK) return Error{pq_error(conn_)};
    static const char* kInsert =
        "INSERT INTO crmsync.dead_letters (crm, event_id, commit_lsn, seq, object, key, payload, http_status, "
        "crm_error) VALUES ($1, $2, $3::pg_lsn, $4::integer, $5, $6, $7::json, nullif($8, '0')::integer, $9) "
        "ON CONFLICT (crm, event_id) DO NOTHING";
    for (const DeadLetter& letter : letters) {
        std::string event_id = format_lsn(letter.event.commit_lsn) + "/" + std::to_string(letter.event.seq);
        std::string lsn = format_lsn(letter.event.commit_lsn);
        std::string seq = std::to_string(letter.event.seq);
        std::string status = std::to_string(letter.http_status);
        const char* params[9] = {crm_.c_str(),
                                 event_id.c_str(),
                                 lsn.c_str(),
                                 seq.c_str(),
                                 letter.object.c_str(),
                                 letter.key ? letter.key->c_str() : nullptr,
                                 letter.payload.c_str(),
                                 status.c_str(),
                                 letter.error.c_str()};
        PgResult result(PQexecParams(conn_, kInsert, 9, nullptr, params, nullptr, nullptr, 0));
        if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
            std::string error = pq_error(conn_);
            PgResult rollback(PQexec(conn_, "ROLLBACK"));
            return Error{error};
        }
    }
    PgResult commit(PQexec(conn_, "COMMIT"));
    if (PQresultStatus(commit.get()) != PGRES_COMMAND_OK) return Error{pq_error(conn_)};
    return ok_status();
}

}  // namespace crmsync::sender
