// The delivery engine's state machine, driven by the real adapters and a scripted transport:
// which requests go out, when, and what is settled, dead-lettered, retried or held. No
// network; time is passed in.
#include "delivery/delivery_engine.hpp"

#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "crm/crm_adapter.hpp"

using namespace crmsync::sender;
using namespace std::chrono_literals;

namespace {

using Clock = DeliveryEngine::Clock;
const Clock::time_point t0{1h};

struct FakeTransport final : HttpTransport {
    std::deque<HttpRequest> sent;
    void submit(HttpRequest request) override { sent.push_back(std::move(request)); }
    HttpRequest take() {
        EXPECT_FALSE(sent.empty());
        HttpRequest r = std::move(sent.front());
        sent.pop_front();
        return r;
    }
};

HttpResponse answer(const HttpRequest& request, long status, std::string body) {
    HttpResponse r;
    r.id = request.id;
    r.status = status;
    r.body = std::move(body);
    return r;
}

std::string message(std::string_view action, std::string_view object, std::string_view key, std::uint64_t seq,
                    std::string_view record) {
    return R"({"action":")" + std::string(action) + R"(","object":")" + std::string(object) + R"(","key":")" +
           std::string(key) + R"(","table":"public.t","commit_lsn":"0/100","seq":)" + std::to_string(seq) +
           R"(,"xid":9,"commit_time":"2026-11-24T10:00:00.123456Z","record":)" + std::string(record) + "}";
}

class EngineTest : public ::testing::Test {
protected:
    void SetUp() override { config_.target.url = "https://crm.example"; }

    // One transaction of `messages` (seq 1..n, commit at 0/100) in one batch; the engine
    // starts sending it.
    void start(Format format, const std::vector<std::string>& messages) {
        config_.target.format = format;
        adapter_ = make_adapter(format);
        engine_ = std::make_unique<DeliveryEngine>(
            config_, *adapter_, http_, tracker_,
            [this](const std::vector<DeadLetter>& letters) -> Status {
                for (const auto& l : letters) dead_letters_.push_back(l);
                return ok_status();
            },
            [](Lsn) -> std::optional<int64_t> { return std::nullopt; }, metrics_,
            [this](std::string& why) {
                ++renewals_;
                why = "no new token in the file";
                return renew_result_;
            },
            [] { return std::uint64_t{0}; });  // no jitter: backoff delays are 0
        Batcher batcher(BatcherOptions{format, 200, 1, 0ms, true});
        for (std::size_t i = 0; i < messages.size(); ++i) {
            auto parsed = parse_plugin_message(messages[i]);
            ASSERT_TRUE(parsed) << parsed.error();
            ASSERT_TRUE(tracker_.on_message(parsed->event_id()));
            ASSERT_TRUE(batcher.add(messages[i], *parsed, t0));
        }
        ASSERT_TRUE(tracker_.on_commit(Lsn{0x100}, Lsn{0x180}, messages.size()));
        auto batch = batcher.take_ready(t0);
        ASSERT_TRUE(batch);
        engine_->start(std::move(*batch), t0);
        answer_schema_reads(t0);
    }

    // The tests that are not about value conversion: the schema read before the first upsert
    // (Stage::schema) gets a schema without properties, so that nothing is converted.
    void answer_schema_reads(Clock::time_point now) {
        while (auto_schema_ && !http_.sent.empty() && http_.sent.front().method == "GET") {
            HttpRequest request = http_.take();
            const bool describe = request.url.find("/describe") != std::string::npos;
            engine_->on_response(answer(request, 200, describe ? R"({"name":"X","fields":[]})" : R"({"results":[]})"),
                                 now);
        }
    }

    void respond(long status, std::string body, Clock::time_point now = t0) {
        HttpRequest request = http_.take();
        engine_->on_response(answer(request, status, std::move(body)), now);
    }

    bool all_settled() const { return tracker_.flushable_lsn() == Lsn{0x180}; }

    Config config_;
    FakeTransport http_;
    FlushTracker tracker_;
    Metrics metrics_;
    std::unique_ptr<CrmAdapter> adapter_;
    std::unique_ptr<DeliveryEngine> engine_;
    std::vector<DeadLetter> dead_letters_;
    int renewals_ = 0;
    bool renew_result_ = true;
    bool auto_schema_ = true;
};

std::string sf_contact(std::string_view email) {
    return R"({"attributes":{"type":"Contact"},"Email":")" + std::string(email) + R"(","LastName":"X"})";
}

std::vector<std::string> sf_upserts(std::initializer_list<std::string_view> emails) {
    std::vector<std::string> out;
    std::uint64_t seq = 1;
    for (auto e : emails) out.push_back(message("upsert", "Contact", e, seq++, sf_contact(e)));
    return out;
}

}  // namespace

TEST_F(EngineTest, AcceptedBatchSettlesEveryEvent) {
    start(Format::salesforce, sf_upserts({"a@x", "b@x"}));
    ASSERT_EQ(http_.sent.size(), 1u);
    EXPECT_EQ(http_.sent.front().method, "PATCH");
    EXPECT_EQ(http_.sent.front().url, "https://crm.example/services/data/v59.0/composite/sobjects/Contact/Email");
    respond(200, R"([{"id":"1","success":true,"errors":[]},{"id":"2","success":true,"errors":[]}])");
    EXPECT_TRUE(all_settled());
    EXPECT_EQ(engine_->take_finished().size(), 1u);
    EXPECT_EQ(metrics_.records_accepted.load(), 2u);
    EXPECT_TRUE(dead_letters_.empty());
}

TEST_F(EngineTest, LockContentionSendsOnlyThatRecordAgain) {
    start(Format::salesforce, sf_upserts({"a@x", "b@x", "c@x"}));
    respond(200, R"([{"id":"1","success":true,"errors":[]},)"
                 R"({"success":false,"errors":[{"statusCode":"UNABLE_TO_LOCK_ROW","message":"unable to obtain exclusive access to this record","fields":[]}]},)"
                 R"({"id":"3","success":true,"errors":[]}])");
    EXPECT_TRUE(dead_letters_.empty());
    EXPECT_FALSE(all_settled());
    EXPECT_EQ(metrics_.records_retried.load(), 1u);
    // Backoff without jitter is 0 here: sent again at once.
    ASSERT_EQ(http_.sent.size(), 1u);
    EXPECT_NE(http_.sent.front().body.find("b@x"), std::string::npos);
    EXPECT_EQ(http_.sent.front().body.find("a@x"), std::string::npos);
    respond(200, R"([{"id":"2","success":true,"errors":[]}])");
    EXPECT_TRUE(all_settled());
    EXPECT_EQ(metrics_.records_accepted.load(), 3u);
    EXPECT_EQ(engine_->take_finished().size(), 1u);
}

TEST_F(EngineTest, ConfigurationErrorHoldsWithoutDeadLettersUntilFixed) {
    start(Format::salesforce, sf_upserts({"a@x", "b@x"}));
    const std::string invalid =
        R"({"success":false,"errors":[{"statusCode":"INVALID_FIELD","message":"No such column 'LastName' on sobject of type Contact","fields":[]}]})";
    respond(200, "[" + invalid + "," + invalid + "]");
    EXPECT_TRUE(dead_letters_.empty());
    EXPECT_FALSE(all_settled());
    EXPECT_NE(metrics_.configuration_error().find("No such column 'LastName'"), std::string::npos);
    EXPECT_NE(metrics_.held_since_unix_ms.load(), 0);
    // Held: not sent again before a second has passed, then tried again (1 s, 2 s, ... 60 s).
    ASSERT_TRUE(engine_->next_deadline());
    EXPECT_EQ(*engine_->next_deadline(), t0 + 1s);
    engine_->on_timer(t0 + 500ms);
    EXPECT_TRUE(http_.sent.empty());
    engine_->on_timer(t0 + 1s);
    ASSERT_EQ(http_.sent.size(), 1u);
    respond(200, "[" + invalid + "," + invalid + "]", t0 + 1s);
    EXPECT_EQ(*engine_->next_deadline(), t0 + 3s);
    engine_->on_timer(t0 + 3s);
    // The operator fixed the field: delivery resumes and the hold clears.
    respond(200, R"([{"id":"1","success":true,"errors":[]},{"id":"2","success":true,"errors":[]}])", t0 + 3s);
    EXPECT_TRUE(all_settled());
    EXPECT_EQ(metrics_.configuration_error(), "");
    EXPECT_EQ(metrics_.held_since_unix_ms.load(), 0);
}

TEST_F(EngineTest, RefusedTokenIsRenewedAndTheRequestSentAgain) {
    start(Format::salesforce, sf_upserts({"a@x"}));
    const std::string first_body = http_.sent.front().body;
    respond(401, R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])");
    EXPECT_EQ(renewals_, 1);
    ASSERT_EQ(http_.sent.size(), 1u);  // sent again at once
    EXPECT_EQ(http_.sent.front().body, first_body);
    EXPECT_EQ(metrics_.token_renewals.load(), 1u);
    respond(200, R"([{"id":"1","success":true,"errors":[]}])");
    EXPECT_TRUE(all_settled());
}

TEST_F(EngineTest, TokenRefusedAgainAfterRenewalHolds) {
    start(Format::salesforce, sf_upserts({"a@x"}));
    const std::string expired = R"([{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}])";
    respond(401, expired);
    respond(401, expired);  // the renewed token is refused too: do not spin
    EXPECT_TRUE(http_.sent.empty());
    EXPECT_NE(metrics_.configuration_error().find("INVALID_SESSION_ID"), std::string::npos);
    EXPECT_TRUE(dead_letters_.empty());
    renew_result_ = false;
    engine_->on_timer(t0 + 1s);
    respond(401, expired, t0 + 1s);
    EXPECT_EQ(renewals_, 2);
    EXPECT_NE(metrics_.configuration_error().find("no new token in the file"), std::string::npos);
}

TEST_F(EngineTest, UnnamedRejectionSplitsDownToThePoisonRecord) {
    start(Format::salesforce, sf_upserts({"a@x", "b@x", "c@x", "d@x"}));
    const std::string bad = R"([{"errorCode":"JSON_PARSER_ERROR","message":"Cannot deserialize instance"}])";
    respond(400, bad);                                                                     // a b c d
    respond(200, R"([{"id":"1","success":true,"errors":[]},{"id":"2","success":true,"errors":[]}])");  // a b
    respond(400, bad);                                                                     // c d
    respond(400, bad);                                                                     // c
    respond(200, R"([{"id":"4","success":true,"errors":[]}])");                            // d
    ASSERT_EQ(dead_letters_.size(), 1u);
    EXPECT_EQ(dead_letters_[0].key, std::optional<std::string>("c@x"));
    EXPECT_EQ(dead_letters_[0].http_status, 400);
    EXPECT_TRUE(all_settled());
    EXPECT_EQ(metrics_.batches_split.load(), 2u);
}

TEST_F(EngineTest, SalesforceDeleteNotFoundIsVerifiedBeforeItCountsAsDone) {
    std::vector<std::string> deletes = {
        message("delete", "Contact", "gone@x", 1, R"({"attributes":{"type":"Contact"},"Email":"gone@x"})")};
    start(Format::salesforce, deletes);
    const std::string not_found =
        R"({"compositeResponse":[{"body":[{"errorCode":"NOT_FOUND","message":"The requested resource does not exist"}],)"
        R"("httpHeaders":{},"httpStatusCode":404,"referenceId":"d0"}]})";
    respond(200, not_found);
    ASSERT_EQ(http_.sent.size(), 1u);
    EXPECT_EQ(http_.sent.front().method, "GET");
    EXPECT_EQ(http_.sent.front().url, "https://crm.example/services/data/v59.0/sobjects/Contact/describe");
    respond(200, R"({"name":"Contact","fields":[{"name":"Email","externalId":false,"idLookup":true}]})");
    ASSERT_EQ(http_.sent.size(), 1u);  // the delete again
    EXPECT_EQ(http_.sent.front().url, "https://crm.example/services/data/v59.0/composite");
    respond(200, not_found);
    EXPECT_TRUE(all_settled());
    EXPECT_TRUE(dead_letters_.empty());
}

TEST_F(EngineTest, HubspotDeleteArchivesOnlyWhatTheLookupFound) {
    std::vector<std::string> deletes = {
        message("delete", "contacts", "a@x", 1, R"({"idProperty":"email","id":"a@x"})"),
        message("delete", "contacts", "b@x", 2, R"({"idProperty":"email","id":"b@x"})")};
    start(Format::hubspot, deletes);
    EXPECT_EQ(http_.sent.front().url, "https://crm.example/crm/v3/objects/contacts/batch/read");
    respond(207, R"({"status":"COMPLETE","results":[{"id":"101","properties":{"email":"a@x"}}],)"
                 R"("errors":[{"status":"error","category":"OBJECT_NOT_FOUND","context":{"ids":["b@x"]}}]})");
    ASSERT_EQ(http_.sent.size(), 1u);
    EXPECT_EQ(http_.sent.front().url, "https://crm.example/crm/v3/objects/contacts/batch/archive");
    EXPECT_EQ(http_.sent.front().body, R"({"inputs":[{"id":"101"}]})");
    EXPECT_FALSE(all_settled());
    respond(204, "");
    EXPECT_TRUE(all_settled());
}

TEST_F(EngineTest, TransientFailureRetriesTheSameRequest) {
    start(Format::salesforce, sf_upserts({"a@x"}));
    const std::string body = http_.sent.front().body;
    const std::string key = http_.sent.front().headers.front();
    respond(503, "down");
    EXPECT_EQ(metrics_.requests_retried.load(), 1u);
    engine_->on_timer(t0);
    ASSERT_EQ(http_.sent.size(), 1u);
    EXPECT_EQ(http_.sent.front().body, body);
    EXPECT_EQ(http_.sent.front().headers.front(), key);  // the same Idempotency-Key
    respond(200, R"([{"id":"1","success":true,"errors":[]}])");
    EXPECT_TRUE(all_settled());
}

TEST_F(EngineTest, DailyQuotaPausesEveryRequestAndAProbeResumes) {
    start(Format::salesforce, sf_upserts({"a@x"}));
    respond(403, R"([{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}])");
    EXPECT_NE(metrics_.quota_wait().find("REQUEST_LIMIT_EXCEEDED"), std::string::npos);
    EXPECT_NE(metrics_.quota_wait_until_unix_ms.load(), 0);
    ASSERT_TRUE(engine_->next_deadline());
    EXPECT_EQ(*engine_->next_deadline(), t0 + 5min);
    engine_->on_timer(t0 + 4min);
    EXPECT_TRUE(http_.sent.empty());
    engine_->on_timer(t0 + 5min);
    ASSERT_EQ(http_.sent.size(), 1u);
    respond(200, R"([{"id":"1","success":true,"errors":[]}])", t0 + 5min);
    EXPECT_TRUE(all_settled());
    EXPECT_EQ(metrics_.quota_wait(), "");
    EXPECT_TRUE(dead_letters_.empty());
}

TEST_F(EngineTest, PacesToTheBudgetTheCrmReports) {
    std::vector<std::string> one = {message("upsert", "contacts", "a@x", 1,
                                            R"({"idProperty":"email","id":"a@x","properties":{}})")};
    start(Format::hubspot, one);
    HttpRequest request = http_.take();
    HttpResponse r = answer(request, 200, R"({"status":"COMPLETE","results":[{"id":"1","properties":{"email":"a@x"}}]})");
    r.headers = {{"x-hubspot-ratelimit-max", "100"},
                 {"x-hubspot-ratelimit-remaining", "0"},
                 {"x-hubspot-ratelimit-interval-milliseconds", "10000"}};
    engine_->on_response(std::move(r), t0);
    EXPECT_TRUE(all_settled());
    EXPECT_EQ(metrics_.quota_window_remaining.load(), 0);
}

TEST_F(EngineTest, AnAcceptanceOfARequestSentBeforeTheDailyPauseDoesNotEndIt) {
    start(Format::salesforce, sf_upserts({"a@x"}));
    // A second transaction, sent on another lane while the first is in flight.
    std::string second = message("upsert", "Contact", "b@x", 1, sf_contact("b@x"));
    second.replace(second.find("0/100"), 5, "0/200");
    auto parsed = parse_plugin_message(second);
    ASSERT_TRUE(parsed) << parsed.error();
    ASSERT_TRUE(tracker_.on_message(parsed->event_id()));
    Batcher batcher(BatcherOptions{Format::salesforce, 200, 1, 0ms, true});
    ASSERT_TRUE(batcher.add(second, *parsed, t0));
    ASSERT_TRUE(tracker_.on_commit(Lsn{0x200}, Lsn{0x280}, 1));
    auto batch = batcher.take_ready(t0);
    ASSERT_TRUE(batch);
    batch->lane = 1;
    batch->sequence = 2;
    engine_->start(std::move(*batch), t0);
    ASSERT_EQ(http_.sent.size(), 2u);
    HttpRequest sent_first = http_.take();
    HttpRequest sent_second = http_.take();

    // The second runs into the daily limit; the first, sent before, is accepted after that.
    engine_->on_response(answer(sent_second, 403,
                                R"([{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}])"),
                         t0 + 100ms);
    engine_->on_response(answer(sent_first, 200, R"([{"id":"1","success":true,"errors":[]}])"), t0 + 200ms);
    EXPECT_NE(metrics_.quota_wait().find("REQUEST_LIMIT_EXCEEDED"), std::string::npos);
    EXPECT_TRUE(http_.sent.empty());

    // The probe after the pause is what says the budget is back.
    engine_->on_timer(t0 + 100ms + 5min);
    ASSERT_EQ(http_.sent.size(), 1u);
    respond(200, R"([{"id":"2","success":true,"errors":[]}])", t0 + 100ms + 5min);
    EXPECT_EQ(metrics_.quota_wait(), "");
    EXPECT_EQ(tracker_.flushable_lsn(), Lsn{0x280});
}

TEST_F(EngineTest, UpsertValuesAreConvertedWithTheSchemaReadFirst) {
    auto_schema_ = false;
    auto contact = [](std::string_view email, std::string_view birthday) {
        return R"({"idProperty":"email","id":")" + std::string(email) + R"(","properties":{"email":")" +
               std::string(email) + R"(","birthday":")" + std::string(birthday) + R"("}})";
    };
    start(Format::hubspot, {message("upsert", "contacts", "a@x", 1, contact("a@x", "2026-05-06T23:30:00.000Z")),
                            message("upsert", "contacts", "b@x", 2, contact("b@x", "soon")),
                            message("upsert", "contacts", "c@x", 3, contact("c@x", "2026-05-07"))});
    // The properties of contacts first (HubSpot's properties API), then the upsert.
    ASSERT_EQ(http_.sent.size(), 1u);
    EXPECT_EQ(http_.sent.front().method, "GET");
    EXPECT_EQ(http_.sent.front().url, "https://crm.example/crm/v3/properties/contacts");
    respond(200, R"({"results":[{"name":"email","type":"string","fieldType":"text","hasUniqueValue":false},)"
                 R"({"name":"birthday","type":"date","fieldType":"date"}]})");
    // "soon" is no date: dead-lettered with the reason, never sent.
    ASSERT_EQ(dead_letters_.size(), 1u);
    EXPECT_EQ(dead_letters_[0].key, std::optional<std::string>("b@x"));
    EXPECT_EQ(dead_letters_[0].http_status, 0);
    EXPECT_EQ(dead_letters_[0].error.rfind("property \"birthday\" of HubSpot contacts (date/date): value \"soon\" is "
                                           "not a date", 0),
              0u)
        << dead_letters_[0].error;
    ASSERT_EQ(http_.sent.size(), 1u);
    EXPECT_EQ(http_.sent.front().url, "https://crm.example/crm/v3/objects/contacts/batch/upsert");
    EXPECT_EQ(http_.sent.front().body,
              R"({"inputs":[{"idProperty":"email","id":"a@x","properties":{"email":"a@x","birthday":"2026-05-06"}},)"
              R"({"idProperty":"email","id":"c@x","properties":{"email":"c@x","birthday":"2026-05-07"}}]})");
    respond(200, R"({"status":"COMPLETE","results":[{"id":"1","properties":{"email":"a@x"}},)"
                 R"({"id":"3","properties":{"email":"c@x"}}]})");
    EXPECT_TRUE(all_settled());
    EXPECT_EQ(metrics_.records_accepted.load(), 2u);
    EXPECT_EQ(metrics_.records_dead_lettered.load(), 1u);
}

TEST_F(EngineTest, AnUnreadableSchemaLeavesTheValuesAsRendered) {
    auto_schema_ = false;
    start(Format::salesforce, sf_upserts({"a@x"}));
    EXPECT_EQ(http_.sent.front().url, "https://crm.example/services/data/v59.0/sobjects/Contact/describe");
    respond(403, R"([{"errorCode":"INSUFFICIENT_ACCESS","message":"no describe"}])");
    ASSERT_EQ(http_.sent.size(), 1u);
    EXPECT_EQ(http_.sent.front().method, "PATCH");
    EXPECT_NE(http_.sent.front().body.find(sf_contact("a@x")), std::string::npos);
    respond(200, R"([{"id":"1","success":true,"errors":[]}])");
    EXPECT_TRUE(all_settled());
}
