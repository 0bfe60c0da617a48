#include "core/unseen_changes.hpp"

#include <algorithm>

namespace crmsync::sender {

void UnseenChanges::record(std::string_view key, std::uint32_t xid) {
    auto& xids = xids_by_key_[std::string(key)];
    if (std::find(xids.begin(), xids.end(), xid) == xids.end()) xids.push_back(xid);
}

void UnseenChanges::record_truncate(std::uint32_t xid) {
    if (std::find(truncate_xids_.begin(), truncate_xids_.end(), xid) == truncate_xids_.end())
        truncate_xids_.push_back(xid);
}

bool UnseenChanges::changed_after(std::string_view key, const PgSnapshot& snapshot) const {
    auto unseen = [&](std::uint32_t xid) { return !snapshot.sees(xid); };
    if (std::any_of(truncate_xids_.begin(), truncate_xids_.end(), unseen)) return true;
    auto found = xids_by_key_.find(std::string(key));
    return found != xids_by_key_.end() && std::any_of(found->second.begin(), found->second.end(), unseen);
}

void UnseenChanges::forget_seen_by_all(const PgSnapshot& snapshot) {
    const auto xmin32 = static_cast<std::uint32_t>(snapshot.xmin);
    auto seen_by_all = [xmin32](std::uint32_t xid) { return xid_precedes(xid, xmin32); };
    for (auto it = xids_by_key_.begin(); it != xids_by_key_.end();) {
        std::erase_if(it->second, seen_by_all);
        it = it->second.empty() ? xids_by_key_.erase(it) : std::next(it);
    }
    std::erase_if(truncate_xids_, seen_by_all);
}

void UnseenChanges::clear() {
    xids_by_key_.clear();
    truncate_xids_.clear();
}

}  // namespace crmsync::sender
