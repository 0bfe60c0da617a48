// The CRM's records as the three API shapes leave them: state[object][key] = properties.
// HubSpot keys are idProperty values, Salesforce keys external-id values, webhook keys the
// event's key. Not thread-safe: the server serialises access (one batch applies atomically).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "event_id.h"
#include "json.h"

namespace crmsync::mock_crm {

// One property of an incoming record: its name and its value as JSON text.
struct PropertyValue {
    std::string_view name;
    std::string_view json;
};

struct TransparentStringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class CrmState {
public:
    // A live record as stored. Views stay valid until the next change to its object.
    struct RecordRef {
        uint32_t index;  // creation ordinal within its object; the CRM's own id derives from it
        std::string_view key;
        std::string_view packed;  // properties, see CrmState.cpp
    };

    struct UpsertOutcome {
        uint32_t index;
        bool created;
    };

    // Merges props into state[object][key] (missing ones kept, given ones replaced), creating
    // the record if needed. A record created anew gets a new index, so the id derived from it
    // is stable for the life of the record and never reused after a delete.
    UpsertOutcome upsert(std::string_view object, std::string_view key,
                         const std::vector<PropertyValue>& props);

    // Removes state[object][key]; returns whether it was there. keep_position leaves a
    // tombstone so later events for the key can still be checked against its position.
    bool erase(std::string_view object, std::string_view key, bool keep_position = false);

    // Clears an object; events for its keys older than `at` count as order violations after.
    size_t truncate(std::string_view object, EventPosition at);

    std::optional<RecordRef> find(std::string_view object, std::string_view key) const;
    std::optional<RecordRef> find_by_index(std::string_view object, uint32_t index) const;

    // Highest position applied to object+key, including a truncate of the object.
    EventPosition high_water(std::string_view object, std::string_view key) const;
    // Raises it for an existing record or tombstone.
    void raise_high_water(std::string_view object, std::string_view key, EventPosition pos);

    // Writes {"prop":value,...} sorted by name; with `only`, just those names (null if unset).
    void write_properties(JsonWriter& w, const RecordRef& r,
                          const std::vector<std::string>* only = nullptr) const;
    // Writes more members into a record's object in write_state, after its properties: the
    // links (associations, lookups) that other parts of the mock keep beside the records.
    using ExtraMembers = std::function<void(std::string_view object, const RecordRef& r, JsonWriter& w)>;
    // Writes {"<object>":{"<key>":{props}}} sorted, optionally one object and/or one key.
    void write_state(JsonWriter& w, std::optional<std::string_view> object,
                     std::optional<std::string_view> key, const ExtraMembers& extra = {}) const;

    // One property's JSON text, or nullopt when the record does not have it.
    std::optional<std::string_view> property(const RecordRef& r, std::string_view name) const;

    // Calls fn for every live record of object, in creation order.
    void for_each_record(std::string_view object, const std::function<void(const RecordRef&)>& fn) const;

    size_t live_records() const { return live_records_; }
    void clear();

    // --- the state file (state_file.h) ---------------------------------------------------
    // Writes every object as it stands, so that read_saved rebuilds a state that behaves the
    // same: {"<object>":{"next_index":N,["truncated_at":"L/L/S",]"records":[R,...]}}, with
    // R = {"index":I,"key":K,"properties":{...}} for a live record and
    // {"index":I,"key":K,"deleted":true} for a webhook tombstone, either with
    // "high_water":"L/L/S" when webhook events set one. index is the creation ordinal the
    // HubSpot and Salesforce ids derive from and next_index the one the next record gets, so
    // ids survive and are never reused. Objects emptied by deletes are kept for their counter.
    // after_record runs after each record (to flush a large buffer).
    void write_saved(JsonWriter& w, const std::function<void()>& after_record = {}) const;
    // Replaces this state with the saved one (a value parsed by parse_json). Returns "" or
    // what is wrong, as "<where>: <problem>" with where like objects["contacts"].records[3];
    // on error this state is left empty.
    std::string read_saved(const rapidjson::Value& objects);

private:
    // A few million records must fit, so each record is one heap block: a 9-byte header
    // (key length, properties length, live flag), the key, then the properties packed as
    // (varint name id, varint length, JSON text) with names interned once per process.
    // Slots are indexed by creation ordinal; a hash of slot numbers finds them by key.
    using Blob = std::unique_ptr<char[]>;
    struct ObjectTable {
        std::vector<Blob> slots;               // null once deleted or superseded
        std::vector<uint64_t> buckets;         // open addressing: key hash << 32 | slot + 1, 0 = empty
        size_t mapped = 0;                     // keys in buckets (live records and tombstones)
        std::vector<EventPosition> high_water; // by slot; grown only when webhook uses it
        EventPosition truncated_at;
        size_t live = 0;
    };
    struct Entry {
        uint32_t name_id;
        std::string_view json;
    };

    static std::optional<size_t> bucket_of(const ObjectTable& t, std::string_view key);
    static void map_key(ObjectTable& t, std::string_view key, uint32_t slot);
    static void unmap_bucket(ObjectTable& t, size_t bucket);
    static void grow_buckets(ObjectTable& t);

    void write_property_members(JsonWriter& w, const RecordRef& r, const std::vector<std::string>* only) const;
    uint32_t intern(std::string_view name);
    std::vector<Entry> decode(std::string_view packed) const;
    static std::string encode(const std::vector<Entry>& entries);
    std::string read_saved_object(std::string_view name, const rapidjson::Value& v, const std::string& where);
    ObjectTable& table(std::string_view object);
    const ObjectTable* find_table(std::string_view object) const;
    ObjectTable* find_table(std::string_view object);

    std::map<std::string, ObjectTable, std::less<>> objects_;
    std::unordered_map<std::string, uint32_t, TransparentStringHash, std::equal_to<>> name_ids_;
    std::vector<const std::string*> names_;  // by id; point at name_ids_ keys (node-stable)
    size_t live_records_ = 0;
};

}  // namespace crmsync::mock_crm
