// An OutBuffer over a Postgres StringInfo, so the renderer writes straight into the
// walsender's output (ctx->out) with no intermediate copy.
#pragma once
#include "pg/guard.hpp"
#include "render/out_buffer.hpp"

namespace crmsync::pg {

inline void grow_stringinfo(render::OutBuffer& out, size_t extra) {
    auto* si = static_cast<StringInfo>(out.owner);
    si->len = static_cast<int>(out.len);
    if (extra >= MaxAllocSize - out.len) throw std::length_error("rendered message would exceed 1 GB");
    // enlargeStringInfo ERRORs only past MaxAllocSize; pg_call turns that into an exception.
    pg_call([&] { enlargeStringInfo(si, static_cast<int>(extra)); });
    out.data = si->data;
    out.cap = static_cast<size_t>(si->maxlen) - 1;  // keep a byte for the terminating NUL
}

inline render::OutBuffer stringinfo_out(StringInfo si) {
    render::OutBuffer out;
    out.data = si->data;
    out.len = static_cast<size_t>(si->len);
    out.cap = static_cast<size_t>(si->maxlen) - 1;
    out.grow = &grow_stringinfo;
    out.owner = si;
    return out;
}

inline void finish_stringinfo(StringInfo si, const render::OutBuffer& out) {
    si->data = out.data;
    si->len = static_cast<int>(out.len);
    si->data[si->len] = '\0';
}

}  // namespace crmsync::pg
