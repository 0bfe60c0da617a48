// Everything the plugin writes differently per target, one struct per target: the record's
// envelope around the key and properties (docs/mapping.md, "Record shapes"; built once per
// relation into RelationShape by message.cpp) and how each property value is written ("Type
// rendering"; value.cpp instantiates its property loop once per struct). A new CRM is one more
// struct here, one Format value and its case in with_shape(); the sender side has its
// adapter folder (sender/crm/<crm>/).
#pragma once

#include <cstdint>
#include <string_view>

#include "render/json_text.hpp"
#include "render/out_buffer.hpp"
#include "render/value.hpp"

namespace crmsync::render {

// The value writers the shapes combine (value.cpp): where a value goes decides how it looks,
// a typed JSON value or the text inside a JSON string (HubSpot properties, keys, and the items
// of a "a;b" multi-select); `millis`: timestamps with milliseconds instead of microseconds.
enum class Place : uint8_t { Typed, InString };
void write_scalar(OutBuffer& out, const Value& v, Place place, bool millis);
void write_json_array(OutBuffer& out, const Value& v);  // a 1-D array as a JSON array of typed items

inline void put_json_string(OutBuffer& out, std::string_view s) { write_json_string(out, s.data(), s.size()); }

// {"id":"<key>","properties":{...}}: typed JSON, timestamps with microseconds, arrays as JSON
// arrays, json embedded.
struct WebhookShape {
    static constexpr Format format = Format::Webhook;
    static constexpr bool typed_id = false;  // the id is the key's text
    static constexpr std::string_view props_open = ",\"properties\":{";
    static constexpr std::string_view record_close = "}}";
    static void record_head(OutBuffer& text, std::string_view, std::string_view) { text.append("{\"id\":"); }
    static inline __attribute__((always_inline)) void value(OutBuffer& out, const Value& v) {
        if (v.kind == ValueKind::Array)
            write_json_array(out, v);
        else
            write_scalar(out, v, Place::Typed, false);
    }
};

// {"idProperty":"<id property>","id":"<key>","properties":{...}}: every value a string (HubSpot
// stores them so), NULL as "" (clears the property), timestamps with milliseconds, arrays "a;b".
struct HubspotShape {
    static constexpr Format format = Format::Hubspot;
    static constexpr bool typed_id = false;
    static constexpr std::string_view props_open = ",\"properties\":{";
    static constexpr std::string_view record_close = "}}";
    static void record_head(OutBuffer& text, std::string_view, std::string_view id_property) {
        text.append("{\"idProperty\":");
        put_json_string(text, id_property);
        text.append(",\"id\":");
    }
    static inline __attribute__((always_inline)) void value(OutBuffer& out, const Value& v) {
        out.put('"');
        write_scalar(out, v, Place::InString, true);
        out.put('"');
    }
};

// {"attributes":{"type":"<object>"},"<external id field>":<typed id>,"<field>":<value>,...}:
// fields beside the id, typed JSON, timestamps with milliseconds, arrays "a;b" (multi-select
// picklists), json as text (Salesforce fields hold no JSON objects).
struct SalesforceShape {
    static constexpr Format format = Format::Salesforce;
    static constexpr bool typed_id = true;
    static constexpr std::string_view props_open = "";
    static constexpr std::string_view record_close = "}";
    static void record_head(OutBuffer& text, std::string_view object, std::string_view id_property) {
        text.append("{\"attributes\":{\"type\":");
        put_json_string(text, object);
        text.append("},");
        put_json_string(text, id_property);
        text.put(':');
    }
    static inline __attribute__((always_inline)) void value(OutBuffer& out, const Value& v) {
        if (v.kind == ValueKind::Json || v.kind == ValueKind::StoredJsonb) {
            out.put('"');
            write_scalar(out, v, Place::InString, true);
            out.put('"');
        } else {
            write_scalar(out, v, Place::Typed, true);
        }
    }
};

// Calls visit(<the format's shape>{}): the format is decided once, the shape's code inlined.
template <class Visit>
inline decltype(auto) with_shape(Format format, Visit&& visit) {
    switch (format) {
        case Format::Hubspot: return visit(HubspotShape{});
        case Format::Salesforce: return visit(SalesforceShape{});
        case Format::Webhook: break;
    }
    return visit(WebhookShape{});
}

}  // namespace crmsync::render
