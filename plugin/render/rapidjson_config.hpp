// Include RapidJSON only through this header. Its default assert() would abort the process,
// and inside a walsender an abort restarts every backend of the cluster; a thrown exception
// is caught at the guarded boundary and becomes an ordinary ERROR instead.
#pragma once
#include <stdexcept>

#include <stdexcept>

namespace crmsync::render {
struct JsonAssertion : std::logic_error {
    using std::logic_error::logic_error;
};
}  // namespace crmsync::render

#ifdef RAPIDJSON_ASSERT
#error "rapidjson was configured before render/rapidjson_config.hpp"
#endif
#define RAPIDJSON_ASSERT(x)                                                        \
    do {                                                                           \
        if (!(x)) throw ::crmsync::render::JsonAssertion("rapidjson assertion: " #x); \
    } while (0)
#define RAPIDJSON_NOEXCEPT_ASSERT(x) RAPIDJSON_ASSERT(x)
#define RAPIDJSON_HAS_STDSTRING 1

#include <rapidjson/encodedstream.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
