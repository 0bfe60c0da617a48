#include "state_file.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace crmsync::mock_crm {
namespace {

// Writes the file's JSON through w; flush runs every so often so a few million records need
// not sit in one buffer.
void write_state_json(const SharedState& shared, JsonWriter& w, const std::function<void()>& flush) {
    w.StartObject();
    write_key(w, "format");
    write_string(w, kStateFileFormat);
    write_key(w, "version");
    w.Int(kStateFileVersion);
    write_key(w, "objects");
    shared.state.write_saved(w, flush);
    write_key(w, "applied_events");
    std::vector<EventPosition> events;
    events.reserve(shared.applied_events.size());
    shared.applied_events.for_each([&](EventPosition p) { events.push_back(p); });
    std::sort(events.begin(), events.end());
    w.StartArray();
    for (size_t i = 0; i < events.size(); ++i) {
        write_string(w, position_text(events[i]));
        if (flush && i % 4096 == 4095) flush();
    }
    w.EndArray();
    if (shared.hubspot_schema.has_custom()) {
        write_key(w, "hubspot_properties");
        shared.hubspot_schema.write_custom(w);
    }
    if (shared.salesforce_schema.has_custom()) {
        write_key(w, "salesforce_schema");
        shared.salesforce_schema.write_custom(w);
    }
    if (!shared.associations.empty()) {
        write_key(w, "associations");
        shared.associations.write_saved(w);
    }
    if (shared.hubspot_association_types.has_custom()) {
        write_key(w, "hubspot_association_labels");
        shared.hubspot_association_types.write_custom(w);
    }
    w.EndObject();
}

std::string errno_text() { return std::strerror(errno); }

// Every association joins two live records of the loaded state (an archived record takes its
// associations with it, so a saved association never names a gone record).
std::string check_association_ends(const rapidjson::Value& saved, const CrmState& state) {
    for (rapidjson::SizeType i = 0; i < saved.Size(); ++i) {
        const rapidjson::Value& e = saved[i];
        for (rapidjson::SizeType k : {0u, 2u})
            if (!state.find_by_index(string_of(e[k]), static_cast<uint32_t>(*as_uint64(e[k + 1]))))
                return "associations[" + std::to_string(i) + "]: " + quote_json_string(string_of(e[k])) + " has no live record " +
                       std::to_string(*as_uint64(e[k + 1]));
    }
    return {};
}

}  // namespace

std::string state_file_text(const SharedState& shared) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    write_state_json(shared, w, {});
    return writer_text(buf);
}

void save_state_file(const std::string& path, const SharedState& shared) {
    auto fail = [&](const std::string& why) {
        return std::runtime_error("cannot save state file " + path + ": " + why);
    };
    std::string tmp = path + ".tmp." + std::to_string(getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) throw fail("cannot create " + tmp + ": " + errno_text());
    std::string error;
    rapidjson::StringBuffer buf;
    auto flush = [&] {
        const char* p = buf.GetString();
        size_t left = buf.GetSize();
        while (left > 0 && error.empty()) {
            ssize_t n = ::write(fd, p, left);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) error = "cannot write " + tmp + ": " + errno_text();
            else {
                p += n;
                left -= static_cast<size_t>(n);
            }
        }
        buf.Clear();
    };
    JsonWriter w(buf);
    write_state_json(shared, w, [&] {
        if (buf.GetSize() >= (size_t{1} << 20)) flush();
    });
    flush();
    if (error.empty() && ::fsync(fd) != 0) error = "cannot sync " + tmp + ": " + errno_text();
    if (::close(fd) != 0 && error.empty()) error = "cannot close " + tmp + ": " + errno_text();
    if (error.empty() && std::rename(tmp.c_str(), path.c_str()) != 0)
        error = "cannot rename " + tmp + " to it: " + errno_text();
    if (!error.empty()) {
        ::unlink(tmp.c_str());
        throw fail(error);
    }
}

std::string restore_state(std::string_view text, SharedState& shared) {
    JsonParseResult parsed = parse_json(text);
    if (!parsed.error.empty()) return parsed.error;
    const rapidjson::Value& doc = parsed.doc;
    if (!doc.IsObject()) return std::string("expected a JSON object, got ") + json_type_name(doc);
    const rapidjson::Value* format = find_member(doc, "format");
    if (!format || !is_string(*format) || string_of(*format) != kStateFileFormat)
        return "not a crmsync-mock-crm state file (\"format\" is not \"" + std::string(kStateFileFormat) + "\")";
    const rapidjson::Value* version = find_member(doc, "version");
    if (!version || as_uint64(*version) != uint64_t{kStateFileVersion})
        return "version: this mock reads version " + std::to_string(kStateFileVersion) + ", got " +
               (version ? to_json_text(*version) : std::string("none"));
    for (const auto& m : doc.GetObject()) {
        std::string_view name(m.name.GetString(), m.name.GetStringLength());
        if (name != "format" && name != "version" && name != "objects" && name != "applied_events" &&
            name != "hubspot_properties" && name != "salesforce_schema" && name != "associations" &&
            name != "hubspot_association_labels")
            return "unknown member " + quote_json_string(name);
    }
    const rapidjson::Value* objects = find_member(doc, "objects");
    if (!objects) return "objects: required";
    const rapidjson::Value* events = find_member(doc, "applied_events");
    if (!events || !events->IsArray()) return "applied_events: required, an array";

    CrmState state;
    if (std::string error = state.read_saved(*objects); !error.empty()) return error;
    EventIdSet applied;
    for (rapidjson::SizeType i = 0; i < events->Size(); ++i) {
        const rapidjson::Value& e = (*events)[i];
        auto pos = is_string(e) ? parse_position(string_of(e)) : std::nullopt;
        std::string at = "applied_events[" + std::to_string(i) + "]";
        if (!pos) return at + ": must be an event id like \"0/16B37A0/1\" (seq 1..4294967295)";
        if (!applied.insert(*pos)) return at + ": " + to_json_text(e) + " is listed twice";
    }
    HubSpotSchema schema;
    if (const rapidjson::Value* props = find_member(doc, "hubspot_properties"))
        if (std::string error = schema.read_custom(*props); !error.empty()) return error;
    SalesforceSchema sf_schema;
    if (const rapidjson::Value* saved = find_member(doc, "salesforce_schema"))
        if (std::string error = sf_schema.read_custom(*saved); !error.empty()) return error;
    HubSpotAssociationTypes association_types;
    if (const rapidjson::Value* saved = find_member(doc, "hubspot_association_labels"))
        if (std::string error = association_types.read_custom(*saved); !error.empty()) return error;
    AssociationStore associations;
    if (const rapidjson::Value* saved = find_member(doc, "associations")) {
        if (std::string error = associations.read_saved(*saved); !error.empty()) return error;
        if (std::string error = check_association_ends(*saved, state); !error.empty()) return error;
    }
    // Nothing of shared changes until the whole file is known good.
    shared.state = std::move(state);
    shared.applied_events = std::move(applied);
    shared.hubspot_schema = std::move(schema);
    shared.salesforce_schema = std::move(sf_schema);
    shared.hubspot_association_types = std::move(association_types);
    shared.associations = std::move(associations);
    return {};
}

std::optional<LoadedState> load_state_file(const std::string& path, SharedState& shared) {
    auto fail = [&](const std::string& why) {
        return std::runtime_error("cannot load state file " + path + ": " + why);
    };
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return std::nullopt;
        throw fail(errno_text());
    }
    if (!S_ISREG(st.st_mode)) throw fail("not a regular file");
    std::FILE* f = std::fopen(path.c_str(), "rb");
    if (!f) throw fail(errno_text());
    std::string text;
    char chunk[1 << 16];
    size_t n;
    while ((n = std::fread(chunk, 1, sizeof chunk, f)) > 0) text.append(chunk, n);
    bool read_error = std::ferror(f);
    int read_errno = errno;
    std::fclose(f);
    if (read_error) throw fail(std::string("read error: ") + std::strerror(read_errno));

    std::lock_guard lock(shared.mutex);
    if (std::string error = restore_state(text, shared); !error.empty()) throw fail(error);
    return LoadedState{shared.state.live_records(), shared.applied_events.size()};
}

}  // namespace crmsync::mock_crm
