// The replication connection to Postgres: libpq in replication=database mode, speaking
// START_REPLICATION and CopyBoth as pg_recvlogical does. Non-blocking after start, so the
// event loop can poll its socket next to curl's. No secret (the conninfo may carry a
// password) ever appears in what this class reports.
#pragma once

#include <libpq-fe.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/lsn.hpp"
#include "core/replication_protocol.hpp"
#include "core/result.hpp"

namespace crmsync::sender {

struct SlotInfo {
    bool exists = false;
    std::string plugin;
    bool active = false;
    int active_pid = 0;
    std::string wal_status;  // "lost" when max_slot_wal_keep_size removed its WAL
    Lsn confirmed_flush;
};

struct CreatedSlot {
    Lsn consistent_point;
    std::string snapshot_name;  // empty unless exported
};

class ReplicationStream {
public:
    // `conninfo` is the user's; replication=database and an application name are added.
    static Result<std::unique_ptr<ReplicationStream>> connect(const std::string& conninfo);
    ~ReplicationStream();
    ReplicationStream(const ReplicationStream&) = delete;
    ReplicationStream& operator=(const ReplicationStream&) = delete;

    Result<SlotInfo> slot_info(const std::string& slot);
    // CREATE_REPLICATION_SLOT ... LOGICAL crmsync. With `export_snapshot`, the snapshot of
    // the consistent point stays importable (SET TRANSACTION SNAPSHOT) until this
    // connection's next command.
    // `failover` (PostgreSQL 17+) makes it a failover slot.
    Result<CreatedSlot> create_slot(const std::string& slot, bool export_snapshot, bool failover);
    // START_REPLICATION SLOT "slot" LOGICAL <from> ("k" 'v', ...); then CopyBoth.
    Status start(const std::string& slot, Lsn from, const std::vector<std::pair<std::string, std::string>>& options);

    int socket() const;
    // PQserverVersion: 170004 for 17.4.
    int server_version() const;

    enum class ReadStatus { Frame, WouldBlock, Ended, Failed };
    // Reads one CopyData frame if one is buffered or arrives without blocking. The frame
    // stays valid until the next call.
    ReadStatus read_frame(std::string_view& frame);

    // Queues a standby status update and flushes what the socket takes now.
    Status send_status(const StandbyStatusUpdate& update);
    // True while libpq holds unsent bytes (poll for writability then call flush()).
    bool wants_write() const { return wants_write_; }
    Status flush();

    // The last error, from libpq, without connection parameters.
    std::string last_error() const;

    // A plain SQL query on the same connection (allowed before START_REPLICATION).
    Result<std::vector<std::vector<std::string>>> query(const std::string& sql);

private:
    explicit ReplicationStream(PGconn* conn) : conn_(conn) {}
    void release_frame();

    PGconn* conn_;
    char* frame_ = nullptr;
    bool wants_write_ = false;
};

// Whether to create the slot as a failover slot: `wanted` is source.failover (unset = where
// the server has them), `server_version` as PQserverVersion. An error when it is required of
// a server before 17.
Result<bool> resolve_failover(std::optional<bool> wanted, int server_version);

// Quotes a value for the replication grammar: 'it''s'.
std::string quote_replication_literal(std::string_view value);

}  // namespace crmsync::sender
