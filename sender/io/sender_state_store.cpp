#include "io/sender_state_store.hpp"

#include "log.hpp"

namespace crmsync::sender {

SenderStateStore::SenderStateStore(std::string conninfo, std::string crm)
    : sql_(std::move(conninfo), "crmsync-sender state"), crm_(std::move(crm)) {}

void SenderStateStore::publish(const SenderState& state) {
    if (written_ == state) return;
    const auto now = std::chrono::steady_clock::now();
    if (failed_ == state && now - failed_at_ < std::chrono::seconds(30)) return;
    static const std::string kUpsert =
        "INSERT INTO crmsync.sender_state (crm, state, detail, since, until, updated_at) "
        "VALUES ($1, $2, nullif($3, ''), now(), to_timestamp(nullif($4, '')::bigint / 1000.0), now()) "
        "ON CONFLICT (crm) DO UPDATE SET state = EXCLUDED.state, detail = EXCLUDED.detail, "
        "since = CASE WHEN crmsync.sender_state.state = EXCLUDED.state THEN crmsync.sender_state.since ELSE now() END, "
        "until = EXCLUDED.until, updated_at = now()";
    auto written = sql_.exec(kUpsert, {crm_, state.state, state.detail,
                                       state.until_unix_ms ? std::to_string(*state.until_unix_ms) : std::string()});
    if (written) {
        written_ = state;
        failed_.reset();
        return;
    }
    if (!failed_)
        log_warning("could not write the sender's state (" + state.state + ") to crmsync.sender_state, so "
                    "crmsync.status does not show it: " + written.error() +
                    "; GRANT SELECT, INSERT, UPDATE ON crmsync.sender_state TO the sender's role");
    failed_ = state;
    failed_at_ = now;
}

}  // namespace crmsync::sender
