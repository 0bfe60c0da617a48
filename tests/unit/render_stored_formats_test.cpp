// Stored numeric and jsonb, printed without Postgres. The fixtures are the bytes of real
// PostgreSQL 15 tuples (pageinspect's heap_page_items on one-column tables), without their
// 1-byte varlena header; the expected texts are what numeric_out and jsonb_out printed for
// them. sql/stored_formats.sql compares the two printers on a thousand more values.
#include "render/stored_formats.hpp"

#include "render/value.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

namespace crmsync::render {
namespace {

std::string from_hex(std::string_view hex) {
    std::string bytes;
    for (size_t i = 0; i + 1 < hex.size(); i += 2) bytes.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
    return bytes;
}

std::string numeric_text(const std::string& payload) {
    StringOut out;
    write_stored_numeric(out.buffer(), payload.data(), payload.size());
    return out.str();
}

std::string jsonb_text(const std::string& root) {
    StringOut out;
    write_stored_jsonb(out.buffer(), root.data(), root.size());
    return out.str();
}

// What printing the bytes throws, or "no error".
// Damaged bytes throw DamagedValue (which the plugin reports as data corruption, with a
// remedy); any other exception escapes and fails the test.
std::string error_of(std::string (*print)(const std::string&), const std::string& bytes) {
    try {
        print(bytes);
    } catch (const DamagedValue& e) {
        return e.what();
    }
    return "no error";
}

std::string render(const Value& v, Format f) {
    StringOut out;
    write_value(out.buffer(), v, f);
    return out.str();
}

// --- numeric ------------------------------------------------------------------------------

TEST(StoredNumeric, PrintsWhatNumericOutPrints) {
    EXPECT_EQ(numeric_text(from_hex("00810c008813")), "12.50");                   // short form
    EXPECT_EQ(numeric_text(from_hex("7ea36400")), "-0.000001");                  // negative weight
    EXPECT_EQ(numeric_text(from_hex("00004b000100")), "1" + std::string(300, '0'));  // long form
    EXPECT_EQ(numeric_text(from_hex("0080")), "0");                              // no digits
    EXPECT_EQ(numeric_text(from_hex("82a401002909851a94263815e803")), "-123456789.987654321");
    EXPECT_EQ(numeric_text(from_hex("4700eeff3200")), "0." + std::string(70, '0') + "5");
}

TEST(StoredNumeric, SpecialValues) {
    EXPECT_EQ(numeric_text(from_hex("00c0")), "NaN");
    EXPECT_EQ(numeric_text(from_hex("00f0")), "-Infinity");
    EXPECT_EQ(numeric_text(from_hex("00d0")), "Infinity");
    // Quoted where the text must stay valid JSON; finite values never are.
    auto quoted = [](const std::string& payload) {
        StringOut out;
        write_stored_numeric(out.buffer(), payload.data(), payload.size(), true);
        return out.str();
    };
    EXPECT_EQ(quoted(from_hex("00c0")), "\"NaN\"");
    EXPECT_EQ(quoted(from_hex("00d0")), "\"Infinity\"");
    EXPECT_EQ(quoted(from_hex("00f0")), "\"-Infinity\"");
    EXPECT_EQ(quoted(from_hex("7ea36400")), "-0.000001");
}

TEST(StoredNumeric, AsEachFormatWritesIt) {
    const std::string finite = from_hex("00810c008813"), nan = from_hex("00c0");
    const Value v = Value::stored_numeric(finite.data(), finite.size());
    EXPECT_EQ(render(v, Format::Webhook), "12.50");
    EXPECT_EQ(render(v, Format::Salesforce), "12.50");
    EXPECT_EQ(render(v, Format::Hubspot), "\"12.50\"");
    const Value n = Value::stored_numeric(nan.data(), nan.size());
    EXPECT_EQ(render(n, Format::Webhook), "\"NaN\"");
    EXPECT_EQ(render(n, Format::Hubspot), "\"NaN\"");
    StringOut key;
    write_key(key.buffer(), v);
    EXPECT_EQ(key.view(), "\"12.50\"");
}

TEST(StoredNumeric, MalformedBytesThrowWithTheReason) {
    auto message = [](const std::string& bytes) { return error_of(numeric_text, bytes); };
    EXPECT_EQ(message(from_hex("00")), "stored numeric is malformed: 1 bytes, fewer than its 2-byte header");
    EXPECT_EQ(message(from_hex("0000")), "stored numeric is malformed: 2 bytes, fewer than its 4-byte long header");
    EXPECT_EQ(message(from_hex("00e0")),
              "stored numeric is malformed: special-value header 57344 is none of NaN, Infinity, -Infinity");
    EXPECT_EQ(message(from_hex("00801027")), "stored numeric is malformed: digit 10000 is not below 10000");
}

// --- jsonb --------------------------------------------------------------------------------

TEST(StoredJsonb, PrintsWhatJsonbOutPrints) {
    // {"b": "x", "a": [1, 2.50, null, true, false, {}]} as stored: keys sorted, numerics padded.
    EXPECT_EQ(jsonb_text(from_hex("02000020010000800100000036000050010000006162000006000040080000900a00001000"
                                  "00004000000030000000200600005020000000008001002800000000810200881300000000"
                                  "002078")),
              R"({"a": [1, 2.50, null, true, false, {}], "b": "x"})");
    EXPECT_EQ(jsonb_text(from_hex("0100005003000080746f70")), R"("top")");  // a raw scalar
    EXPECT_EQ(jsonb_text(from_hex("010000400b0000d0010000400300008071220a")), R"([["q\"\n"]])");
}

// Containers of containers, `depth` deep, innermost an empty array: [[[...]]].
std::string nested_arrays(int depth) {
    std::string bytes = from_hex("00000040");  // []
    for (int i = 0; i < depth; ++i) {
        uint32_t entry = stored_jsonb::kContainer | static_cast<uint32_t>(bytes.size());
        uint32_t header = stored_jsonb::kArray | 1;
        std::string outer(8, '\0');
        std::memcpy(outer.data(), &header, 4);
        std::memcpy(outer.data() + 4, &entry, 4);
        bytes = outer + bytes;
    }
    return bytes;
}

TEST(StoredJsonb, DeepNestingIsNotLimitedByTheWalker) {
    for (int depth : {1, 15, 16, 17, 1000}) {
        EXPECT_EQ(jsonb_text(nested_arrays(depth)), std::string(depth + 1, '[') + std::string(depth + 1, ']')) << depth;
    }
}

TEST(StoredJsonb, AsEachFormatWritesIt) {
    const std::string root = from_hex("010000400b0000d0010000400300008071220a");  // [["q\"\n"]]
    const Value v = Value::stored_jsonb(root.data(), root.size());
    EXPECT_EQ(render(v, Format::Webhook), R"([["q\"\n"]])");
    EXPECT_EQ(render(v, Format::Hubspot), R"("[[\"q\\\"\\n\"]]")");
    EXPECT_EQ(render(v, Format::Salesforce), R"("[[\"q\\\"\\n\"]]")");
    const Value items[] = {v, Value::null()};
    EXPECT_EQ(render(Value::array_of(items, 2), Format::Webhook), R"([[["q\"\n"]],null])");
}

TEST(StoredJsonb, MalformedBytesThrowWithTheReason) {
    auto message = [](const std::string& bytes) { return error_of(jsonb_text, bytes); };
    EXPECT_EQ(message(from_hex("0000")), "stored jsonb is malformed: a container of 2 bytes, fewer than its header");
    EXPECT_EQ(message(from_hex("00000060")), "stored jsonb is malformed: a container that is not exactly one of object, array");
    EXPECT_EQ(message(from_hex("02000050")), "stored jsonb is malformed: a scalar container of 2 items");
    EXPECT_EQ(message(from_hex("05000040")), "stored jsonb is malformed: 5 entries in a container of 4 bytes");
    // One string item claiming 9 bytes where 3 follow.
    EXPECT_EQ(message(from_hex("0100004009000000616263")),
              "stored jsonb is malformed: a child at bytes 0..9 of a container with 3");
    EXPECT_EQ(message(from_hex("0100004000000060")), "stored jsonb is malformed: entry type 6 is unknown");
    // An object whose key is a number.
    EXPECT_EQ(message(from_hex("01000020000000100000000000")), "stored jsonb is malformed: an object key that is not a string");
    // A truncated document never prints past its end.
    const std::string whole = from_hex("010000400b0000d0010000400300008071220a");
    for (size_t n = 0; n < whole.size(); ++n) EXPECT_NE(message(whole.substr(0, n)), "no error") << n;
}

}  // namespace
}  // namespace crmsync::render
