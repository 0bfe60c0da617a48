// OutBuffer discipline: every writer reserves before it writes unchecked, growth keeps what
// was written, and an exception thrown by grow (in the walsender: enlargeStringInfo's ERROR
// turned into an exception, or out of memory) propagates without a byte written past cap.
#include "render/json_text.hpp"
#include "render/message.hpp"
#include "render/out_buffer.hpp"
#include "render/value.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>
#include <vector>

namespace crmsync::render {
namespace {

constexpr char kGuardByte = static_cast<char>(0xA5);

// Guard bytes after cap. A writer can overrun by at most what it renders, so a guard as
// long as the expected output catches any overrun before it reaches the heap beyond.
bool guard_intact(const std::vector<char>& storage, size_t cap) {
    for (size_t i = cap; i < storage.size(); ++i)
        if (storage[i] != kGuardByte) return false;
    return true;
}

// Grows to exactly len + extra, from a tiny start, with guard bytes right after cap: a
// writer that writes more than it reserved lands in the guard. Every growth moves the bytes
// and scribbles over the old ones before freeing them: a writer that copies from the buffer
// across a growth copies the scribble.
class ExactOut {
public:
    ExactOut(size_t initial_cap, size_t guard) : guard_(guard) {
        buf_.owner = this;
        buf_.grow = &ExactOut::grow;
        resize(initial_cap);
    }
    ExactOut(const ExactOut&) = delete;
    ExactOut& operator=(const ExactOut&) = delete;

    OutBuffer& buffer() { return buf_; }
    std::string str() const { return std::string(buf_.data, buf_.len); }
    bool guards_held() const { return guards_held_ && guard_intact(storage_, buf_.cap); }

private:
    static void grow(OutBuffer& b, size_t extra) {
        auto* self = static_cast<ExactOut*>(b.owner);
        self->resize(b.len + extra);
    }
    void resize(size_t cap) {
        if (!storage_.empty() && !guard_intact(storage_, buf_.cap)) guards_held_ = false;
        std::vector<char> next(cap + guard_, kGuardByte);
        if (buf_.len) std::memcpy(next.data(), storage_.data(), buf_.len);
        storage_.swap(next);
        std::fill(next.begin(), next.end(), kGuardByte);
        buf_.data = storage_.data();
        buf_.cap = cap;
    }
    size_t guard_;
    std::vector<char> storage_;
    OutBuffer buf_;
    bool guards_held_ = true;
};

struct Overflow : std::runtime_error {
    Overflow() : std::runtime_error("fixed buffer full") {}
};

// A fixed buffer whose grow throws, as a StringInfo at MaxAllocSize would.
class FixedOut {
public:
    FixedOut(size_t cap, size_t guard) : storage_(cap + guard, kGuardByte) {
        buf_.data = storage_.data();
        buf_.cap = cap;
        buf_.grow = [](OutBuffer&, size_t) { throw Overflow(); };
    }
    OutBuffer& buffer() { return buf_; }
    std::string str() const { return std::string(buf_.data, buf_.len); }
    bool guard_held() const { return guard_intact(storage_, buf_.cap); }

private:
    std::vector<char> storage_;
    OutBuffer buf_;
};

// --- StringOut ------------------------------------------------------------------------

// Short copies are fixed-size moves (overlapping 1-, 4- and 8-byte words): every length
// must copy exactly its bytes and nothing past them.
TEST(CopyBytes, EveryLengthUpToPastTheLongestMoveIsExact) {
    for (size_t n = 0; n <= 100; ++n) {
        std::vector<char> src(n);
        for (size_t i = 0; i < n; ++i) src[i] = static_cast<char>('a' + (i * 7 + n) % 26);
        std::vector<char> dst(n + 32, kGuardByte);
        copy_bytes(dst.data(), src.data(), n);
        EXPECT_TRUE(std::equal(src.begin(), src.end(), dst.begin())) << "length " << n;
        EXPECT_TRUE(guard_intact(dst, n)) << "length " << n;
    }
}

TEST(StringOut, StartsEmpty) {
    StringOut out;
    EXPECT_EQ(out.view().size(), 0u);
    EXPECT_EQ(out.str(), "");
    EXPECT_EQ(out.buffer().len, 0u);
}

TEST(StringOut, GrowsByteByByteFromNothing) {
    StringOut out;
    std::string want;
    for (size_t i = 0; i < 70000; ++i) {
        const char c = static_cast<char>('a' + i % 26);
        out.buffer().put(c);
        want += c;
        ASSERT_GE(out.buffer().cap, out.buffer().len);
    }
    EXPECT_EQ(out.str(), want);
    EXPECT_EQ(out.view().data(), out.buffer().data);
}

TEST(StringOut, GrowthKeepsEarlierBytes) {
    StringOut out;
    const std::string first(255, 'x');
    out.buffer().append(first);
    out.buffer().append("yz");  // crosses the first capacity
    out.buffer().append(std::string(1000, 'w'));
    EXPECT_EQ(out.str(), first + "yz" + std::string(1000, 'w'));
}

TEST(StringOut, OneHugeAppend) {
    StringOut out;
    out.buffer().put('<');
    const std::string big((1u << 20) + 3, 'm');
    out.buffer().append(big);
    out.buffer().put('>');
    EXPECT_EQ(out.str(), "<" + big + ">");
}

TEST(StringOut, ReserveThenUncheckedWrites) {
    StringOut out;
    out.buffer().append("ab");
    out.buffer().reserve(1000);
    ASSERT_GE(out.buffer().cap - out.buffer().len, 1000u);
    for (int i = 0; i < 1000; ++i) out.buffer().put_unchecked('c');
    EXPECT_EQ(out.str(), "ab" + std::string(1000, 'c'));
}

TEST(StringOut, ClearKeepsTheStorage) {
    StringOut out;
    const std::string text(5000, 't');
    write_json_string(out.buffer(), text.data(), text.size());
    const char* data = out.buffer().data;
    const size_t cap = out.buffer().cap;
    out.clear();
    EXPECT_EQ(out.str(), "");
    write_json_string(out.buffer(), text.data(), text.size());
    EXPECT_EQ(out.buffer().data, data);  // rendering the same again does not reallocate
    EXPECT_EQ(out.buffer().cap, cap);
    EXPECT_EQ(out.str(), "\"" + text + "\"");
}

// --- every writer against exact growth and against a throwing grow ----------------------

struct Job {
    std::string name;
    std::function<void(OutBuffer&)> render;
};

std::vector<Job> all_jobs() {
    static const uint8_t uuid[16] = {0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8,
                                     0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11};
    static const std::string long_text = [] {
        std::string s;
        while (s.size() < 9000) s += "ab\"\x01\xC3\xA9\xF0\x9F\x98\x80\xFF\n";
        return s;
    }();
    static const std::string bytes(1000, '\xFE');
    static const Value items[] = {Value::text("a\"b"), Value::null(), Value::from_int(-7),
                                  Value::timestamptz(848829600123456), Value::numeric("NaN")};
    static const std::vector<Value> values = {
        Value::null(),
        Value::from_bool(true),
        Value::from_int(std::numeric_limits<int64_t>::min()),
        Value::from_float4(1.1f),
        Value::from_float8(-1.7976931348623157e308),
        Value::from_float8(std::numeric_limits<double>::quiet_NaN()),
        Value::numeric("123456789012345678901234567890123456789012.5"),
        Value::numeric("-Infinity"),
        Value::text("M\xC3\xBCller \"q\" \x01"),
        Value::text(long_text),
        Value::json(R"({"a":[1,"\u00e9"]})"),
        Value::timestamptz(9223371331199999999),
        Value::timestamptz(std::numeric_limits<int64_t>::min() + 1),
        Value::timestamp(kTimestampMinusInfinity),
        Value::date_days(2145031948),
        Value::date_days(kDateInfinity),
        Value::uuid(uuid),
        Value::bytea(bytes.data(), bytes.size()),
        Value::array_of(items, 5),
        Value::array_of(nullptr, 0),
    };

    std::vector<Job> jobs;
    for (Format f : {Format::Webhook, Format::Hubspot, Format::Salesforce}) {
        for (size_t i = 0; i < values.size(); ++i) {
            jobs.push_back({std::string(format_name(f)) + " value " + std::to_string(i),
                            [f, i](OutBuffer& out) { write_value(out, values[i], f); }});
        }
    }
    for (size_t i = 0; i < values.size(); ++i)
        jobs.push_back({"key " + std::to_string(i), [i](OutBuffer& out) { write_key(out, values[i]); }});
    jobs.push_back({"timestamptz", [](OutBuffer& out) { write_timestamptz(out, 848829600123456, true); }});
    jobs.push_back({"lsn", [](OutBuffer& out) { write_lsn_body(out, UINT64_MAX); }});
    jobs.push_back({"uint", [](OutBuffer& out) { write_uint(out, UINT64_MAX); }});
    jobs.push_back({"base64", [](OutBuffer& out) {
                        write_base64_body(out, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
                    }});

    // Messages, with shapes and property names built once.
    struct Fixture {
        std::string shape_text[3];
        RelationShape shape[3];
        std::vector<std::string> names;
        std::vector<Property> props;
        TxnStamp txn;
    };
    static const Fixture* fx = [] {
        auto* f = new Fixture;
        const Format formats[3] = {Format::Webhook, Format::Hubspot, Format::Salesforce};
        for (int i = 0; i < 3; ++i) {
            StringOut text;
            build_relation_shape(text.buffer(), f->shape[i], formats[i], "contacts", "public.contacts", "email");
            f->shape_text[i] = text.str();
            f->shape[i].text = f->shape_text[i].data();
        }
        f->names.reserve(values.size());
        for (size_t i = 0; i < values.size(); ++i) {
            StringOut name;
            write_property_name(name.buffer(), "col_" + std::to_string(i));
            f->names.push_back(name.str());
        }
        for (size_t i = 0; i < values.size(); ++i) {
            Property p;
            p.name = {f->names[i].data(), static_cast<uint32_t>(f->names[i].size())};
            p.value = values[i];
            f->props.push_back(p);
        }
        build_txn_stamp(f->txn, 0x16B37A0, 761, true, 848829600123456);
        return f;
    }();
    static const Value id = Value::text("ann@example.com");
    for (int i = 0; i < 3; ++i) {
        const std::string fmt(format_name(fx->shape[i].format));
        jobs.push_back({fmt + " upsert", [i](OutBuffer& out) {
                            write_upsert(out, fx->shape[i], fx->txn, 1, id, fx->props.data(), fx->props.size());
                        }});
        jobs.push_back({fmt + " short upsert", [i](OutBuffer& out) {
                            write_upsert(out, fx->shape[i], fx->txn, 1, id, fx->props.data(), 3);
                        }});
        jobs.push_back({fmt + " unkeyed upsert", [i](OutBuffer& out) {
                            write_unkeyed_upsert(out, fx->shape[i], fx->txn, 2, "no id", fx->props.data(), 2);
                        }});
        jobs.push_back({fmt + " delete", [i](OutBuffer& out) { write_delete(out, fx->shape[i], fx->txn, 3, &id, ""); }});
        jobs.push_back({fmt + " keyless delete",
                        [i](OutBuffer& out) { write_delete(out, fx->shape[i], fx->txn, 4, nullptr, "no key"); }});
        jobs.push_back({fmt + " truncate", [i](OutBuffer& out) { write_truncate(out, fx->shape[i], fx->txn, 5); }});
        jobs.push_back({fmt + " shape", [i](OutBuffer& out) {
                            RelationShape s;
                            build_relation_shape(out, s, fx->shape[i].format, "o\"bj", "s.t", "i\\d");
                        }});
    }
    jobs.push_back({"logical message json", [](OutBuffer& out) {
                        write_logical_message(out, fx->txn, 6, "p", true, "{\"a\":1}", 7);
                    }});
    jobs.push_back({"logical message text", [](OutBuffer& out) {
                        write_logical_message(out, fx->txn, 7, "p", false, long_text.data(), long_text.size());
                    }});
    jobs.push_back({"commit", [](OutBuffer& out) { write_commit(out, fx->txn, 0x16B37D8, 7); }});
    jobs.push_back({"property name", [](OutBuffer& out) { write_property_name(out, "na\"me"); }});
    return jobs;
}

// Rendered with room to spare (not StringOut, which an overrunning writer would corrupt
// before the checks below could report it).
std::string reference_output(const Job& job) {
    FixedOut out(1 << 18, 64);
    job.render(out.buffer());
    return out.str();
}

TEST(OutBufferDiscipline, ExactGrowthFromTinyCapacities) {
    for (const Job& job : all_jobs()) {
        const std::string want = reference_output(job);
        for (size_t initial : {0, 1, 3, 16}) {
            ExactOut out(initial, want.size() + 64);
            job.render(out.buffer());
            EXPECT_EQ(out.str(), want) << job.name << " from capacity " << initial;
            EXPECT_TRUE(out.guards_held()) << job.name << " wrote past what it reserved, from capacity " << initial;
        }
    }
}

TEST(OutBufferDiscipline, AppendsAfterExistingBytes) {
    for (const Job& job : all_jobs()) {
        ExactOut out(2, reference_output(job).size() + 64);
        out.buffer().append("<<");
        job.render(out.buffer());
        out.buffer().append(">>");
        EXPECT_EQ(out.str(), "<<" + reference_output(job) + ">>") << job.name;
        EXPECT_TRUE(out.guards_held()) << job.name;
    }
}

TEST(OutBufferDiscipline, ThrowingGrowPropagatesAndNeverWritesPastCap) {
    for (const Job& job : all_jobs()) {
        const std::string want = reference_output(job);
        std::vector<size_t> caps;
        const size_t dense = std::min<size_t>(want.size() + 1, 2048);
        for (size_t c = 0; c <= dense; ++c) caps.push_back(c);
        for (size_t c = dense; c < want.size() + 64; c += 97) caps.push_back(c);
        for (size_t cap : caps) {
            FixedOut out(cap, want.size() + 64);
            bool threw = false;
            try {
                job.render(out.buffer());
            } catch (const Overflow&) {
                threw = true;
            }
            ASSERT_TRUE(out.guard_held()) << job.name << " wrote past cap " << cap;
            ASSERT_LE(out.buffer().len, cap) << job.name;
            if (threw) {
                // What was written before the throw is a prefix of the full rendering.
                ASSERT_EQ(out.str(), want.substr(0, out.buffer().len)) << job.name << " cap " << cap;
            } else {
                ASSERT_EQ(out.str(), want) << job.name << " cap " << cap;
            }
            if (cap < want.size()) {
                ASSERT_TRUE(threw) << job.name << " cap " << cap;
            }
        }
        // With room for the worst case (the escaper reserves 6 bytes per input byte), no throw.
        FixedOut roomy(want.size() * 6 + 4096 * 6 + 64, want.size() + 64);
        EXPECT_NO_THROW(job.render(roomy.buffer())) << job.name;
        EXPECT_EQ(roomy.str(), want) << job.name;
    }
}

TEST(OutBufferDiscipline, OtherExceptionTypesAreNotTranslated) {
    OutBuffer out;
    char storage[4];
    out.data = storage;
    out.cap = sizeof storage;
    out.grow = [](OutBuffer&, size_t) { throw std::bad_alloc(); };
    const std::string text = "longer than four bytes";
    EXPECT_THROW(write_json_string(out, text.data(), text.size()), std::bad_alloc);
    EXPECT_LE(out.len, out.cap);
}

}  // namespace
}  // namespace crmsync::render
