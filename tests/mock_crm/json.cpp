#include "json.h"

#include <charconv>
#include <cstdlib>
#include <cstring>

#include <rapidjson/error/en.h>
#include <rapidjson/reader.h>

namespace crmsync::mock_crm {
namespace {

// Forwards SAX events into a Document, turning each number into a tagged string.
class NumberKeepingHandler {
public:
    explicit NumberKeepingHandler(rapidjson::Document& doc) : doc_(doc) {}

    bool Null() { return doc_.Null(); }
    bool Bool(bool b) { return doc_.Bool(b); }
    bool Int(int i) { return doc_.Int(i); }
    bool Uint(unsigned u) { return doc_.Uint(u); }
    bool Int64(int64_t i) { return doc_.Int64(i); }
    bool Uint64(uint64_t u) { return doc_.Uint64(u); }
    bool Double(double d) { return doc_.Double(d); }
    bool RawNumber(const char* str, rapidjson::SizeType len, bool) {
        tagged_.assign(1, kNumberTag);
        tagged_.append(str, len);
        return doc_.String(tagged_.data(), static_cast<rapidjson::SizeType>(tagged_.size()), true);
    }
    bool String(const char* str, rapidjson::SizeType len, bool copy) {
        return doc_.String(str, len, copy);
    }
    bool StartObject() { return doc_.StartObject(); }
    bool Key(const char* str, rapidjson::SizeType len, bool copy) { return doc_.Key(str, len, copy); }
    bool EndObject(rapidjson::SizeType n) { return doc_.EndObject(n); }
    bool StartArray() { return doc_.StartArray(); }
    bool EndArray(rapidjson::SizeType n) { return doc_.EndArray(n); }

private:
    rapidjson::Document& doc_;
    std::string tagged_;
};

// Line and column of a byte offset, the way the real APIs word their parse errors.
std::string position_of(std::string_view text, size_t offset) {
    size_t line = 1, column = 1;
    for (size_t i = 0; i < offset && i < text.size(); ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

// True when the text has no NUL byte and is valid UTF-8 (RFC 3629, rapidjson's own
// validator): then nothing is lost by parsing it without encoding checks, in place.
bool is_nul_free_utf8(std::string_view text) {
    struct Discard {
        void Put(char) {}
    } discard;
    constexpr uint64_t kOnes = 0x0101010101010101ULL, kHigh = kOnes * 0x80;
    const char* p = text.data();
    const char* end = p + text.size();
    while (p < end) {
        if (end - p >= 8) {
            uint64_t w;
            std::memcpy(&w, p, 8);
            if (((((w - kOnes) & ~w) | w) & kHigh) == 0) {  // no NUL, all ASCII
                p += 8;
                continue;
            }
        }
        auto c = static_cast<unsigned char>(*p);
        if (c == 0) return false;
        if (c < 0x80) {
            ++p;
            continue;
        }
        // Past the end the stream reads NUL, which no continuation byte matches.
        rapidjson::MemoryStream sequence(p, static_cast<size_t>(end - p));
        if (!rapidjson::UTF8<>::Validate(sequence, discard)) return false;
        p += sequence.Tell();
    }
    return true;
}

constexpr unsigned kNumbersAsText = rapidjson::kParseNumbersAsStringsFlag;

}  // namespace

JsonParseResult parse_json(std::string_view text) {
    JsonParseResult result;
    if (is_nul_free_utf8(text)) {
        result.text = std::make_unique_for_overwrite<char[]>(text.size() + 1);
        std::memcpy(result.text.get(), text.data(), text.size());
        result.text[text.size()] = '\0';
        rapidjson::InsituStringStream stream(result.text.get());
        rapidjson::Reader reader;
        rapidjson::ParseResult parsed;
        auto in_place = [&](rapidjson::Document& doc) {
            NumberKeepingHandler handler(doc);
            parsed = reader.Parse<kNumbersAsText | rapidjson::kParseInsituFlag>(stream, handler);
            return !parsed.IsError();
        };
        result.doc.Populate(in_place);
        if (!parsed.IsError()) return result;
        // Not JSON after all: the validating parse below words the error.
        result.doc.SetNull();
        result.text.reset();
    }
    // rapidjson's streams read NUL as their end: a NUL byte would cut the body short, and
    // what follows it would be dropped without a word.
    if (const void* nul = std::memchr(text.data(), 0, text.size())) {
        size_t at = static_cast<size_t>(static_cast<const char*>(nul) - text.data());
        result.error = "invalid JSON at " + position_of(text, at) + ": a NUL byte (JSON text cannot contain one)";
        return result;
    }
    constexpr unsigned kFlags = rapidjson::kParseValidateEncodingFlag | kNumbersAsText;
    rapidjson::MemoryStream ms(text.data(), text.size());
    rapidjson::EncodedInputStream<rapidjson::UTF8<>, rapidjson::MemoryStream> stream(ms);
    rapidjson::Reader reader;
    rapidjson::ParseResult parsed;
    auto generator = [&](rapidjson::Document& doc) {
        NumberKeepingHandler handler(doc);
        parsed = reader.Parse<kFlags>(stream, handler);
        return !parsed.IsError();
    };
    result.doc.Populate(generator);
    if (parsed.IsError()) {
        result.error = std::string("invalid JSON at ") + position_of(text, parsed.Offset()) + ": " +
                       rapidjson::GetParseError_En(parsed.Code());
        result.doc.SetNull();
    }
    return result;
}

bool is_number(const rapidjson::Value& v) {
    return v.IsString() && v.GetStringLength() > 0 && v.GetString()[0] == kNumberTag;
}

bool is_string(const rapidjson::Value& v) { return v.IsString() && !is_number(v); }

std::string_view string_of(const rapidjson::Value& v) {
    if (!v.IsString()) return {};
    std::string_view s(v.GetString(), v.GetStringLength());
    if (is_number(v)) s.remove_prefix(1);
    return s;
}

std::optional<uint64_t> as_uint64(const rapidjson::Value& v) {
    if (!is_number(v)) return std::nullopt;
    std::string_view digits = string_of(v);
    uint64_t out = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
    if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
    return out;
}

std::optional<double> as_double(const rapidjson::Value& v) {
    if (!is_number(v)) return std::nullopt;
    std::string digits(string_of(v));
    char* end = nullptr;
    double d = std::strtod(digits.c_str(), &end);
    if (end != digits.c_str() + digits.size()) return std::nullopt;
    return d;
}

void write_value(JsonWriter& w, const rapidjson::Value& v) {
    switch (v.GetType()) {
    case rapidjson::kNullType: w.Null(); break;
    case rapidjson::kFalseType: w.Bool(false); break;
    case rapidjson::kTrueType: w.Bool(true); break;
    case rapidjson::kStringType:
        if (is_number(v)) {
            std::string_view digits = string_of(v);
            w.RawValue(digits.data(), digits.size(), rapidjson::kNumberType);
        } else {
            w.String(v.GetString(), v.GetStringLength());
        }
        break;
    case rapidjson::kNumberType: v.Accept(w); break;  // only from values built in code
    case rapidjson::kArrayType:
        w.StartArray();
        for (const auto& item : v.GetArray()) write_value(w, item);
        w.EndArray();
        break;
    case rapidjson::kObjectType:
        w.StartObject();
        for (const auto& m : v.GetObject()) {
            w.Key(m.name.GetString(), m.name.GetStringLength());
            write_value(w, m.value);
        }
        w.EndObject();
        break;
    }
}

std::string to_json_text(const rapidjson::Value& v) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    write_value(w, v);
    return std::string(buf.GetString(), buf.GetSize());
}

std::string quote_json_string(std::string_view s) {
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    write_string(w, s);
    return std::string(buf.GetString(), buf.GetSize());
}

const char* json_type_name(const rapidjson::Value& v) {
    switch (v.GetType()) {
    case rapidjson::kNullType: return "null";
    case rapidjson::kFalseType:
    case rapidjson::kTrueType: return "a boolean";
    case rapidjson::kObjectType: return "an object";
    case rapidjson::kArrayType: return "an array";
    case rapidjson::kNumberType: return "a number";
    case rapidjson::kStringType: return is_number(v) ? "a number" : "a string";
    }
    return "unknown";
}

const rapidjson::Value* find_member(const rapidjson::Value& obj, std::string_view name) {
    if (!obj.IsObject()) return nullptr;
    auto it = obj.FindMember(
        rapidjson::Value(rapidjson::StringRef(name.data(), static_cast<rapidjson::SizeType>(name.size()))));
    return it == obj.MemberEnd() ? nullptr : &it->value;
}

}  // namespace crmsync::mock_crm
