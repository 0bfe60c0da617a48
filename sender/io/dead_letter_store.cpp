#include "io/dead_letter_store.hpp"

#include "core/lsn.hpp"

namespace crmsync::sender {

DeadLetterStore::DeadLetterStore(std::string conninfo, std::string crm)
    : sql_(std::move(conninfo), "crmsync-sender dead letters"), crm_(std::move(crm)) {}

Status DeadLetterStore::write(const std::vector<DeadLetter>& letters) {
    if (letters.empty()) return ok_status();
    if (auto begun = sql_.exec("BEGIN"); !begun) return Error{begun.error()};
    static const std::string kInsert =
        "INSERT INTO crmsync.dead_letters (crm, event_id, commit_lsn, seq, object, key, payload, http_status, "
        "crm_error) VALUES ($1, $2, $3::pg_lsn, $4::integer, $5, $6, $7::json, nullif($8, '0')::integer, $9) "
        "ON CONFLICT (crm, event_id) DO NOTHING";
    for (const DeadLetter& letter : letters) {
        const std::string lsn = format_lsn(letter.event.commit_lsn);
        const std::string seq = std::to_string(letter.event.seq);
        auto inserted = sql_.exec(kInsert, {crm_, lsn + "/" + seq, lsn, seq, letter.object, letter.key,
                                            letter.payload, std::to_string(letter.http_status), letter.error});
        if (!inserted) {
            // Leaves the connection usable; every row is written again with the next attempt
            // (ON CONFLICT keeps one of each).
            (void)sql_.exec("ROLLBACK");
            return Error{inserted.error()};
        }
    }
    if (auto committed = sql_.exec("COMMIT"); !committed) return Error{committed.error()};
    return ok_status();
}

}  // namespace crmsync::sender
