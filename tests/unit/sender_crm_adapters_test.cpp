// Each CRM adapter's classify(): what a CRM's answer means for the records of a request
// (docs/operations.md, "Delivery rules"). Bodies are the shapes the CRMs' documents give (cited
// in crm/*/..._adapter.cpp).
#include "crm/crm_adapter.hpp"
#include "crm/salesforce/salesforce_adapter.hpp"

#include <gtest/gtest.h>

#include <ctime>
#include <string>
#include <vector>

using namespace crmsync::sender;
using namespace std::chrono_literals;
using Kind = ResponseVerdict::Kind;

namespace {

// 2026-10-21T07:27:30Z
std::chrono::system_clock::time_point fixed_now() {
    std::tm tm{};
    tm.tm_year = 2026 - 1900;
    tm.tm_mon = 9;
    tm.tm_mday = 21;
    tm.tm_hour = 7;
    tm.tm_min = 27;
    tm.tm_sec = 30;
    return std::chrono::system_clock::from_time_t(timegm(&tm));
}

// One entry as the Batcher makes it: the plugin message in `bytes`, its "record" located.
BatchEntry make_entry(std::string_view action, std::string_view object, std::string_view key, std::uint32_t seq,
                      std::string_view record) {
    BatchEntry e;
    e.event_id = EventId{Lsn{0x16B37A0}, seq};
    e.action = action == "delete" ? Action::delete_ : Action::upsert;
    e.object = std::string(object);
    e.key = std::string(key);
    std::string prefix = R"({"action":")" + std::string(action) + R"(","object":")" + std::string(object) +
                         R"(","key":")" + std::string(key) +
                         R"(","table":"public.contacts","commit_lsn":"0/16B37A0","seq":)" + std::to_string(seq) +
                         R"(,"xid":761,"commit_time":"2026-10-21T07:27:29.123456Z","record":)";
    e.bytes = prefix + std::string(record) + "}";
    e.record_offset = prefix.size();
    e.record_size = record.size();
    return e;
}

struct Request {
    std::vector<BatchEntry> entries;
    std::vector<const BatchEntry*> pointers() const {
        std::vector<const BatchEntry*> out;
        for (const auto& e : entries) out.push_back(&e);
        return out;
    }
};

Request webhook_request(std::size_t n) {
    Request r;
    for (std::size_t i = 0; i < n; ++i) {
        std::string key = "k" + std::to_string(i);
        r.entries.push_back(make_entry("upsert", "contacts", key, static_cast<std::uint32_t>(i + 1),
                                       R"({"properties":{"email":")" + key + R"(@example.com"}})"));
    }
    return r;
}

Request hubspot_upsert(const std::vector<std::string>& keys) {
    Request r;
    std::uint32_t seq = 1;
    for (const auto& key : keys)
        r.entries.push_back(make_entry("upsert", "contacts", key, seq++,
                                       R"({"idProperty":"email","id":")" + key +
                                           R"(","properties":{"firstname":"Ann"}})"));
    return r;
}

Request hubspot_delete(const std::vector<std::string>& keys, std::string_view id_property = "email") {
    Request r;
    std::uint32_t seq = 1;
    for (const auto& key : keys)
        r.entries.push_back(make_entry("delete", "contacts", key, seq++,
                                       R"({"idProperty":")" + std::string(id_property) + R"(","id":")" + key +
                                           R"("})"));
    return r;
}

Request salesforce_request(std::string_view action, const std::vector<std::string>& keys) {
    Request r;
    std::uint32_t seq = 1;
    for (const auto& key : keys)
        r.entries.push_back(make_entry(action, "Contact", key, seq++,
                                       action == "delete"
                                           ? R"({"attributes":{"type":"Contact"},"Email":")" + key + R"("})"
                                           : R"({"attributes":{"type":"Contact"},"Email":")" + key +
                                                 R"(","LastName":"Smith"})"));
    return r;
}

ResponseVerdict classify(Format format, const Request& request, long status, std::string_view body,
                         std::optional<std::string_view> retry_after = std::nullopt, Stage stage = Stage::send,
                         std::string_view transport_error = {}, CrmAdapter* adapter = nullptr) {
    CrmAnswer answer;
    answer.status = status;
    answer.body = body;
    answer.retry_after_header = retry_after;
    answer.transport_error = transport_error;
    PartView part;
    std::string id_field;
    if (!request.entries.empty()) {
        part.object = request.entries.front().object;
        part.action = request.entries.front().action;
        if (auto field = record_id_field(format, request.entries.front().record())) id_field = *field;
    }
    part.id_field = id_field;
    part.entries = request.pointers();
    std::unique_ptr<CrmAdapter> own;
    if (!adapter) {
        own = make_adapter(format);
        adapter = own.get();
    }
    return adapter->classify(stage, part, answer, fixed_now());
}

const Format kFormats[] = {Format::webhook, Format::hubspot, Format::salesforce};

std::vector<std::size_t> indices(const ResponseVerdict& v) {
    std::vector<std::size_t> out;
    for (const auto& r : v.records)
        if (r.kind == RecordOutcome::Kind::rejected) out.push_back(r.index);
    return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Retry: transport errors, 429, 5xx, 408, and the operator's problems (401/403/404/405, 3xx).

TEST(CrmAdapters, TransportErrorRetriesWithTheCurlMessage) {
    const Request request = hubspot_upsert({"ann@example.com"});
    for (Format format : kFormats) {
        for (Stage kind : {Stage::send, Stage::lookup}) {
            ResponseVerdict v = classify(format, request, 0, "", std::nullopt, kind,
                                         "Failed to connect to 127.0.0.1 port 9 after 0 ms: Connection refused");
            EXPECT_EQ(v.kind, Kind::retry);
            EXPECT_NE(v.error.find("Failed to connect to 127.0.0.1 port 9 after 0 ms: Connection refused"),
                      std::string::npos);
            EXPECT_FALSE(v.retry_after);
            EXPECT_TRUE(v.records.empty());
            EXPECT_TRUE(v.crm_ids.empty());
        }
    }
    ResponseVerdict timeout = classify(Format::webhook, webhook_request(2), 0, "", std::nullopt, Stage::send,
                                       "Operation timed out after 10001 milliseconds with 0 bytes received");
    EXPECT_EQ(timeout.kind, Kind::retry);
    EXPECT_EQ(timeout.error, "no answer from the webhook receiver: Operation timed out after 10001 milliseconds "
                             "with 0 bytes received");
}

TEST(CrmAdapters, TooManyRequestsHonoursRetryAfterSeconds) {
    const std::string body =
        R"({"status":"error","message":"You have reached your secondly limit.","errorType":"RATE_LIMIT",)"
        R"("correlationId":"c6d4e2a1-9b7f-4c1e-8a0d-3f2b1e5c7a90","policyName":"SECONDLY","groupName":"publicapi"})";
    ResponseVerdict v = classify(Format::hubspot, hubspot_upsert({"ann@example.com", "bob@example.com"}), 429, body,
                                 "10");
    EXPECT_EQ(v.kind, Kind::retry);
    ASSERT_TRUE(v.retry_after);
    EXPECT_EQ(*v.retry_after, 10s);
    EXPECT_EQ(v.error, "HTTP 429: " + body);
    EXPECT_TRUE(v.records.empty());

    // The mock's 429 (webhook): Retry-After 1, body a webhook error.
    ResponseVerdict w = classify(Format::webhook, webhook_request(3), 429, R"j({"error":"rate limited (injected)"})j",
                                 "1");
    EXPECT_EQ(w.kind, Kind::retry);
    ASSERT_TRUE(w.retry_after);
    EXPECT_EQ(*w.retry_after, 1000ms);

    ResponseVerdict zero = classify(Format::webhook, webhook_request(1), 429, "", "0");
    ASSERT_TRUE(zero.retry_after);
    EXPECT_EQ(*zero.retry_after, 0ms);
}

TEST(CrmAdapters, TooManyRequestsHonoursRetryAfterHttpDate) {
    const Request request = salesforce_request("upsert", {"ann@example.com"});
    const std::string body = R"([{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}])";
    ResponseVerdict v = classify(Format::salesforce, request, 429, body, "Wed, 21 Oct 2026 07:28:00 GMT");
    EXPECT_EQ(v.kind, Kind::retry);
    ASSERT_TRUE(v.retry_after);
    EXPECT_EQ(*v.retry_after, 30s);
    EXPECT_EQ(v.error, "HTTP 429: " + body);

    // RFC 850 and asctime forms too.
    ResponseVerdict rfc850 = classify(Format::salesforce, request, 429, body, "Wednesday, 21-Oct-26 07:29:30 GMT");
    ASSERT_TRUE(rfc850.retry_after);
    EXPECT_EQ(*rfc850.retry_after, 120s);
    ResponseVerdict asctime = classify(Format::salesforce, request, 429, body, "Wed Oct 21 07:27:35 2026");
    ASSERT_TRUE(asctime.retry_after);
    EXPECT_EQ(*asctime.retry_after, 5s);

    // A date in the past: come back now, still a retry.
    ResponseVerdict past = classify(Format::salesforce, request, 429, body, "Wed, 21 Oct 2026 07:00:00 GMT");
    EXPECT_EQ(past.kind, Kind::retry);
    ASSERT_TRUE(past.retry_after);
    EXPECT_EQ(*past.retry_after, 0ms);

    // Garbage: plain backoff, still a retry.
    ResponseVerdict garbage = classify(Format::salesforce, request, 429, body, "soon");
    EXPECT_EQ(garbage.kind, Kind::retry);
    EXPECT_FALSE(garbage.retry_after);

    // No header at all.
    ResponseVerdict none = classify(Format::salesforce, request, 429, body);
    EXPECT_EQ(none.kind, Kind::retry);
    EXPECT_FALSE(none.retry_after);
}

TEST(CrmAdapters, ServerErrorsRetry) {
    const Request hubspot = hubspot_upsert({"ann@example.com", "bob@example.com"});
    for (long status : {500L, 502L, 503L, 504L}) {
        for (Format format : kFormats) {
            const std::string body = R"j({"error":"internal error (injected)"})j";
            ResponseVerdict v = classify(format, hubspot, status, body);
            EXPECT_EQ(v.kind, Kind::retry) << status;
            EXPECT_EQ(v.error, "HTTP " + std::to_string(status) + ": " + body);
            EXPECT_FALSE(v.retry_after);
            EXPECT_TRUE(v.records.empty());
        }
    }
    // A proxy's HTML page, and a 503 with Retry-After.
    ResponseVerdict html = classify(Format::salesforce, salesforce_request("upsert", {"a"}), 502,
                                    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n</html>\r\n");
    EXPECT_EQ(html.kind, Kind::retry);
    EXPECT_EQ(html.error, "HTTP 502: <html>  <head><title>502 Bad Gateway</title></head>  </html>  ");
    ResponseVerdict unavailable = classify(Format::webhook, webhook_request(1), 503, "", "120");
    EXPECT_EQ(unavailable.kind, Kind::retry);
    ASSERT_TRUE(unavailable.retry_after);
    EXPECT_EQ(*unavailable.retry_after, 120s);
    EXPECT_EQ(unavailable.error, "HTTP 503: ");

    // Retrying a lookup is the same.
    ResponseVerdict lookup = classify(Format::hubspot, hubspot_delete({"ann@example.com"}), 500,
                                      R"({"status":"error","message":"internal error"})", std::nullopt,
                                      Stage::lookup);
    EXPECT_EQ(lookup.kind, Kind::retry);
    EXPECT_TRUE(lookup.crm_ids.empty());
}

TEST(CrmAdapters, RequestTimeoutRetries) {
    for (Format format : kFormats) {
        ResponseVerdict v = classify(format, webhook_request(2), 408, "Request Timeout");
        EXPECT_EQ(v.kind, Kind::retry);
        EXPECT_EQ(v.error, "HTTP 408: Request Timeout");
        EXPECT_TRUE(v.records.empty());
    }
}

TEST(CrmAdapters, RefusedTokenAsksForRenewal) {
    // The mock's 401 shape; Salesforce's INVALID_SESSION_ID [SC]. Never dead-lettered.
    const std::string unauthorized =
        R"({"status":"error","category":"INVALID_AUTHENTICATION","message":"Authentication credentials not found."})";
    for (Format format : kFormats)
        for (Stage stage : {Stage::send, Stage::lookup}) {
            ResponseVerdict v = classify(format, hubspot_upsert({"ann@example.com"}), 401, unauthorized,
                                         std::nullopt, stage);
            EXPECT_EQ(v.kind, Kind::unauthorized) << format_name(format);
            EXPECT_NE(v.error.find("Authentication credentials not found."), std::string::npos);
            EXPECT_TRUE(v.records.empty());
        }
    const std::string session = R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])";
    ResponseVerdict sf = classify(Format::salesforce, salesforce_request("upsert", {"a@example.com"}), 401, session);
    EXPECT_EQ(sf.kind, Kind::unauthorized);
    EXPECT_EQ(sf.error, "Salesforce refused the session (HTTP 401 INVALID_SESSION_ID: Session expired or invalid)");
}

TEST(CrmAdapters, MissingPermissionHoldsDelivery) {
    // HubSpot's 403 for a missing scope [EH]: the token works but may not write this object.
    const std::string forbidden =
        R"({"status":"error","message":"This app hasn't been granted all required scopes to make this call.",)"
        R"("category":"MISSING_SCOPES","errors":[{"message":"One or more of the following scopes are required.",)"
        R"("context":{"requiredGranularScopes":["crm.objects.contacts.write"]}}]})";
    ResponseVerdict hs = classify(Format::hubspot, hubspot_upsert({"ann@example.com"}), 403, forbidden);
    EXPECT_EQ(hs.kind, Kind::configuration);
    EXPECT_NE(hs.error.find("the token lacks a scope (crm.objects.contacts.write/.read"), std::string::npos);
    EXPECT_NE(hs.error.find("MISSING_SCOPES"), std::string::npos);
    EXPECT_TRUE(hs.records.empty());

    const std::string sf_body = R"([{"message":"insufficient access rights on object","errorCode":"INSUFFICIENT_ACCESS"}])";
    ResponseVerdict sf = classify(Format::salesforce, salesforce_request("upsert", {"a@example.com"}), 403, sf_body);
    EXPECT_EQ(sf.kind, Kind::configuration);
    EXPECT_NE(sf.error.find("INSUFFICIENT_ACCESS: insufficient access rights on object"), std::string::npos);
    EXPECT_NE(sf.error.find("API Enabled"), std::string::npos);

    ResponseVerdict wh = classify(Format::webhook, webhook_request(2), 403, "forbidden");
    EXPECT_EQ(wh.kind, Kind::configuration);
    EXPECT_NE(wh.error.find("check target.url and the token"), std::string::npos);
}

TEST(CrmAdapters, SalesforceDailyLimitWaitsMinutes) {
    // [SC]: 403 REQUEST_LIMIT_EXCEEDED is the org's API request limit, not a permission.
    const std::string body = R"([{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}])";
    ResponseVerdict v = classify(Format::salesforce, salesforce_request("upsert", {"a@example.com"}), 403, body);
    EXPECT_EQ(v.kind, Kind::retry);
    ASSERT_TRUE(v.retry_after);
    EXPECT_EQ(*v.retry_after, std::chrono::minutes(5));
    EXPECT_NE(v.error.find("REQUEST_LIMIT_EXCEEDED"), std::string::npos);
}

TEST(CrmAdapters, HubspotDailyLimitWaitsMinutes) {
    // [LIM]: a 429 naming the DAILY policy will not clear within seconds.
    const std::string body =
        R"({"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT",)"
        R"("correlationId":"c0","policyName":"DAILY","groupName":"api-calls-daily"})";
    ResponseVerdict v = classify(Format::hubspot, hubspot_upsert({"ann@example.com"}), 429, body, "10");
    EXPECT_EQ(v.kind, Kind::retry);
    ASSERT_TRUE(v.retry_after);
    EXPECT_EQ(*v.retry_after, std::chrono::minutes(5));
}

TEST(CrmAdapters, NoSuchObjectOrEndpointHoldsDelivery) {
    const std::string body = R"({"error":"not found"})";
    for (Format format : kFormats)
        for (long status : {404L, 405L}) {
            ResponseVerdict v = classify(format, format == Format::webhook ? webhook_request(2)
                                                 : format == Format::hubspot
                                                     ? hubspot_upsert({"a@example.com"})
                                                     : salesforce_request("upsert", {"a@example.com"}),
                                         status, body);
            EXPECT_EQ(v.kind, Kind::configuration) << format_name(format) << " " << status;
            EXPECT_TRUE(v.records.empty());
        }
    // A 404 on a whole Salesforce request (not a composite subrequest) is the object, the field
    // or the API version, not a record.
    const std::string sf = R"([{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}])";
    ResponseVerdict v = classify(Format::salesforce, salesforce_request("delete", {"a@example.com"}), 404, sf);
    EXPECT_EQ(v.kind, Kind::configuration);
    EXPECT_NE(v.error.find("target.api_version"), std::string::npos);
}

TEST(CrmAdapters, RedirectRetriesNamingTheUrl) {
    // Redirects are not followed (http:// instead of https://): never dead-letter on them.
    const std::string body = "<html><body>Moved Permanently</body></html>";
    for (Format format : kFormats) {
        for (long status : {301L, 302L, 307L, 308L}) {
            ResponseVerdict v = classify(format, webhook_request(3), status, body);
            EXPECT_EQ(v.kind, Kind::retry) << status;
            EXPECT_EQ(v.error, "HTTP " + std::to_string(status) + " (redirected: check target.url): " + body);
            EXPECT_TRUE(v.records.empty());
        }
    }
}

TEST(CrmAdapters, TransientStatusesRetryEverywhere) {
    for (Format format : kFormats)
        for (long status : {408L, 429L, 500L, 502L, 503L, 504L, 599L})
            EXPECT_EQ(classify(format, webhook_request(1), status, "").kind, Kind::retry)
                << format_name(format) << " " << status;
    // HubSpot's 423 Locked [EH].
    EXPECT_EQ(classify(Format::hubspot, hubspot_upsert({"a@example.com"}), 423, "").kind, Kind::retry);
}

// ---------------------------------------------------------------------------------------------
// Webhook

TEST(CrmAdapters, WebhookSuccessIsAccepted) {
    const Request request = webhook_request(3);
    ResponseVerdict ok = classify(Format::webhook, request, 200, R"({"accepted":3,"duplicates":0,"order_violations":0})");
    EXPECT_EQ(ok.kind, Kind::accepted);
    EXPECT_TRUE(ok.records.empty());
    EXPECT_TRUE(ok.error.empty());
    EXPECT_FALSE(ok.retry_after);
    // Duplicates are a receiver's business: still accepted. Any 2xx, any body.
    EXPECT_EQ(classify(Format::webhook, request, 200, R"({"accepted":1,"duplicates":2,"order_violations":0})").kind,
              Kind::accepted);
    EXPECT_EQ(classify(Format::webhook, request, 202, "queued").kind, Kind::accepted);
    EXPECT_EQ(classify(Format::webhook, request, 204, "").kind, Kind::accepted);
}

TEST(CrmAdapters, WebhookRejectedNamesIndices) {
    const Request request = webhook_request(4);
    const std::string body =
        R"({"error":"2 of 4 events rejected; nothing in this request was applied","rejected":[)"
        R"({"index":1,"event_id":"0/16B37A0/2","message":"property \"email\" contains the rejected value \"POISON\""},)"
        R"j({"index":3,"event_id":null,"message":"key is null (no replica identity)"}]})j";
    ResponseVerdict v = classify(Format::webhook, request, 400, body);
    EXPECT_EQ(v.kind, Kind::per_record);
    ASSERT_EQ(v.records.size(), 2u);
    EXPECT_EQ(v.records[0].index, 1u);
    EXPECT_EQ(v.records[0].error, R"(property "email" contains the rejected value "POISON")");
    EXPECT_EQ(v.records[1].index, 3u);
    EXPECT_EQ(v.records[1].error, "key is null (no replica identity)");
    EXPECT_EQ(v.error, "HTTP 400: " + body);
    EXPECT_FALSE(v.retry_after);

    // 422 with the same shape is the same.
    ResponseVerdict u = classify(Format::webhook, request, 422, body);
    EXPECT_EQ(u.kind, Kind::per_record);
    EXPECT_EQ(indices(u), (std::vector<std::size_t>{1, 3}));

    // A rejection without a message carries the summary.
    const std::string bare = R"({"rejected":[{"index":0}]})";
    ResponseVerdict b = classify(Format::webhook, request, 400, bare);
    EXPECT_EQ(b.kind, Kind::per_record);
    ASSERT_EQ(b.records.size(), 1u);
    EXPECT_EQ(b.records[0].index, 0u);
    EXPECT_EQ(b.records[0].error, "HTTP 400: " + bare);
}

TEST(CrmAdapters, WebhookIgnoresOutOfRangeAndDuplicateIndices) {
    const Request request = webhook_request(3);
    const std::string body =
        R"({"error":"rejected","rejected":[)"
        R"({"index":2,"event_id":"0/16B37A0/3","message":"first"},)"
        R"({"index":3,"event_id":"0/16B37A0/4","message":"out of range"},)"
        R"({"index":99,"message":"far out of range"},)"
        R"({"index":-1,"message":"negative"},)"
        R"({"index":"0","message":"not a number"},)"
        R"({"index":1.5,"message":"not an integer"},)"
        R"({"message":"no index"},)"
        R"({"index":2,"event_id":"0/16B37A0/3","message":"second, duplicate"},)"
        R"({"index":0,"event_id":"0/16B37A0/1","message":"zero"}]})";
    ResponseVerdict v = classify(Format::webhook, request, 400, body);
    EXPECT_EQ(v.kind, Kind::per_record);
    ASSERT_EQ(v.records.size(), 2u);
    EXPECT_EQ(v.records[0].index, 2u);
    EXPECT_EQ(v.records[0].error, "first");
    EXPECT_EQ(v.records[1].index, 0u);
    EXPECT_EQ(v.records[1].error, "zero");

    // Nothing usable named: split.
    const std::string none = R"({"error":"rejected","rejected":[{"index":3,"message":"x"},{"index":7,"message":"y"}]})";
    ResponseVerdict n = classify(Format::webhook, request, 400, none);
    EXPECT_EQ(n.kind, Kind::rejected_unnamed);
    EXPECT_TRUE(n.records.empty());
    EXPECT_EQ(n.error, "HTTP 400: " + none);
}

TEST(CrmAdapters, WebhookRejectedWithoutIndicesIsUnnamed) {
    const Request request = webhook_request(4);
    const std::string body = R"({"error":"body must be an object with an \"events\" array"})";
    ResponseVerdict v = classify(Format::webhook, request, 400, body);
    EXPECT_EQ(v.kind, Kind::rejected_unnamed);
    EXPECT_TRUE(v.records.empty());
    EXPECT_EQ(v.error, "HTTP 400: " + body);

    // "rejected" that is not an array, a body that is not JSON, an empty body.
    EXPECT_EQ(classify(Format::webhook, request, 400, R"({"rejected":{"index":0}})").kind, Kind::rejected_unnamed);
    ResponseVerdict text = classify(Format::webhook, request, 400, "Bad Request\n");
    EXPECT_EQ(text.kind, Kind::rejected_unnamed);
    EXPECT_EQ(text.error, "HTTP 400: Bad Request ");
    ResponseVerdict empty = classify(Format::webhook, request, 409, "");
    EXPECT_EQ(empty.kind, Kind::rejected_unnamed);
    EXPECT_EQ(empty.error, "HTTP 409: ");
}

// ---------------------------------------------------------------------------------------------
// HubSpot

TEST(CrmAdapters, HubspotUpsertSuccessIsAccepted) {
    const Request request = hubspot_upsert({"ann@example.com", "bob@example.com"});
    const std::string body =
        R"({"status":"COMPLETE","results":[)"
        R"({"id":"100000001","properties":{"email":"ann@example.com","firstname":"Ann"},"new":true},)"
        R"({"id":"100000002","properties":{"email":"bob@example.com","firstname":"Ann"},"new":false}]})";
    ResponseVerdict v = classify(Format::hubspot, request, 200, body);
    EXPECT_EQ(v.kind, Kind::accepted);
    EXPECT_TRUE(v.records.empty());
    EXPECT_TRUE(v.error.empty());
    EXPECT_TRUE(v.crm_ids.empty());

    // Archive: 204, no body.
    ResponseVerdict archive = classify(Format::hubspot, hubspot_delete({"100000001"}, "hs_object_id"), 204, "");
    EXPECT_EQ(archive.kind, Kind::accepted);
    EXPECT_TRUE(archive.records.empty());
}

TEST(CrmAdapters, HubspotValidationErrorNamesKeysById) {
    const Request request = hubspot_upsert({"ann@example.com", "bob@example.com", "cat@example.com"});
    // The mock's poison answer: one error per rejected input, context.id naming its id.
    const std::string body =
        R"({"status":"error","category":"VALIDATION_ERROR","message":"2 of 3 inputs have property values that were not valid","errors":[)"
        R"({"message":"Property values were not valid: \"firstname\" of \"cat@example.com\" contains the rejected value \"POISON\"",)"
        R"("code":"INVALID_OPTION","context":{"id":["cat@example.com"],"propertyName":["firstname"]}},)"
        R"({"message":"Property values were not valid: \"firstname\" of \"ann@example.com\" contains the rejected value \"POISON\"",)"
        R"("code":"INVALID_OPTION","context":{"id":["ann@example.com"],"propertyName":["firstname"]}}]})";
    ResponseVerdict v = classify(Format::hubspot, request, 400, body);
    EXPECT_EQ(v.kind, Kind::per_record);
    ASSERT_EQ(v.records.size(), 2u);
    EXPECT_EQ(v.records[0].index, 2u);
    EXPECT_EQ(v.records[0].error,
              R"(Property values were not valid: "firstname" of "cat@example.com" contains the rejected value "POISON")");
    EXPECT_EQ(v.records[1].index, 0u);
    EXPECT_EQ(v.records[1].error,
              R"(Property values were not valid: "firstname" of "ann@example.com" contains the rejected value "POISON")");
    ASSERT_GT(body.size(), 500u);  // a real answer of two errors already runs past the cut
    EXPECT_EQ(v.error, "HTTP 400: " + body.substr(0, 500) + "...");
}

TEST(CrmAdapters, HubspotValidationErrorNamesKeysByIds) {
    const Request request = hubspot_upsert({"ann@example.com", "bob@example.com", "cat@example.com"});
    // Real HubSpot: context.ids; one error naming several ids; an id named twice counts once;
    // an error without a message gets a default.
    const std::string body =
        R"({"status":"error","message":"Some inputs were invalid","correlationId":"7b0e6a1c-0f4e-4d0c-9f57-2f7d0b8e1a11",)"
        R"("category":"VALIDATION_ERROR","errors":[)"
        R"({"message":"Property \"lifecyclestage\" has an invalid value","context":{"ids":["bob@example.com","cat@example.com"]}},)"
        R"({"context":{"ids":["bob@example.com","unknown@example.com"]}},)"
        R"({"message":"no context"}]})";
    ResponseVerdict v = classify(Format::hubspot, request, 400, body);
    EXPECT_EQ(v.kind, Kind::per_record);
    ASSERT_EQ(v.records.size(), 2u);
    EXPECT_EQ(v.records[0].index, 1u);
    EXPECT_EQ(v.records[0].error, R"(Property "lifecyclestage" has an invalid value)");
    EXPECT_EQ(v.records[1].index, 2u);
    EXPECT_EQ(v.records[1].error, R"(Property "lifecyclestage" has an invalid value)");

    const std::string defaulted = R"({"status":"error","category":"VALIDATION_ERROR","errors":[{"context":{"ids":["ann@example.com"]}}]})";
    ResponseVerdict d = classify(Format::hubspot, request, 400, defaulted);
    EXPECT_EQ(d.kind, Kind::per_record);
    ASSERT_EQ(d.records.size(), 1u);
    EXPECT_EQ(d.records[0].index, 0u);
    EXPECT_EQ(d.records[0].error, "rejected by HubSpot");
}

TEST(CrmAdapters, HubspotErrorNamingUnknownIdsIsUnnamed) {
    const Request request = hubspot_upsert({"ann@example.com", "bob@example.com"});
    const std::string body =
        R"({"status":"error","category":"VALIDATION_ERROR","message":"1 of 2 inputs have property values that were not valid","errors":[)"
        R"({"message":"Property values were not valid","code":"INVALID_OPTION","context":{"id":["zed@example.com"],"propertyName":["firstname"]}}]})";
    ResponseVerdict v = classify(Format::hubspot, request, 400, body);
    EXPECT_EQ(v.kind, Kind::rejected_unnamed);
    EXPECT_TRUE(v.records.empty());
    EXPECT_EQ(v.error, "HTTP 400: " + body);

    // The mock's duplicate-ids and input-limit answers: no errors array at all.
    const std::string duplicate =
        R"({"status":"error","category":"VALIDATION_ERROR","message":"Duplicate IDs found in batch input: [ann@example.com]"})";
    ResponseVerdict dup = classify(Format::hubspot, request, 400, duplicate);
    EXPECT_EQ(dup.kind, Kind::rejected_unnamed);
    EXPECT_EQ(dup.error, "HTTP 400: " + duplicate);

    // Non-string ids are not keys.
    EXPECT_EQ(classify(Format::hubspot, request, 400, R"({"errors":[{"message":"m","context":{"id":[1,2]}}]})").kind,
              Kind::rejected_unnamed);
}

TEST(CrmAdapters, HubspotMultiStatusWithErrorsRejectsTheNamed) {
    const Request request = hubspot_upsert({"ann@example.com", "bob@example.com", "cat@example.com"});
    const std::string body =
        R"({"status":"COMPLETE","results":[)"
        R"({"id":"100000001","properties":{"email":"ann@example.com"},"new":false},)"
        R"({"id":"100000003","properties":{"email":"cat@example.com"},"new":true}],)"
        R"("numErrors":1,"errors":[{"status":"error","category":"VALIDATION_ERROR",)"
        R"("message":"Property \"phone\" is not a valid phone number","context":{"ids":["bob@example.com"]}}],)"
        R"("startedAt":"2026-10-21T07:27:30.001Z","completedAt":"2026-10-21T07:27:30.120Z"})";
    ResponseVerdict v = classify(Format::hubspot, request, 207, body);
    EXPECT_EQ(v.kind, Kind::per_record);
    ASSERT_EQ(v.records.size(), 1u);
    EXPECT_EQ(v.records[0].index, 1u);
    EXPECT_EQ(v.records[0].error, R"(Property "phone" is not a valid phone number)");

    // 207 without errors, and a result for every input: everything went through.
    const std::string all =
        R"({"status":"COMPLETE","results":[{"id":"1","properties":{"email":"ann@example.com"}},)"
        R"({"id":"2","properties":{"email":"Bob@Example.com"}},{"id":"3","properties":{"email":"cat@example.com"}}]})";
    EXPECT_EQ(classify(Format::hubspot, request, 207, all).kind, Kind::accepted);
    // A success that does not account for every input: those it leaves out are sent again.
    ResponseVerdict partial = classify(Format::hubspot, request, 200,
                                       R"({"status":"COMPLETE","results":[{"id":"1","properties":{"email":"ann@example.com"}}]})");
    EXPECT_EQ(partial.kind, Kind::per_record);
    EXPECT_TRUE(partial.others_applied);
    ASSERT_EQ(partial.records.size(), 2u);
    EXPECT_EQ(partial.records[0].index, 1u);
    EXPECT_EQ(partial.records[0].kind, RecordOutcome::Kind::retry);
    EXPECT_EQ(partial.records[1].index, 2u);
    EXPECT_EQ(partial.records[1].kind, RecordOutcome::Kind::retry);
    // Results that do not echo the idProperty count, but only as many as there are.
    EXPECT_EQ(classify(Format::hubspot, request, 200,
                       R"({"status":"COMPLETE","results":[{"id":"1"},{"id":"2"},{"id":"3"}]})").kind,
              Kind::accepted);
    EXPECT_EQ(classify(Format::hubspot, request, 207, R"({"status":"COMPLETE","results":[]})").kind, Kind::per_record);
}

TEST(CrmAdapters, HubspotMultiStatusWithErrorsNamingNobodyIsUnnamed) {
    // Some records failed but the errors do not say which: not all of them may be confirmed.
    const Request request = hubspot_upsert({"ann@example.com", "bob@example.com"});
    const std::string body =
        R"({"status":"COMPLETE","results":[{"id":"100000001","properties":{"email":"ann@example.com"},"new":false}],)"
        R"("numErrors":1,"errors":[{"status":"error","category":"VALIDATION_ERROR","message":"Property values were not valid"}]})";
    ResponseVerdict v = classify(Format::hubspot, request, 207, body);
    EXPECT_EQ(v.kind, Kind::rejected_unnamed);
    EXPECT_TRUE(v.records.empty());
    EXPECT_EQ(v.error, "HTTP 207: " + body);
}

TEST(CrmAdapters, HubspotLookupMatchesIdsByIdProperty) {
    const Request request = hubspot_delete({"ann@example.com", "bob@example.com", "cat@example.com"});
    // Results in another order than the inputs; the default properties come back too.
    const std::string body =
        R"({"status":"COMPLETE","results":[)"
        R"({"id":"100000003","properties":{"createdate":"2026-10-20T09:00:00.000Z","email":"cat@example.com",)"
        R"("hs_object_id":"100000003","lastmodifieddate":"2026-10-21T07:00:00.000Z"},)"
        R"("createdAt":"2026-10-20T09:00:00.000Z","updatedAt":"2026-10-21T07:00:00.000Z","archived":false},)"
        R"({"id":"100000001","properties":{"email":"ann@example.com","hs_object_id":"100000001"},"archived":false},)"
        R"({"id":"100000002","properties":{"email":"bob@example.com","hs_object_id":"100000002"},"archived":false}],)"
        R"("startedAt":"2026-10-21T07:27:30.001Z","completedAt":"2026-10-21T07:27:30.020Z"})";
    ResponseVerdict v = classify(Format::hubspot, request, 200, body, std::nullopt, Stage::lookup);
    EXPECT_EQ(v.kind, Kind::accepted);
    EXPECT_TRUE(v.records.empty());
    ASSERT_EQ(v.crm_ids.size(), 3u);
    EXPECT_EQ(v.crm_ids[0], std::optional<std::string>("100000001"));
    EXPECT_EQ(v.crm_ids[1], std::optional<std::string>("100000002"));
    EXPECT_EQ(v.crm_ids[2], std::optional<std::string>("100000003"));
}

TEST(CrmAdapters, HubspotLookupMissingRecordsAreNullopt) {
    const Request request = hubspot_delete({"ann@example.com", "bob@example.com", "cat@example.com"});
    // The mock's 207: found ones in results, the others in an OBJECT_NOT_FOUND error.
    const std::string body =
        R"({"status":"COMPLETE","results":[{"id":"100000003","properties":{"email":"cat@example.com","hs_object_id":"100000003"}}],)"
        R"("numErrors":1,"errors":[{"status":"error","category":"OBJECT_NOT_FOUND",)"
        R"("message":"Could not get some contacts objects, they may be deleted or not exist. Check that ids are valid.",)"
        R"("context":{"ids":["ann@example.com","bob@example.com"]}}]})";
    ResponseVerdict v = classify(Format::hubspot, request, 207, body, std::nullopt, Stage::lookup);
    EXPECT_EQ(v.kind, Kind::accepted);
    EXPECT_TRUE(v.records.empty());
    ASSERT_EQ(v.crm_ids.size(), 3u);
    EXPECT_EQ(v.crm_ids[0], std::nullopt);
    EXPECT_EQ(v.crm_ids[1], std::nullopt);
    EXPECT_EQ(v.crm_ids[2], std::optional<std::string>("100000003"));

    // Nothing exists any more.
    const std::string none =
        R"({"status":"COMPLETE","results":[],"numErrors":1,"errors":[{"status":"error","category":"OBJECT_NOT_FOUND",)"
        R"("message":"Could not get some contacts objects","context":{"ids":["ann@example.com","bob@example.com","cat@example.com"]}}]})";
    ResponseVerdict n = classify(Format::hubspot, request, 207, none, std::nullopt, Stage::lookup);
    EXPECT_EQ(n.kind, Kind::accepted);
    EXPECT_EQ(n.crm_ids, (std::vector<std::optional<std::string>>(3, std::nullopt)));

    // Results without an id or without properties do not account for their records: those
    // are looked up again, never taken as gone.
    const std::string odd =
        R"({"status":"COMPLETE","results":[{"properties":{"email":"ann@example.com"}},{"id":"100000002"},)"
        R"({"id":"100000003","properties":{"email":"cat@example.com"}}]})";
    ResponseVerdict o = classify(Format::hubspot, request, 200, odd, std::nullopt, Stage::lookup);
    EXPECT_EQ(o.kind, Kind::per_record);
    EXPECT_EQ(o.crm_ids, (std::vector<std::optional<std::string>>{std::nullopt, std::nullopt, "100000003"}));
    ASSERT_EQ(o.records.size(), 2u);
    EXPECT_EQ(o.records[0].kind, RecordOutcome::Kind::retry);
    EXPECT_EQ(o.records[1].kind, RecordOutcome::Kind::retry);

    // An error that is not OBJECT_NOT_FOUND never makes a delete count as done.
    const std::string failed =
        R"({"status":"COMPLETE","results":[],"numErrors":1,"errors":[{"status":"error","category":"INTERNAL_ERROR",)"
        R"("message":"Something went wrong","context":{"ids":["ann@example.com","bob@example.com","cat@example.com"]}}]})";
    ResponseVerdict f = classify(Format::hubspot, request, 207, failed, std::nullopt, Stage::lookup);
    EXPECT_EQ(f.kind, Kind::per_record);
    ASSERT_EQ(f.records.size(), 3u);
    for (const auto& r : f.records) {
        EXPECT_EQ(r.kind, RecordOutcome::Kind::retry);
        EXPECT_NE(r.error.find("Something went wrong"), std::string::npos);
    }

    // HubSpot keeps emails in lower case: a key in another case is still found and still gone.
    const Request mixed_case = hubspot_delete({"Ann@Example.com"});
    const std::string lower =
        R"({"status":"COMPLETE","results":[{"id":"100000001","properties":{"email":"ann@example.com"}}]})";
    ResponseVerdict m = classify(Format::hubspot, mixed_case, 200, lower, std::nullopt, Stage::lookup);
    EXPECT_EQ(m.kind, Kind::accepted);
    EXPECT_EQ(m.crm_ids, (std::vector<std::optional<std::string>>{"100000001"}));
}

TEST(CrmAdapters, HubspotLookupComparesOnlyTheIdProperty) {
    // Integer primary keys next to HubSpot's own numeric ids: hs_object_id "101" of key "51"
    // must not be taken for the record of key "101".
    const Request request = hubspot_delete({"51", "101"}, "crm_key");
    const std::string reordered =
        R"({"status":"COMPLETE","results":[)"
        R"({"id":"151","properties":{"crm_key":"101","hs_object_id":"151"}},)"
        R"({"id":"101","properties":{"crm_key":"51","hs_object_id":"101"}}]})";
    ResponseVerdict v = classify(Format::hubspot, request, 200, reordered, std::nullopt, Stage::lookup);
    EXPECT_EQ(v.kind, Kind::accepted);
    EXPECT_EQ(v.crm_ids, (std::vector<std::optional<std::string>>{"101", "151"}));

    // Key "101" is gone: it must stay nullopt, not get the HubSpot id of key "51".
    const std::string missing =
        R"({"status":"COMPLETE","results":[{"id":"101","properties":{"crm_key":"51","hs_object_id":"101"}}],)"
        R"("numErrors":1,"errors":[{"status":"error","category":"OBJECT_NOT_FOUND","message":"Could not get some objects",)"
        R"("context":{"ids":["101"]}}]})";
    ResponseVerdict m = classify(Format::hubspot, request, 207, missing, std::nullopt, Stage::lookup);
    EXPECT_EQ(m.kind, Kind::accepted);
    EXPECT_EQ(m.crm_ids, (std::vector<std::optional<std::string>>{"101", std::nullopt}));
}

TEST(CrmAdapters, HubspotLookupWithoutResultsRetries) {
    const Request request = hubspot_delete({"ann@example.com", "bob@example.com"});
    const std::string status_only = R"({"status":"PENDING","requestedAt":"2026-10-21T07:27:30.001Z"})";
    ResponseVerdict v = classify(Format::hubspot, request, 200, status_only, std::nullopt, Stage::lookup);
    EXPECT_EQ(v.kind, Kind::retry);
    EXPECT_EQ(v.error, "HubSpot batch read answered without results: " + status_only);
    EXPECT_TRUE(v.crm_ids.empty());

    ResponseVerdict not_array = classify(Format::hubspot, request, 207, R"({"results":{"id":"1"}})", std::nullopt,
                                         Stage::lookup);
    EXPECT_EQ(not_array.kind, Kind::retry);
    ResponseVerdict html = classify(Format::hubspot, request, 200, "<html>\n</html>", std::nullopt,
                                    Stage::lookup);
    EXPECT_EQ(html.kind, Kind::retry);
    EXPECT_EQ(html.error, "HubSpot batch read answered without results: <html> </html>");
    ResponseVerdict empty = classify(Format::hubspot, request, 200, "", std::nullopt, Stage::lookup);
    EXPECT_EQ(empty.kind, Kind::retry);
    EXPECT_EQ(empty.error, "HubSpot batch read answered without results: ");
}

TEST(CrmAdapters, HubspotLookupRejectedByValidation) {
    // A 400 on the read names its inputs like an upsert does.
    const Request request = hubspot_delete({"ann@example.com", "bob@example.com"});
    const std::string body =
        R"({"status":"error","category":"VALIDATION_ERROR","message":"Invalid input","errors":[)"
        R"({"message":"Invalid email","context":{"ids":["bob@example.com"]}}]})";
    ResponseVerdict v = classify(Format::hubspot, request, 400, body, std::nullopt, Stage::lookup);
    EXPECT_EQ(v.kind, Kind::per_record);
    EXPECT_EQ(indices(v), (std::vector<std::size_t>{1}));
    const std::string unnamed = R"({"status":"error","category":"VALIDATION_ERROR","message":"idProperty must be a string"})";
    EXPECT_EQ(classify(Format::hubspot, request, 400, unnamed, std::nullopt, Stage::lookup).kind,
              Kind::rejected_unnamed);
}

// ---------------------------------------------------------------------------------------------
// Salesforce

TEST(CrmAdapters, SalesforceUpsertPerRecordFailuresAreRejected) {
    const Request request = salesforce_request("upsert", {"ann@example.com", "bob@example.com", "cat@example.com"});
    const std::string body =
        R"([{"id":"0035g0000000001AAA","success":true,"errors":[],"created":true},)"
        R"({"success":false,"errors":[{"statusCode":"FIELD_CUSTOM_VALIDATION_EXCEPTION",)"
        R"j("message":"value rejected by validation rule (contains \"POISON\")","fields":["LastName"]}]},)j"
        R"({"success":false,"errors":[{"statusCode":"DUPLICATE_EXTERNAL_ID",)"
        R"("message":"Duplicate external id specified: cat@example.com","fields":["Email"]},)"
        R"({"statusCode":"SECOND","message":"only the first error is reported","fields":[]}]}])";
    ResponseVerdict v = classify(Format::salesforce, request, 200, body);
    EXPECT_EQ(v.kind, Kind::per_record);
    ASSERT_EQ(v.records.size(), 2u);
    EXPECT_EQ(v.records[0].index, 1u);
    EXPECT_EQ(v.records[0].error,
              R"j(FIELD_CUSTOM_VALIDATION_EXCEPTION: value rejected by validation rule (contains "POISON"))j");
    EXPECT_EQ(v.records[1].index, 2u);
    EXPECT_EQ(v.records[1].error,
              "DUPLICATE_EXTERNAL_ID: Duplicate external id specified: cat@example.com (the external id matches more "
              "than one record; make Email unique or merge the duplicates)");
    EXPECT_FALSE(v.retry_after);

    // success:false without errors.
    const std::string bare =
        R"([{"success":false,"errors":[]},{"id":"0035g0000000002AAA","success":true,"errors":[],"created":false},)"
        R"({"id":"0035g0000000003AAA","success":true,"errors":[],"created":false}])";
    ResponseVerdict b = classify(Format::salesforce, request, 200, bare);
    EXPECT_EQ(b.kind, Kind::per_record);
    ASSERT_EQ(b.records.size(), 1u);
    EXPECT_EQ(b.records[0].index, 0u);
    EXPECT_EQ(b.records[0].error, "rejected by Salesforce");
}

TEST(CrmAdapters, SalesforceTransientAndConfigurationCodes) {
    // [STC] UNABLE_TO_LOCK_ROW: lock contention; the record is sent again, not dead-lettered.
    const Request request = salesforce_request("upsert", {"ann@example.com", "bob@example.com"});
    const std::string locked =
        R"([{"id":"0035g0000000001AAA","success":true,"errors":[],"created":false},)"
        R"({"success":false,"errors":[{"statusCode":"UNABLE_TO_LOCK_ROW","message":"unable to obtain exclusive )"
        R"(access to this record or 1 records: 0035g0000000002AAA","fields":[]}]}])";
    ResponseVerdict v = classify(Format::salesforce, request, 200, locked);
    EXPECT_EQ(v.kind, Kind::per_record);
    EXPECT_TRUE(v.others_applied);
    ASSERT_EQ(v.records.size(), 1u);
    EXPECT_EQ(v.records[0].index, 1u);
    EXPECT_EQ(v.records[0].kind, RecordOutcome::Kind::retry);

    // A field the org does not have fails every record alike: the mapping is wrong.
    const std::string invalid_field =
        R"([{"success":false,"errors":[{"statusCode":"INVALID_FIELD","message":"No such column 'Scroe__c' on sobject )"
        R"(of type Contact","fields":[]}]},{"success":false,"errors":[{"statusCode":"INVALID_FIELD","message":"No )"
        R"(such column 'Scroe__c' on sobject of type Contact","fields":[]}]}])";
    ResponseVerdict c = classify(Format::salesforce, request, 200, invalid_field);
    EXPECT_EQ(c.kind, Kind::configuration);
    EXPECT_NE(c.error.find("No such column 'Scroe__c'"), std::string::npos);
    EXPECT_TRUE(c.records.empty());

    EXPECT_EQ(classify_salesforce_error("UNABLE_TO_LOCK_ROW"), SalesforceErrorClass::transient);
    EXPECT_EQ(classify_salesforce_error("INVALID_FIELD_FOR_INSERT_UPDATE"), SalesforceErrorClass::configuration);
    EXPECT_EQ(classify_salesforce_error("ENTITY_IS_DELETED"), SalesforceErrorClass::gone);
    EXPECT_EQ(classify_salesforce_error("STRING_TOO_LONG"), SalesforceErrorClass::rejected);
}

TEST(CrmAdapters, SalesforceMultipleMatchesRejectTheRecord) {
    // [UPX]: a 300 answers "more than one record has this external id"; it is the record's
    // problem (its key is not unique in Salesforce), never retried forever.
    const Request one = salesforce_request("upsert", {"ann@example.com"});
    const std::string body = R"(["/services/data/v59.0/sobjects/Contact/0035g0000000001AAA",)"
                             R"("/services/data/v59.0/sobjects/Contact/0035g0000000002AAA"])";
    ResponseVerdict v = classify(Format::salesforce, one, 300, body);
    EXPECT_EQ(v.kind, Kind::rejected_unnamed);  // a single record: the engine dead-letters it
    EXPECT_NE(v.error.find("HTTP 300"), std::string::npos);

    const Request request = salesforce_request("delete", {"ann@example.com"});
    const std::string composite =
        R"({"compositeResponse":[{"body":["/services/data/v59.0/sobjects/Contact/0035g0000000001AAA"],)"
        R"("httpHeaders":{},"httpStatusCode":300,"referenceId":"d0"}]})";
    ResponseVerdict d = classify(Format::salesforce, request, 200, composite);
    EXPECT_EQ(d.kind, Kind::per_record);
    ASSERT_EQ(d.records.size(), 1u);
    EXPECT_EQ(d.records[0].kind, RecordOutcome::Kind::rejected);
    EXPECT_NE(d.records[0].error.find("matches more than one Contact record"), std::string::npos);
}

TEST(CrmAdapters, HubspotUnknownPropertyHoldsDelivery) {
    // [UPD] "Read-only and non-existent properties will result in an error": every record of
    // the object would fail, so it is the mapping, not the records.
    const Request request = hubspot_upsert({"ann@example.com", "bob@example.com"});
    const std::string body =
        R"({"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":)"
        R"(\"Property \\\"fristname\\\" does not exist\",\"error\":\"PROPERTY_DOESNT_EXIST\",\"name\":)"
        R"(\"fristname\"}]","correlationId":"c0","category":"VALIDATION_ERROR",)"
        R"("errors":[{"message":"Property \"fristname\" does not exist","code":"PROPERTY_DOESNT_EXIST",)"
        R"("context":{"propertyName":["fristname"]}}]})";
    ResponseVerdict v = classify(Format::hubspot, request, 400, body);
    EXPECT_EQ(v.kind, Kind::configuration);
    EXPECT_NE(v.error.find("a mapped property does not exist (\"fristname\")"), std::string::npos) << v.error;
    EXPECT_TRUE(v.records.empty());

    // A bad value of an existing property, naming no input: which record is unknown.
    const std::string bad_value =
        R"({"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":)"
        R"(\"maybe was not one of the allowed options\",\"error\":\"INVALID_OPTION\",\"name\":)"
        R"(\"lifecyclestage\"}]","category":"VALIDATION_ERROR"})";
    EXPECT_EQ(classify(Format::hubspot, request, 400, bad_value).kind, Kind::rejected_unnamed);
}

TEST(CrmAdapters, SalesforceUpsertAllSuccessIsAccepted) {
    const Request request = salesforce_request("upsert", {"ann@example.com", "bob@example.com"});
    const std::string body =
        R"([{"id":"0035g0000000001AAA","success":true,"errors":[],"created":true},)"
        R"({"id":"0035g0000000002AAA","success":true,"errors":[],"created":false}])";
    ResponseVerdict v = classify(Format::salesforce, request, 200, body);
    EXPECT_EQ(v.kind, Kind::accepted);
    EXPECT_TRUE(v.records.empty());
    EXPECT_TRUE(v.error.empty());
}

TEST(CrmAdapters, SalesforceRolledBackRecordsAreSentAgain) {
    const Request request = salesforce_request("upsert", {"ann@example.com", "bob@example.com"});
    const std::string body =
        R"([{"success":false,"errors":[{"statusCode":"ALL_OR_NONE_OPERATION_ROLLED_BACK","message":"Record rolled back )"
        R"(because not all records were valid and the request was using AllOrNone header","fields":[]}]},)"
        R"({"success":false,"errors":[{"statusCode":"MISSING_ARGUMENT","message":"Email not specified","fields":["Email"]}]}])";
    ResponseVerdict v = classify(Format::salesforce, request, 200, body);
    EXPECT_EQ(v.kind, Kind::per_record);
    EXPECT_EQ(indices(v), (std::vector<std::size_t>{1}));  // only the record at fault is rejected
    ASSERT_EQ(v.records.size(), 2u);
    EXPECT_EQ(v.records[0].kind, RecordOutcome::Kind::retry);
    EXPECT_EQ(v.records[1].error, "MISSING_ARGUMENT: Email not specified");
}

TEST(CrmAdapters, SalesforceDeleteNotFoundIsDoneOnlyOnceTheTargetIsVerified) {
    const Request request = salesforce_request("delete", {"ann@example.com", "bob@example.com", "cat@example.com"});
    const std::string body =
        R"({"compositeResponse":[)"
        R"({"body":null,"httpHeaders":{},"httpStatusCode":204,"referenceId":"d0"},)"
        R"({"body":[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}],"httpHeaders":{},"httpStatusCode":404,"referenceId":"d1"},)"
        R"({"body":null,"httpHeaders":{},"httpStatusCode":204,"referenceId":"d2"}]})";
    // A 404 also means a wrong sObject or field name, or a record the user cannot see [SC].
    SalesforceAdapter adapter;
    ResponseVerdict first = classify(Format::salesforce, request, 200, body, std::nullopt, Stage::send, {}, &adapter);
    EXPECT_EQ(first.kind, Kind::verify_target);

    // The describe [DSC] shows Email as an idLookup field: now a 404 is "already deleted".
    const std::string describe =
        R"({"name":"Contact","fields":[{"name":"Id","type":"id","externalId":false,"idLookup":true},)"
        R"({"name":"Email","type":"email","externalId":false,"idLookup":true,"unique":false}]})";
    EXPECT_EQ(classify(Format::salesforce, request, 200, describe, std::nullopt, Stage::verify, {}, &adapter).kind,
              Kind::accepted);
    ResponseVerdict v = classify(Format::salesforce, request, 200, body, std::nullopt, Stage::send, {}, &adapter);
    EXPECT_EQ(v.kind, Kind::per_record);
    ASSERT_EQ(v.records.size(), 1u);
    EXPECT_EQ(v.records[0].index, 1u);
    EXPECT_EQ(v.records[0].kind, RecordOutcome::Kind::done);
}

TEST(CrmAdapters, SalesforceVerifyFindsAMisconfiguredTarget) {
    const Request request = salesforce_request("delete", {"ann@example.com"});
    const std::string not_lookup =
        R"({"name":"Contact","fields":[{"name":"Email","type":"email","externalId":false,"idLookup":false}]})";
    ResponseVerdict v = classify(Format::salesforce, request, 200, not_lookup, std::nullopt, Stage::verify);
    EXPECT_EQ(v.kind, Kind::configuration);
    EXPECT_NE(v.error.find("neither an External ID nor an idLookup field"), std::string::npos);

    ResponseVerdict missing = classify(Format::salesforce, request, 200, R"({"name":"Contact","fields":[]})",
                                       std::nullopt, Stage::verify);
    EXPECT_EQ(missing.kind, Kind::configuration);
    EXPECT_NE(missing.error.find("sObject Contact has no field Email"), std::string::npos);

    const std::string no_object = R"([{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}])";
    EXPECT_EQ(classify(Format::salesforce, request, 404, no_object, std::nullopt, Stage::verify).kind,
              Kind::configuration);

    // A delete naming an unknown external id field is the mapping's fault, verified or not.
    const std::string bad_field =
        R"({"compositeResponse":[{"body":[{"errorCode":"NOT_FOUND","message":"Provided external ID field does not )"
        R"(exist or is not accessible: Emial"}],"httpHeaders":{},"httpStatusCode":404,"referenceId":"d0"}]})";
    EXPECT_EQ(classify(Format::salesforce, request, 200, bad_field).kind, Kind::configuration);
}

TEST(CrmAdapters, SalesforceCompositeDeleteBadRequestIsRejected) {
    const Request request = salesforce_request("delete", {"ann@example.com", "bob@example.com", "cat@example.com"});
    const std::string body =
        R"({"compositeResponse":[)"
        R"({"body":null,"httpHeaders":{},"httpStatusCode":204,"referenceId":"d0"},)"
        R"({"body":[{"errorCode":"ENTITY_IS_LOCKED","message":"This record is locked. If you need to edit it, contact your admin."}],)"
        R"("httpHeaders":{},"httpStatusCode":400,"referenceId":"d1"},)"
        R"({"body":[],"httpHeaders":{},"httpStatusCode":409,"referenceId":"d2"}]})";
    ResponseVerdict v = classify(Format::salesforce, request, 200, body);
    EXPECT_EQ(v.kind, Kind::per_record);
    ASSERT_EQ(v.records.size(), 2u);
    EXPECT_EQ(v.records[0].index, 1u);
    EXPECT_EQ(v.records[0].error, "ENTITY_IS_LOCKED: This record is locked. If you need to edit it, contact your admin.");
    EXPECT_EQ(v.records[1].index, 2u);
    EXPECT_EQ(v.records[1].error, "HTTP 409");
}

TEST(CrmAdapters, SalesforceCompositeDeleteUnavailableRetries) {
    const Request request = salesforce_request("delete", {"ann@example.com", "bob@example.com"});
    const std::string body =
        R"({"compositeResponse":[)"
        R"({"body":[{"errorCode":"ENTITY_IS_LOCKED","message":"locked"}],"httpHeaders":{},"httpStatusCode":400,"referenceId":"d0"},)"
        R"({"body":[{"errorCode":"SERVER_UNAVAILABLE","message":"Server temporarily unavailable"}],"httpHeaders":{},"httpStatusCode":503,"referenceId":"d1"}]})";
    // Per subrequest: the locked record is refused, the unavailable one is sent again.
    ResponseVerdict v = classify(Format::salesforce, request, 200, body);
    EXPECT_EQ(v.kind, Kind::per_record);
    ASSERT_EQ(v.records.size(), 2u);
    EXPECT_EQ(v.records[0].kind, RecordOutcome::Kind::rejected);
    EXPECT_EQ(v.records[1].kind, RecordOutcome::Kind::retry);
    EXPECT_EQ(v.records[1].error, "HTTP 503 SERVER_UNAVAILABLE: Server temporarily unavailable");

    const std::string no_body =
        R"({"compositeResponse":[{"body":null,"httpHeaders":{},"httpStatusCode":204,"referenceId":"d0"},)"
        R"({"body":null,"httpHeaders":{},"httpStatusCode":500,"referenceId":"d1"}]})";
    ResponseVerdict n = classify(Format::salesforce, request, 200, no_body);
    EXPECT_EQ(n.kind, Kind::per_record);
    ASSERT_EQ(n.records.size(), 1u);
    EXPECT_EQ(n.records[0].index, 1u);
    EXPECT_EQ(n.records[0].kind, RecordOutcome::Kind::retry);
}

TEST(CrmAdapters, SalesforceNonJsonSuccessRetries) {
    const Request request = salesforce_request("upsert", {"ann@example.com"});
    const std::string body = "<html><body>Maintenance\nback soon</body></html>";
    ResponseVerdict v = classify(Format::salesforce, request, 200, body);
    EXPECT_EQ(v.kind, Kind::retry);
    EXPECT_EQ(v.error, "Salesforce answered 200 with a body that is not JSON: <html><body>Maintenance back soon</body></html>");
    EXPECT_TRUE(v.records.empty());
    ResponseVerdict empty = classify(Format::salesforce, request, 204, "");
    EXPECT_EQ(empty.kind, Kind::retry);
    EXPECT_EQ(empty.error, "Salesforce answered 204 with a body that is not JSON: ");
}

TEST(CrmAdapters, SalesforceSuccessWithoutAResultPerRecordRetries) {
    // A JSON answer that does not account for every record confirms none of them (delivery rule 2).
    const Request upsert = salesforce_request("upsert", {"ann@example.com", "bob@example.com"});
    const std::string short_array = R"([{"id":"0035g0000000001AAA","success":true,"errors":[],"created":true}])";
    ResponseVerdict s = classify(Format::salesforce, upsert, 200, short_array);
    EXPECT_EQ(s.kind, Kind::retry);
    EXPECT_EQ(s.error, "Salesforce answered 200 without a result for every record: " + short_array);
    EXPECT_EQ(classify(Format::salesforce, upsert, 200, "[]").kind, Kind::retry);
    EXPECT_EQ(classify(Format::salesforce, upsert, 200, R"({"status":"ok"})").kind, Kind::retry);
    EXPECT_EQ(classify(Format::salesforce, upsert, 200, "true").kind, Kind::retry);

    const Request del = salesforce_request("delete", {"ann@example.com", "bob@example.com"});
    const std::string one = R"({"compositeResponse":[{"body":null,"httpHeaders":{},"httpStatusCode":204,"referenceId":"d0"}]})";
    EXPECT_EQ(classify(Format::salesforce, del, 200, one).kind, Kind::retry);
    EXPECT_EQ(classify(Format::salesforce, del, 200, R"({"compositeResponse":null})").kind, Kind::retry);
}

TEST(CrmAdapters, SalesforceRequestErrorIsUnnamed) {
    const Request request = salesforce_request("upsert", {"ann@example.com", "bob@example.com"});
    const std::string body = R"([{"message":"records is required and must be an array","errorCode":"JSON_PARSER_ERROR"}])";
    ResponseVerdict v = classify(Format::salesforce, request, 400, body);
    EXPECT_EQ(v.kind, Kind::rejected_unnamed);
    EXPECT_TRUE(v.records.empty());
    EXPECT_EQ(v.error, "HTTP 400: " + body);
}

// ---------------------------------------------------------------------------------------------
// Any format

TEST(CrmAdapters, PayloadTooLargeSplits) {
    const std::string body = R"({"status":"error","message":"Request entity too large"})";
    for (Format format : kFormats) {
        ResponseVerdict v = classify(format, hubspot_upsert({"a", "b", "c", "d"}), 413, body);
        EXPECT_EQ(v.kind, Kind::rejected_unnamed);
        EXPECT_TRUE(v.records.empty());
        EXPECT_EQ(v.error, "HTTP 413: " + body);
        EXPECT_FALSE(v.retry_after);
    }
}

TEST(CrmAdapters, LongBodiesAreTruncatedInErrorText) {
    const Request request = webhook_request(2);
    const std::string exact(500, 'x');
    EXPECT_EQ(classify(Format::webhook, request, 400, exact).error, "HTTP 400: " + exact);

    const std::string long_body = std::string(500, 'y') + "TAIL";
    ResponseVerdict v = classify(Format::webhook, request, 400, long_body);
    EXPECT_EQ(v.kind, Kind::rejected_unnamed);
    EXPECT_EQ(v.error, "HTTP 400: " + std::string(500, 'y') + "...");

    ResponseVerdict r = classify(Format::hubspot, request, 500, std::string(2000, 'z'));
    EXPECT_EQ(r.error, "HTTP 500: " + std::string(500, 'z') + "...");

    ResponseVerdict lookup = classify(Format::hubspot, hubspot_delete({"a"}), 200, std::string(501, '{'), std::nullopt,
                                      Stage::lookup);
    EXPECT_EQ(lookup.error, "HubSpot batch read answered without results: " + std::string(500, '{') + "...");
}

TEST(CrmAdapters, NewlinesAreFlattenedInErrorText) {
    const std::string body = "{\r\n  \"error\": \"bad\"\n}\n";
    ResponseVerdict v = classify(Format::webhook, webhook_request(1), 400, body);
    EXPECT_EQ(v.error, "HTTP 400: {    \"error\": \"bad\" } ");
    EXPECT_EQ(v.error.find('\n'), std::string::npos);
    EXPECT_EQ(v.error.find('\r'), std::string::npos);

    // Past the cut, too: the flattened part is the first 500 characters.
    std::string long_body;
    for (int i = 0; i < 200; ++i) long_body += "ab\n";
    ResponseVerdict l = classify(Format::webhook, webhook_request(1), 413, long_body);
    std::string expected;
    for (int i = 0; i < 200; ++i) expected += "ab ";
    EXPECT_EQ(l.error, "HTTP 413: " + expected.substr(0, 500) + "...");
}

TEST(CrmAdapters, TruncationNeverSplitsAUtf8Character) {
    // The error text goes to crmsync.dead_letters.crm_error: it must stay valid UTF-8.
    const std::string body = std::string(499, 'a') + "\xC3\xA9" + "tail";  // 'é' straddles byte 500
    ResponseVerdict v = classify(Format::webhook, webhook_request(1), 400, body);
    EXPECT_EQ(v.error, "HTTP 400: " + std::string(499, 'a') + "...");

    const std::string euro = std::string(498, 'a') + "\xE2\x82\xAC" + "tail";  // 3 bytes, ends at 501
    EXPECT_EQ(classify(Format::webhook, webhook_request(1), 400, euro).error,
              "HTTP 400: " + std::string(498, 'a') + "...");

    const std::string fits = std::string(498, 'a') + "\xC3\xA9" + "tail";  // ends exactly at 500
    EXPECT_EQ(classify(Format::webhook, webhook_request(1), 400, fits).error,
              "HTTP 400: " + std::string(498, 'a') + "\xC3\xA9" + "...");
}

TEST(CrmAdapters, OtherClientErrorsAreUnnamedRejections) {
    for (long status : {409L, 422L}) {
        const std::string body = R"({"message":"nope"})";
        for (Format format : kFormats) {
            ResponseVerdict v = classify(format, webhook_request(2), status, body);
            EXPECT_EQ(v.kind, Kind::rejected_unnamed) << status;
            EXPECT_EQ(v.error, "HTTP " + std::to_string(status) + ": " + body);
        }
    }
}

TEST(CrmAdapters, UnexpectedClientErrorsAreRetriedNotDeadLettered) {
    // 410, 415 and the like say the request is wrong for this endpoint, not that a record is.
    for (long status : {410L, 415L}) {
        const std::string body = R"({"message":"nope"})";
        for (Format format : kFormats) {
            ResponseVerdict v = classify(format, webhook_request(2), status, body);
            EXPECT_EQ(v.kind, Kind::retry) << status;
            EXPECT_EQ(v.error.rfind("HTTP " + std::to_string(status) + ": " + body + " (unexpected answer; not ", 0),
                      0u)
                << v.error;
        }
    }
}
