#include "crm/schema_cache.hpp"

namespace crmsync::sender {

bool SchemaCache::needs(std::string_view object) const {
    auto it = entries_.find(object);
    return it == entries_.end() || it->second.stale;
}

void SchemaCache::store(SchemaFetch fetch, Clock::time_point now) {
    std::string object = fetch.schema.object;
    entries_[object] = Entry{std::move(fetch), now, false};
}

void SchemaCache::refused(std::string_view object, Clock::time_point now) {
    auto it = entries_.find(object);
    if (it != entries_.end() && now - it->second.read_at >= kRereadAfter) it->second.stale = true;
}

const CrmObjectSchema* SchemaCache::find(std::string_view object) const {
    auto it = entries_.find(object);
    if (it == entries_.end() || it->second.fetch.problem != SchemaFetch::Problem::none) return nullptr;
    return &it->second.fetch.schema;
}

}  // namespace crmsync::sender
