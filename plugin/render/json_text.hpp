// JSON text primitives: string escaping that always yields valid UTF-8, base64, and a
// validity check for byte strings that claim to be JSON.
#pragma once
#include "render/out_buffer.hpp"

#include <cstddef>
#include <cstdint>

namespace crmsync::render {

// Writes the bytes as the body of a JSON string (no quotes). Control characters become
// \b \f \n \r \t or \u00XX, '"' and '\' are escaped, valid UTF-8 (including 4-byte,
// non-BMP sequences) is copied as is, and every byte of an invalid sequence becomes U+FFFD,
// so the output is valid UTF-8 JSON whatever the input was.
void write_json_string_body(OutBuffer& out, const char* p, size_t n);

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
