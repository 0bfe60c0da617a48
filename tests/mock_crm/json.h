// JSON in and out of the mock CRM. Every file of the mock includes RapidJSON through this
// header only, so the throwing RAPIDJSON_ASSERT below is in force everywhere.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace crmsync::mock_crm {

// RapidJSON's default assert aborts the process; a request body the code did not expect must
// cost that request a 4xx/5xx, never the server every test shares.
struct JsonAssertion : std::logic_error {
    using std::logic_error::logic_error;
};

}  // namespace crmsync::mock_crm

#define RAPIDJSON_ASSERT(x)                                                                  \
    do {                                                                                     \
        if (!(x)) throw ::crmsync::mock_crm::JsonAssertion("RapidJSON assertion failed: " #x); \
    } while (false)
#define RAPIDJSON_HAS_STDSTRING 1
#if defined(__SSE2__)
// Strings are scanned 16 bytes at a time (x86-64 baseline). Only the fast path of parse_json
// reaches that code: it needs a NUL-terminated stream, and rapidjson skips it when it
// validates encoding.
#define RAPIDJSON_SSE2 1
#endif
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace crmsync::mock_crm {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

// Numbers keep the exact digits they arrived with (the plugin sends numeric columns with all
// their digits; a double would round them and state diffs against Postgres would lie). The
// parser stores each number as a string that starts with the byte 0xFF, which UTF-8 validated
// input can never contain, so the tag cannot collide with a real string value.
inline constexpr char kNumberTag = '\xFF';

struct JsonParseResult {
    rapidjson::Document doc;
    std::string error;  // empty when doc holds the parsed body
    // The parsed copy of the body: doc's strings may point into it. A unique_ptr, not a
    // string, so that moving the result never moves the bytes.
    std::unique_ptr<char[]> text;
};

// Parses a request body: UTF-8 validated, numbers kept as text (see kNumberTag). A body that is
// NUL-free valid UTF-8 (checked first, in one pass) is parsed in place in a copy; anything
// else goes through rapidjson's validating parser, whose error names where it went wrong.
JsonParseResult parse_json(std::string_view text);

bool is_number(const rapidjson::Value& v);
bool is_string(const rapidjson::Value& v);  // a JSON string, not a tagged number
std::string_view string_of(const rapidjson::Value& v);  // JSON string or number's digits
std::optional<uint64_t> as_uint64(const rapidjson::Value& v);
std::optional<double> as_double(const rapidjson::Value& v);

// Writes a parsed value back as JSON, numbers with their original digits.
void write_value(JsonWriter& w, const rapidjson::Value& v);
std::string to_json_text(const rapidjson::Value& v);
std::string quote_json_string(std::string_view s);  // the JSON text of a string value

// Short name of a value's JSON type, for error messages ("expected an array, got a string").
const char* json_type_name(const rapidjson::Value& v);

inline void write_string(JsonWriter& w, std::string_view s) {
    w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
inline void write_key(JsonWriter& w, std::string_view s) {
    w.Key(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}
inline void write_raw(JsonWriter& w, std::string_view json_text) {
    w.RawValue(json_text.data(), json_text.size(), rapidjson::kObjectType);
}

const rapidjson::Value* find_member(const rapidjson::Value& obj, std::string_view name);

}  // namespace crmsync::mock_crm
