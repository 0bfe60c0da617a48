#include "render/pure_zone.hpp"  // first: this file must not see Postgres
#include "render/stored_formats.hpp"

#include "render/json_text.hpp"

#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace crmsync::render {
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "the stored layouts below are little-endian; build the Postgres zone to use output functions");

uint16_t load16(const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

uint32_t load32(const uint8_t* p) {
    uint32_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

void append_part(std::string& out, const char* text) { out += text; }
template <typename Integer>
void append_part(std::string& out, Integer v) {
    out += std::to_string(v);
}

// The message is put together here, not at the call: a check on the hot path then costs a
// compare and a jump, without string temporaries (and their unwinding) in its function.
template <typename... Parts>
[[noreturn, gnu::cold, gnu::noinline]] void malformed(const char* type, const Parts&... parts) {
    std::string what = std::string("stored ") + type + " is malformed: ";
    (append_part(what, parts), ...);
    throw DamagedValue(what);
}

// numeric.c's layout: a 2-byte header, then (long form only) a 2-byte weight, then base-10000
// digits, most significant first. The header's top bits: 10 short form, 11 special value,
// 00/01 long form positive/negative.
constexpr uint16_t kSignMask = 0xC000;
constexpr uint16_t kNegative = 0x4000;
constexpr uint16_t kShort = 0x8000;
constexpr uint16_t kSpecial = 0xC000;
constexpr uint16_t kNaN = 0xC000;
constexpr uint16_t kPlusInfinity = 0xD000;
constexpr uint16_t kMinusInfinity = 0xF000;
constexpr uint16_t kShortNegative = 0x2000;
constexpr uint16_t kShortScaleMask = 0x1F80;
constexpr int kShortScaleShift = 7;
constexpr uint16_t kShortWeightNegative = 0x0040;
constexpr uint16_t kShortWeightMask = 0x003F;
constexpr uint16_t kLongScaleMask = 0x3FFF;
constexpr unsigned kNumericBase = 10000;

enum class NumericClass : uint8_t { Finite, NaN, Infinity, MinusInfinity };

struct NumericParts {
    NumericClass cls = NumericClass::Finite;
    bool negative = false;
    int weight = 0;  // base-10000 exponent of the first digit
    int scale = 0;   // decimal digits shown after the point
    const uint8_t* digits = nullptr;
    size_t ndigits = 0;
};

NumericParts parse_numeric(const uint8_t* p, size_t n) {
    if (n < 2) malformed("numeric", n, " bytes, fewer than its 2-byte header");
    const uint16_t header = load16(p);
    NumericParts v;
    if ((header & kSignMask) == kSpecial) {
        switch (header) {
            case kNaN: v.cls = NumericClass::NaN; return v;
            case kPlusInfinity: v.cls = NumericClass::Infinity; return v;
            case kMinusInfinity: v.cls = NumericClass::MinusInfinity; return v;
            default: malformed("numeric", "special-value header ", header, " is none of NaN, Infinity, -Infinity");
        }
    }
    size_t header_size;
    if (header & kShort) {
        v.negative = (header & kShortNegative) != 0;
        v.scale = (header & kShortScaleMask) >> kShortScaleShift;
        v.weight = (header & kShortWeightNegative) ? static_cast<int>(header & kShortWeightMask) - 64
                                                    : static_cast<int>(header & kShortWeightMask);
        header_size = 2;
    } else {
        if (n < 4) malformed("numeric", n, " bytes, fewer than its 4-byte long header");
        v.negative = (header & kSignMask) == kNegative;
        v.scale = header & kLongScaleMask;
        v.weight = static_cast<int16_t>(load16(p + 2));
        header_size = 4;
    }
    v.digits = p + header_size;
    v.ndigits = (n - header_size) / 2;
    return v;
}

// get_str_from_var() in numeric.c, digit for digit.
void write_numeric_text(OutBuffer& out, const NumericParts& v) {
    switch (v.cls) {
        case NumericClass::NaN: out.append("NaN", 3); return;
        case NumericClass::Infinity: out.append("Infinity", 8); return;
        case NumericClass::MinusInfinity: out.append("-Infinity", 9); return;
        case NumericClass::Finite: break;
    }
    auto digit_at = [&](int d) -> unsigned {
        if (d < 0 || static_cast<size_t>(d) >= v.ndigits) return 0;
        unsigned dig = load16(v.digits + 2 * static_cast<size_t>(d));
        if (dig >= kNumericBase) malformed("numeric", "digit ", dig, " is not below 10000");
        return dig;
    };
    const int before_point = v.weight >= 0 ? (v.weight + 1) * 4 : 1;
    // Sign, point, and up to three digits past the scale that are written and then cut.
    out.reserve(static_cast<size_t>(before_point) + static_cast<size_t>(v.scale) + 6);
    char* const start = out.data + out.len;
    char* cp = start;
    if (v.negative) *cp++ = '-';
    int d;
    if (v.weight < 0) {
        d = v.weight + 1;
        *cp++ = '0';
    } else {
        for (d = 0; d <= v.weight; ++d) {
            unsigned dig = digit_at(d);
            // The first base-10000 digit goes without its leading zeroes.
            bool put = d > 0;
            unsigned d1 = dig / 1000;
            dig -= d1 * 1000;
            put |= d1 > 0;
            if (put) *cp++ = static_cast<char>('0' + d1);
            d1 = dig / 100;
            dig -= d1 * 100;
            put |= d1 > 0;
            if (put) *cp++ = static_cast<char>('0' + d1);
            d1 = dig / 10;
            dig -= d1 * 10;
            put |= d1 > 0;
            if (put) *cp++ = static_cast<char>('0' + d1);
            *cp++ = static_cast<char>('0' + dig);
        }
    }
    if (v.scale > 0) {
        *cp++ = '.';
        char* const end = cp + v.scale;
        for (int i = 0; i < v.scale; ++d, i += 4) {
            unsigned dig = digit_at(d);
            cp[0] = static_cast<char>('0' + dig / 1000);
            cp[1] = static_cast<char>('0' + dig / 100 % 10);
            cp[2] = static_cast<char>('0' + dig / 10 % 10);
            cp[3] = static_cast<char>('0' + dig % 10);
            cp += 4;
        }
        cp = end;
    }
    out.len += static_cast<size_t>(cp - start);
}

// A numeric inside a jsonb keeps its own varlena header (1 or 4 bytes).
void write_embedded_numeric(OutBuffer& out, const uint8_t* p, size_t n) {
    if (n == 0) malformed("jsonb", "an empty numeric");
    size_t header, total;
    if ((p[0] & 0x01) == 0x01) {  // 1-byte header: length in the upper 7 bits
        header = 1;
        total = p[0] >> 1;
    } else if ((p[0] & 0x03) == 0x00 && n >= 4) {  // 4-byte header, uncompressed
        header = 4;
        total = load32(p) >> 2;
    } else {
        malformed("jsonb", "a numeric with a compressed or external varlena header");
    }
    if (total < header || total > n) malformed("jsonb", "a numeric of ", total, " bytes in ", n);
    write_numeric_text(out, parse_numeric(p + header, total - header));
}

using namespace stored_jsonb;

// One open object or array: where its entries and data are, and how far it is written.
struct Container {
    const uint8_t* entries;  // JEntry words: an object's keys, then its values
    const uint8_t* data;     // the children's bytes; entries locate them by offset
    size_t data_len;
    uint32_t count;       // pairs or items
    uint32_t next;        // the next pair or item to write
    uint32_t key_end;     // objects: where the last key written ends
    uint32_t value_end;   // where the last value (or item) written ends
    bool object;
    bool raw_scalar;      // a top-level scalar, stored as a one-item array and printed bare
};

uint32_t entry_at(const Container& c, uint32_t index) { return load32(c.entries + 4 * static_cast<size_t>(index)); }

// Every JB_OFFSET_STRIDE'th entry holds its end offset, the others their length.
uint32_t entry_end(uint32_t entry, uint32_t start) {
    return (entry & kHasOff) ? (entry & kOffLenMask) : start + (entry & kOffLenMask);
}

// getJsonbOffset(): where entry `index` starts.
uint32_t entry_start(const Container& c, uint32_t index) {
    uint32_t offset = 0;
    for (uint32_t i = index; i-- > 0;) {
        uint32_t entry = entry_at(c, i);
        offset += entry & kOffLenMask;
        if (entry & kHasOff) break;
    }
    return offset;
}

Container open_container(const uint8_t* p, size_t n) {
    if (n < 4) malformed("jsonb", "a container of ", n, " bytes, fewer than its header");
    const uint32_t header = load32(p);
    Container c{};
    c.count = header & kCountMask;
    c.object = (header & kObject) != 0;
    if (c.object == ((header & kArray) != 0)) malformed("jsonb", "a container that is not exactly one of object, array");
    c.raw_scalar = !c.object && (header & kScalar);
    if (c.raw_scalar && c.count != 1) malformed("jsonb", "a scalar container of ", c.count, " items");
    const uint64_t nentries = c.object ? 2ULL * c.count : c.count;
    if (4 + 4 * nentries > n) malformed("jsonb", nentries, " entries in a container of ", n, " bytes");
    c.entries = p + 4;
    c.data = c.entries + 4 * nentries;
    c.data_len = n - 4 - 4 * nentries;
    if (c.object && c.count > 0) c.value_end = entry_start(c, c.count);
    return c;
}

// The open containers, innermost last. Most documents are shallow; deeper ones spill to the heap.
class ContainerStack {
public:
    bool empty() const { return size_ == 0; }
    Container& top() { return size_ <= kInline ? inline_[size_ - 1] : spill_.back(); }
    void push(const Container& c) {
        if (size_ < kInline)
            inline_[size_] = c;
        else
            spill_.push_back(c);
        ++size_;
    }
    void pop() {
        if (size_ > kInline) spill_.pop_back();
        --size_;
    }

private:
    static constexpr size_t kInline = 16;
    Container inline_[kInline];
    std::vector<Container> spill_;
    size_t size_ = 0;
};

// The child's bytes [start, end), checked against its container.
void check_span(const Container& c, uint32_t start, uint32_t end) {
    if (start > end || end > c.data_len)
        malformed("jsonb", "a child at bytes ", start, "..", end, " of a container with ", c.data_len);
}

void open_into(OutBuffer& out, ContainerStack& stack, const uint8_t* p, size_t n) {
    Container c = open_container(p, n);
    if (!c.raw_scalar) out.put(c.object ? '{' : '[');
    stack.push(c);
}

// Writes one value (jsonb_put_escaped_value); a container is opened and pushed instead.
void write_child(OutBuffer& out, ContainerStack& stack, const Container& c, uint32_t entry, uint32_t start,
                 uint32_t end) {
    check_span(c, start, end);
    // Numerics and containers start at the next 4-byte boundary of the data.
    const uint32_t aligned = (start + 3) & ~uint32_t{3};
    switch (entry & kTypeMask) {
        case kString: write_json_string(out, reinterpret_cast<const char*>(c.data + start), end - start); return;
        case kNumeric:
            if (aligned > end) malformed("jsonb", "a numeric shorter than its padding");
            write_embedded_numeric(out, c.data + aligned, end - aligned);
            return;
        case kFalse: out.append("false", 5); return;
        case kTrue: out.append("true", 4); return;
        case kNull: out.append("null", 4); return;
        case kContainer:
            if (aligned > end) malformed("jsonb", "a container shorter than its padding");
            open_into(out, stack, c.data + aligned, end - aligned);
            return;
        default: malformed("jsonb", "entry type ", (entry & kTypeMask) >> 28, " is unknown");
    }
}

}  // namespace

void write_stored_numeric(OutBuffer& out, const char* payload, size_t n, bool quote_specials) {
    const NumericParts v = parse_numeric(reinterpret_cast<const uint8_t*>(payload), n);
    const bool quote = quote_specials && v.cls != NumericClass::Finite;
    if (quote) out.put('"');
    write_numeric_text(out, v);
    if (quote) out.put('"');
}

// JsonbToCStringWorker() without indentation: ", " between items and pairs, ": " after keys.
void write_stored_jsonb(OutBuffer& out, const char* root, size_t n) {
    ContainerStack stack;
    open_into(out, stack, reinterpret_cast<const uint8_t*>(root), n);
    while (!stack.empty()) {
        Container& c = stack.top();
        if (c.next == c.count) {
            if (!c.raw_scalar) out.put(c.object ? '}' : ']');
            stack.pop();
            continue;
        }
        if (c.next > 0) out.append(", ", 2);
        const uint32_t i = c.next++;
        uint32_t value_index = i;
        if (c.object) {
            const uint32_t key = entry_at(c, i);
            const uint32_t start = c.key_end;
            const uint32_t end = entry_end(key, start);
            check_span(c, start, end);
            if ((key & kTypeMask) != kString) malformed("jsonb", "an object key that is not a string");
            write_json_string(out, reinterpret_cast<const char*>(c.data + start), end - start);
            out.append(": ", 2);
            c.key_end = end;
            value_index = c.count + i;
        }
        const uint32_t entry = entry_at(c, value_index);
        const uint32_t start = c.value_end;
        const uint32_t end = entry_end(entry, start);
        c.value_end = end;
        // May push: `c` is not used after this.
        write_child(out, stack, c, entry, start, end);
    }
}

}  // namespace crmsync::render
