// Whole messages, byte for byte, per format: the field order of docs/mapping.md (the messages) with `record`
// last, so that the sender can splice a record without parsing it.
#include "render/json_text.hpp"
#include "render/message.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace crmsync::render {
namespace {

using namespace std::string_literals;

constexpr int64_t kCommitTime = 848829600123456;  // 2026-11-24T10:00:00.123456Z
constexpr uint64_t kCommitLsn = 0x16B37A0;
constexpr uint64_t kEndLsn = 0x16B37D8;
constexpr uint32_t kXid = 761;

// A relation shape with its text owned alongside, as the plugin's cache entry holds it.
struct OwnedShape {
    std::string text;
    RelationShape shape;

    OwnedShape(Format f, std::string_view object, std::string_view table, std::string_view id_property) {
        StringOut out;
        build_relation_shape(out.buffer(), shape, f, object, table, id_property);
        text = out.str();
        shape.text = text.data();
    }
    OwnedShape(const OwnedShape&) = delete;
    OwnedShape& operator=(const OwnedShape&) = delete;
};

// Property names rendered once, as the plugin's per-relation cache does.
class PropertyList {
public:
    PropertyList& add(std::string_view name, const Value& v) {
        StringOut out;
        write_property_name(out.buffer(), name);
        names_.push_back(out.str());  // deque: earlier strings never move
        Property p;
        p.name = {names_.back().data(), static_cast<uint32_t>(names_.back().size())};
        p.value = v;
        props_.push_back(p);
        return *this;
    }
    const Property* data() const { return props_.data(); }
    size_t size() const { return props_.size(); }

private:
    std::deque<std::string> names_;
    std::vector<Property> props_;
};

TxnStamp stamp(uint64_t lsn = kCommitLsn, uint32_t xid = kXid, bool has_time = true, int64_t time = kCommitTime) {
    TxnStamp s;
    build_txn_stamp(s, lsn, xid, has_time, time);
    return s;
}

// The part between "key" and "record" that every change of the default transaction carries.
std::string txn_fields(uint32_t seq) {
    return R"(,"commit_lsn":"0/16B37A0","seq":)" + std::to_string(seq) +
           R"(,"xid":761,"commit_time":"2026-11-24T10:00:00.123456Z")";
}

::testing::AssertionResult is_json(const std::string& s) {
    if (is_valid_json(s.data(), s.size())) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "not valid JSON: " << s;
}

struct Contacts {
    OwnedShape webhook{Format::Webhook, "contacts", "public.contacts", "email"};
    OwnedShape hubspot{Format::Hubspot, "contacts", "public.contacts", "email"};
    OwnedShape salesforce{Format::Salesforce, "Contact", "public.contacts", "Email"};
};

// --- shapes and stamps ----------------------------------------------------------------

TEST(RelationShape, PiecesPerFormat) {
    Contacts c;
    for (const OwnedShape* s : {&c.webhook, &c.hubspot}) {
        EXPECT_EQ(s->shape.piece(RelationShape::UpsertHead), R"({"action":"upsert","object":"contacts","key":)");
        EXPECT_EQ(s->shape.piece(RelationShape::DeleteHead), R"({"action":"delete","object":"contacts","key":)");
        EXPECT_EQ(s->shape.piece(RelationShape::TruncateHead),
                  R"({"action":"truncate","object":"contacts","key":null)");
        EXPECT_EQ(s->shape.piece(RelationShape::TableField), R"(,"table":"public.contacts")");
        EXPECT_EQ(s->shape.piece(RelationShape::PropsOpen), R"(,"properties":{)");
        EXPECT_EQ(s->shape.piece(RelationShape::RecordClose), "}}");
    }
    EXPECT_EQ(c.webhook.shape.format, Format::Webhook);
    EXPECT_EQ(c.webhook.shape.piece(RelationShape::RecordHead), R"({"id":)");
    EXPECT_EQ(c.hubspot.shape.format, Format::Hubspot);
    EXPECT_EQ(c.hubspot.shape.piece(RelationShape::RecordHead), R"({"idProperty":"email","id":)");

    const RelationShape& sf = c.salesforce.shape;
    EXPECT_EQ(sf.format, Format::Salesforce);
    EXPECT_EQ(sf.piece(RelationShape::UpsertHead), R"({"action":"upsert","object":"Contact","key":)");
    EXPECT_EQ(sf.piece(RelationShape::RecordHead), R"({"attributes":{"type":"Contact"},"Email":)");
    EXPECT_EQ(sf.piece(RelationShape::PropsOpen), "");
    EXPECT_EQ(sf.piece(RelationShape::RecordClose), "}");
}

TEST(RelationShape, OffsetsCountFromTheStartOfTheText) {
    StringOut out;
    out.buffer().append("earlier shapes|");
    RelationShape shape;
    build_relation_shape(out.buffer(), shape, Format::Webhook, "deals", "crm.deals", "deal_id");
    const std::string text = out.str();
    shape.text = text.data();
    EXPECT_EQ(shape.pos[RelationShape::UpsertHead], 15u);
    EXPECT_EQ(shape.piece(RelationShape::UpsertHead), R"({"action":"upsert","object":"deals","key":)");
    EXPECT_EQ(shape.piece(RelationShape::TableField), R"(,"table":"crm.deals")");
    EXPECT_EQ(shape.piece(RelationShape::RecordClose), "}}");
}

TEST(RelationShape, NamesAreEscaped) {
    OwnedShape hs(Format::Hubspot, "con\"tacts\n", "public.\"we\\ird\"", "e\"mail");
    EXPECT_EQ(hs.shape.piece(RelationShape::UpsertHead), R"({"action":"upsert","object":"con\"tacts\n","key":)");
    EXPECT_EQ(hs.shape.piece(RelationShape::TableField), R"(,"table":"public.\"we\\ird\"")");
    EXPECT_EQ(hs.shape.piece(RelationShape::RecordHead), R"({"idProperty":"e\"mail","id":)");
    OwnedShape sf(Format::Salesforce, "My\"Obj__c", "public.t", "Ext\\Id__c");
    EXPECT_EQ(sf.shape.piece(RelationShape::RecordHead), R"({"attributes":{"type":"My\"Obj__c"},"Ext\\Id__c":)");
}

TEST(PropertyName, LeadingCommaQuotedColon) {
    StringOut out;
    write_property_name(out.buffer(), "email");
    EXPECT_EQ(out.str(), R"(,"email":)");
    out.clear();
    write_property_name(out.buffer(), "we\"ird\tname\xFF");
    EXPECT_EQ(out.str(), ",\"we\\\"ird\\tname\xEF\xBF\xBD\":");
}

TEST(TxnStamp, Fields) {
    TxnStamp s = stamp();
    EXPECT_EQ(std::string_view(s.lsn_field, s.lsn_len), R"(,"commit_lsn":"0/16B37A0","seq":)");
    EXPECT_EQ(std::string_view(s.tail, s.tail_len), R"(,"xid":761,"commit_time":"2026-11-24T10:00:00.123456Z")");
    EXPECT_EQ(s.commit_lsn, kCommitLsn);
    EXPECT_EQ(s.xid, kXid);
    EXPECT_TRUE(s.has_commit_time);
    EXPECT_EQ(s.commit_time, kCommitTime);
}

TEST(TxnStamp, NullXidAndCommitTime) {
    TxnStamp s = stamp(kCommitLsn, 0, false, 0);
    EXPECT_EQ(std::string_view(s.tail, s.tail_len), R"(,"xid":null,"commit_time":null)");
    TxnStamp no_time = stamp(kCommitLsn, 5, false, kCommitTime);
    EXPECT_EQ(std::string_view(no_time.tail, no_time.tail_len), R"(,"xid":5,"commit_time":null)");
}

TEST(TxnStamp, LongestFieldsFit) {
    // The longest LSN, xid and timestamp must fit the stamp's fixed arrays.
    TxnStamp s = stamp(UINT64_MAX, UINT32_MAX, true, 9223371331199999999);
    EXPECT_EQ(std::string_view(s.lsn_field, s.lsn_len), R"(,"commit_lsn":"FFFFFFFF/FFFFFFFF","seq":)");
    EXPECT_EQ(std::string_view(s.tail, s.tail_len),
              R"(,"xid":4294967295,"commit_time":"+294276-12-31T23:59:59.999999Z")");
    TxnStamp min = stamp(0, 1, true, INT64_MIN + 1);
    EXPECT_EQ(std::string_view(min.lsn_field, min.lsn_len), R"(,"commit_lsn":"0/0","seq":)");
    EXPECT_EQ(std::string_view(min.tail, min.tail_len), R"(,"xid":1,"commit_time":"-290278-12-22T19:59:05.224193Z")");
}

// --- upsert ---------------------------------------------------------------------------

TEST(Upsert, WebhookManyProperties) {
    Contacts c;
    PropertyList p;
    p.add("email", Value::text("ann@example.com")).add("age", Value::from_int(42)).add("vip", Value::from_bool(true));
    StringOut out;
    write_upsert(out.buffer(), c.webhook.shape, stamp(), 1, Value::text("ann@example.com"), p.data(), p.size());
    const std::string want = R"({"action":"upsert","object":"contacts","key":"ann@example.com","table":"public.contacts")" +
                             txn_fields(1) +
                             R"(,"record":{"id":"ann@example.com","properties":{"email":"ann@example.com","age":42,"vip":true}}})";
    EXPECT_EQ(out.str(), want);
    EXPECT_TRUE(is_json(out.str()));
}

TEST(Upsert, HubspotManyProperties) {
    Contacts c;
    PropertyList p;
    p.add("email", Value::text("ann@example.com")).add("age", Value::from_int(42)).add("vip", Value::from_bool(true));
    StringOut out;
    write_upsert(out.buffer(), c.hubspot.shape, stamp(), 1, Value::text("ann@example.com"), p.data(), p.size());
    const std::string want =
        R"({"action":"upsert","object":"contacts","key":"ann@example.com","table":"public.contacts")" + txn_fields(1) +
        R"(,"record":{"idProperty":"email","id":"ann@example.com","properties":{"email":"ann@example.com","age":"42","vip":"true"}}})";
    EXPECT_EQ(out.str(), want);
    EXPECT_TRUE(is_json(out.str()));
}

TEST(Upsert, SalesforceManyPropertiesKeepLeadingCommas) {
    Contacts c;
    PropertyList p;
    p.add("FirstName", Value::text("Ann")).add("Age__c", Value::from_int(42)).add("VIP__c", Value::from_bool(true));
    StringOut out;
    write_upsert(out.buffer(), c.salesforce.shape, stamp(), 1, Value::text("ann@example.com"), p.data(), p.size());
    const std::string want =
        R"({"action":"upsert","object":"Contact","key":"ann@example.com","table":"public.contacts")" + txn_fields(1) +
        R"(,"record":{"attributes":{"type":"Contact"},"Email":"ann@example.com","FirstName":"Ann","Age__c":42,"VIP__c":true}})";
    EXPECT_EQ(out.str(), want);
    EXPECT_TRUE(is_json(out.str()));
}

TEST(Upsert, NoProperties) {
    Contacts c;
    const Value id = Value::text("ann@example.com");
    const std::string head =
        R"({"action":"upsert","object":"contacts","key":"ann@example.com","table":"public.contacts")" + txn_fields(7);
    StringOut out;
    write_upsert(out.buffer(), c.webhook.shape, stamp(), 7, id, nullptr, 0);
    EXPECT_EQ(out.str(), head + R"(,"record":{"id":"ann@example.com","properties":{}}})");
    EXPECT_TRUE(is_json(out.str()));
    out.clear();
    write_upsert(out.buffer(), c.hubspot.shape, stamp(), 7, id, nullptr, 0);
    EXPECT_EQ(out.str(), head + R"(,"record":{"idProperty":"email","id":"ann@example.com","properties":{}}})");
    EXPECT_TRUE(is_json(out.str()));
    out.clear();
    write_upsert(out.buffer(), c.salesforce.shape, stamp(), 7, id, nullptr, 0);
    EXPECT_EQ(out.str(),
              R"({"action":"upsert","object":"Contact","key":"ann@example.com","table":"public.contacts")" +
                  txn_fields(7) + R"(,"record":{"attributes":{"type":"Contact"},"Email":"ann@example.com"}})");
    EXPECT_TRUE(is_json(out.str()));
}

TEST(Upsert, OneProperty) {
    Contacts c;
    PropertyList p;
    p.add("phone", Value::null());
    const Value id = Value::text("ann@example.com");
    StringOut out;
    write_upsert(out.buffer(), c.webhook.shape, stamp(), 2, id, p.data(), p.size());
    EXPECT_EQ(out.str(), R"({"action":"upsert","object":"contacts","key":"ann@example.com","table":"public.contacts")" +
                             txn_fields(2) + R"(,"record":{"id":"ann@example.com","properties":{"phone":null}}})");
    out.clear();
    write_upsert(out.buffer(), c.hubspot.shape, stamp(), 2, id, p.data(), p.size());
    EXPECT_EQ(out.str(),
              R"({"action":"upsert","object":"contacts","key":"ann@example.com","table":"public.contacts")" +
                  txn_fields(2) + R"(,"record":{"idProperty":"email","id":"ann@example.com","properties":{"phone":""}}})");
    out.clear();
    write_upsert(out.buffer(), c.salesforce.shape, stamp(), 2, id, p.data(), p.size());
    EXPECT_EQ(out.str(), R"({"action":"upsert","object":"Contact","key":"ann@example.com","table":"public.contacts")" +
                             txn_fields(2) +
                             R"(,"record":{"attributes":{"type":"Contact"},"Email":"ann@example.com","phone":null}})");
}

TEST(Upsert, NumericIdIsAStringKeyButTypedInSalesforce) {
    OwnedShape wh(Format::Webhook, "deals", "public.deals", "deal_id");
    OwnedShape hs(Format::Hubspot, "deals", "public.deals", "deal_id");
    OwnedShape sf(Format::Salesforce, "Opportunity", "public.deals", "Deal_Id__c");
    PropertyList p;
    p.add("amount", Value::numeric("1250000.50"));
    const Value id = Value::from_int(42);
    StringOut out;
    write_upsert(out.buffer(), wh.shape, stamp(), 3, id, p.data(), p.size());
    EXPECT_EQ(out.str(), R"({"action":"upsert","object":"deals","key":"42","table":"public.deals")" + txn_fields(3) +
                             R"(,"record":{"id":"42","properties":{"amount":1250000.50}}})");
    out.clear();
    write_upsert(out.buffer(), hs.shape, stamp(), 3, id, p.data(), p.size());
    EXPECT_EQ(out.str(), R"({"action":"upsert","object":"deals","key":"42","table":"public.deals")" + txn_fields(3) +
                             R"(,"record":{"idProperty":"deal_id","id":"42","properties":{"amount":"1250000.50"}}})");
    out.clear();
    write_upsert(out.buffer(), sf.shape, stamp(), 3, id, p.data(), p.size());
    EXPECT_EQ(out.str(),
              R"({"action":"upsert","object":"Opportunity","key":"42","table":"public.deals")" + txn_fields(3) +
                  R"(,"record":{"attributes":{"type":"Opportunity"},"Deal_Id__c":42,"amount":1250000.50}})");
}

TEST(Upsert, PropertyNamesAndValuesNeedingEscapes) {
    OwnedShape wh(Format::Webhook, "con\"tacts", "public.\"Con tacts\"", "e\"mail");
    PropertyList p;
    p.add("na\"me\n", Value::text("A\\nn")).add("\xC3\xA9t\xC3\xA9", Value::text("\xF0\x9F\x98\x80"));
    StringOut out;
    write_upsert(out.buffer(), wh.shape, stamp(), 1, Value::text("a\"b"), p.data(), p.size());
    EXPECT_EQ(out.str(), R"({"action":"upsert","object":"con\"tacts","key":"a\"b","table":"public.\"Con tacts\"")" +
                             txn_fields(1) +
                             "," R"("record":{"id":"a\"b","properties":{"na\"me\n":"A\\nn","été":"😀"}}})");
    EXPECT_TRUE(is_json(out.str()));
}

// A realistic CRM row in every format, every kind of value at once.
TEST(Upsert, RealisticRowEveryFormat) {
    const uint8_t uuid[16] = {0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8,
                              0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38, 0x0a, 0x11};
    const Value tags[] = {Value::text("vip"), Value::null(), Value::text("beta")};
    PropertyList p;
    p.add("firstname", Value::text("Ann"))
        .add("score", Value::from_int(87))
        .add("revenue", Value::numeric("1250000.50"))
        .add("ratio", Value::from_float8(0.1))
        .add("customer", Value::from_bool(false))
        .add("created", Value::timestamptz(kCommitTime))
        .add("birthday", Value::date_days(8825))
        .add("tags", Value::array_of(tags, 3))
        .add("prefs", Value::json(R"({"lang":"de"})"))
        .add("ref", Value::uuid(uuid))
        .add("avatar", Value::bytea("foo", 3))
        .add("phone", Value::null());
    const Value id = Value::text("ann@example.com");
    Contacts c;
    StringOut out;
    write_upsert(out.buffer(), c.webhook.shape, stamp(), 4, id, p.data(), p.size());
    EXPECT_EQ(out.str(),
              R"({"action":"upsert","object":"contacts","key":"ann@example.com","table":"public.contacts")" +
                  txn_fields(4) +
                  R"(,"record":{"id":"ann@example.com","properties":{"firstname":"Ann","score":87,"revenue":1250000.50,)"
                  R"("ratio":0.1,"customer":false,"created":"2026-11-24T10:00:00.123456Z","birthday":"2024-02-29",)"
                  R"("tags":["vip",null,"beta"],"prefs":{"lang":"de"},"ref":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",)"
                  R"("avatar":"Zm9v","phone":null}}})");
    EXPECT_TRUE(is_json(out.str()));
    out.clear();
    write_upsert(out.buffer(), c.hubspot.shape, stamp(), 4, id, p.data(), p.size());
    EXPECT_EQ(out.str(),
              R"({"action":"upsert","object":"contacts","key":"ann@example.com","table":"public.contacts")" +
                  txn_fields(4) +
                  R"(,"record":{"idProperty":"email","id":"ann@example.com","properties":{"firstname":"Ann",)"
                  R"("score":"87","revenue":"1250000.50","ratio":"0.1","customer":"false",)"
                  R"("created":"2026-11-24T10:00:00.123Z","birthday":"2024-02-29","tags":"vip;beta",)"
                  R"("prefs":"{\"lang\":\"de\"}","ref":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","avatar":"Zm9v",)"
                  R"("phone":""}}})");
    EXPECT_TRUE(is_json(out.str()));
    out.clear();
    write_upsert(out.buffer(), c.salesforce.shape, stamp(), 4, id, p.data(), p.size());
    EXPECT_EQ(out.str(),
              R"({"action":"upsert","object":"Contact","key":"ann@example.com","table":"public.contacts")" +
                  txn_fields(4) +
                  R"(,"record":{"attributes":{"type":"Contact"},"Email":"ann@example.com","firstname":"Ann",)"
                  R"("score":87,"revenue":1250000.50,"ratio":0.1,"customer":false,)"
                  R"("created":"2026-11-24T10:00:00.123Z","birthday":"2024-02-29","tags":"vip;beta",)"
                  R"("prefs":"{\"lang\":\"de\"}","ref":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","avatar":"Zm9v",)"
                  R"("phone":null}})");
    EXPECT_TRUE(is_json(out.str()));
}

TEST(Upsert, AppendsToWhatTheBufferHolds) {
    Contacts c;
    StringOut out;
    out.buffer().append("[");
    write_upsert(out.buffer(), c.webhook.shape, stamp(), 1, Value::from_int(1), nullptr, 0);
    out.buffer().append(",");
    write_upsert(out.buffer(), c.webhook.shape, stamp(), 2, Value::from_int(2), nullptr, 0);
    out.buffer().append("]");
    EXPECT_EQ(out.str(),
              R"([{"action":"upsert","object":"contacts","key":"1","table":"public.contacts")" + txn_fields(1) +
                  R"(,"record":{"id":"1","properties":{}}},{"action":"upsert","object":"contacts","key":"2","table":"public.contacts")" +
                  txn_fields(2) + R"(,"record":{"id":"2","properties":{}}}])");
    EXPECT_TRUE(is_json(out.str()));
}

// The record's id is the header's key text copied from the buffer; the buffer may grow (and
// move) right at that copy. Keys of every length up to past two growths, each on a buffer
// that already holds a prefix, so that every growth point falls somewhere in the id.
TEST(Upsert, RecordIdRepeatsTheKeyWhereverTheBufferGrows) {
    Contacts c;
    for (size_t key_len = 0; key_len <= 700; ++key_len) {
        std::string key(key_len, 'k');
        if (key_len > 3) key[key_len / 2] = '"';  // escaped inside: the copy is of the escaped text
        std::string key_json = "\"";
        for (char ch : key) key_json += ch == '"' ? "\\\"" : std::string(1, ch);
        key_json += '"';
        const Value id = Value::text(key);
        const std::string prefix(key_len % 97, ' ');
        for (const OwnedShape* shape : {&c.webhook, &c.hubspot}) {
            const std::string record_head = shape == &c.webhook ? R"({"id":)" : R"({"idProperty":"email","id":)";
            StringOut out;
            out.buffer().append(prefix);
            write_upsert(out.buffer(), shape->shape, stamp(), 1, id, nullptr, 0);
            write_delete(out.buffer(), shape->shape, stamp(), 2, &id, "");
            EXPECT_EQ(out.str(), prefix + R"({"action":"upsert","object":"contacts","key":)" + key_json +
                                     R"(,"table":"public.contacts")" + txn_fields(1) + R"(,"record":)" + record_head +
                                     key_json + R"(,"properties":{}}})" + R"({"action":"delete","object":"contacts","key":)" +
                                     key_json + R"(,"table":"public.contacts")" + txn_fields(2) + R"(,"record":)" +
                                     record_head + key_json + "}}")
                << "key length " << key_len;
        }
    }
}

TEST(Upsert, NonTransactionalStamp) {
    Contacts c;
    StringOut out;
    write_upsert(out.buffer(), c.webhook.shape, stamp(0x100000000ULL, 0, false, 0), 1, Value::from_int(1), nullptr, 0);
    EXPECT_EQ(out.str(),
              R"({"action":"upsert","object":"contacts","key":"1","table":"public.contacts","commit_lsn":"1/0","seq":1,)"
              R"("xid":null,"commit_time":null,"record":{"id":"1","properties":{}}})");
}

// --- unkeyed upsert -------------------------------------------------------------------

TEST(UnkeyedUpsert, KeyNullErrorBeforeRecord) {
    Contacts c;
    PropertyList p;
    p.add("firstname", Value::text("Ann")).add("age", Value::from_int(3));
    const std::string err = "id column \"email\" is null";
    const std::string head = R"({"action":"upsert","object":"contacts","key":null,"table":"public.contacts")" +
                             txn_fields(5) + R"(,"error":"id column \"email\" is null")";
    StringOut out;
    write_unkeyed_upsert(out.buffer(), c.webhook.shape, stamp(), 5, err, p.data(), p.size());
    EXPECT_EQ(out.str(), head + R"(,"record":{"id":null,"properties":{"firstname":"Ann","age":3}}})");
    EXPECT_TRUE(is_json(out.str()));
    out.clear();
    write_unkeyed_upsert(out.buffer(), c.hubspot.shape, stamp(), 5, err, p.data(), p.size());
    EXPECT_EQ(out.str(), head + R"(,"record":{"idProperty":"email","id":null,"properties":{"firstname":"Ann","age":"3"}}})");
    EXPECT_TRUE(is_json(out.str()));
    out.clear();
    write_unkeyed_upsert(out.buffer(), c.salesforce.shape, stamp(), 5, err, p.data(), p.size());
    EXPECT_EQ(out.str(), R"({"action":"upsert","object":"Contact","key":null,"table":"public.contacts")" +
                             txn_fields(5) + R"(,"error":"id column \"email\" is null")" +
                             R"(,"record":{"attributes":{"type":"Contact"},"Email":null,"firstname":"Ann","age":3}})");
    EXPECT_TRUE(is_json(out.str()));
}

TEST(UnkeyedUpsert, NoPropertiesNoError) {
    Contacts c;
    StringOut out;
    write_unkeyed_upsert(out.buffer(), c.webhook.shape, stamp(), 1, "", nullptr, 0);
    EXPECT_EQ(out.str(), R"({"action":"upsert","object":"contacts","key":null,"table":"public.contacts")" +
                             txn_fields(1) + R"(,"record":{"id":null,"properties":{}}})");
}

// --- delete ---------------------------------------------------------------------------

TEST(Delete, WithKeyPerFormat) {
    Contacts c;
    const Value id = Value::text("ann@example.com");
    const std::string head =
        R"({"action":"delete","object":"contacts","key":"ann@example.com","table":"public.contacts")" + txn_fields(2);
    StringOut out;
    write_delete(out.buffer(), c.webhook.shape, stamp(), 2, &id, "");
    EXPECT_EQ(out.str(), head + R"(,"record":{"id":"ann@example.com"}})");
    EXPECT_TRUE(is_json(out.str()));
    out.clear();
    write_delete(out.buffer(), c.hubspot.shape, stamp(), 2, &id, "");
    EXPECT_EQ(out.str(), head + R"(,"record":{"idProperty":"email","id":"ann@example.com"}})");
    EXPECT_TRUE(is_json(out.str()));
    out.clear();
    write_delete(out.buffer(), c.salesforce.shape, stamp(), 2, &id, "");
    EXPECT_EQ(out.str(), R"({"action":"delete","object":"Contact","key":"ann@example.com","table":"public.contacts")" +
                             txn_fields(2) + R"(,"record":{"attributes":{"type":"Contact"},"Email":"ann@example.com"}})");
    EXPECT_TRUE(is_json(out.str()));
}

TEST(Delete, TypedSalesforceIdAndUuidKey) {
    const uint8_t uuid[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    OwnedShape sf(Format::Salesforce, "Account", "public.accounts", "Ext_Id__c");
    const Value id = Value::uuid(uuid);
    StringOut out;
    write_delete(out.buffer(), sf.shape, stamp(), 9, &id, "");
    EXPECT_EQ(out.str(),
              R"({"action":"delete","object":"Account","key":"00010203-0405-0607-0809-0a0b0c0d0e0f","table":"public.accounts")" +
                  txn_fields(9) +
                  R"(,"record":{"attributes":{"type":"Account"},"Ext_Id__c":"00010203-0405-0607-0809-0a0b0c0d0e0f"}})");
}

TEST(Delete, WithKeyAndError) {
    Contacts c;
    const Value id = Value::from_int(7);
    StringOut out;
    write_delete(out.buffer(), c.webhook.shape, stamp(), 3, &id, "replica identity \"default\"\n");
    EXPECT_EQ(out.str(), R"({"action":"delete","object":"contacts","key":"7","table":"public.contacts")" +
                             txn_fields(3) +
                             R"(,"error":"replica identity \"default\"\n","record":{"id":"7"}})");
    EXPECT_TRUE(is_json(out.str()));
}

TEST(Delete, WithoutKeyIsStillEmitted) {
    Contacts c;
    const std::string err = "old tuple lacks id column \"email\"";
    for (const OwnedShape* s : {&c.webhook, &c.hubspot, &c.salesforce}) {
        const std::string object = s == &c.salesforce ? "Contact" : "contacts";
        StringOut out;
        write_delete(out.buffer(), s->shape, stamp(), 4, nullptr, err);
        EXPECT_EQ(out.str(), R"({"action":"delete","object":")" + object +
                                 R"(","key":null,"table":"public.contacts")" + txn_fields(4) +
                                 R"(,"error":"old tuple lacks id column \"email\"","record":null})");
        EXPECT_TRUE(is_json(out.str()));
        out.clear();
        write_delete(out.buffer(), s->shape, stamp(), 4, nullptr, "");
        EXPECT_EQ(out.str(), R"({"action":"delete","object":")" + object +
                                 R"(","key":null,"table":"public.contacts")" + txn_fields(4) + R"(,"record":null})");
    }
}

// --- truncate -------------------------------------------------------------------------

TEST(Truncate, PerFormat) {
    Contacts c;
    for (const OwnedShape* s : {&c.webhook, &c.hubspot, &c.salesforce}) {
        const std::string object = s == &c.salesforce ? "Contact" : "contacts";
        StringOut out;
        write_truncate(out.buffer(), s->shape, stamp(), 12);
        EXPECT_EQ(out.str(), R"({"action":"truncate","object":")" + object +
                                 R"(","key":null,"table":"public.contacts")" + txn_fields(12) + R"(,"record":null})");
        EXPECT_TRUE(is_json(out.str()));
    }
}

// --- logical messages -----------------------------------------------------------------

std::string logical_message(std::string_view content, bool transactional = true, const TxnStamp& s = stamp(),
                            std::string_view prefix = "crmsync") {
    StringOut out;
    write_logical_message(out.buffer(), s, 6, prefix, transactional, content.data(), content.size());
    return out.str();
}

const std::string kMessageHead =
    R"({"action":"message","object":null,"key":null,"table":null,"commit_lsn":"0/16B37A0","seq":6,"xid":761,)"
    R"("commit_time":"2026-11-24T10:00:00.123456Z","prefix":"crmsync","transactional":true,"record":)";

TEST(LogicalMessage, ValidJsonIsEmbedded) {
    EXPECT_EQ(logical_message(R"({"a":[1,"x"]})"), kMessageHead + R"({"a":[1,"x"]}})");
    EXPECT_EQ(logical_message("42"), kMessageHead + "42}");
    EXPECT_EQ(logical_message("\"s\""), kMessageHead + "\"s\"}");
    EXPECT_EQ(logical_message(" {\"a\":1}\n"), kMessageHead + " {\"a\":1}\n}");
    EXPECT_TRUE(is_json(logical_message(" {\"a\":1}\n")));
}

TEST(LogicalMessage, InvalidJsonIsAString) {
    EXPECT_EQ(logical_message("hello \"world\""), kMessageHead + R"("hello \"world\""})");
    EXPECT_EQ(logical_message("{} trailing"), kMessageHead + R"("{} trailing"})");
    EXPECT_EQ(logical_message("{\"a\":1,}"), kMessageHead + R"("{\"a\":1,}"})");
    EXPECT_EQ(logical_message("NaN"), kMessageHead + R"("NaN"})");
    EXPECT_EQ(logical_message("   "), kMessageHead + R"("   "})");
    // Invalid UTF-8 inside a JSON string: not embedded, and replaced in the string.
    EXPECT_EQ(logical_message("\"\xC3\""), kMessageHead + "\"\\\"\xEF\xBF\xBD\\\"\"}");
    EXPECT_EQ(logical_message("bin\0\x01\xFF"s), kMessageHead + "\"bin\\u0000\\u0001\xEF\xBF\xBD\"}");
    EXPECT_TRUE(is_json(logical_message("bin\0\x01\xFF"s)));
}

TEST(LogicalMessage, EmptyContentIsAnEmptyString) { EXPECT_EQ(logical_message(""), kMessageHead + "\"\"}"); }

TEST(LogicalMessage, NonTransactionalHasNullXidAndTime) {
    EXPECT_EQ(logical_message("{}", false, stamp(0xA00000001ULL, 0, false, 0), "app/\"x\""),
              R"({"action":"message","object":null,"key":null,"table":null,"commit_lsn":"A/1","seq":6,"xid":null,)"
              R"("commit_time":null,"prefix":"app/\"x\"","transactional":false,"record":{}})");
}

// The message must stay valid JSON whatever the payload; these fail while is_valid_json
// accepts a NUL-terminated prefix or skips a leading BOM / stray 0xEF (see
// render_json_text_test.cpp, IsValidJson.Rejects*).
TEST(LogicalMessage, PayloadWithNulAfterJsonStaysValid) {
    const std::string msg = logical_message("{}\0garbage"s);
    EXPECT_EQ(msg, kMessageHead + "\"{}\\u0000garbage\"}");
    EXPECT_TRUE(is_json(msg));
}

TEST(LogicalMessage, PayloadWithLeadingBomOrStrayByteStaysValid) {
    EXPECT_EQ(logical_message("\xEF\xBB\xBF{}"), kMessageHead + "\"\xEF\xBB\xBF{}\"}");
    EXPECT_EQ(logical_message("\xEF{}"), kMessageHead + "\"\xEF\xBF\xBD{}\"}");
    EXPECT_TRUE(is_json(logical_message("\xEF{}")));
}

TEST(LogicalMessageDeathTest, DeeplyNestedPayloadDoesNotCrash) {
    // See IsValidJsonDeathTest.DeepNestingDoesNotOverflowTheStack: in the walsender this is
    // a SIGSEGV, a cluster restart, and the same crash again on the same WAL.
    GTEST_FLAG_SET(death_test_style, "threadsafe");
    EXPECT_EXIT(
        {
            const size_t depth = size_t{1} << 22;
            std::string payload(depth, '[');
            payload.append(depth, ']');
            const std::string msg = logical_message(payload);
            std::exit(msg.size() > payload.size() ? 0 : 1);
        },
        ::testing::ExitedWithCode(0), "");
}

// --- commit ---------------------------------------------------------------------------

TEST(Commit, Fields) {
    StringOut out;
    write_commit(out.buffer(), stamp(), kEndLsn, 1);
    EXPECT_EQ(out.str(),
              R"({"action":"commit","xid":761,"commit_lsn":"0/16B37A0","end_lsn":"0/16B37D8",)"
              R"("commit_time":"2026-11-24T10:00:00.123456Z","count":1})");
    EXPECT_TRUE(is_json(out.str()));
}

TEST(Commit, HighLsnWordsAndLargeCount) {
    StringOut out;
    write_commit(out.buffer(), stamp(0x2FFFFFFFFULL, UINT32_MAX, true, -1), 0x300000010ULL, UINT32_MAX);
    EXPECT_EQ(out.str(),
              R"({"action":"commit","xid":4294967295,"commit_lsn":"2/FFFFFFFF","end_lsn":"3/10",)"
              R"("commit_time":"1999-12-31T23:59:59.999999Z","count":4294967295})");
    out.clear();
    write_commit(out.buffer(), stamp(), kEndLsn, 0);
    EXPECT_EQ(out.str(),
              R"({"action":"commit","xid":761,"commit_lsn":"0/16B37A0","end_lsn":"0/16B37D8",)"
              R"("commit_time":"2026-11-24T10:00:00.123456Z","count":0})");
}

// --- a transaction end to end ---------------------------------------------------------

TEST(Transaction, SequenceOfMessagesInOneBuffer) {
    Contacts c;
    const TxnStamp s = stamp();
    const Value id = Value::text("ann@example.com");
    PropertyList p;
    p.add("email", id);
    StringOut out;
    std::vector<std::string> messages;
    auto take = [&] {
        messages.push_back(out.str());
        out.clear();
    };
    write_upsert(out.buffer(), c.hubspot.shape, s, 1, id, p.data(), p.size());
    take();
    write_delete(out.buffer(), c.hubspot.shape, s, 2, &id, "");
    take();
    write_truncate(out.buffer(), c.hubspot.shape, s, 3);
    take();
    write_logical_message(out.buffer(), s, 4, "p", true, "[]", 2);
    take();
    write_commit(out.buffer(), s, kEndLsn, 4);
    take();
    for (size_t i = 0; i < messages.size(); ++i) {
        EXPECT_TRUE(is_json(messages[i]));
        if (i + 1 < messages.size()) {
            EXPECT_NE(messages[i].find(R"("seq":)" + std::to_string(i + 1) + ","), std::string::npos) << messages[i];
            // record is the last field: the message ends with the record and one '}'.
            EXPECT_NE(messages[i].find(R"(,"record":)"), std::string::npos);
            EXPECT_EQ(messages[i].find(R"(,"record":)"), messages[i].rfind(R"(,"record":)"));
        }
    }
}

}  // namespace
}  // namespace crmsync::render
