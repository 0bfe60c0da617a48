#include "render/pure_zone.hpp"  // first: this file must not see Postgres
#include "render/json_text.hpp"

#include "render/rapidjson_config.hpp"

#include <array>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <cstring>

namespace crmsync::render {
namespace {

enum : uint8_t { kPlain = 0, kEscape = 1, kMultibyte = 2 };

constexpr std::array<uint8_t, 256> make_byte_classes() {
    std::array<uint8_t, 256> t{};
    for (int c = 0; c < 256; ++c) {
        if (c < 0x20 || c == '"' || c == '\\')
            t[c] = kEscape;
        else if (c >= 0x80)
            t[c] = kMultibyte;
        else
            t[c] = kPlain;
    }
    return t;
}
constexpr auto kByteClass = make_byte_classes();

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence starting at p (lead byte >= 0x80), or 0 if invalid.
// Follows RFC 3629 table 3-7: no overlongs, no surrogates, nothing above U+10FFFF.
inline size_t utf8_sequence_length(const uint8_t* p, const uint8_t* end) {
    const uint8_t b0 = p[0];
    auto cont = [](uint8_t b) { return (b & 0xC0) == 0x80; };
    size_t avail = static_cast<size_t>(end - p);
    if (b0 >= 0xC2 && b0 <= 0xDF) return (avail >= 2 && cont(p[1])) ? 2 : 0;
    if (b0 >= 0xE0 && b0 <= 0xEF) {
        if (avail < 3 || !cont(p[2])) return 0;
        uint8_t b1 = p[1];
        if (b0 == 0xE0) return (b1 >= 0xA0 && b1 <= 0xBF) ? 3 : 0;
        if (b0 == 0xED) return (b1 >= 0x80 && b1 <= 0x9F) ? 3 : 0;
        return cont(b1) ? 3 : 0;
    }
    if (b0 >= 0xF0 && b0 <= 0xF4) {
        if (avail < 4 || !cont(p[2]) || !cont(p[3])) return 0;
        uint8_t b1 = p[1];
        if (b0 == 0xF0) return (b1 >= 0x90 && b1 <= 0xBF) ? 4 : 0;
        if (b0 == 0xF4) return (b1 >= 0x80 && b1 <= 0x8F) ? 4 : 0;
        return cont(b1) ? 4 : 0;
    }
    return 0;
}

// A word's bytes that are not plain ASCII (< 0x20, '"', '\\', >= 0x80), each marked by its
// high bit. Exact for the lowest marked byte, which is all the callers use: a borrow only
// runs upwards, from a byte that is marked anyway.
template <typename Word>
inline Word special_bytes(Word w) {
    constexpr Word ones = static_cast<Word>(~Word{0}) / 0xFF;  // 0x0101...
    constexpr Word high = ones * 0x80;
    auto zero_bytes = [](Word x) { return (x - ones) & ~x & high; };
    return ((w - ones * 0x20) & ~w & high)  // below 0x20
           | zero_bytes(w ^ (ones * '"')) | zero_bytes(w ^ (ones * '\\')) | (w & high);
}

// Where the first special byte is in the n (1 <= n <= 2 * sizeof(Word)) bytes at p, or
// p + n: two words, the second one ending at p + n (they overlap when n < 2 words).
template <typename Word>
inline const uint8_t* find_special_in_two_words(const uint8_t* p, size_t n) {
    Word w;
    std::memcpy(&w, p, sizeof w);
    if (Word m = special_bytes(w)) return p + __builtin_ctzll(m) / 8;
    const uint8_t* q = p + n - sizeof w;
    std::memcpy(&w, q, sizeof w);
    if (Word m = special_bytes(w)) return q + __builtin_ctzll(m) / 8;
    return p + n;
}

// The first byte at or after p that is not plain ASCII (or end). Most property values are
// plain: 16 bytes at a time with SSE2 (baseline on x86-64), and what is left, or a short
// value, in two overlapping 8- or 4-byte words, so no value is scanned a byte at a time
// unless it is shorter than 4 bytes.
inline const uint8_t* skip_plain(const uint8_t* p, const uint8_t* end) {
#if defined(__SSE2__)
    const __m128i space = _mm_set1_epi8(0x20);
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    while (end - p >= 16) {
        __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
        // Signed compare: bytes >= 0x80 are negative, so "< 0x20" also catches non-ASCII.
        __m128i special = _mm_or_si128(_mm_cmplt_epi8(bytes, space),
                                       _mm_or_si128(_mm_cmpeq_epi8(bytes, quote), _mm_cmpeq_epi8(bytes, backslash)));
        int mask = _mm_movemask_epi8(special);
        if (mask != 0) return p + __builtin_ctz(static_cast<unsigned>(mask));
        p += 16;
    }
#endif
    const size_t left = static_cast<size_t>(end - p);
    if (left >= 8) {
        while (end - p > 16) {
            uint64_t w;
            std::memcpy(&w, p, sizeof w);
            if (uint64_t m = special_bytes(w)) return p + __builtin_ctzll(m) / 8;
            p += 8;
        }
        return find_special_in_two_words<uint64_t>(p, static_cast<size_t>(end - p));
    }
    if (left >= 4) return find_special_in_two_words<uint32_t>(p, left);
    while (p < end && kByteClass[*p] == kPlain) ++p;
    return p;
}

// Worst case is 6 output bytes per input byte (\u00XX); reserving per chunk keeps a large
// text from inflating the walsender's buffer to six times its size up front.
constexpr size_t kChunk = 4096;

}  // namespace

void write_json_string_body_general(OutBuffer& out, const char* src, size_t n) {
    const auto* p = reinterpret_cast<const uint8_t*>(src);
    const auto* end = p + n;
    while (p < end) {
        const uint8_t* chunk_end = (static_cast<size_t>(end - p) > kChunk) ? p + kChunk : end;
        out.reserve(static_cast<size_t>(chunk_end - p) * 6 + 8);
        while (p < chunk_end) {
            const uint8_t* run = p;
            p = skip_plain(p, chunk_end);
            if (p != run) out.append_unchecked(reinterpret_cast<const char*>(run), p - run);
            if (p >= chunk_end) break;
            uint8_t c = *p;
            if (kByteClass[c] == kEscape) {
                out.put_unchecked('\\');
                switch (c) {
                    case '"': out.put_unchecked('"'); break;
                    case '\\': out.put_unchecked('\\'); break;
                    case '\b': out.put_unchecked('b'); break;
                    case '\f': out.put_unchecked('f'); break;
                    case '\n': out.put_unchecked('n'); break;
                    case '\r': out.put_unchecked('r'); break;
                    case '\t': out.put_unchecked('t'); break;
                    default:  // written byte by byte: a local array would cost a stack check per call
                        out.put_unchecked('u');
                        out.put_unchecked('0');
                        out.put_unchecked('0');
                        out.put_unchecked(kHex[c >> 4]);
                        out.put_unchecked(kHex[c & 0xF]);
                }
                ++p;
                continue;
            }
            // A sequence may straddle the chunk boundary: validate against the real end.
            size_t seq = utf8_sequence_length(p, end);
            if (seq == 0) {
                out.append_unchecked("\xEF\xBF\xBD", 3);  // U+FFFD
                ++p;
            } else {
                out.append_unchecked(reinterpret_cast<const char*>(p), seq);
                p += seq;
                if (p > chunk_end) chunk_end = p;
            }
        }
    }
}

void write_base64_body(OutBuffer& out, const uint8_t* p, size_t n) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.reserve((n + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t{p[i]} << 16) | (uint32_t{p[i + 1]} << 8) | p[i + 2];
        char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
                        kAlphabet[v & 63]};
        out.append_unchecked(quad, 4);
    }
    if (size_t rest = n - i) {
        uint32_t v = uint32_t{p[i]} << 16;
        if (rest == 2) v |= uint32_t{p[i + 1]} << 8;
        char quad[4] = {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63],
                        rest == 2 ? kAlphabet[(v >> 6) & 63] : '=', '='};
        out.append_unchecked(quad, 4);
    }
}

bool is_valid_json(const char* p, size_t n) {
    // RapidJSON's streams end at a NUL and skip a byte-order mark: either would let bytes
    // that are not JSON through verbatim. Iterative parsing keeps a hostile payload (a
    // million '[') from overflowing the walsender's stack.
    if (n == 0 || std::memchr(p, 0, n) != nullptr) return false;
    rapidjson::MemoryStream in(p, n);
    rapidjson::BaseReaderHandler<rapidjson::UTF8<>> ignore;
    rapidjson::Reader reader;
    return !reader.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(in, ignore).IsError();
}

}  // namespace crmsync::render
