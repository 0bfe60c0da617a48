// crmsync.backfills: which tables a CRM still has to receive in full (requests, state
// 'pending'), how far each got (last_key: the id of the last row the CRM accepted), and
// which are done. What lets a restarted sender resume a backfill without resending
// finished tables, and lets `crmsync-sender backfill` ask a running sender for a re-sync.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "io/sql_connection.hpp"

namespace crmsync::sender {

struct BackfillProgress {
    std::string source;  // the table, as regclass prints it
    std::string state;   // pending | running | done
    std::optional<std::string> method;
    std::optional<std::string> last_key;
    std::vector<std::string> pending_ids;  // before last_key, still to be read again
    std::int64_t rows_sent = 0;
    std::int64_t rows_reread = 0;
    std::optional<std::int64_t> rows_estimate;
};

class BackfillStore {
public:
    BackfillStore(const std::string& conninfo, std::string crm);

    // Tables this crm maps with upserts (insert or update among the actions), by name.
    Result<std::vector<std::string>> mapped_tables();
    // Asks for a (re-)sync of `sources` from their first row: state pending, counters reset.
    Status request(const std::vector<std::string>& sources, const std::string& method);
    // State pending or running, oldest request first.
    Result<std::vector<BackfillProgress>> unfinished();
    Result<std::vector<BackfillProgress>> of(const std::vector<std::string>& sources);
    Status start(const std::string& source, const std::string& method, std::int64_t estimate);
    Status save_progress(const std::string& source, const std::string& last_key,
                         const std::vector<std::string>& pending_ids, std::int64_t rows_sent, std::int64_t rows_reread);
    Status finish(const std::string& source, std::int64_t rows_sent, std::int64_t rows_reread);

private:
    Result<std::vector<BackfillProgress>> select(const std::string& where, const std::vector<std::optional<std::string>>& params);
    std::string crm_;
    SqlConnection sql_;
};

}  // namespace crmsync::sender
