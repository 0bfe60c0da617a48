// Each adapter's requests (crm/*): bodies, paths and idempotency keys, byte for byte; the
// record_id_field helper.
#include "core/request_body.hpp"
#include "crm/crm_adapter.hpp"
#include "crm/hubspot/hubspot_adapter.hpp"
#include "crm/salesforce/salesforce_adapter.hpp"

#include <gtest/gtest.h>

#include <string>

using namespace crmsync::sender;
using namespace std::chrono_literals;

namespace {

const Batcher::Clock::time_point t0{1h};

std::string msg(std::string_view action, std::string_view object, std::string_view key, std::string_view lsn,
                std::uint64_t seq, std::string_view record) {
    return R"({"action":")" + std::string(action) + R"(","object":")" + std::string(object) + R"(","key":")" +
           std::string(key) + R"(","table":"public.t","commit_lsn":")" + std::string(lsn) + R"(","seq":)" +
           std::to_string(seq) + R"(,"xid":761,"commit_time":"2026-11-24T10:00:00.123456Z","record":)" +
           std::string(record) + "}";
}

// One batch holding `messages`, as the Batcher would form it.
Batch batch_of(Format format, const std::vector<std::string>& messages, bool coalesce = true) {
    Batcher batcher(BatcherOptions{format, 200, 1, 0ms, coalesce});
    for (const auto& m : messages) {
        auto parsed = parse_plugin_message(m);
        EXPECT_TRUE(parsed) << parsed.error();
        EXPECT_TRUE(batcher.add(m, *parsed, t0));
    }
    auto batch = batcher.take_ready(t0);
    EXPECT_TRUE(batch);
    EXPECT_FALSE(batcher.take_ready(t0));  // everything went into one batch
    return batch ? *batch : Batch{};
}

// The request the batch starts with, as the delivery engine asks for it.
Result<CrmRequest> build_request(Format format, const Batch& batch, const std::string& api_version = {}) {
    auto adapter = make_adapter(format, AdapterOptions{api_version, {}});
    return adapter->build(adapter->first_stage(batch), batch, {});
}

}  // namespace

TEST(RequestBody, IdempotencyKeyNamesFirstAndLastEvent) {
    EXPECT_EQ(idempotency_key(EventId{Lsn{0x16B37A0}, 1}, EventId{Lsn{0x100000000}, 12}), "crmsync-0/16B37A0-1-1/0-12");
}

TEST(RequestBody, HubspotUpsertSplicesRecords) {
    const std::string r1 = R"({"idProperty":"email","id":"ann@example.com","properties":{"firstname":"Ann"}})";
    const std::string r2 = R"({"idProperty":"email","id":"bob@example.com","properties":{"firstname":"Bob","age":"42"}})";
    const Batch batch = batch_of(Format::hubspot, {msg("upsert", "contacts", "ann@example.com", "0/16B37A0", 1, r1),
                                                   msg("upsert", "contacts", "bob@example.com", "0/16B37A0", 2, r2)});
    auto request = build_request(Format::hubspot, batch);
    ASSERT_TRUE(request) << request.error();
    EXPECT_EQ(request->method, HttpMethod::post);
    EXPECT_EQ(request->path, "/crm/v3/objects/contacts/batch/upsert");
    EXPECT_EQ(request->body, R"({"inputs":[)" + r1 + "," + r2 + "]}");
    EXPECT_EQ(request->idempotency_key, "crmsync-0/16B37A0-1-0/16B37A0-2");
    EXPECT_EQ(make_adapter(Format::hubspot)->first_stage(batch), Stage::send);
}

TEST(RequestBody, HubspotCoalescedUpsertCarriesTheMergedRecordAndAllEventIds) {
    const Batch batch = batch_of(
        Format::hubspot,
        {msg("upsert", "contacts", "ann", "0/10", 1, R"({"idProperty":"email","id":"ann","properties":{"a":"1","b":"2"}})"),
         msg("upsert", "contacts", "ann", "0/20", 4, R"({"idProperty":"email","id":"ann","properties":{"b":""}})")});
    auto request = build_request(Format::hubspot, batch);
    ASSERT_TRUE(request);
    EXPECT_EQ(request->body, R"({"inputs":[{"idProperty":"email","id":"ann","properties":{"a":"1","b":""}}]})");
    EXPECT_EQ(request->idempotency_key, "crmsync-0/10-1-0/20-4");
}

TEST(RequestBody, HubspotDeleteLookupAndArchive) {
    const std::string m1 = R"({"action":"delete","object":"contacts","key":"ann@example.com","table":"public.t","commit_lsn":"0/10","seq":1,"xid":1,"commit_time":"2026-11-24T10:00:00Z","record":{"idProperty":"email","id":"ann@example.com"}})";
    const std::string m2 = R"({"action":"delete","object":"contacts","key":"q\"uote","table":"public.t","commit_lsn":"0/10","seq":2,"xid":1,"commit_time":"2026-11-24T10:00:00Z","record":{"idProperty":"email","id":"q\"uote"}})";
    const Batch batch = batch_of(Format::hubspot, {m1, m2});
    HubspotAdapter adapter;
    ASSERT_EQ(adapter.first_stage(batch), Stage::lookup);
    auto lookup = adapter.build(Stage::lookup, batch, {});
    ASSERT_TRUE(lookup) << lookup.error();
    EXPECT_EQ(lookup->path, "/crm/v3/objects/contacts/batch/read");
    EXPECT_EQ(lookup->body,
              R"({"idProperty":"email","properties":["email","hs_object_id"],"propertiesWithHistory":[],"inputs":[{"id":"ann@example.com"},{"id":"q\"uote"}]})");

    const std::vector<std::string> ids = {"101", "102"};
    auto archive = adapter.build(Stage::by_crm_id, batch, ids);
    ASSERT_TRUE(archive) << archive.error();
    EXPECT_EQ(archive->path, "/crm/v3/objects/contacts/batch/archive");
    EXPECT_EQ(archive->body, R"({"inputs":[{"id":"101"},{"id":"102"}]})");
    EXPECT_EQ(archive->idempotency_key, "crmsync-0/10-1-0/10-2-archive");
    EXPECT_FALSE(adapter.build(Stage::by_crm_id, batch, std::vector<std::string>{"101"}));  // an id per record
}

TEST(RequestBody, HubspotDeleteByObjectIdArchivesDirectly) {
    const Batch batch = batch_of(Format::hubspot, {msg("delete", "2-1234", "901", "0/10", 1,
                                                       R"({"idProperty":"hs_object_id","id":"901"})")});
    EXPECT_EQ(make_adapter(Format::hubspot)->first_stage(batch), Stage::send);
    auto request = build_request(Format::hubspot, batch);
    ASSERT_TRUE(request);
    EXPECT_EQ(request->path, "/crm/v3/objects/2-1234/batch/archive");
    EXPECT_EQ(request->body, R"({"inputs":[{"id":"901"}]})");
}

TEST(RequestBody, SalesforceUpsertPatchesOnTheExternalIdField) {
    const std::string r1 = R"({"attributes":{"type":"Contact"},"Email":"ann@example.com","LastName":"Smith","Age__c":42})";
    const std::string r2 = R"({"attributes":{"type":"Contact"},"Email":"bob@example.com","LastName":"Jones","Age__c":null})";
    const Batch batch = batch_of(Format::salesforce, {msg("upsert", "Contact", "ann@example.com", "0/16B37A0", 1, r1),
                                                      msg("upsert", "Contact", "bob@example.com", "0/16B37A0", 2, r2)});
    auto request = build_request(Format::salesforce, batch);
    ASSERT_TRUE(request) << request.error();
    EXPECT_EQ(request->method, HttpMethod::patch);
    EXPECT_EQ(method_name(request->method), "PATCH");
    EXPECT_EQ(request->path, "/services/data/v59.0/composite/sobjects/Contact/Email");
    EXPECT_EQ(request->body, R"({"allOrNone":false,"records":[)" + r1 + "," + r2 + "]}");
}

TEST(RequestBody, SalesforceDeleteUsesCompositeByExternalId) {
    const Batch batch = batch_of(
        Format::salesforce,
        {msg("delete", "Contact", "ann@example.com", "0/10", 1, R"({"attributes":{"type":"Contact"},"Email":"ann@example.com"})"),
         msg("delete", "Contact", "a b/c", "0/10", 2, R"({"attributes":{"type":"Contact"},"Email":"a b/c"})")});
    auto request = build_request(Format::salesforce, batch);
    ASSERT_TRUE(request) << request.error();
    EXPECT_EQ(request->method, HttpMethod::post);
    EXPECT_EQ(request->path, "/services/data/v59.0/composite");
    EXPECT_EQ(request->body,
              R"({"allOrNone":false,"compositeRequest":[)"
              R"({"method":"DELETE","url":"/services/data/v59.0/sobjects/Contact/Email/ann%40example.com","referenceId":"d0"},)"
              R"({"method":"DELETE","url":"/services/data/v59.0/sobjects/Contact/Email/a%20b%2Fc","referenceId":"d1"}]})");
}

TEST(RequestBody, ApiVersionsChooseThePaths) {
    const Batch hubspot = batch_of(Format::hubspot, {msg("upsert", "contacts", "a", "0/10", 1,
                                                         R"({"idProperty":"email","id":"a","properties":{}})")});
    auto dated = build_request(Format::hubspot, hubspot, "2026-03");
    ASSERT_TRUE(dated);
    EXPECT_EQ(dated->path, "/crm/objects/2026-03/contacts/batch/upsert");
    const Batch salesforce = batch_of(Format::salesforce, {msg("upsert", "Contact", "a", "0/10", 1,
                                                               R"({"attributes":{"type":"Contact"},"Email":"a"})")});
    auto v62 = build_request(Format::salesforce, salesforce, "v62.0");
    ASSERT_TRUE(v62);
    EXPECT_EQ(v62->path, "/services/data/v62.0/composite/sobjects/Contact/Email");
}

TEST(RequestBody, SalesforceVerifyDescribesTheObject) {
    const Batch batch = batch_of(Format::salesforce, {msg("delete", "Contact", "a", "0/10", 1,
                                                          R"({"attributes":{"type":"Contact"},"Email":"a"})")});
    SalesforceAdapter adapter;
    auto request = adapter.build(Stage::verify, batch, {});
    ASSERT_TRUE(request) << request.error();
    EXPECT_EQ(request->method, HttpMethod::get);
    EXPECT_EQ(request->path, "/services/data/v59.0/sobjects/Contact/describe");
    EXPECT_EQ(request->body, "");
    EXPECT_EQ(request->idempotency_key, "");
}

TEST(RequestBody, WebhookSendsWholeMessagesVerbatim) {
    const std::string m1 = msg("upsert", "contacts", "ann", "0/16B37A0", 1, R"({"id":"ann","properties":{"n":1.50}})");
    const std::string m2 = R"({"action":"delete","object":"contacts","key":null,"table":"public.t","commit_lsn":"0/16B37A0","seq":2,"xid":761,"commit_time":"2026-11-24T10:00:00.123456Z","error":"no key","record":null})";
    const std::string m3 = msg("upsert", "contacts", "ann", "0/16B37A0", 3, R"({"id":"ann","properties":{"n":2}})");
    const Batch batch = batch_of(Format::webhook, {m1, m2, m3});
    auto request = build_request(Format::webhook, batch);
    ASSERT_TRUE(request) << request.error();
    EXPECT_EQ(request->method, HttpMethod::post);
    EXPECT_EQ(request->path, "");
    EXPECT_EQ(request->body, R"({"events":[)" + m1 + "," + m2 + "," + m3 + "]}");
    EXPECT_EQ(request->idempotency_key, "crmsync-0/16B37A0-1-0/16B37A0-3");
}

TEST(RequestBody, RefusesBatchesItCannotExpress) {
    EXPECT_FALSE(build_request(Format::hubspot, Batch{}));
    Batch mixed = batch_of(Format::hubspot, {msg("upsert", "contacts", "a", "0/10", 1, R"({"idProperty":"email","id":"a"})")});
    mixed.entries.push_back(mixed.entries.front());
    mixed.entries.back().object = "companies";
    EXPECT_FALSE(build_request(Format::hubspot, mixed));
}

TEST(RequestBody, JoinUrlAndPathSegments) {
    EXPECT_EQ(join_url("https://api.hubapi.com", "/crm/v3/x"), "https://api.hubapi.com/crm/v3/x");
    EXPECT_EQ(join_url("https://api.hubapi.com//", "/crm/v3/x"), "https://api.hubapi.com/crm/v3/x");
    EXPECT_EQ(join_url("https://h/hooks", ""), "https://h/hooks");
    EXPECT_EQ(encode_path_segment("Contact"), "Contact");
    EXPECT_EQ(encode_path_segment("a b/c?d#e%\xC3\xA9~-._"), "a%20b%2Fc%3Fd%23e%25%C3%A9~-._");
}

TEST(CrmRecord, FindsTheIdField) {
    EXPECT_EQ(*record_id_field(Format::hubspot, R"({"idProperty":"email","id":"x","properties":{}})"), "email");
    EXPECT_EQ(*record_id_field(Format::hubspot, R"({"id":"x","properties":{"idProperty":"no"},"idProperty":"email"})"),
              "email");
    EXPECT_EQ(*record_id_field(Format::salesforce, R"({"attributes":{"type":"Contact","Email":"no"},"External_Id__c":"7"})"),
              "External_Id__c");
    EXPECT_EQ(*record_id_field(Format::webhook, R"({"id":"x"})"), "");
    EXPECT_EQ(*record_id_field(Format::salesforce, "null"), "");
    EXPECT_FALSE(record_id_field(Format::hubspot, R"({"id":"x","properties":{}})"));
    EXPECT_FALSE(record_id_field(Format::salesforce, R"({"attributes":{"type":"Contact"}})"));
    EXPECT_FALSE(record_id_field(Format::salesforce, R"({"attributes":)"));
}

TEST(CrmRecord, LimitsAndDeliverability) {
    EXPECT_EQ(max_batch_records(Format::hubspot), 100u);
    EXPECT_EQ(max_batch_records(Format::salesforce), 200u);
    EXPECT_EQ(api_batch_limit(Format::salesforce, Action::delete_), 25u);
    EXPECT_EQ(default_batch_records(Format::webhook), 100u);
    PluginMessage truncate;
    truncate.action = Action::truncate;
    EXPECT_TRUE(undeliverable_reason(Format::hubspot, truncate));
    EXPECT_FALSE(undeliverable_reason(Format::webhook, truncate));
    PluginMessage commit;
    commit.action = Action::commit;
    EXPECT_TRUE(undeliverable_reason(Format::webhook, commit));
}
