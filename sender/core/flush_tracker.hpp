// FlushTracker: which LSN the sender may confirm to Postgres.
//
// Invariant (docs/operations.md, delivery rule 2): flushable_lsn() never passes a message that is neither
// accepted by the CRM nor written to crmsync.dead_letters. It is the end_lsn of the last
// commit marker such that every message of that transaction and of all earlier ones is
// settled. Messages settle in any order (lanes finish out of order); the confirmed position
// only moves over a contiguous settled prefix, and never moves back.
//
// Transactions must be registered in stream order: a transaction's messages (seq 1, 2, ...),
// then its commit marker. Logical decoding without streaming of in-progress transactions
// delivers exactly that. Every message must be registered, including those the sender drops
// or dead-letters without sending: the commit marker's count is checked against them, so a
// lost message is an error instead of a silently confirmed gap.
//
// Cost: O(1) amortised per message (a hash lookup to find the transaction, a vector slot per
// seq, each transaction popped once).
#pragma once

#include <cstdint>
#include <deque>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/lsn.hpp"
#include "core/result.hpp"

namespace crmsync::sender {

class FlushTracker {
public:
    // `start` is where streaming started (the slot's confirmed_flush_lsn): flushable_lsn()
    // never reports less.
    explicit FlushTracker(Lsn start = {});

    // A message of the open transaction. seq must be the next one (1, 2, ...).
    Status on_message(EventId id);

    // The commit marker closing the open transaction (or an empty transaction, when no
    // message was registered for commit_lsn). `count`, when given, must equal the number of
    // messages registered.
    Status on_commit(Lsn commit_lsn, Lsn end_lsn, std::optional<std::uint64_t> count = std::nullopt);

    // The message was accepted (2xx) or written to the dead-letter table. Settling an unknown
    // or already settled event is an error and changes nothing.
    Status settle(EventId id);

    // A primary keepalive: when no message is unsettled and no transaction is open, nothing
    // undelivered lies before wal_end (the stream is ordered, so everything before it has
    // been received and registered), and it may be confirmed. This lets the slot advance
    // over WAL that produced no messages (unmapped tables), so it does not pin WAL forever.
    void on_keepalive(Lsn wal_end);

    Lsn flushable_lsn() const { return flushable_; }
    // True when every message of id's transaction up to id.seq is settled (a backfill chunk
    // occupies a run of seqs and its progress may be saved once the run is settled), or the
    // transaction is already behind the flushable position.
    bool settled_through(EventId id) const;

    // True when every registered message is settled and no transaction is open.
    bool idle() const { return transactions_.empty(); }
    std::size_t unsettled_messages() const { return unsettled_; }
    std::size_t tracked_transactions() const { return transactions_.size(); }

private:
    enum class SlotState : std::uint8_t { pending, settled };

    struct Transaction {
        Lsn commit_lsn;
        std::optional<Lsn> end_lsn;       // set by the commit marker
        std::vector<SlotState> messages;  // index seq - 1
        std::size_t unsettled = 0;
        mutable std::size_t settled_prefix = 0;  // messages[0, settled_prefix) are settled
    };

    void advance();

    std::deque<Transaction> transactions_;  // stream order; front is the oldest not yet flushable
    std::uint64_t popped_ = 0;              // transactions removed from the front, ever
    std::unordered_map<std::uint64_t, std::uint64_t> index_by_commit_;  // commit_lsn -> absolute index
    std::optional<Lsn> last_commit_;        // the newest closed transaction's commit_lsn
    std::size_t unsettled_ = 0;
    Lsn flushable_;
};

}  // namespace crmsync::sender
