#include "core/backfill_record.hpp"

namespace crmsync::sender {

Result<std::string> restamp_rendered(std::string_view rendered, EventId id) {
    constexpr std::string_view kUnstamped = ",\"commit_lsn\":\"0/0\",\"seq\":0,";
    const std::size_t at = rendered.find(kUnstamped);
    // The header ends where "record" starts; the stamp must be in it, not in a value.
    const std::size_t record_at = rendered.find(",\"record\":");
    if (at == std::string_view::npos || record_at == std::string_view::npos || at > record_at)
        return Error{"crmsync.render() returned a message without the unstamped header (" +
                     std::string(rendered.substr(0, 120)) +
                     "); are the crmsync extension and crmsync-sender the same version?"};
    std::string out;
    out.reserve(rendered.size() + 24);
    out.append(rendered.substr(0, at));
    out.append(",\"commit_lsn\":\"").append(format_lsn(id.commit_lsn)).append("\",\"seq\":");
    out.append(std::to_string(id.seq)).push_back(',');
    out.append(rendered.substr(at + kUnstamped.size()));
    return out;
}

}  // namespace crmsync::sender
