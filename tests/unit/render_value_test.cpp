// Column values as each CRM format writes them, record keys, timestamps and LSNs.
// Timestamps are microseconds since 2000-01-01 00:00:00 UTC (Postgres' epoch), dates days
// since 2000-01-01; the constants below were computed independently (Python's datetime and
// proleptic Gregorian day counts).
#include "render/value.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>

namespace crmsync::render {
namespace {

using namespace std::string_literals;

std::string render(const Value& v, Format f) {
    StringOut out;
    write_value(out.buffer(), v, f);
    return out.str();
}

std::string key(const Value& v) {
    StringOut out;
    write_key(out.buffer(), v);
    return out.str();
}

// One value, as webhook, hubspot and salesforce write it.
void expect_formats(const Value& v, std::string_view webhook, std::string_view hubspot, std::string_view salesforce) {
    EXPECT_EQ(render(v, Format::Webhook), webhook);
    EXPECT_EQ(render(v, Format::Hubspot), hubspot);
    EXPECT_EQ(render(v, Format::Salesforce), salesforce);
}

constexpr int64_t kUsPerDay = 86400LL * 1000000LL;
constexpr int64_t kCommitTime = 848829600123456;  // 2026-11-24T10:00:00.123456Z

const uint8_t kUuid[16] = {0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8,
                           0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11};

// --- formats --------------------------------------------------------------------------

TEST(Format, ParseAndName) {
    for (Format f : {Format::Webhook, Format::Hubspot, Format::Salesforce}) {
        Format parsed = Format::Webhook;
        ASSERT_TRUE(parse_format(format_name(f), parsed)) << format_name(f);
        EXPECT_EQ(parsed, f);
    }
    EXPECT_EQ(format_name(Format::Webhook), "webhook");
    EXPECT_EQ(format_name(Format::Hubspot), "hubspot");
    EXPECT_EQ(format_name(Format::Salesforce), "salesforce");
    Format untouched = Format::Salesforce;
    for (std::string_view bad : {"", "HubSpot", "webhooks", "sales force", "hubspot "}) {
        EXPECT_FALSE(parse_format(bad, untouched)) << bad;
        EXPECT_EQ(untouched, Format::Salesforce);
    }
}

// --- scalars --------------------------------------------------------------------------

TEST(WriteValue, Null) { expect_formats(Value::null(), "null", "\"\"", "null"); }

TEST(WriteValue, Bool) {
    expect_formats(Value::from_bool(true), "true", "\"true\"", "true");
    expect_formats(Value::from_bool(false), "false", "\"false\"", "false");
}

TEST(WriteValue, Int64) {
    expect_formats(Value::from_int(0), "0", "\"0\"", "0");
    expect_formats(Value::from_int(-42), "-42", "\"-42\"", "-42");
    expect_formats(Value::from_int(std::numeric_limits<int64_t>::max()), "9223372036854775807",
                   "\"9223372036854775807\"", "9223372036854775807");
    expect_formats(Value::from_int(std::numeric_limits<int64_t>::min()), "-9223372036854775808",
                   "\"-9223372036854775808\"", "-9223372036854775808");
}

TEST(WriteValue, Float8ShortestRoundTrip) {
    expect_formats(Value::from_float8(0.1), "0.1", "\"0.1\"", "0.1");
    expect_formats(Value::from_float8(1e100), "1e+100", "\"1e+100\"", "1e+100");
    expect_formats(Value::from_float8(-0.0), "-0", "\"-0\"", "-0");
    expect_formats(Value::from_float8(0.0), "0", "\"0\"", "0");
    expect_formats(Value::from_float8(100.0), "100", "\"100\"", "100");
    expect_formats(Value::from_float8(-2.5), "-2.5", "\"-2.5\"", "-2.5");
    expect_formats(Value::from_float8(0.1 + 0.2), "0.30000000000000004", "\"0.30000000000000004\"",
                   "0.30000000000000004");
    EXPECT_EQ(render(Value::from_float8(std::numeric_limits<double>::max()), Format::Webhook),
              "1.7976931348623157e+308");
    EXPECT_EQ(render(Value::from_float8(std::numeric_limits<double>::denorm_min()), Format::Webhook), "5e-324");
    EXPECT_EQ(render(Value::from_float8(1.5e-7), Format::Webhook), "1.5e-07");
}

TEST(WriteValue, Float4ShortestRoundTripAsFloat32) {
    // 1.1f is 1.10000002384185791015625 as a double; float32's shortest text is 1.1.
    expect_formats(Value::from_float4(1.1f), "1.1", "\"1.1\"", "1.1");
    expect_formats(Value::from_float4(0.1f), "0.1", "\"0.1\"", "0.1");
    expect_formats(Value::from_float4(-0.0f), "-0", "\"-0\"", "-0");
    EXPECT_EQ(render(Value::from_float4(std::numeric_limits<float>::max()), Format::Webhook), "3.4028235e+38");
    EXPECT_EQ(render(Value::from_float4(16777216.0f), Format::Webhook), "16777216");
}

TEST(WriteValue, FloatNonFiniteAsStrings) {
    for (auto make : {+[](double d) { return Value::from_float8(d); },
                      +[](double d) { return Value::from_float4(static_cast<float>(d)); }}) {
        expect_formats(make(std::numeric_limits<double>::quiet_NaN()), "\"NaN\"", "\"NaN\"", "\"NaN\"");
        expect_formats(make(-std::numeric_limits<double>::quiet_NaN()), "\"NaN\"", "\"NaN\"", "\"NaN\"");
        expect_formats(make(std::numeric_limits<double>::infinity()), "\"Infinity\"", "\"Infinity\"",
                       "\"Infinity\"");
        expect_formats(make(-std::numeric_limits<double>::infinity()), "\"-Infinity\"", "\"-Infinity\"",
                       "\"-Infinity\"");
    }
}

TEST(WriteValue, NumericKeepsExactDigits) {
    const std::string big = "123456789012345678901234567890123456789012345.000000000000000000001";
    expect_formats(Value::numeric(big), big, "\"" + big + "\"", big);
    expect_formats(Value::numeric("-0.50"), "-0.50", "\"-0.50\"", "-0.50");
    expect_formats(Value::numeric("0"), "0", "\"0\"", "0");
    expect_formats(Value::numeric("1250000.50"), "1250000.50", "\"1250000.50\"", "1250000.50");
}

TEST(WriteValue, NumericNonFiniteAsStrings) {
    expect_formats(Value::numeric("NaN"), "\"NaN\"", "\"NaN\"", "\"NaN\"");
    expect_formats(Value::numeric("Infinity"), "\"Infinity\"", "\"Infinity\"", "\"Infinity\"");
    expect_formats(Value::numeric("-Infinity"), "\"-Infinity\"", "\"-Infinity\"", "\"-Infinity\"");
}

TEST(WriteValue, Text) {
    expect_formats(Value::text("Ann"), "\"Ann\"", "\"Ann\"", "\"Ann\"");
    expect_formats(Value::text(""), "\"\"", "\"\"", "\"\"");
    expect_formats(Value::text("a\"b\\c\nd\x01"), R"("a\"b\\c\nd\u0001")", R"("a\"b\\c\nd\u0001")",
                   R"("a\"b\\c\nd\u0001")");
    expect_formats(Value::text("M\xC3\xBCller \xF0\x9F\x98\x80"), "\"M\xC3\xBCller \xF0\x9F\x98\x80\"",
                   "\"M\xC3\xBCller \xF0\x9F\x98\x80\"", "\"M\xC3\xBCller \xF0\x9F\x98\x80\"");
    expect_formats(Value::text("bad\xFF"), "\"bad\xEF\xBF\xBD\"", "\"bad\xEF\xBF\xBD\"", "\"bad\xEF\xBF\xBD\"");
    expect_formats(Value::text("has\0nul"s), "\"has\\u0000nul\"", "\"has\\u0000nul\"", "\"has\\u0000nul\"");
}

TEST(WriteValue, JsonEmbeddedForWebhookStringOtherwise) {
    const std::string doc = R"({"lang":"de","channels":["email","sms"],"n":1.5})";
    const std::string as_string = R"("{\"lang\":\"de\",\"channels\":[\"email\",\"sms\"],\"n\":1.5}")";
    expect_formats(Value::json(doc), doc, as_string, as_string);
    expect_formats(Value::json("[]"), "[]", "\"[]\"", "\"[]\"");
    expect_formats(Value::json("\"s\""), "\"s\"", R"("\"s\"")", R"("\"s\"")");
    expect_formats(Value::json("null"), "null", "\"null\"", "\"null\"");
    expect_formats(Value::json("{\"t\":\"a\\nb\"}"), "{\"t\":\"a\\nb\"}", R"("{\"t\":\"a\\nb\"}")",
                   R"("{\"t\":\"a\\nb\"}")");
}

// --- timestamps and dates -------------------------------------------------------------

TEST(WriteValue, TimestampTzMicrosForWebhookMillisOtherwise) {
    expect_formats(Value::timestamptz(kCommitTime), "\"2026-11-24T10:00:00.123456Z\"",
                   "\"2026-11-24T10:00:00.123Z\"", "\"2026-11-24T10:00:00.123Z\"");
    expect_formats(Value::timestamptz(0), "\"2000-01-01T00:00:00.000000Z\"", "\"2000-01-01T00:00:00.000Z\"",
                   "\"2000-01-01T00:00:00.000Z\"");
}

TEST(WriteValue, TimestampMillisTruncateNeverRoundUp) {
    // .999999 must not round into the next second (or day, or year).
    const int64_t last_us_of_2000 = 366 * kUsPerDay - 1;  // 2000 is a leap year
    expect_formats(Value::timestamptz(last_us_of_2000), "\"2000-12-31T23:59:59.999999Z\"",
                   "\"2000-12-31T23:59:59.999Z\"", "\"2000-12-31T23:59:59.999Z\"");
    EXPECT_EQ(render(Value::timestamptz(kCommitTime + 543), Format::Hubspot), "\"2026-11-24T10:00:00.123Z\"");
    EXPECT_EQ(render(Value::timestamptz(5), Format::Webhook), "\"2000-01-01T00:00:00.000005Z\"");
    EXPECT_EQ(render(Value::timestamptz(1000), Format::Salesforce), "\"2000-01-01T00:00:00.001Z\"");
}

TEST(WriteValue, TimestampBeforeThePostgresEpoch) {
    expect_formats(Value::timestamptz(-1), "\"1999-12-31T23:59:59.999999Z\"", "\"1999-12-31T23:59:59.999Z\"",
                   "\"1999-12-31T23:59:59.999Z\"");
    EXPECT_EQ(render(Value::timestamptz(-946684800000000), Format::Webhook), "\"1970-01-01T00:00:00.000000Z\"");
    EXPECT_EQ(render(Value::timestamptz(-kUsPerDay), Format::Webhook), "\"1999-12-31T00:00:00.000000Z\"");
    EXPECT_EQ(render(Value::timestamptz(-kUsPerDay - 1), Format::Webhook), "\"1999-12-30T23:59:59.999999Z\"");
    // 1969-07-20T20:17:40.5Z
    EXPECT_EQ(render(Value::timestamptz(-960867739500000), Format::Webhook), "\"1969-07-20T20:17:40.500000Z\"");
}

TEST(WriteValue, TimestampLeapDays) {
    EXPECT_EQ(render(Value::timestamptz(762525296789012), Format::Webhook), "\"2024-02-29T12:34:56.789012Z\"");
    EXPECT_EQ(render(Value::timestamptz(762525296789012), Format::Hubspot), "\"2024-02-29T12:34:56.789Z\"");
    EXPECT_EQ(render(Value::timestamptz(8825 * kUsPerDay + kUsPerDay), Format::Webhook),
              "\"2024-03-01T00:00:00.000000Z\"");
    EXPECT_EQ(render(Value::timestamptz(59 * kUsPerDay), Format::Webhook), "\"2000-02-29T00:00:00.000000Z\"");
    // 1900 and 2100 are not leap years.
    EXPECT_EQ(render(Value::timestamptz(-36465 * kUsPerDay), Format::Webhook), "\"1900-03-01T00:00:00.000000Z\"");
    EXPECT_EQ(render(Value::timestamptz(-36466 * kUsPerDay), Format::Webhook), "\"1900-02-28T00:00:00.000000Z\"");
    EXPECT_EQ(render(Value::timestamptz(36584 * kUsPerDay), Format::Webhook), "\"2100-03-01T00:00:00.000000Z\"");
    EXPECT_EQ(render(Value::timestamptz(36583 * kUsPerDay), Format::Webhook), "\"2100-02-28T00:00:00.000000Z\"");
}

TEST(WriteValue, TimestampYearOneAndNineThousandNineHundredNinetyNine) {
    EXPECT_EQ(render(Value::timestamptz(-63082281600000000), Format::Webhook), "\"0001-01-01T00:00:00.000000Z\"");
    EXPECT_EQ(render(Value::timestamptz(252455615999999999), Format::Webhook), "\"9999-12-31T23:59:59.999999Z\"");
    EXPECT_EQ(render(Value::timestamptz(252455615999999999), Format::Salesforce), "\"9999-12-31T23:59:59.999Z\"");
}

TEST(WriteValue, TimestampYearsAboveNineThousandNineHundredNinetyNineAreExpanded) {
    EXPECT_EQ(render(Value::timestamptz(2921940 * kUsPerDay), Format::Webhook), "\"+10000-01-01T00:00:00.000000Z\"");
    // Postgres' last timestamp, 294276-12-31 23:59:59.999999.
    EXPECT_EQ(render(Value::timestamptz(9223371331199999999), Format::Webhook), "\"+294276-12-31T23:59:59.999999Z\"");
    EXPECT_EQ(render(Value::timestamptz(9223371331199999999), Format::Hubspot), "\"+294276-12-31T23:59:59.999Z\"");
}

TEST(WriteValue, TimestampBeforeChristIsAstronomicalAndSigned) {
    // ISO 8601 numbers years astronomically: 1 BC is 0000, 2 BC is -0001.
    EXPECT_EQ(render(Value::timestamptz(-730120 * kUsPerDay), Format::Webhook), "\"0000-12-31T00:00:00.000000Z\"");
    // Year 0 is a leap year in the proleptic calendar.
    EXPECT_EQ(render(Value::timestamptz(-730426 * kUsPerDay), Format::Webhook), "\"0000-02-29T00:00:00.000000Z\"");
    EXPECT_EQ(render(Value::timestamptz(-730850 * kUsPerDay), Format::Webhook), "\"-0001-01-01T00:00:00.000000Z\"");
    EXPECT_EQ(render(Value::timestamptz(-730850 * kUsPerDay - 1), Format::Webhook),
              "\"-0002-12-31T23:59:59.999999Z\"");
    // 4713 BC, near Postgres' first timestamp.
    EXPECT_EQ(render(Value::timestamptz(-2451507 * kUsPerDay), Format::Salesforce), "\"-4712-01-01T00:00:00.000Z\"");
}

TEST(WriteValue, TimestampInfinities) {
    expect_formats(Value::timestamptz(kTimestampInfinity), "\"infinity\"", "\"infinity\"", "\"infinity\"");
    expect_formats(Value::timestamptz(kTimestampMinusInfinity), "\"-infinity\"", "\"-infinity\"", "\"-infinity\"");
    expect_formats(Value::timestamp(kTimestampInfinity), "\"infinity\"", "\"infinity\"", "\"infinity\"");
    expect_formats(Value::timestamp(kTimestampMinusInfinity), "\"-infinity\"", "\"-infinity\"", "\"-infinity\"");
}

TEST(WriteValue, TimestampWithoutTimeZoneHasNoZ) {
    expect_formats(Value::timestamp(kCommitTime), "\"2026-11-24T10:00:00.123456\"", "\"2026-11-24T10:00:00.123\"",
                   "\"2026-11-24T10:00:00.123\"");
    EXPECT_EQ(render(Value::timestamp(-1), Format::Webhook), "\"1999-12-31T23:59:59.999999\"");
}

TEST(WriteValue, Date) {
    expect_formats(Value::date_days(8825), "\"2024-02-29\"", "\"2024-02-29\"", "\"2024-02-29\"");
    expect_formats(Value::date_days(0), "\"2000-01-01\"", "\"2000-01-01\"", "\"2000-01-01\"");
    EXPECT_EQ(render(Value::date_days(-1), Format::Webhook), "\"1999-12-31\"");
    EXPECT_EQ(render(Value::date_days(-10957), Format::Webhook), "\"1970-01-01\"");
    EXPECT_EQ(render(Value::date_days(-730119), Format::Webhook), "\"0001-01-01\"");
    EXPECT_EQ(render(Value::date_days(2921939), Format::Webhook), "\"9999-12-31\"");
    EXPECT_EQ(render(Value::date_days(2921940), Format::Webhook), "\"+10000-01-01\"");
    EXPECT_EQ(render(Value::date_days(-730120), Format::Webhook), "\"0000-12-31\"");
    EXPECT_EQ(render(Value::date_days(-730850), Format::Webhook), "\"-0001-01-01\"");
    // Postgres' last date, 5874897-12-31.
    EXPECT_EQ(render(Value::date_days(2145031948), Format::Hubspot), "\"+5874897-12-31\"");
}

// Days' texts are kept and reused: the same day again, the next day, a day that takes the
// same place (16 days later) in turn with it, an expanded year in between (not kept) and
// back, and a timestamp on a kept date's day.
TEST(WriteValue, DatesInSequenceEachGetTheirOwnDay) {
    const std::pair<int32_t, const char*> sequence[] = {
        {8825, "\"2024-02-29\""},  {8825, "\"2024-02-29\""},    {8826, "\"2024-03-01\""},
        {8825, "\"2024-02-29\""},  {2921940, "\"+10000-01-01\""}, {8825, "\"2024-02-29\""},
        {2921940, "\"+10000-01-01\""}, {2921940, "\"+10000-01-01\""}, {-1, "\"1999-12-31\""},
        {0, "\"2000-01-01\""},    {-1, "\"1999-12-31\""},      {8841, "\"2024-03-16\""},
        {8825, "\"2024-02-29\""},  {8841, "\"2024-03-16\""},      {8841, "\"2024-03-16\""},
        {-17, "\"1999-12-15\""},   {-1, "\"1999-12-31\""},        {-17, "\"1999-12-15\""},
    };
    for (const auto& [days, text] : sequence) EXPECT_EQ(render(Value::date_days(days), Format::Webhook), text) << days;
    EXPECT_EQ(render(Value::timestamptz(-1), Format::Webhook), "\"1999-12-31T23:59:59.999999Z\"");
    EXPECT_EQ(render(Value::timestamptz(0), Format::Webhook), "\"2000-01-01T00:00:00.000000Z\"");
    EXPECT_EQ(render(Value::date_days(-1), Format::Webhook), "\"1999-12-31\"");
}

TEST(WriteValue, DateInfinities) {
    expect_formats(Value::date_days(kDateInfinity), "\"infinity\"", "\"infinity\"", "\"infinity\"");
    expect_formats(Value::date_days(kDateMinusInfinity), "\"-infinity\"", "\"-infinity\"", "\"-infinity\"");
}

TEST(WriteTimestamptz, QuotedWithZ) {
    StringOut micro, milli;
    write_timestamptz(micro.buffer(), kCommitTime, false);
    write_timestamptz(milli.buffer(), kCommitTime, true);
    EXPECT_EQ(micro.str(), "\"2026-11-24T10:00:00.123456Z\"");
    EXPECT_EQ(milli.str(), "\"2026-11-24T10:00:00.123Z\"");
    StringOut inf;
    write_timestamptz(inf.buffer(), kTimestampInfinity, false);
    EXPECT_EQ(inf.str(), "\"infinity\"");
}

// --- uuid, bytea, arrays --------------------------------------------------------------

TEST(WriteValue, Uuid) {
    expect_formats(Value::uuid(kUuid), "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"",
                   "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"", "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
    const uint8_t ones[16] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    EXPECT_EQ(render(Value::uuid(ones), Format::Webhook), "\"ffffffff-ffff-ffff-ffff-ffffffffffff\"");
}

TEST(WriteValue, ByteaAsBase64) {
    const std::string bytes = "\x00\xff\xfe"s;
    expect_formats(Value::bytea(bytes.data(), bytes.size()), "\"AP/+\"", "\"AP/+\"", "\"AP/+\"");
    expect_formats(Value::bytea("foob", 4), "\"Zm9vYg==\"", "\"Zm9vYg==\"", "\"Zm9vYg==\"");
    expect_formats(Value::bytea("", 0), "\"\"", "\"\"", "\"\"");
}

TEST(WriteValue, TextArray) {
    const Value items[] = {Value::text("vip"), Value::null(), Value::text("news\"letter"), Value::text("b;c")};
    // Multi-select items are joined with ';' as is: an item containing ';' is ambiguous.
    expect_formats(Value::array_of(items, 4), R"(["vip",null,"news\"letter","b;c"])", R"("vip;news\"letter;b;c")",
                   R"("vip;news\"letter;b;c")");
}

TEST(WriteValue, ArrayOfOneAndOfOnlyNulls) {
    const Value one[] = {Value::text("x")};
    expect_formats(Value::array_of(one, 1), R"(["x"])", R"("x")", R"("x")");
    const Value nulls[] = {Value::null(), Value::null()};
    expect_formats(Value::array_of(nulls, 2), "[null,null]", "\"\"", "\"\"");
    const Value leading_null[] = {Value::null(), Value::text("a"), Value::text("b")};
    expect_formats(Value::array_of(leading_null, 3), R"([null,"a","b"])", R"("a;b")", R"("a;b")");
}

TEST(WriteValue, EmptyArray) { expect_formats(Value::array_of(nullptr, 0), "[]", "\"\"", "\"\""); }

TEST(WriteValue, TypedArrays) {
    const Value ints[] = {Value::from_int(1), Value::from_int(-2), Value::null(), Value::from_int(3)};
    expect_formats(Value::array_of(ints, 4), "[1,-2,null,3]", "\"1;-2;3\"", "\"1;-2;3\"");
    const Value bools[] = {Value::from_bool(true), Value::from_bool(false)};
    expect_formats(Value::array_of(bools, 2), "[true,false]", "\"true;false\"", "\"true;false\"");
    const Value nums[] = {Value::numeric("1.50"), Value::numeric("NaN"), Value::from_float8(0.1),
                          Value::from_float8(std::numeric_limits<double>::infinity())};
    expect_formats(Value::array_of(nums, 4), R"([1.50,"NaN",0.1,"Infinity"])", R"("1.50;NaN;0.1;Infinity")",
                   R"("1.50;NaN;0.1;Infinity")");
    const Value times[] = {Value::timestamptz(kCommitTime), Value::date_days(8825)};
    expect_formats(Value::array_of(times, 2), R"(["2026-11-24T10:00:00.123456Z","2024-02-29"])",
                   R"("2026-11-24T10:00:00.123Z;2024-02-29")", R"("2026-11-24T10:00:00.123Z;2024-02-29")");
    const Value misc[] = {Value::uuid(kUuid), Value::bytea("f", 1)};
    expect_formats(Value::array_of(misc, 2), R"(["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","Zg=="])",
                   R"("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11;Zg==")", R"("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11;Zg==")");
    const Value docs[] = {Value::json(R"({"a":1})"), Value::null()};
    expect_formats(Value::array_of(docs, 2), R"([{"a":1},null])", R"("{\"a\":1}")", R"("{\"a\":1}")");
}

// --- keys -----------------------------------------------------------------------------

TEST(WriteKey, AlwaysAJsonStringOrNull) {
    EXPECT_EQ(key(Value::null()), "null");
    EXPECT_EQ(key(Value::from_int(42)), "\"42\"");
    EXPECT_EQ(key(Value::from_int(std::numeric_limits<int64_t>::min())), "\"-9223372036854775808\"");
    EXPECT_EQ(key(Value::text("ann@example.com")), "\"ann@example.com\"");
    EXPECT_EQ(key(Value::text("a\"b\n")), R"("a\"b\n")");
    EXPECT_EQ(key(Value::text("")), "\"\"");
    EXPECT_EQ(key(Value::uuid(kUuid)), "\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"");
    EXPECT_EQ(key(Value::numeric("12345678901234567890.5")), "\"12345678901234567890.5\"");
    EXPECT_EQ(key(Value::from_bool(true)), "\"true\"");
    EXPECT_EQ(key(Value::timestamptz(kCommitTime)), "\"2026-11-24T10:00:00.123456Z\"");
    EXPECT_EQ(key(Value::date_days(8825)), "\"2024-02-29\"");
    EXPECT_EQ(key(Value::bytea("foo", 3)), "\"Zm9v\"");
    EXPECT_EQ(key(Value::json(R"({"k":1})")), R"("{\"k\":1}")");
}

// --- LSN and integers -----------------------------------------------------------------

std::string lsn(uint64_t v) {
    StringOut out;
    write_lsn_body(out.buffer(), v);
    return out.str();
}

TEST(WriteLsn, AsPostgresPrintsIt) {
    EXPECT_EQ(lsn(0), "0/0");
    EXPECT_EQ(lsn(0x16B37A0), "0/16B37A0");
    EXPECT_EQ(lsn(0x16B37D8), "0/16B37D8");
    EXPECT_EQ(lsn(0x100000000ULL), "1/0");
    EXPECT_EQ(lsn(0xABCDEF0123456789ULL), "ABCDEF01/23456789");
    EXPECT_EQ(lsn(0x0000000A0000000BULL), "A/B");
    EXPECT_EQ(lsn(std::numeric_limits<uint64_t>::max()), "FFFFFFFF/FFFFFFFF");
}

TEST(WriteUint, Decimal) {
    StringOut out;
    write_uint(out.buffer(), 0);
    out.buffer().put(' ');
    write_uint(out.buffer(), 761);
    out.buffer().put(' ');
    write_uint(out.buffer(), std::numeric_limits<uint64_t>::max());
    EXPECT_EQ(out.str(), "0 761 18446744073709551615");
}

}  // namespace
}  // namespace crmsync::render
