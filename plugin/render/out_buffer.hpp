// OutBuffer: where rendered bytes go. In the walsender it is a view of the output plugin's
// StringInfo (ctx->out), so a record is rendered straight into the bytes Postgres sends; in
// tests and benchmarks it is backed by a std::string. It is trivially destructible on
// purpose: a Postgres ERROR may unwind through frames that hold one.
#pragma once
#include <stdexcept>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace crmsync::render {

// Most pieces of a record are a few bytes (a name, a number, a short string): they are
// copied with fixed-size moves instead of a call into memcpy, which cost more than the copy.
inline void copy_bytes(char* dst, const char* src, size_t n) {
    if (n > 16) {
        std::memcpy(dst, src, n);
        return;
    }
    if (n >= 8) {
        uint64_t head, tail;
        std::memcpy(&head, src, 8);
        std::memcpy(&tail, src + n - 8, 8);
        std::memcpy(dst, &head, 8);
        std::memcpy(dst + n - 8, &tail, 8);
    } else if (n >= 4) {
        uint32_t head, tail;
        std::memcpy(&head, src, 4);
        std::memcpy(&tail, src + n - 4, 4);
        std::memcpy(dst, &head, 4);
        std::memcpy(dst + n - 4, &tail, 4);
    } else if (n > 0) {
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
}

struct OutBuffer {
    char* data = nullptr;
    size_t len = 0;
    size_t cap = 0;  // usable bytes at data; the owner keeps room for a trailing NUL elsewhere
    // Makes room for at least `extra` more bytes past len, updating data and cap. May throw.
    void (*grow)(OutBuffer& self, size_t extra) = nullptr;
    void* owner = nullptr;

    void reserve(size_t extra) {
        if (cap - len < extra) grow(*this, extra);
    }
    void put(char c) {
        reserve(1);
        data[len++] = c;
    }
    void append(const char* p, size_t n) {
        reserve(n);
        copy_bytes(data + len, p, n);
        len += n;
    }
    void append(std::string_view s) { append(s.data(), s.size()); }
    // For writers that reserved first: no capacity check.
    void put_unchecked(char c) { data[len++] = c; }
    void append_unchecked(const char* p, size_t n) {
        copy_bytes(data + len, p, n);
        len += n;
    }
    std::string_view view() const { return {data, len}; }
};
static_assert(std::is_trivially_destructible_v<OutBuffer>);

// An OutBuffer backed by a std::string (tests, benchmarks, pure tools).
class StringOut {
public:
    StringOut() {
        buf_.owner = this;
        buf_.grow = &StringOut::grow;
    }
    StringOut(const StringOut&) = delete;
    StringOut& operator=(const StringOut&) = delete;

    OutBuffer& buffer() { return buf_; }
    std::string_view view() const { return buf_.view(); }
    std::string str() const { return std::string(buf_.view()); }
    void clear() { buf_.len = 0; }

private:
    static void grow(OutBuffer& b, size_t extra) {
        auto* self = static_cast<StringOut*>(b.owner);
        size_t want = b.len + extra;
        size_t cap = self->storage_.size() ? self->storage_.size() : 256;
        while (cap < want) cap *= 2;
        self->storage_.resize(cap);
        b.data = self->storage_.data();
        b.cap = cap;
    }
    std::string storage_;
    OutBuffer buf_;
};

}  // namespace crmsync::render
