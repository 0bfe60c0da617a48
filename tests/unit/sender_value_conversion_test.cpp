// Values as the plugin renders them (docs/mapping.md, "Type rendering") converted to what each
// CRM property type takes (docs/mapping.md, "Property types"), and whole records rewritten
// with only their converted values changed.
#include "crm/value_conversion.hpp"

#include <gtest/gtest.h>

#include "crm/record_conversion.hpp"

using namespace crmsync::sender;

namespace {

CrmProperty property(std::string name, CrmType type, std::vector<std::string> options = {}, bool restricted = true) {
    CrmProperty p;
    p.name = std::move(name);
    p.type = type;
    p.raw_type = std::string(crm_type_name(type));
    p.options = std::move(options);
    p.restricted_options = restricted;
    return p;
}

JsonScalar str(std::string text) { return {JsonScalar::Kind::string, std::move(text)}; }
JsonScalar num(std::string text) { return {JsonScalar::Kind::number, std::move(text)}; }
JsonScalar boolean(bool b) { return {JsonScalar::Kind::boolean, b ? "true" : "false"}; }
JsonScalar null() { return {JsonScalar::Kind::null, "null"}; }

// The JSON text that goes out: the replacement, or the value as it was.
std::string out(ValueDialect dialect, const CrmProperty& p, const JsonScalar& v, const WallClockZone& zone = {}) {
    auto r = convert_value(dialect, p, v, zone);
    if (!r) return "refused: " + r.error();
    if (*r) return **r;
    return "kept";
}

WallClockZone berlin() {
    auto zone = WallClockZone::named("Europe/Berlin");
    EXPECT_TRUE(zone) << zone.error();
    return *zone;
}

constexpr auto hs = ValueDialect::hubspot;
constexpr auto sf = ValueDialect::salesforce;

}  // namespace

TEST(ValueConversion, HubspotDateTakesTheCalendarDay) {
    const auto date = property("birthday", CrmType::date);
    EXPECT_EQ(out(hs, date, str("2026-05-06")), "kept");
    // timestamptz: its UTC day by default, its day in the wall-clock zone otherwise.
    EXPECT_EQ(out(hs, date, str("2026-05-06T23:30:00.000Z")), "\"2026-05-06\"");
    EXPECT_EQ(out(hs, date, str("2026-05-06T23:30:00.000Z"), berlin()), "\"2026-05-07\"");
    // timestamp: already wall-clock time, its day as written whatever the zone.
    EXPECT_EQ(out(hs, date, str("2026-05-06T23:30:00.000"), berlin()), "\"2026-05-06\"");
    EXPECT_EQ(out(hs, date, str("2026-05-06T24:00:00")), "\"2026-05-07\"");
    EXPECT_EQ(out(hs, date, str("")), "kept");  // clears the property
    EXPECT_EQ(out(hs, date, str("2026-02-30")).rfind("refused: is not a date", 0), 0u);
    EXPECT_EQ(out(hs, date, str("infinity")).rfind("refused: is infinite", 0), 0u);
    EXPECT_EQ(out(hs, date, str("+10000-01-01")).rfind("refused: is not a date", 0), 0u);
    EXPECT_EQ(out(hs, date, str("-0043-03-15")).rfind("refused: is not a date", 0), 0u);
    EXPECT_EQ(out(hs, date, str("next tuesday")).rfind("refused: is not a date", 0), 0u);
}

TEST(ValueConversion, DatetimeGetsAnInstantInUtc) {
    const auto at = property("closedate", CrmType::datetime);
    EXPECT_EQ(out(hs, at, str("2026-05-06T05:08:09.123Z")), "kept");
    // A timestamp without zone is read in target.time_zone (UTC by default), DST included.
    EXPECT_EQ(out(hs, at, str("2026-05-06T07:08:09.500")), "\"2026-05-06T07:08:09.500Z\"");
    EXPECT_EQ(out(hs, at, str("2026-05-06T07:08:09.500"), berlin()), "\"2026-05-06T05:08:09.500Z\"");
    EXPECT_EQ(out(hs, at, str("2026-01-06T07:08:09.500"), berlin()), "\"2026-01-06T06:08:09.500Z\"");
    // A date is midnight in that zone.
    EXPECT_EQ(out(sf, at, str("2026-05-06")), "\"2026-05-06T00:00:00.000Z\"");
    EXPECT_EQ(out(sf, at, str("2026-05-06"), berlin()), "\"2026-05-05T22:00:00.000Z\"");
    // Offsets in text columns; fractions beyond milliseconds are cut.
    EXPECT_EQ(out(sf, at, str("2026-05-06 07:08:09.123456+02")), "\"2026-05-06T05:08:09.123Z\"");
    EXPECT_EQ(out(sf, at, str("2026-05-06T07:08-05:30")), "\"2026-05-06T12:38:00.000Z\"");
    // Berlin skips 02:00-03:00 on 2026-03-29: the moment of the change.
    EXPECT_EQ(out(sf, at, str("2026-03-29T02:30:00"), berlin()), "\"2026-03-29T01:00:00.000Z\"");
    EXPECT_EQ(out(sf, at, null()), "kept");
    EXPECT_EQ(out(sf, at, num("5")).rfind("refused: is not a timestamp", 0), 0u);
    EXPECT_EQ(out(sf, at, str("-infinity")).rfind("refused: is infinite", 0), 0u);
}

TEST(ValueConversion, Numbers) {
    const auto n = property("score", CrmType::number);
    EXPECT_EQ(out(hs, n, str("12.50")), "kept");
    EXPECT_EQ(out(hs, n, str(" 42 ")), "\"42\"");
    EXPECT_EQ(out(hs, n, str("1e-45")), "kept");
    EXPECT_EQ(out(hs, n, str("NaN")).rfind("refused: is not a finite number", 0), 0u);
    EXPECT_EQ(out(hs, n, str("12,5")).rfind("refused: is not a number", 0), 0u);
    EXPECT_EQ(out(sf, n, num("9223372036854775807")), "kept");
    EXPECT_EQ(out(sf, n, str("12.50")), "12.50");  // a text column's digits become a JSON number
    EXPECT_EQ(out(sf, n, str("Infinity")).rfind("refused: is not a finite number", 0), 0u);
    EXPECT_EQ(out(sf, n, boolean(true)).rfind("refused: a boolean is not a number", 0), 0u);
}

TEST(ValueConversion, Booleans) {
    const auto b = property("vip", CrmType::boolean);
    EXPECT_EQ(out(hs, b, str("true")), "kept");
    EXPECT_EQ(out(hs, b, str("t")), "\"true\"");
    EXPECT_EQ(out(hs, b, str("No")), "\"false\"");
    EXPECT_EQ(out(sf, b, boolean(false)), "kept");
    EXPECT_EQ(out(sf, b, str("yes")), "true");
    EXPECT_EQ(out(sf, b, num("0")), "false");
    EXPECT_EQ(out(sf, b, str("maybe")).rfind("refused: is not a boolean", 0), 0u);
}

TEST(ValueConversion, EnumerationsTakeOnlyTheirOptions) {
    const auto stage = property("lifecyclestage", CrmType::enumeration, {"lead", "customer"});
    EXPECT_EQ(out(hs, stage, str("lead")), "kept");
    const std::string refused = out(hs, stage, str("Lead"));
    EXPECT_EQ(refused, "refused: is not one of the property's options (matched exactly, case included); its options "
                       "are \"lead\", \"customer\"");
    // Salesforce takes any value in a picklist that is not restricted.
    EXPECT_EQ(out(sf, property("Industry", CrmType::enumeration, {"Banking"}, false), str("Other")), "kept");
    EXPECT_EQ(out(sf, property("Level__c", CrmType::enumeration, {"Primary"}, true), str("Other")).rfind("refused", 0), 0u);
}

TEST(ValueConversion, MultiSelectChecksEachItem) {
    const auto tags = property("tags", CrmType::multi_enumeration, {"gold", "b c", "vip"});
    EXPECT_EQ(out(hs, tags, str("gold;b c")), "kept");
    EXPECT_EQ(out(hs, tags, str("gold;;vip;")), "\"gold;vip\"");  // empty items name no option
    EXPECT_EQ(out(hs, tags, str("gold;silver")).rfind("refused: holds \"silver\", which is not one of", 0), 0u);
}

TEST(ValueConversion, TextPropertiesTakeAnything) {
    EXPECT_EQ(out(hs, property("notes", CrmType::text), str("2026-05-06T07:08:09")), "kept");
    EXPECT_EQ(out(sf, property("Title", CrmType::string), num("12")), "kept");
}

TEST(RecordConversion, HubspotRecordKeepsEveryByteButTheConvertedValues) {
    CrmObjectSchema schema;
    schema.object = "contacts";
    schema.properties = {property("email", CrmType::string), property("birthday", CrmType::date),
                         property("vip", CrmType::boolean), property("score", CrmType::number)};
    const std::string record =
        R"({"idProperty":"email","id":"a@x","properties":{"email":"a@x","birthday":"2026-05-06T05:08:09.123Z",)"
        R"("vip":"t","score":"12.50","unknown":"\u00e9"}})";
    ConvertedRecord c = convert_record(hs, record, schema, "email", {});
    ASSERT_FALSE(c.refusal);
    ASSERT_TRUE(c.record);
    EXPECT_EQ(*c.record, R"({"idProperty":"email","id":"a@x","properties":{"email":"a@x","birthday":"2026-05-06",)"
                         R"("vip":"true","score":"12.50","unknown":"\u00e9"}})");
    // Nothing to convert: nothing rewritten.
    EXPECT_FALSE(convert_record(hs, R"({"idProperty":"email","id":"a@x","properties":{"score":"1"}})", schema, "email", {})
                     .record);
}

TEST(RecordConversion, SalesforceRecordLeavesAttributesAndTheKeyAlone) {
    CrmObjectSchema schema;
    schema.object = "Contact";
    schema.properties = {property("Ext__c", CrmType::number), property("Birthdate", CrmType::date),
                         property("Active__c", CrmType::boolean)};
    const std::string record =
        R"({"attributes":{"type":"Contact"},"Ext__c":"007","Birthdate":"2026-05-06T05:08:09.123Z","Active__c":"yes"})";
    ConvertedRecord c = convert_record(sf, record, schema, "Ext__c", {});
    ASSERT_TRUE(c.record);
    EXPECT_EQ(*c.record,
              R"({"attributes":{"type":"Contact"},"Ext__c":"007","Birthdate":"2026-05-06","Active__c":true})");
}

TEST(RecordConversion, TheFirstRefusedValueNamesPropertyTypeAndValue) {
    CrmObjectSchema schema;
    schema.object = "contacts";
    schema.properties = {property("score", CrmType::number)};
    schema.properties[0].raw_type = "number/number";
    ConvertedRecord c = convert_record(hs, R"({"idProperty":"email","id":"a@x","properties":{"score":"n/a"}})", schema,
                                       "email", {});
    ASSERT_TRUE(c.refusal);
    EXPECT_EQ(c.refusal->property, "score");
    EXPECT_EQ(c.refusal->property_type, "number/number");
    EXPECT_EQ(c.refusal->value, "n/a");
    EXPECT_EQ(c.refusal->reason, "is not a number (digits with an optional sign, fraction and exponent)");
}

TEST(RecordConversion, BatchDeadLettersOnlyTheRefusedRecords) {
    CrmObjectSchema schema;
    schema.object = "contacts";
    schema.properties = {property("score", CrmType::number)};
    auto entry = [](std::string key, std::string score) {
        BatchEntry e;
        e.object = "contacts";
        e.key = key;
        e.bytes = R"({"idProperty":"email","id":")" + key + R"(","properties":{"score":")" + score + R"("}})";
        e.record_size = e.bytes.size();
        return e;
    };
    Batch batch;
    batch.object = "contacts";
    batch.id_field = "email";
    batch.entries = {entry("a@x", " 1"), entry("b@x", "lots"), entry("c@x", "3")};
    auto refused = convert_batch(hs, &schema, batch, {});
    ASSERT_EQ(refused.size(), 1u);
    EXPECT_EQ(refused[0].index, 1u);
    EXPECT_EQ(refused[0].kind, RecordOutcome::Kind::rejected);
    EXPECT_EQ(refused[0].error,
              "property \"score\" of HubSpot contacts (number): value \"lots\" is not a number (digits with an "
              "optional sign, fraction and exponent); not sent. Fix the row, or map a column whose values fit the "
              "property (docs/mapping.md, \"Property types\")");
    EXPECT_EQ(batch.entries[0].record(), R"({"idProperty":"email","id":"a@x","properties":{"score":"1"}})");
    EXPECT_EQ(batch.entries[2].record(), R"({"idProperty":"email","id":"c@x","properties":{"score":"3"}})");
    EXPECT_EQ(convert_batch(hs, nullptr, batch, {}).size(), 0u);  // no schema: nothing converted

    // With the mapping at hand, the reason names the column the value came from.
    batch.entries = {entry("d@x", "none")};
    auto named = convert_batch(hs, &schema, batch, {}, [](std::string_view object, std::string_view property) {
        return object == "contacts" && property == "score" ? std::string("column points of public.people") : std::string();
    });
    ASSERT_EQ(named.size(), 1u);
    EXPECT_EQ(named[0].error.rfind("property \"score\" of HubSpot contacts (number), from column points of "
                                   "public.people: value \"none\" is not a number",
                                   0),
              0u)
        << named[0].error;
}
