#include "core/flush_tracker.hpp"

#include <string>

namespace crmsync::sender {

FlushTracker::FlushTracker(Lsn start) : flushable_(start) {}

Status FlushTracker::on_message(EventId id) {
    Transaction* open = (!transactions_.empty() && !transactions_.back().end_lsn) ? &transactions_.back() : nullptr;
    if (open && open->commit_lsn != id.commit_lsn)
        return Error{"message " + format_event_id(id) + " arrived while transaction " + format_lsn(open->commit_lsn) +
                     " has no commit marker yet (is include-commits off?)"};
    if (!open) {
        if (last_commit_ && id.commit_lsn <= *last_commit_)
            return Error{"message " + format_event_id(id) + " is not after the last commit " +
                         format_lsn(*last_commit_) + ": the stream went backwards"};
        if (id.seq != 1)
            return Error{"message " + format_event_id(id) + " starts a transaction, expected seq 1"};
        transactions_.push_back(Transaction{id.commit_lsn, std::nullopt, {}, 0, 0});
        index_by_commit_[id.commit_lsn.value] = popped_ + transactions_.size() - 1;
        open = &transactions_.back();
    } else if (id.seq != open->messages.size() + 1) {
        return Error{"message " + format_event_id(id) + " out of sequence, expected seq " +
                     std::to_string(open->messages.size() + 1)};
    }
    open->messages.push_back(SlotState::pending);
    ++open->unsettled;
    ++unsettled_;
    return ok_status();
}

Status FlushTracker::on_commit(Lsn commit_lsn, Lsn end_lsn, std::optional<std::uint64_t> count) {
    Transaction* open = (!transactions_.empty() && !transactions_.back().end_lsn) ? &transactions_.back() : nullptr;
    if (open && open->commit_lsn != commit_lsn)
        return Error{"commit marker " + format_lsn(commit_lsn) + " while transaction " + format_lsn(open->commit_lsn) +
                     " is open"};
    if (!open && last_commit_ && commit_lsn <= *last_commit_)
        return Error{"commit marker " + format_lsn(commit_lsn) + " is not after the last commit " +
                     format_lsn(*last_commit_)};
    const std::size_t registered = open ? open->messages.size() : 0;
    if (count && *count != registered)
        return Error{"commit marker " + format_lsn(commit_lsn) + " counts " + std::to_string(*count) +
                     " messages, " + std::to_string(registered) + " were registered: a message was lost"};
    if (end_lsn < commit_lsn)
        return Error{"commit marker " + format_lsn(commit_lsn) + " has end_lsn " + format_lsn(end_lsn) +
                     " before its commit_lsn"};
    if (!open) {
        transactions_.push_back(Transaction{commit_lsn, std::nullopt, {}, 0, 0});
        index_by_commit_[commit_lsn.value] = popped_ + transactions_.size() - 1;
        open = &transactions_.back();
    }
    open->end_lsn = end_lsn;
    last_commit_ = commit_lsn;
    advance();
    return ok_status();
}

Status FlushTracker::settle(EventId id) {
    auto found = index_by_commit_.find(id.commit_lsn.value);
    if (found == index_by_commit_.end())
        return Error{"settle of unknown or already flushed event " + format_event_id(id)};
    Transaction& txn = transactions_[found->second - popped_];
    if (id.seq == 0 || id.seq > txn.messages.size())
        return Error{"settle of unknown event " + format_event_id(id)};
    SlotState& slot = txn.messages[id.seq - 1];
    if (slot == SlotState::settled) return Error{"event " + format_event_id(id) + " settled twice"};
    slot = SlotState::settled;
    --txn.unsettled;
    --unsettled_;
    if (found->second == popped_) advance();  // only the oldest transaction can unblock flushing
    return ok_status();
}

bool FlushTracker::settled_through(EventId id) const {
    auto found = index_by_commit_.find(id.commit_lsn.value);
    if (found == index_by_commit_.end())
        // Not tracked: either popped (flushable, hence settled) or never registered.
        return transactions_.empty() ? (last_commit_ && id.commit_lsn <= *last_commit_)
                                     : id.commit_lsn < transactions_.front().commit_lsn;
    const Transaction& txn = transactions_[found->second - popped_];
    if (id.seq > txn.messages.size()) return false;
    while (txn.settled_prefix < txn.messages.size() && txn.messages[txn.settled_prefix] == SlotState::settled)
        ++txn.settled_prefix;
    return txn.settled_prefix >= id.seq;
}

void FlushTracker::on_keepalive(Lsn wal_end) {
    if (transactions_.empty() && wal_end > flushable_) flushable_ = wal_end;
}

void FlushTracker::advance() {
    while (!transactions_.empty()) {
        const Transaction& oldest = transactions_.front();
        if (!oldest.end_lsn || oldest.unsettled != 0) break;
        if (*oldest.end_lsn > flushable_) flushable_ = *oldest.end_lsn;
        index_by_commit_.erase(oldest.commit_lsn.value);
        transactions_.pop_front();
        ++popped_;
    }
}

}  // namespace crmsync::sender
