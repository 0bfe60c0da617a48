// The only way the sender includes RapidJSON.
//
// RapidJSON's default RAPIDJSON_ASSERT is assert(): on input it does not expect it would abort
// the daemon with unconfirmed work in memory. Here it throws, and every caller turns the
// exception into an error value. Include this header before (instead of) any <rapidjson/...>.
#pragma once

#include <stdexcept>

#if defined(RAPIDJSON_RAPIDJSON_H_) && !defined(CRMSYNC_RAPIDJSON_ASSERT_THROWS)
#error "include core/rapidjson.hpp before any rapidjson header"
#endif

#define CRMSYNC_RAPIDJSON_ASSERT_THROWS 1
#define RAPIDJSON_ASSERT(x)                                                        \
    do {                                                                           \
        if (!(x)) throw std::logic_error("rapidjson assertion failed: " #x);       \
    } while (0)
#define RAPIDJSON_NOEXCEPT_ASSERT(x) RAPIDJSON_ASSERT(x)
#define RAPIDJSON_HAS_STDSTRING 1

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
