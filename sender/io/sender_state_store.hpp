// Tells crmsync.status what the sender is doing (crmsync.sender_state): streaming, waiting for
// the CRM's daily request budget until a time, or holding delivery for a configuration error.
// The row is written only when the state changes, so the hot path never touches it; a write
// that fails (no grant, Postgres away) is logged once and tried again at the next change or
// after 30 s.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "io/sql_connection.hpp"

namespace crmsync::sender {

struct SenderState {
    std::string state;                   // "streaming" | "waiting_for_quota" | "held"
    std::string detail;                  // the reason, as in the log; empty when streaming
    std::optional<int64_t> until_unix_ms;  // waiting_for_quota: when requests go again
    bool operator==(const SenderState&) const = default;
};

class SenderStateStore {
public:
    SenderStateStore(std::string conninfo, std::string crm);
    void publish(const SenderState& state);

private:
    SqlConnection sql_;
    std::string crm_;
    std::optional<SenderState> written_;
    std::optional<SenderState> failed_;  // the state last refused, and when: retried after 30 s
    std::chrono::steady_clock::time_point failed_at_{};
};

}  // namespace crmsync::sender
