// Writes rejected records to crmsync.dead_letters over a normal (non-replication)
// connection. A record is settled only after its row is committed, so a crash between the
// CRM's 4xx and this write redelivers it instead of losing it (docs/operations.md, delivery rule 2).
#pragma once

#include <string>
#include <vector>

#include "core/dead_letter.hpp"
#include "io/sql_connection.hpp"

namespace crmsync::sender {

class DeadLetterStore {
public:
    DeadLetterStore(std::string conninfo, std::string crm);

    // One transaction for the whole list; a redelivered event is recorded once.
    Status write(const std::vector<DeadLetter>& letters);

private:
    SqlConnection sql_;
    std::string crm_;
};

}  // namespace crmsync::sender
