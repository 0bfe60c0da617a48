#include "core/batcher.hpp"

#include "core/rapidjson.hpp"

#include <algorithm>

namespace crmsync::sender {

// ---------------------------------------------------------------------------------------
// Batch

std::size_t Batch::event_count() const {
    std::size_t count = 0;
    for (const auto& entry : entries) count += 1 + entry.coalesced.size();
    return count;
}

std::vector<EventId> Batch::event_ids() const {
    std::vector<EventId> ids;
    ids.reserve(event_count());
    for (const auto& entry : entries) {
        ids.push_back(entry.event_id);
        ids.insert(ids.end(), entry.coalesced.begin(), entry.coalesced.end());
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

EventId Batch::first_event() const {
    EventId first = entries.empty() ? EventId{} : entries.front().event_id;
    for (const auto& entry : entries) first = std::min(first, entry.event_id);  // coalesced ids are later
    return first;
}

EventId Batch::last_event() const {
    EventId last{};
    for (const auto& entry : entries) {
        last = std::max(last, entry.event_id);
        if (!entry.coalesced.empty()) last = std::max(last, entry.coalesced.back());
    }
    return last;
}

namespace {

// ---------------------------------------------------------------------------------------
// Coalescing: the one place that parses a record. Members are located with RapidJSON's SAX
// reader and their bytes are spliced as they were: values keep their exact digits and
// escapes, nothing is re-serialised.

struct Member {
    std::string name;           // decoded, for comparison
    std::string_view raw_name;  // with quotes and escapes, for output
    std::string_view value;
};

struct MemberLocator : rapidjson::BaseReaderHandler<rapidjson::UTF8<>, MemberLocator> {
    std::string_view text;
    const rapidjson::MemoryStream* stream = nullptr;
    std::vector<Member>* members = nullptr;
    int depth = 0;
    bool root_is_object = false;
    std::size_t value_start = 0;

    std::size_t here() const { return stream->Tell(); }
    void value_done() {
        if (depth == 1) members->back().value = text.substr(value_start, here() - value_start);
    }
    bool open() {
        if (depth == 0) root_is_object = true;
        ++depth;
        return true;
    }
    bool StartObject() { return open(); }
    bool StartArray() {
        if (depth == 0) return false;
        ++depth;
        return true;
    }
    bool EndObject(rapidjson::SizeType) {
        --depth;
        value_done();
        return true;
    }
    bool EndArray(rapidjson::SizeType) {
        --depth;
        value_done();
        return true;
    }
    bool Key(const char* s, rapidjson::SizeType n, bool) {
        if (depth != 1) return true;
        const std::size_t end = here();
        // The raw key runs from its opening quote: find it backwards, past escaped quotes.
        std::size_t start = end - 1;
        while (start > 0) {
            --start;
            if (text[start] == '"') {
                std::size_t backslashes = 0;
                while (start > backslashes && text[start - 1 - backslashes] == '\\') ++backslashes;
                if (backslashes % 2 == 0) break;
            }
        }
        std::size_t value = end;
        while (value < text.size() && (text[value] == ' ' || text[value] == '\t' || text[value] == '\n' ||
                                       text[value] == '\r' || text[value] == ':'))
            ++value;
        value_start = value;
        members->push_back(Member{std::string(s, n), text.substr(start, end - start), {}});
        return true;
    }
    bool Default() {
        if (depth == 0) return false;  // a scalar root is not an object
        value_done();
        return true;
    }
    bool String(const char*, rapidjson::SizeType, bool) { return Default(); }
};

std::optional<std::vector<Member>> object_members(std::string_view object_json) {
    std::vector<Member> members;
    MemberLocator locator;
    rapidjson::MemoryStream stream(object_json.data(), object_json.size());
    locator.text = object_json;
    locator.stream = &stream;
    locator.members = &members;
    rapidjson::Reader reader;
    auto parsed = reader.Parse<rapidjson::kParseNumbersAsStringsFlag | rapidjson::kParseValidateEncodingFlag>(stream, locator);
    if (parsed.IsError() || !locator.root_is_object) return std::nullopt;
    return members;
}

// Later members win; members only the older record has are kept, in their place. With
// `nested` (HubSpot's "properties"), that member is itself merged the same way, one level.
std::optional<std::string> merge_objects(std::string_view older, std::string_view newer, std::string_view nested) {
    auto old_members = object_members(older);
    auto new_members = object_members(newer);
    if (!old_members || !new_members) return std::nullopt;

    std::vector<std::pair<std::string_view, std::string>> merged;  // raw name, value bytes
    std::vector<std::string_view> names;
    merged.reserve(old_members->size() + new_members->size());
    for (const auto& member : *old_members) {
        merged.emplace_back(member.raw_name, std::string(member.value));
        names.push_back(member.name);
    }
    for (const auto& member : *new_members) {
        auto found = std::find(names.begin(), names.end(), member.name);
        if (found == names.end()) {
            merged.emplace_back(member.raw_name, std::string(member.value));
            names.push_back(member.name);
            continue;
        }
        auto& slot = merged[static_cast<std::size_t>(found - names.begin())].second;
        if (!nested.empty() && member.name == nested && !slot.empty() && slot.front() == '{' &&
            !member.value.empty() && member.value.front() == '{') {
            auto inner = merge_objects(slot, member.value, {});
            if (!inner) return std::nullopt;
            slot = std::move(*inner);
        } else {
            slot = std::string(member.value);
        }
    }

    std::string out = "{";
    for (std::size_t i = 0; i < merged.size(); ++i) {
        if (i) out += ',';
        out += merged[i].first;
        out += ':';
        out += merged[i].second;
    }
    out += '}';
    return out;
}

std::optional<std::string> merge_records(Format format, std::string_view older, std::string_view newer) {
    try {
        return merge_objects(older, newer, format == Format::hubspot ? "properties" : "");
    } catch (const std::exception&) {  // RAPIDJSON_ASSERT: treat as "cannot merge"
        return std::nullopt;
    }
}

std::uint64_t fnv1a(std::string_view a, std::string_view b) {
    std::uint64_t hash = 14695981039346656037ull;
    auto mix = [&](std::string_view s) {
        for (unsigned char c : s) {
            hash ^= c;
            hash *= 1099511628211ull;
        }
    };
    mix(a);
    mix(std::string_view("\0", 1));
    mix(b);
    return hash;
}

std::string order_identity(std::string_view object, const std::optional<std::string>& key) {
    std::string id(object);
    id += '\0';
    if (key) id += *key;
    else id += std::string_view("\0null", 5);  // a keyless delete orders with other keyless events of its object
    return id;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Batcher

Batcher::Batcher(BatcherOptions options) : options_(options) {
    options_.lanes = std::max<std::size_t>(options_.lanes, 1);
    options_.max_records = std::max<std::size_t>(options_.max_records, 1);
    if (options_.format == Format::webhook) options_.coalesce = false;
}

std::size_t Batcher::limit_for(Action action) const {
    return std::min(options_.max_records, api_batch_limit(options_.format, action));
}

Batcher::Segment& Batcher::normal_segment() {
    if (segments_.empty() || segments_.back().barrier) {
        if (!segments_.empty()) seal_segment(segments_.back());
        Segment segment;
        segment.lanes.resize(options_.lanes);
        segments_.push_back(std::move(segment));
    }
    return segments_.back();
}

void Batcher::seal_segment(Segment& segment) {
    for (auto& lane : segment.lanes)
        if (!lane.queue.empty()) seal_through(lane, lane.queue.size() - 1);
}

// Seals queue[0..index]: batches leave a lane in order, so sealing one seals all before it.
// Sealed batches drop out of the key maps, which therefore only describe open batches.
void Batcher::seal_through(Lane& lane, std::size_t index) {
    for (std::size_t i = 0; i <= index && i < lane.queue.size(); ++i) {
        QueuedBatch& queued = lane.queue[i];
        if (queued.sealed) continue;
        queued.sealed = true;
    }
}

bool Batcher::coalesce_into_queued(Lane& lane, const std::string& group, const std::string& order_id,
                                   const std::string& entry_key, const PluginMessage& parsed) {
    auto newest = lane.newest_queued_batch.find(order_id);
    if (newest == lane.newest_queued_batch.end()) return false;
    // The queue is in sequence order.
    auto it = std::lower_bound(lane.queue.begin(), lane.queue.end(), newest->second,
                               [](const QueuedBatch& q, std::uint64_t sequence) { return q.batch.sequence < sequence; });
    if (it == lane.queue.end() || it->batch.sequence != newest->second || it->group != group) return false;
    auto existing = it->entry_by_key.find(entry_key);
    if (existing == it->entry_by_key.end()) return false;
    BatchEntry& entry = it->batch.entries[existing->second];
    if (entry.action != Action::upsert) return false;
    auto merged = merge_records(options_.format, entry.record(), parsed.record);
    if (!merged) return false;
    entry.bytes = std::move(*merged);
    entry.record_offset = 0;
    entry.record_size = entry.bytes.size();
    entry.whole_message = false;
    entry.coalesced.push_back(parsed.event_id());
    ++queued_events_;
    return true;
}

Batcher::QueuedBatch& Batcher::open_batch(Lane& lane, std::size_t lane_index, bool barrier, std::string group,
                                          const PluginMessage& parsed, std::string id_field, Clock::time_point now) {
    QueuedBatch queued;
    queued.group = std::move(group);
    queued.batch.sequence = next_sequence_++;
    queued.batch.lane = lane_index;
    queued.batch.barrier = barrier;
    queued.batch.action = parsed.action;
    if (options_.format != Format::webhook) queued.batch.object = parsed.object.value_or("");
    queued.batch.id_field = std::move(id_field);
    queued.batch.opened_at = now;
    lane.queue.push_back(std::move(queued));
    return lane.queue.back();
}

namespace {

BatchEntry make_entry(std::string bytes, const PluginMessage& parsed) {
    BatchEntry entry;
    entry.event_id = parsed.event_id();
    entry.action = parsed.action;
    entry.object = parsed.object.value_or("");
    entry.key = parsed.key;
    // `parsed.record` points into `bytes` (or into an identical copy): keep its position.
    entry.record_size = parsed.record.size();
    const char* base = bytes.data();
    if (parsed.record.data() >= base && parsed.record.data() + parsed.record.size() <= base + bytes.size()) {
        entry.record_offset = static_cast<std::size_t>(parsed.record.data() - base);
    } else {
        const auto offset = std::string_view(bytes).rfind(parsed.record);
        entry.record_offset = offset == std::string_view::npos ? 0 : offset;
    }
    entry.bytes = std::move(bytes);
    return entry;
}

}  // namespace

Status Batcher::add(std::string bytes, const PluginMessage& parsed, Clock::time_point now) {
    if (auto reason = undeliverable_reason(options_.format, parsed))
        return Error{"event " + format_event_id(parsed.event_id()) + " not batched: " + *reason};
    if (options_.format == Format::webhook && (parsed.action == Action::truncate || parsed.action == Action::message))
        return add_barrier(std::move(bytes), parsed, now);

    std::string id_field;
    if (options_.format != Format::webhook) {
        auto field = record_id_field(options_.format, parsed.record);
        if (!field) return Error{"event " + format_event_id(parsed.event_id()) + ": " + field.error()};
        id_field = std::move(*field);
    }

    Segment& segment = normal_segment();
    const std::size_t lane_index = fnv1a(parsed.object.value_or(""), parsed.key.value_or("")) % segment.lanes.size();
    Lane& lane = segment.lanes[lane_index];

    std::string group;
    if (options_.format != Format::webhook) {
        group = parsed.object.value_or("");
        group += '\0';
        group += action_name(parsed.action);
        group += '\0';
        group += id_field;
    }
    const std::string order_id = order_identity(parsed.object.value_or(""), parsed.key);
    const std::string entry_key = options_.format == Format::webhook ? std::string() : id_field + '\0' + parsed.key.value_or("");

    if (options_.format != Format::webhook && options_.coalesce && parsed.action == Action::upsert &&
        coalesce_into_queued(lane, group, order_id, entry_key, parsed))
        return ok_status();

    // The group's open batch, if any (open batches are the tail of the queue).
    std::optional<std::size_t> open;
    for (std::size_t i = lane.queue.size(); i-- > 0 && !lane.queue[i].sealed;)
        if (lane.queue[i].group == group) {
            open = i;
            break;
        }

    // Per-key order: the key already waits in a batch behind the open one.
    if (open) {
        auto newest = lane.newest_queued_batch.find(order_id);
        if (newest != lane.newest_queued_batch.end() && newest->second > lane.queue[*open].batch.sequence) {
            seal_through(lane, *open);
            open.reset();
        }
    }

    // One entry per key and batch in the CRM formats: a key the open batch already holds (and
    // that could not be merged above) starts a new batch.
    if (open && options_.format != Format::webhook && lane.queue[*open].entry_by_key.count(entry_key)) {
        seal_through(lane, *open);
        open.reset();
    }

    QueuedBatch& queued = open ? lane.queue[*open]
                               : open_batch(lane, lane_index, false, std::move(group), parsed, std::move(id_field), now);
    if (options_.format != Format::webhook) queued.entry_by_key.emplace(entry_key, queued.batch.entries.size());
    queued.batch.entries.push_back(make_entry(std::move(bytes), parsed));
    lane.newest_queued_batch[order_id] = queued.batch.sequence;
    ++queued_events_;
    ++queued_records_;
    if (queued.batch.entries.size() >= limit_for(parsed.action)) seal_through(lane, lane.queue.size() - 1);
    return ok_status();
}

Status Batcher::add_barrier(std::string bytes, const PluginMessage& parsed, Clock::time_point now) {
    if (segments_.empty() || !segments_.back().barrier) {
        if (!segments_.empty()) seal_segment(segments_.back());
        Segment segment;
        segment.barrier = true;
        segment.lanes.resize(1);
        segments_.push_back(std::move(segment));
    }
    Lane& lane = segments_.back().lanes.front();
    if (lane.queue.empty() || lane.queue.back().sealed) {
        if (!lane.queue.empty() || lane.in_flight) {
            // This barrier batch is already sent or full: the next one is a barrier of its own.
            seal_segment(segments_.back());
            Segment segment;
            segment.barrier = true;
            segment.lanes.resize(1);
            segments_.push_back(std::move(segment));
        }
        open_batch(segments_.back().lanes.front(), 0, true, std::string(), parsed, std::string(), now);
    }
    QueuedBatch& queued = segments_.back().lanes.front().queue.back();
    queued.batch.entries.push_back(make_entry(std::move(bytes), parsed));
    ++queued_events_;
    ++queued_records_;
    if (queued.batch.entries.size() >= limit_for(parsed.action)) queued.sealed = true;
    return ok_status();
}

bool Batcher::due(const QueuedBatch& head, Clock::time_point now) const {
    return head.sealed || draining_ || now >= head.batch.opened_at + options_.linger;
}

std::optional<Batch> Batcher::take_ready(Clock::time_point now) {
    while (!segments_.empty()) {
        Segment& front = segments_.front();
        bool finished_segment = true;
        for (const auto& lane : front.lanes)
            if (!lane.queue.empty() || lane.in_flight) finished_segment = false;
        if (finished_segment) {
            if (segments_.size() == 1) return std::nullopt;  // keep the open normal segment
            segments_.pop_front();
            continue;
        }
        const std::size_t lanes = front.lanes.size();
        for (std::size_t i = 0; i < lanes; ++i) {
            const std::size_t index = (cursor_ + i) % lanes;
            Lane& lane = front.lanes[index];
            if (lane.in_flight || lane.queue.empty() || !due(lane.queue.front(), now)) continue;
            seal_through(lane, 0);
            Batch batch = std::move(lane.queue.front().batch);
            lane.queue.pop_front();
            for (const auto& entry : batch.entries) {
                auto found = lane.newest_queued_batch.find(order_identity(entry.object, entry.key));
                if (found != lane.newest_queued_batch.end() && found->second == batch.sequence)
                    lane.newest_queued_batch.erase(found);
            }
            lane.in_flight = batch.sequence;
            queued_events_ -= batch.event_count();
            queued_records_ -= batch.entries.size();
            cursor_ = index + 1;
            return batch;
        }
        return std::nullopt;
    }
    return std::nullopt;
}

Status Batcher::finished(std::uint64_t batch_sequence) {
    if (!segments_.empty())
        for (auto& lane : segments_.front().lanes)
            if (lane.in_flight == batch_sequence) {
                lane.in_flight.reset();
                return ok_status();
            }
    return Error{"finished(" + std::to_string(batch_sequence) + "): no such batch in flight"};
}

std::optional<Batcher::Clock::time_point> Batcher::next_deadline() const {
    if (segments_.empty()) return std::nullopt;
    const Segment& front = segments_.front();
    std::optional<Clock::time_point> earliest;
    bool finished_segment = true;
    for (const auto& lane : front.lanes) {
        if (!lane.queue.empty() || lane.in_flight) finished_segment = false;
        if (lane.in_flight || lane.queue.empty()) continue;
        const QueuedBatch& head = lane.queue.front();
        const Clock::time_point when =
            (head.sealed || draining_) ? Clock::time_point::min() : head.batch.opened_at + options_.linger;
        if (!earliest || when < *earliest) earliest = when;
    }
    if (finished_segment && segments_.size() > 1) return Clock::time_point::min();
    return earliest;
}

void Batcher::seal_all() {
    draining_ = true;
    for (auto& segment : segments_) seal_segment(segment);
}

std::size_t Batcher::in_flight_batches() const {
    std::size_t count = 0;
    if (!segments_.empty())
        for (const auto& lane : segments_.front().lanes) count += lane.in_flight ? 1 : 0;
    return count;
}

bool Batcher::empty() const { return queued_events_ == 0 && in_flight_batches() == 0; }

}  // namespace crmsync::sender
