#include "crm_state.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <new>

namespace crmsync::mock_crm {
namespace {

constexpr size_t kHeader = 9;  // u32 key length, u32 properties length, u8 live

struct BlobView {
    std::string_view key;
    std::string_view packed;
    bool live;
};

BlobView view(const char* blob) {
    uint32_t key_len, props_len;
    std::memcpy(&key_len, blob, 4);
    std::memcpy(&props_len, blob + 4, 4);
    return {{blob + kHeader, key_len}, {blob + kHeader + key_len, props_len}, blob[8] != 0};
}

std::unique_ptr<char[]> make_blob(std::string_view key, std::string_view packed, bool live) {
    auto blob = std::make_unique_for_overwrite<char[]>(kHeader + key.size() + packed.size());
    auto key_len = static_cast<uint32_t>(key.size());
    auto props_len = static_cast<uint32_t>(packed.size());
    std::memcpy(blob.get(), &key_len, 4);
    std::memcpy(blob.get() + 4, &props_len, 4);
    blob[8] = live ? 1 : 0;
    std::memcpy(blob.get() + kHeader, key.data(), key.size());
    std::memcpy(blob.get() + kHeader + key.size(), packed.data(), packed.size());
    return blob;
}

// A bucket holds the slot + 1 in its low half (0 = empty) and the key's 32-bit hash in its
// high half: a probe compares hashes before it reads a record's key (a cache miss each), and
// growing or shifting buckets never rereads keys. Every home bucket is taken from this
// 32-bit hash, so lookups, growth and deletion always agree on it.
uint32_t hash_key(std::string_view key) { return static_cast<uint32_t>(std::hash<std::string_view>{}(key)); }
uint64_t bucket_entry(uint32_t hash, uint32_t slot) { return uint64_t{hash} << 32 | (slot + 1); }
uint32_t entry_slot(uint64_t entry) { return static_cast<uint32_t>(entry) - 1; }
uint32_t entry_hash(uint64_t entry) { return static_cast<uint32_t>(entry >> 32); }
bool is_empty(uint64_t entry) { return static_cast<uint32_t>(entry) == 0; }

void put_varint(std::string& out, uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7F) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

uint64_t get_varint(std::string_view s, size_t& pos) {
    uint64_t v = 0;
    for (int shift = 0; pos < s.size(); shift += 7) {
        auto byte = static_cast<unsigned char>(s[pos++]);
        v |= uint64_t{byte & 0x7Fu} << shift;
        if (!(byte & 0x80)) break;
    }
    return v;
}

}  // namespace

// --- key index: linear probing over slot numbers ------------------------------------------

std::optional<size_t> CrmState::bucket_of(const ObjectTable& t, std::string_view key) {
    if (t.buckets.empty()) return std::nullopt;
    size_t mask = t.buckets.size() - 1;
    uint32_t hash = hash_key(key);
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        uint64_t e = t.buckets[i];
        if (is_empty(e)) return std::nullopt;
        if (entry_hash(e) == hash && view(t.slots[entry_slot(e)].get()).key == key) return i;
    }
}

void CrmState::map_key(ObjectTable& t, std::string_view key, uint32_t slot) {
    if ((t.mapped + 1) * 4 > t.buckets.size() * 3) grow_buckets(t);
    size_t mask = t.buckets.size() - 1;
    uint32_t hash = hash_key(key);
    size_t i = hash & mask;
    while (!is_empty(t.buckets[i])) i = (i + 1) & mask;
    t.buckets[i] = bucket_entry(hash, slot);
    ++t.mapped;
}

void CrmState::unmap_bucket(ObjectTable& t, size_t hole) {
    // Backward-shift deletion: later entries of the probe chain move up into the hole, so
    // lookups never need tombstone markers.
    size_t mask = t.buckets.size() - 1;
    for (size_t j = (hole + 1) & mask; !is_empty(t.buckets[j]); j = (j + 1) & mask) {
        size_t home = entry_hash(t.buckets[j]) & mask;
        bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (!stays) {
            t.buckets[hole] = t.buckets[j];
            hole = j;
        }
    }
    t.buckets[hole] = 0;
    --t.mapped;
}

void CrmState::grow_buckets(ObjectTable& t) {
    std::vector<uint64_t> old = std::move(t.buckets);
    t.buckets.assign(old.empty() ? 64 : old.size() * 2, 0);
    size_t mask = t.buckets.size() - 1;
    for (uint64_t e : old) {
        if (is_empty(e)) continue;
        size_t i = entry_hash(e) & mask;
        while (!is_empty(t.buckets[i])) i = (i + 1) & mask;
        t.buckets[i] = e;
    }
}

// --- properties ---------------------------------------------------------------------------

uint32_t CrmState::intern(std::string_view name) {
    if (auto it = name_ids_.find(name); it != name_ids_.end()) return it->second;
    auto [it, inserted] = name_ids_.emplace(std::string(name), static_cast<uint32_t>(names_.size()));
    names_.push_back(&it->first);
    return it->second;
}

std::vector<CrmState::Entry> CrmState::decode(std::string_view packed) const {
    std::vector<Entry> entries;
    size_t pos = 0;
    while (pos < packed.size()) {
        auto id = static_cast<uint32_t>(get_varint(packed, pos));
        size_t len = get_varint(packed, pos);
        entries.push_back({id, packed.substr(pos, len)});
        pos += len;
    }
    return entries;
}

std::string CrmState::encode(const std::vector<Entry>& entries) {
    std::string out;
    size_t total = 0;
    for (const Entry& e : entries) total += e.json.size() + 4;
    out.reserve(total);
    for (const Entry& e : entries) {
        put_varint(out, e.name_id);
        put_varint(out, e.json.size());
        out.append(e.json);
    }
    return out;
}

// --- objects and records ------------------------------------------------------------------

CrmState::ObjectTable& CrmState::table(std::string_view object) {
    auto it = objects_.find(object);
    if (it == objects_.end()) it = objects_.emplace(std::string(object), ObjectTable{}).first;
    return it->second;
}

const CrmState::ObjectTable* CrmState::find_table(std::string_view object) const {
    auto it = objects_.find(object);
    return it == objects_.end() ? nullptr : &it->second;
}

CrmState::ObjectTable* CrmState::find_table(std::string_view object) {
    auto it = objects_.find(object);
    return it == objects_.end() ? nullptr : &it->second;
}

CrmState::UpsertOutcome CrmState::upsert(std::string_view object, std::string_view key,
                                         const std::vector<PropertyValue>& props) {
    ObjectTable& t = table(object);
    auto bucket = bucket_of(t, key);
    std::optional<uint32_t> old_slot;
    std::vector<Entry> entries;
    if (bucket) {
        old_slot = entry_slot(t.buckets[*bucket]);
        BlobView old = view(t.slots[*old_slot].get());
        if (old.live) entries = decode(old.packed);
    }
    bool created = !old_slot || !view(t.slots[*old_slot].get()).live;
    for (const PropertyValue& p : props) {
        uint32_t id = intern(p.name);
        auto same = std::find_if(entries.begin(), entries.end(),
                                 [id](const Entry& e) { return e.name_id == id; });
        if (same != entries.end()) {
            same->json = p.json;
        } else {
            entries.push_back({id, p.json});
        }
    }
    // entries view the old blob and the caller's buffers: build the new blob before freeing.
    std::string packed = encode(entries);
    Blob blob = make_blob(key, packed, true);
    if (!created) {
        t.slots[*old_slot] = std::move(blob);
        return {*old_slot, false};
    }
    auto slot = static_cast<uint32_t>(t.slots.size());
    t.slots.push_back(std::move(blob));
    ++t.live;
    ++live_records_;
    if (old_slot) {
        // A tombstone: the key comes back under a new slot and keeps its position.
        t.buckets[*bucket] = bucket_entry(entry_hash(t.buckets[*bucket]), slot);
        if (*old_slot < t.high_water.size()) {
            t.high_water.resize(t.slots.size());
            t.high_water[slot] = t.high_water[*old_slot];
        }
        t.slots[*old_slot].reset();
    } else {
        map_key(t, key, slot);
    }
    return {slot, true};
}

bool CrmState::erase(std::string_view object, std::string_view key, bool keep_position) {
    ObjectTable* t = keep_position ? &table(object) : find_table(object);
    if (!t) return false;
    auto bucket = bucket_of(*t, key);
    if (!bucket) {
        if (keep_position) {
            auto slot = static_cast<uint32_t>(t->slots.size());
            t->slots.push_back(make_blob(key, {}, false));
            map_key(*t, key, slot);
        }
        return false;
    }
    uint32_t slot = entry_slot(t->buckets[*bucket]);
    bool was_live = view(t->slots[slot].get()).live;
    if (was_live) {
        --t->live;
        --live_records_;
    }
    if (keep_position) {
        t->slots[slot] = make_blob(key, {}, false);
    } else {
        unmap_bucket(*t, *bucket);  // reads the slot's key: unmap before freeing it
        t->slots[slot].reset();
    }
    return was_live;
}

size_t CrmState::truncate(std::string_view object, EventPosition at) {
    ObjectTable& t = table(object);
    size_t removed = t.live;
    live_records_ -= removed;
    EventPosition truncated_at = std::max(t.truncated_at, at);
    t = ObjectTable{};
    t.truncated_at = truncated_at;
    return removed;
}

std::optional<CrmState::RecordRef> CrmState::find(std::string_view object, std::string_view key) const {
    const ObjectTable* t = find_table(object);
    if (!t) return std::nullopt;
    auto bucket = bucket_of(*t, key);
    if (!bucket) return std::nullopt;
    return find_by_index(object, entry_slot(t->buckets[*bucket]));
}

std::optional<CrmState::RecordRef> CrmState::find_by_index(std::string_view object, uint32_t index) const {
    const ObjectTable* t = find_table(object);
    if (!t || index >= t->slots.size() || !t->slots[index]) return std::nullopt;
    BlobView v = view(t->slots[index].get());
    if (!v.live) return std::nullopt;
    return RecordRef{index, v.key, v.packed};
}

EventPosition CrmState::high_water(std::string_view object, std::string_view key) const {
    const ObjectTable* t = find_table(object);
    if (!t) return {};
    EventPosition own;
    if (auto bucket = bucket_of(*t, key)) {
        uint32_t slot = entry_slot(t->buckets[*bucket]);
        if (slot < t->high_water.size()) own = t->high_water[slot];
    }
    return std::max(own, t->truncated_at);
}

void CrmState::raise_high_water(std::string_view object, std::string_view key, EventPosition pos) {
    ObjectTable* t = find_table(object);
    if (!t) return;
    auto bucket = bucket_of(*t, key);
    if (!bucket) return;
    uint32_t slot = entry_slot(t->buckets[*bucket]);
    if (slot >= t->high_water.size()) t->high_water.resize(t->slots.size());
    t->high_water[slot] = std::max(t->high_water[slot], pos);
}

void CrmState::write_properties(JsonWriter& w, const RecordRef& r,
                                const std::vector<std::string>* only) const {
    w.StartObject();
    write_property_members(w, r, only);
    w.EndObject();
}

void CrmState::write_property_members(JsonWriter& w, const RecordRef& r,
                                      const std::vector<std::string>* only) const {
    std::vector<Entry> entries = decode(r.packed);
    if (only) {
        for (const std::string& name : *only) {
            write_key(w, name);
            auto id = name_ids_.find(name);
            auto e = id == name_ids_.end()
                         ? entries.end()
                         : std::find_if(entries.begin(), entries.end(),
                                        [&](const Entry& x) { return x.name_id == id->second; });
            if (e == entries.end()) {
                w.Null();
            } else {
                write_raw(w, e->json);
            }
        }
    } else {
        std::sort(entries.begin(), entries.end(), [this](const Entry& a, const Entry& b) {
            return *names_[a.name_id] < *names_[b.name_id];
        });
        for (const Entry& e : entries) {
            write_key(w, *names_[e.name_id]);
            write_raw(w, e.json);
        }
    }
}

std::optional<std::string_view> CrmState::property(const RecordRef& r, std::string_view name) const {
    auto id = name_ids_.find(name);
    if (id == name_ids_.end()) return std::nullopt;
    for (const Entry& e : decode(r.packed))
        if (e.name_id == id->second) return e.json;
    return std::nullopt;
}

void CrmState::for_each_record(std::string_view object, const std::function<void(const RecordRef&)>& fn) const {
    const ObjectTable* t = find_table(object);
    if (!t) return;
    for (uint32_t i = 0; i < t->slots.size(); ++i) {
        if (!t->slots[i]) continue;
        BlobView v = view(t->slots[i].get());
        if (v.live) fn(RecordRef{i, v.key, v.packed});
    }
}

void CrmState::write_state(JsonWriter& w, std::optional<std::string_view> object,
                           std::optional<std::string_view> key, const ExtraMembers& extra) const {
    w.StartObject();
    for (const auto& [name, t] : objects_) {
        if (object && name != *object) continue;
        std::vector<RecordRef> live;
        live.reserve(key ? 1 : t.live);
        for (uint32_t i = 0; i < t.slots.size(); ++i) {
            if (!t.slots[i]) continue;
            BlobView v = view(t.slots[i].get());
            if (v.live && (!key || v.key == *key)) live.push_back({i, v.key, v.packed});
        }
        if (live.empty() && !object) continue;  // objects emptied by deletes are not listed
        std::sort(live.begin(), live.end(), [](const RecordRef& a, const RecordRef& b) { return a.key < b.key; });
        write_key(w, name);
        w.StartObject();
        for (const RecordRef& r : live) {
            write_key(w, r.key);
            w.StartObject();
            write_property_members(w, r, nullptr);
            if (extra) extra(name, r, w);
            w.EndObject();
        }
        w.EndObject();
    }
    w.EndObject();
}

// --- the state file -----------------------------------------------------------------------

void CrmState::write_saved(JsonWriter& w, const std::function<void()>& after_record) const {
    w.StartObject();
    for (const auto& [name, t] : objects_) {
        write_key(w, name);
        w.StartObject();
        write_key(w, "next_index");
        w.Uint64(t.slots.size());
        if (t.truncated_at != EventPosition{}) {
            write_key(w, "truncated_at");
            write_string(w, position_text(t.truncated_at));
        }
        write_key(w, "records");
        w.StartArray();
        // Every slot still held is mapped by its key: a live record or a webhook tombstone.
        for (uint32_t i = 0; i < t.slots.size(); ++i) {
            if (!t.slots[i]) continue;
            BlobView v = view(t.slots[i].get());
            w.StartObject();
            write_key(w, "index");
            w.Uint(i);
            write_key(w, "key");
            write_string(w, v.key);
            if (v.live) {
                write_key(w, "properties");
                write_properties(w, RecordRef{i, v.key, v.packed});
            } else {
                write_key(w, "deleted");
                w.Bool(true);
            }
            if (i < t.high_water.size() && t.high_water[i] != EventPosition{}) {
                write_key(w, "high_water");
                write_string(w, position_text(t.high_water[i]));
            }
            w.EndObject();
            if (after_record) after_record();
        }
        w.EndArray();
        w.EndObject();
    }
    w.EndObject();
}

namespace {

// "" if every member of v is one of `known`, else the problem with the first that is not.
std::string unknown_member(const rapidjson::Value& v, std::initializer_list<std::string_view> known) {
    for (const auto& m : v.GetObject()) {
        std::string_view name(m.name.GetString(), m.name.GetStringLength());
        if (std::find(known.begin(), known.end(), name) == known.end())
            return "unknown member " + quote_json_string(name);
    }
    return {};
}

std::optional<EventPosition> position_of(const rapidjson::Value& v) {
    return is_string(v) ? parse_position(string_of(v)) : std::nullopt;
}

constexpr const char* kPositionForm = "must be an event position like \"0/16B37A0/1\" (seq 1..4294967295)";

}  // namespace

std::string CrmState::read_saved(const rapidjson::Value& objects) {
    clear();
    if (!objects.IsObject()) return std::string("objects: must be an object, got ") + json_type_name(objects);
    for (const auto& m : objects.GetObject()) {
        std::string_view name(m.name.GetString(), m.name.GetStringLength());
        std::string where = "objects[" + quote_json_string(name) + "]";
        std::string error = find_table(name) ? where + ": object listed twice"
                                             : read_saved_object(name, m.value, where);
        if (!error.empty()) {
            clear();
            return error;
        }
    }
    return {};
}

std::string CrmState::read_saved_object(std::string_view name, const rapidjson::Value& v,
                                        const std::string& where) {
    if (!v.IsObject()) return where + ": must be an object, got " + json_type_name(v);
    if (auto bad = unknown_member(v, {"next_index", "truncated_at", "records"}); !bad.empty())
        return where + ": " + bad;
    const rapidjson::Value* next_value = find_member(v, "next_index");
    auto next_index = next_value ? as_uint64(*next_value) : std::nullopt;
    if (!next_index || *next_index > UINT32_MAX)
        return where + ".next_index: required, an integer from 0 to 4294967295";
    EventPosition truncated_at;
    if (const rapidjson::Value* p = find_member(v, "truncated_at")) {
        auto pos = position_of(*p);
        if (!pos) return where + ".truncated_at: " + kPositionForm;
        truncated_at = *pos;
    }
    const rapidjson::Value* records = find_member(v, "records");
    if (!records || !records->IsArray()) return where + ".records: required, an array";
    if (records->Size() > *next_index)
        return where + ": " + std::to_string(records->Size()) + " records but next_index is " +
               std::to_string(*next_index) + " (every index is below next_index)";

    ObjectTable& t = table(name);
    t.truncated_at = truncated_at;
    try {
        t.slots.resize(*next_index);
    } catch (const std::bad_alloc&) {
        return where + ".next_index: " + std::to_string(*next_index) + " is too large to allocate";
    }
    for (rapidjson::SizeType i = 0; i < records->Size(); ++i) {
        const rapidjson::Value& r = (*records)[i];
        std::string at = where + ".records[" + std::to_string(i) + "]";
        if (!r.IsObject()) return at + ": must be an object, got " + json_type_name(r);
        if (auto bad = unknown_member(r, {"index", "key", "properties", "deleted", "high_water"}); !bad.empty())
            return at + ": " + bad;
        const rapidjson::Value* index_value = find_member(r, "index");
        auto index = index_value ? as_uint64(*index_value) : std::nullopt;
        if (!index || *index >= *next_index)
            return at + ".index: required, an integer below next_index (" + std::to_string(*next_index) + ")";
        if (t.slots[*index]) return at + ".index: " + std::to_string(*index) + " is used twice";
        const rapidjson::Value* key_value = find_member(r, "key");
        if (!key_value || !is_string(*key_value)) return at + ".key: required, a string";
        std::string_view key = string_of(*key_value);
        if (bucket_of(t, key)) return at + ".key: " + quote_json_string(key) + " is listed twice";
        bool live = true;
        if (const rapidjson::Value* deleted = find_member(r, "deleted")) {
            if (!deleted->IsBool()) return at + ".deleted: must be a boolean";
            live = !deleted->GetBool();
        }
        const rapidjson::Value* props = find_member(r, "properties");
        if (live && (!props || !props->IsObject()))
            return at + ".properties: required for a live record, an object";
        if (!live && props) return at + ".properties: a deleted record has none";
        EventPosition high_water;
        if (const rapidjson::Value* p = find_member(r, "high_water")) {
            auto pos = position_of(*p);
            if (!pos) return at + ".high_water: " + kPositionForm;
            high_water = *pos;
        }

        std::string packed;
        if (live) {
            std::deque<std::string> texts;  // deque: views into it stay valid as it grows
            std::vector<Entry> entries;
            for (const auto& m : props->GetObject()) {
                std::string_view prop(m.name.GetString(), m.name.GetStringLength());
                uint32_t id = intern(prop);
                if (std::any_of(entries.begin(), entries.end(), [id](const Entry& e) { return e.name_id == id; }))
                    return at + ".properties: " + quote_json_string(prop) + " is listed twice";
                texts.push_back(to_json_text(m.value));
                entries.push_back({id, texts.back()});
            }
            packed = encode(entries);
        }
        auto slot = static_cast<uint32_t>(*index);
        t.slots[slot] = make_blob(key, packed, live);
        map_key(t, key, slot);
        if (live) {
            ++t.live;
            ++live_records_;
        }
        if (high_water != EventPosition{}) {
            if (t.high_water.size() < t.slots.size()) t.high_water.resize(t.slots.size());
            t.high_water[slot] = high_water;
        }
    }
    return {};
}

void CrmState::clear() {
    objects_.clear();
    name_ids_.clear();
    names_.clear();
    live_records_ = 0;
}

}  // namespace crmsync::mock_crm
