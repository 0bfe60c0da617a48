#include "render/pure_zone.hpp"  // first: this file must not see Postgres
#include "render/value.hpp"

#include "render/crm_shapes.hpp"
#include "render/json_text.hpp"
#include "render/stored_formats.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstring>

namespace crmsync::render {
namespace {

constexpr int64_t kUsPerDay = 86400LL * 1000000LL;

// The most bytes each formatter writes: "-9223372036854775808"; a float's shortest
// round-trip text (to_chars, at most 24 for a double) or "-Infinity"; a timestamp with a
// signed expanded year ("-290308-12-21T19:59:05.224192Z"); "FFFFFFFF/FFFFFFFF"; a uuid.
constexpr size_t kMaxInt64Chars = 20;
constexpr size_t kMaxFloatChars = 32;
constexpr size_t kMaxTimestampChars = 48;
constexpr size_t kMaxLsnChars = 17;
constexpr size_t kUuidChars = 36;
constexpr int64_t kDaysFrom1970To2000 = 10957;

struct CivilDate {
    int64_t year;
    unsigned month;
    unsigned day;
};

// Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days).
CivilDate civil_from_days(int64_t z) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<int64_t>(yoe) + era * 400 + (m <= 2), m, d};
}

// "00".."99": a timestamp is eleven digit pairs, each one load and one store this way.
constexpr auto kDigitPairs = [] {
    std::array<char, 200> t{};
    for (int i = 0; i < 100; ++i) {
        t[2 * i] = static_cast<char>('0' + i / 10);
        t[2 * i + 1] = static_cast<char>('0' + i % 10);
    }
    return t;
}();

inline char* two_digits(char* p, unsigned v) {  // v < 100
    std::memcpy(p, &kDigitPairs[2 * v], 2);
    return p + 2;
}

// ISO 8601 years: four digits for 0000-9999, otherwise signed (expanded representation).
char* write_year(char* p, int64_t year) {
    if (year >= 0 && year <= 9999) {
        unsigned y = static_cast<unsigned>(year);
        p = two_digits(p, y / 100);
        return two_digits(p, y % 100);
    }
    *p++ = year < 0 ? '-' : '+';
    uint64_t mag = year < 0 ? static_cast<uint64_t>(-year) : static_cast<uint64_t>(year);
    char digits[24];
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, mag);
    for (ptrdiff_t pad = 4 - (end - digits); pad > 0; --pad) *p++ = '0';
    for (char* d = digits; d < end; ++d) *p++ = *d;
    return p;
}

// The timestamps of a stream of changes mostly fall on days seen just before (a row's
// updated_at is today, its created_at the day it was created): each day's "YYYY-MM-DD" is
// kept, 16 days by their number's low bits, and copied instead of computed again.
// thread_local, as the renderer keeps no other state and may be called from more than one
// thread; constinit, so that reading it needs no initialization check.
struct DateText {
    int64_t days;
    char text[10];
};
constexpr size_t kKeptDays = 16;
struct KeptDays {
    DateText day[kKeptDays];
};
constinit thread_local KeptDays t_kept_days = [] {
    KeptDays kept{};
    for (DateText& d : kept.day) d.days = INT64_MIN;  // no day: INT64_MIN days is out of range
    return kept;
}();

inline DateText& kept_day(int64_t days) { return t_kept_days.day[static_cast<uint64_t>(days) % kKeptDays]; }

[[gnu::noinline]] char* write_new_date_text(char* p, int64_t days_since_2000) {
    char* const start = p;
    CivilDate c = civil_from_days(days_since_2000 + kDaysFrom1970To2000);
    p = write_year(p, c.year);
    *p++ = '-';
    p = two_digits(p, c.month);
    *p++ = '-';
    p = two_digits(p, c.day);
    DateText& kept = kept_day(days_since_2000);
    if (p - start == sizeof kept.text) {  // four-digit years only: others have no fixed length
        std::memcpy(kept.text, start, sizeof kept.text);
        kept.days = days_since_2000;
    }
    return p;
}

inline char* write_date_text(char* p, int64_t days_since_2000) {
    const DateText& kept = kept_day(days_since_2000);
    if (days_since_2000 != kept.days) return write_new_date_text(p, days_since_2000);
    std::memcpy(p, kept.text, sizeof kept.text);
    return p + sizeof kept.text;
}

// Returns the bytes written into p (which has room for kMaxTimestampChars), without quotes.
size_t format_timestamp(char* start, int64_t us, bool millis, bool utc_suffix) {
    if (us == kTimestampInfinity || us == kTimestampMinusInfinity) {
        const char* s = us == kTimestampInfinity ? "infinity" : "-infinity";
        size_t n = std::strlen(s);
        std::memcpy(start, s, n);
        return n;
    }
    int64_t days = us / kUsPerDay;
    int64_t rem = us % kUsPerDay;
    if (rem < 0) {
        rem += kUsPerDay;
        --days;
    }
    char* p = write_date_text(start, days);
    *p++ = 'T';
    auto secs = static_cast<unsigned>(rem / 1000000);
    auto frac = static_cast<unsigned>(rem % 1000000);
    const unsigned minutes = secs / 60;
    p = two_digits(p, minutes / 60);
    *p++ = ':';
    p = two_digits(p, minutes % 60);
    *p++ = ':';
    p = two_digits(p, secs % 60);
    *p++ = '.';
    if (millis) {
        unsigned ms = frac / 1000;
        *p++ = static_cast<char>('0' + ms / 100);
        p = two_digits(p, ms % 100);
    } else {
        p = two_digits(p, frac / 10000);
        p = two_digits(p, frac / 100 % 100);
        p = two_digits(p, frac % 100);
    }
    if (utc_suffix) *p++ = 'Z';
    return static_cast<size_t>(p - start);
}

size_t format_date(char* start, int32_t days) {
    if (days == kDateInfinity || days == kDateMinusInfinity) {
        const char* s = days == kDateInfinity ? "infinity" : "-infinity";
        size_t n = std::strlen(s);
        std::memcpy(start, s, n);
        return n;
    }
    return static_cast<size_t>(write_date_text(start, days) - start);
}

size_t format_uuid(char* p, const uint8_t* b) {
    static constexpr char kHexDigits[] = "0123456789abcdef";
    char* s = p;
    for (int i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *p++ = '-';
        *p++ = kHexDigits[b[i] >> 4];
        *p++ = kHexDigits[b[i] & 15];
    }
    return static_cast<size_t>(p - s);
}

bool numeric_is_special(const Value& v) {
    // numeric_out prints only digits, '-', '.' for finite values.
    return v.bytes.len > 0 && (v.bytes.data[v.bytes.len - 1] < '0' || v.bytes.data[v.bytes.len - 1] > '9');
}

template <typename F>
size_t format_float(char* p, F f) {
    if (std::isnan(f)) {
        std::memcpy(p, "NaN", 3);
        return 3;
    }
    if (std::isinf(f)) {
        const char* s = f > 0 ? "Infinity" : "-Infinity";
        size_t n = std::strlen(s);
        std::memcpy(p, s, n);
        return n;
    }
    // Shortest text that reads back to the same float: what Postgres' own output gives with
    // extra_float_digits >= 1, and always a valid JSON number.
    auto [end, ec] = std::to_chars(p, p + kMaxFloatChars, f);
    return static_cast<size_t>(end - p);
}

// "a;b;c": how HubSpot and Salesforce take a multi-select. NULL items are left out.
void write_joined_items_body(OutBuffer& out, const Value& v, bool millis) {
    bool first = true;
    for (size_t i = 0; i < v.array.count; ++i) {
        const Value& item = v.array.items[i];
        if (item.is_null()) continue;
        if (!first) out.put(';');
        first = false;
        write_scalar(out, item, Place::InString, millis);
    }
}

// Inside a string the text is escaped once more: print it, then escape it. Kept out of
// write_scalar, whose every call would otherwise pay for this one's temporary buffer.
[[gnu::noinline]] void write_stored_jsonb_in_string(OutBuffer& out, const Value& v) {
    StringOut text;
    write_stored_jsonb(text.buffer(), v.bytes.data, v.bytes.len);
    write_json_string_body(out, text.view().data(), text.view().size());
}

// Formats at most `max` bytes straight into the buffer, quoted when typed. Formatting into a
// local array and copying it would reload the array's bytes right after storing them one at a
// time: a store-forwarding stall per value, which perf showed on every integer and timestamp.
template <typename Formatter>
inline void format_in_place(OutBuffer& out, size_t max, bool quoted, Formatter&& format) {
    out.reserve(max + 2);
    if (quoted) out.put_unchecked('"');
    out.len += format(out.data + out.len);
    if (quoted) out.put_unchecked('"');
}

}  // namespace

// Writes the value; with Place::InString the caller has opened the quotes.
void write_scalar(OutBuffer& out, const Value& v, Place place, bool millis) {
    const bool typed = place == Place::Typed;
    auto quoted_raw = [&](const char* p, size_t n) {
        if (typed) {
            out.reserve(n + 2);
            out.put_unchecked('"');
            out.append_unchecked(p, n);
            out.put_unchecked('"');
        } else {
            out.append(p, n);
        }
    };
    switch (v.kind) {
        case ValueKind::Null:
            if (typed) out.append("null", 4);
            return;
        case ValueKind::Bool:
            if (v.boolean)
                out.append("true", 4);
            else
                out.append("false", 5);
            return;
        case ValueKind::Int64:
            format_in_place(out, kMaxInt64Chars, false, [&](char* p) {
                return static_cast<size_t>(std::to_chars(p, p + kMaxInt64Chars, v.int64).ptr - p);
            });
            return;
        case ValueKind::Float32:
        case ValueKind::Float64: {
            // NaN and Infinity are not JSON numbers: typed, they go in quotes, added around
            // the text once it is known to be one of them.
            out.reserve(kMaxFloatChars + 2);
            char* start = out.data + out.len;
            size_t n = v.kind == ValueKind::Float32 ? format_float(start, v.float32) : format_float(start, v.float64);
            bool special = start[n - 1] == 'N' || start[n - 1] == 'y';  // NaN, Infinity
            if (special && typed) {
                std::memmove(start + 1, start, n);
                start[0] = '"';
                start[n + 1] = '"';
                n += 2;
            }
            out.len += n;
            return;
        }
        case ValueKind::NumericText:
            if (numeric_is_special(v))
                quoted_raw(v.bytes.data, v.bytes.len);
            else
                out.append(v.bytes.data, v.bytes.len);
            return;
        case ValueKind::StoredNumeric:
            write_stored_numeric(out, v.bytes.data, v.bytes.len, typed);
            return;
        case ValueKind::StoredJsonb:
            if (typed)
                write_stored_jsonb(out, v.bytes.data, v.bytes.len);
            else
                write_stored_jsonb_in_string(out, v);
            return;
        case ValueKind::Json:
            if (typed) {
                out.append(v.bytes.data, v.bytes.len);
                return;
            }
            write_json_string_body(out, v.bytes.data, v.bytes.len);
            return;
        case ValueKind::Text:
            if (typed)
                write_json_string(out, v.bytes.data, v.bytes.len);
            else
                write_json_string_body(out, v.bytes.data, v.bytes.len);
            return;
        case ValueKind::TimestampTz:
        case ValueKind::Timestamp:
            format_in_place(out, kMaxTimestampChars, typed, [&](char* p) {
                return format_timestamp(p, v.int64, millis, v.kind == ValueKind::TimestampTz);
            });
            return;
        case ValueKind::Date:
            format_in_place(out, kMaxTimestampChars, typed, [&](char* p) { return format_date(p, v.date); });
            return;
        case ValueKind::Uuid:
            format_in_place(out, kUuidChars, typed,
                            [&](char* p) { return format_uuid(p, reinterpret_cast<const uint8_t*>(v.bytes.data)); });
            return;
        case ValueKind::Bytea:
            if (typed) out.put('"');
            write_base64_body(out, reinterpret_cast<const uint8_t*>(v.bytes.data), v.bytes.len);
            if (typed) out.put('"');
            return;
        case ValueKind::Array:
            if (typed) out.put('"');
            write_joined_items_body(out, v, millis);
            if (typed) out.put('"');
            return;
    }
}

void write_json_array(OutBuffer& out, const Value& v) {
    out.put('[');
    for (size_t i = 0; i < v.array.count; ++i) {
        if (i) out.put(',');
        write_scalar(out, v.array.items[i], Place::Typed, false);
    }
    out.put(']');
}

bool parse_format(std::string_view name, Format& out) {
    if (name == "webhook") out = Format::Webhook;
    else if (name == "hubspot") out = Format::Hubspot;
    else if (name == "salesforce") out = Format::Salesforce;
    else return false;
    return true;
}

std::string_view format_name(Format f) {
    switch (f) {
        case Format::Webhook: return "webhook";
        case Format::Hubspot: return "hubspot";
        case Format::Salesforce: return "salesforce";
    }
    return "?";
}

namespace {

// One loop per shape: the format is decided once per record, not once per property.
template <class Shape>
void write_properties_as(OutBuffer& out, const Property* props, size_t n, bool comma_first) {
    for (size_t i = 0; i < n; ++i) {
        const Slice& name = props[i].name;
        if (i == 0 && !comma_first)
            out.append(name.data + 1, name.len - 1);
        else
            out.append(name.data, name.len);
        Shape::value(out, props[i].value);
    }
}

}  // namespace

void write_properties(OutBuffer& out, const Property* props, size_t n, Format format, bool comma_first) {
    with_shape(format, [&](auto shape) { write_properties_as<decltype(shape)>(out, props, n, comma_first); });
}

void write_value(OutBuffer& out, const Value& v, Format format) {
    with_shape(format, [&](auto shape) { decltype(shape)::value(out, v); });
}

void write_key(OutBuffer& out, const Value& v) {
    if (v.is_null()) {
        out.append("null", 4);
        return;
    }
    out.put('"');
    write_scalar(out, v, Place::InString, false);
    out.put('"');
}

void write_timestamptz(OutBuffer& out, int64_t pg_us, bool millis) {
    format_in_place(out, kMaxTimestampChars, true, [&](char* p) { return format_timestamp(p, pg_us, millis, true); });
}

void write_lsn_body(OutBuffer& out, uint64_t lsn) {
    format_in_place(out, kMaxLsnChars, false, [&](char* start) {
        char* mid = std::to_chars(start, start + 8, static_cast<uint32_t>(lsn >> 32), 16).ptr;
        *mid++ = '/';
        char* end = std::to_chars(mid, mid + 8, static_cast<uint32_t>(lsn), 16).ptr;
        for (char* p = start; p < end; ++p)
            if (*p >= 'a' && *p <= 'f') *p = static_cast<char>(*p - 'a' + 'A');
        return static_cast<size_t>(end - start);
    });
}

void write_uint(OutBuffer& out, uint64_t v) {
    format_in_place(out, kMaxInt64Chars, false, [&](char* p) {
        return static_cast<size_t>(std::to_chars(p, p + kMaxInt64Chars, v).ptr - p);
    });
}

}  // namespace crmsync::render
