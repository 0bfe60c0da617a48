// JSON text primitives: string escaping that always yields valid UTF-8, base64, and a
// validity check for byte strings that claim to be JSON.
#pragma once
#include "render/out_buffer.hpp"

#include <cstddef>
#include <cstdint>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace crmsync::render {

// Writes the bytes as the body of a JSON string (no quotes). Control characters become
// \b \f \n \r \t or \u00XX, '"' and '\' are escaped, valid UTF-8 (including 4-byte,
// non-BMP sequences) is copied as is, and every byte of an invalid sequence becomes U+FFFD,
// so the output is valid UTF-8 JSON whatever the input was.
void write_json_string_body_general(OutBuffer& out, const char* p, size_t n);

namespace detail {
// Most values are short and plain ASCII (names, cities, phone numbers, jsonb keys): one
// 16-byte load checks them and one store copies them. The load may read past the string's
// end, but never past the end of its page (checked), so it cannot fault; the bytes beyond
// the string are masked out, and the store only writes into the buffer's reserved room.
inline bool write_short_plain(OutBuffer& out, const char* p, size_t n) {
#if defined(__SSE2__)
    constexpr uintptr_t kPage = 4096;
    if (n == 0) return true;  // p may be null
    if (n >= 16 || (reinterpret_cast<uintptr_t>(p) & (kPage - 1)) > kPage - 16) return false;
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Warray-bounds"  // the over-read above, where p is a literal
    const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
#pragma GCC diagnostic pop
    // Signed compare: bytes >= 0x80 are negative, so "< 0x20" also catches non-ASCII.
    const __m128i special =
        _mm_or_si128(_mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20)),
                     _mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"')), _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'))));
    if (static_cast<unsigned>(_mm_movemask_epi8(special)) & ((1u << n) - 1)) return false;
    out.reserve(16);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out.data + out.len), bytes);
    out.len += n;
    return true;
#else
    (void)out, (void)p, (void)n;
    return false;
#endif
}
}  // namespace detail

inline void write_json_string_body(OutBuffer& out, const char* p, size_t n) {
    if (!detail::write_short_plain(out, p, n)) write_json_string_body_general(out, p, n);
}

// The same, between quotes.
inline void write_json_string(OutBuffer& out, const char* p, size_t n) {
    out.put('"');
    write_json_string_body(out, p, n);
    out.put('"');
}

// RFC 4648 base64 with padding, as a JSON string body (the alphabet needs no escaping).
void write_base64_body(OutBuffer& out, const uint8_t* p, size_t n);

// True when the bytes are exactly one JSON value in valid UTF-8 (surrounding whitespace
// allowed), so they may be embedded verbatim.
bool is_valid_json(const char* p, size_t n);

}  // namespace crmsync::render
