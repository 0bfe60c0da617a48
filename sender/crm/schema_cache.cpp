#include "crm/schema_cache.hpp"

#include <algorithm>

namespace crmsync::sender {

bool SchemaCache::needs(std::string_view object) const {
    auto it = entries_.find(object);
    return it == entries_.end() || it->second.stale;
}

void SchemaCache::store(SchemaFetch fetch, Clock::time_point now) {
    std::string object = fetch.schema.object;
    entries_[object] = Entry{std::move(fetch), now, false};
}

void SchemaCache::note_verdict(Stage stage, const PartView& part, const ResponseVerdict& verdict,
                               Clock::time_point now) {
    using Kind = ResponseVerdict::Kind;
    if (stage != Stage::send || part.action != Action::upsert) return;
    const bool refused = verdict.kind == Kind::configuration || verdict.kind == Kind::rejected_unnamed ||
                         (verdict.kind == Kind::per_record &&
                          std::any_of(verdict.records.begin(), verdict.records.end(),
                                      [](const RecordOutcome& r) { return r.kind == RecordOutcome::Kind::rejected; }));
    if (!refused) return;
    auto it = entries_.find(part.object);
    if (it != entries_.end() && now - it->second.read_at >= kRereadAfter) it->second.stale = true;
}

const CrmObjectSchema* SchemaCache::find(std::string_view object) const {
    auto it = entries_.find(object);
    if (it == entries_.end() || it->second.fetch.problem != SchemaFetch::Problem::none) return nullptr;
    return &it->second.fetch.schema;
}

}  // namespace crmsync::sender
