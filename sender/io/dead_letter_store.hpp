// Writes rejected records to crmsync.dead_letters over a normal (non-replication)
// connection. A record is settled only after its row is committed, so a crash between the
// CRM's 4xx and this write redelivers it instead of losing it (SPEC delivery rule 2).
#pragma once

#include <libpq-fe.h>

#include <string>
#include <vector>

#include "delivery/delivery_engine.hpp"

namespace crmsync::sender {

class DeadLetterStore {
public:
    DeadLetterStore(std::string conninfo, std::string crm);
    ~DeadLetterStore();
    DeadLetterStore(const DeadLetterStore&) = delete;
    DeadLetterStore& operator=(const DeadLetterStore&) = delete;

    // One transaction for the whole list; a redelivered event is recorded once.
    Status write(const std::vector<DeadLetter>& letters);

private:
    Status ensure_connected();
    std::string conninfo_;
    std::string crm_;
    PGconn* conn_ = nullptr;
};

}  // namespace crmsync::sender
