// --state-file: the CRM state survives a stop and start of the real binary (records, HubSpot
// and Salesforce ids and their counters, webhook duplicates and per-key order), a bad file is
// a startup error, and save/load round trips in-process down to the byte.
#include "mock_crm_fixture.h"
#include "mock_crm_process_fixture.h"

#include <set>

#include "state_file.h"

namespace crmsync::mock_crm::testing {
namespace {

constexpr auto npos = std::string::npos;

const char* kHubSpotUpsert = "/crm/v3/objects/contacts/batch/upsert";
const char* kHubSpotRead = "/crm/v3/objects/contacts/batch/read";
const char* kHubSpotArchive = "/crm/v3/objects/contacts/batch/archive";
const char* kSalesforceUpsert = "/services/data/v59.0/composite/sobjects/Contact/Ext_Id__c";
const char* kSalesforceDelete = "/services/data/v59.0/sobjects/Contact/Ext_Id__c/";
const char* kSalesforceFields =
    R"({"sobject":"Contact","fields":[{"name":"Ext_Id__c","type":"string","externalId":true,"unique":true},)"
    R"({"name":"Amount__c","type":"double"},{"name":"N__c","type":"double"}]})";

std::string hubspot_input(const std::string& email, const std::string& properties) {
    return R"({"idProperty":"email","id":")" + email + R"(","properties":)" + properties + "}";
}

std::string salesforce_record(const std::string& ext_id, const std::string& fields) {
    return R"({"attributes":{"type":"Contact"},"Ext_Id__c":")" + ext_id + "\"," + fields + "}";
}

std::string upsert_event(const std::string& lsn, int seq, const std::string& key, const std::string& props,
                         const std::string& object = "contacts") {
    return R"({"action":"upsert","object":")" + object + R"(","key":")" + key + R"(","commit_lsn":")" + lsn +
           R"(","seq":)" + std::to_string(seq) + R"(,"record":{"id":")" + key + R"(","properties":)" + props + "}}";
}

std::string delete_event(const std::string& lsn, int seq, const std::string& key) {
    return R"({"action":"delete","object":"contacts","key":")" + key + R"(","commit_lsn":")" + lsn +
           R"(","seq":)" + std::to_string(seq) + R"(,"record":{"id":")" + key + R"(","properties":{}}})";
}

std::string truncate_event(const std::string& lsn, int seq, const std::string& object) {
    return R"({"action":"truncate","object":")" + object + R"(","commit_lsn":")" + lsn + R"(","seq":)" +
           std::to_string(seq) + "}";
}

std::string message_event(const std::string& lsn, int seq) {
    return R"({"action":"message","commit_lsn":")" + lsn + R"(","seq":)" + std::to_string(seq) +
           R"(,"prefix":"crmsync","content":"hi"})";
}

std::string join(const std::string& head, const std::vector<std::string>& items, const std::string& tail) {
    std::string out = head;
    for (size_t i = 0; i < items.size(); ++i) out += (i ? "," : "") + items[i];
    return out + tail;
}

std::string events(const std::vector<std::string>& list) { return join(R"({"events":[)", list, "]}"); }

// --- the real binary, stopped and started --------------------------------------------------

class StateFileProcessTest : public MockCrmProcessTest {
protected:
    fs::path state_path() const { return dir_ / "state.json"; }

    void start() {
        spawn({"--listen", "127.0.0.1:0", "--port-file", (dir_ / "port").string(), "--state-file",
               state_path().string(), "--quiet"});
        port_ = wait_for_port();
        ASSERT_GT(port_, 0) << stderr_text();
    }

    // A clean stop writes the file by rename and exits 0.
    void stop(int sig = SIGTERM) {
        int status = stop_and_wait(sig);
        ASSERT_TRUE(WIFEXITED(status)) << status;
        ASSERT_EQ(WEXITSTATUS(status), 0) << stderr_text();
        ASSERT_NE(stderr_text().find("state saved to " + state_path().string()), npos) << stderr_text();
        ASSERT_TRUE(fs::is_regular_file(state_path()));
        for (const auto& entry : fs::directory_iterator(dir_))
            EXPECT_EQ(entry.path().filename().string().find(".tmp"), npos) << entry.path();
    }

    void restart(int sig = SIGTERM) {
        ASSERT_NO_FATAL_FAILURE(stop(sig));
        ASSERT_NO_FATAL_FAILURE(start());
        EXPECT_NE(stderr_text().find("state loaded from " + state_path().string()), npos) << stderr_text();
    }

    httplib::Client client() const {
        httplib::Client c("127.0.0.1", port_);
        c.set_read_timeout(10, 0);
        return c;
    }
    // The response body, or a marker the assertions show when there was no response.
    std::pair<int, std::string> post(const std::string& path, const std::string& body) const {
        auto res = client().Post(path.c_str(), body, "application/json");
        return res ? std::pair{res->status, res->body} : std::pair{-1, std::string("<no response>")};
    }
    std::pair<int, std::string> patch(const std::string& path, const std::string& body) const {
        auto res = client().Patch(path.c_str(), body, "application/json");
        return res ? std::pair{res->status, res->body} : std::pair{-1, std::string("<no response>")};
    }
    int del(const std::string& path) const {
        auto res = client().Delete(path.c_str());
        return res ? res->status : -1;
    }
    std::string get(const std::string& path) const {
        auto res = client().Get(path.c_str());
        return res && res->status == 200 ? res->body : "<no response>";
    }

    int port_ = -1;
};

TEST_F(StateFileProcessTest, HubSpotRecordsAndIdsSurviveRestart) {
    ASSERT_NO_FATAL_FAILURE(start());
    EXPECT_NE(stderr_text().find("no state file " + state_path().string() + " yet, starting empty"), npos)
        << stderr_text();
    // A custom property is part of the account: it survives the restart with the records.
    const std::string score_property =
        R"({"name":"score","label":"Score","type":"number","fieldType":"number","groupName":"contactinformation"})";
    ASSERT_EQ(post("/crm/v3/properties/contacts", score_property).first, 201);
    auto [status, body] = post(kHubSpotUpsert,
                               join(R"({"inputs":[)",
                                    {hubspot_input("ann@example.com", R"({"firstname":"Ann","score":12345678901234567890.125})"),
                                     hubspot_input("bob@example.com", R"({"firstname":"Bob"})"),
                                     hubspot_input("carol@example.com", R"({"firstname":"Carol"})")},
                                    "]}"));
    ASSERT_EQ(status, 200) << body;
    auto created = parse(body);
    const std::string ann = str_at(created, "/results/0/id"), bob = str_at(created, "/results/1/id"),
                      carol = str_at(created, "/results/2/id");
    ASSERT_EQ(post(kHubSpotArchive, R"({"inputs":[{"id":")" + bob + R"("}]})").first, 204);
    const std::string before = get("/_mock/state");

    ASSERT_NO_FATAL_FAILURE(restart());
    EXPECT_EQ(get("/_mock/state"), before);
    // Stats and faults start afresh; the stored count is the loaded records.
    auto stats = parse(get("/_mock/stats"));
    EXPECT_EQ(int_at(stats, "/requests/total"), 0);
    EXPECT_EQ(int_at(stats, "/records/upserted"), 0);
    EXPECT_EQ(int_at(stats, "/records/stored"), 2);

    // The HubSpot ids are the same records' ids; the archived one stays gone.
    auto [read_status, read_body] =
        post(kHubSpotRead, R"({"inputs":[{"id":")" + ann + R"("},{"id":")" + bob + R"("},{"id":")" + carol + R"("}]})");
    EXPECT_EQ(read_status, 207) << read_body;
    auto read = parse(read_body);
    ASSERT_EQ(at(read, "/results")->Size(), 2u) << read_body;
    std::map<std::string, std::string> firstname_by_id;
    for (const auto& r : at(read, "/results")->GetArray())
        firstname_by_id[str_at(r, "/id")] = str_at(r, "/properties/firstname");
    EXPECT_EQ(firstname_by_id[ann], "Ann");
    EXPECT_EQ(firstname_by_id[carol], "Carol");
    EXPECT_EQ(str_at(read, "/errors/0/category"), "OBJECT_NOT_FOUND") << read_body;
    EXPECT_NE(get("/_mock/state?object=contacts&key=ann@example.com").find(R"("score":"12345678901234567890.125")"), npos);
    // The custom property came back with the records.
    EXPECT_EQ(post("/crm/v3/properties/contacts", score_property).first, 409);

    // An existing record keeps its id; a new one gets an id never used before, not bob's.
    auto [again_status, again_body] =
        post(kHubSpotUpsert, join(R"({"inputs":[)",
                                  {hubspot_input("ann@example.com", R"({"firstname":"Anne"})"),
                                   hubspot_input("dave@example.com", R"({"firstname":"Dave"})")},
                                  "]}"));
    ASSERT_EQ(again_status, 200) << again_body;
    auto again = parse(again_body);
    EXPECT_EQ(str_at(again, "/results/0/id"), ann);
    EXPECT_FALSE(at(again, "/results/0/new")->GetBool());
    EXPECT_TRUE(at(again, "/results/1/new")->GetBool());
    const std::string dave = str_at(again, "/results/1/id");
    EXPECT_GT(std::stoull(dave), std::stoull(carol)) << dave;
    EXPECT_TRUE(dave != ann && dave != bob && dave != carol) << dave;

    // And the counter itself persists: one more restart, one more record, still a fresh id.
    ASSERT_NO_FATAL_FAILURE(restart());
    auto [eve_status, eve_body] =
        post(kHubSpotUpsert, join(R"({"inputs":[)", {hubspot_input("eve@example.com", "{}")}, "]}"));
    ASSERT_EQ(eve_status, 200) << eve_body;
    EXPECT_GT(std::stoull(str_at(parse(eve_body), "/results/0/id")), std::stoull(dave));
}

TEST_F(StateFileProcessTest, LinksSurviveRestart) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_EQ(post("/crm/v3/properties/companies", R"({"name":"ext_id","label":"Ext","type":"string","fieldType":"text",)"
                                                   R"("groupName":"companyinformation","hasUniqueValue":true})")
                  .first,
              201);
    auto [c_status, c_body] = post(kHubSpotUpsert, join(R"({"inputs":[)", {hubspot_input("ann@example.com", "{}")}, "]}"));
    ASSERT_EQ(c_status, 200) << c_body;
    auto [co_status, co_body] = post("/crm/v3/objects/companies/batch/upsert",
                                     R"({"inputs":[{"idProperty":"ext_id","id":"acme","properties":{}}]})");
    ASSERT_EQ(co_status, 200) << co_body;
    const std::string ann = str_at(parse(c_body), "/results/0/id"), acme = str_at(parse(co_body), "/results/0/id");
    auto [l_status, l_body] = post("/crm/v4/associations/contacts/companies/labels", R"({"name":"billing","label":"Billing"})");
    ASSERT_EQ(l_status, 200) << l_body;
    const int64_t billing = int_at(parse(l_body), "/results/0/typeId");
    auto [a_status, a_body] =
        post("/crm/v4/associations/contacts/companies/batch/create",
             R"({"inputs":[{"from":{"id":")" + ann + R"("},"to":{"id":")" + acme +
                 R"("},"types":[{"associationCategory":"USER_DEFINED","associationTypeId":)" + std::to_string(billing) + "}]}]}");
    ASSERT_EQ(a_status, 201) << a_body;
    ASSERT_EQ(post("/_mock/salesforce/fields",
                   R"({"sobject":"Account","fields":[{"name":"Ext_Id__c","type":"string","externalId":true}]})")
                  .first,
              200);
    ASSERT_EQ(patch("/services/data/v59.0/composite/sobjects/Account/Ext_Id__c",
                    R"({"records":[{"attributes":{"type":"Account"},"Ext_Id__c":"42","Name":"Acme"}]})")
                  .first,
              200);
    auto [sf_status, sf_body] = patch("/services/data/v59.0/composite/sobjects/Contact/Email",
                                      R"({"records":[{"attributes":{"type":"Contact"},"Email":"ann@example.com",)"
                                      R"("LastName":"A","Account":{"Ext_Id__c":"42"}}]})");
    ASSERT_EQ(sf_status, 200) << sf_body;
    const std::string before = get("/_mock/state");
    EXPECT_NE(before.find(R"("@associations")"), npos) << before;
    EXPECT_NE(before.find(R"("Account":{"Id":")"), npos) << before;

    ASSERT_NO_FATAL_FAILURE(restart());
    EXPECT_EQ(get("/_mock/state"), before);
    // The association reads back by the same ids, with the label created before the restart.
    auto [r_status, r_body] = post("/crm/v4/associations/companies/contacts/batch/read", R"({"inputs":[{"id":")" + acme + R"("}]})");
    ASSERT_EQ(r_status, 200) << r_body;
    EXPECT_EQ(str_at(parse(r_body), "/results/0/to/0/toObjectId"), ann);
    EXPECT_NE(get("/crm/v4/associations/contacts/companies/labels").find(R"("label":"Billing")"), npos);
}

TEST_F(StateFileProcessTest, SalesforceRecordsAndIdsSurviveRestart) {
    ASSERT_NO_FATAL_FAILURE(start());
    // Custom fields are part of the org: declared once, they survive the restart.
    ASSERT_EQ(post("/_mock/salesforce/fields", kSalesforceFields).first, 200);
    auto [status, body] =
        patch(kSalesforceUpsert,
              join(R"({"allOrNone":false,"records":[)",
                   {salesforce_record("e1", R"("Amount__c":1.000000000000000000001,"LastName":"One")"),
                    salesforce_record("e2", R"("LastName":"Two")"), salesforce_record("e3", R"("LastName":"Th\u00e9")")},
                   "]}"));
    ASSERT_EQ(status, 200) << body;
    auto created = parse(body);
    std::vector<std::string> ids;
    for (const auto& r : created.GetArray()) ids.push_back(str_at(r, "/id"));
    ASSERT_EQ(ids.size(), 3u);
    ASSERT_EQ(del(std::string(kSalesforceDelete) + "e2"), 204);
    const std::string before = get("/_mock/state");
    EXPECT_NE(before.find(R"("Amount__c":1.000000000000000000001)"), npos) << before;

    ASSERT_NO_FATAL_FAILURE(restart());
    EXPECT_EQ(get("/_mock/state"), before);

    auto [again_status, again_body] =
        patch(kSalesforceUpsert, join(R"({"allOrNone":false,"records":[)",
                                      {salesforce_record("e1", R"("LastName":"Uno")"), salesforce_record("e2", R"("LastName":"Dos")"),
                                       salesforce_record("e4", R"("LastName":"Four")")},
                                      "]}"));
    ASSERT_EQ(again_status, 200) << again_body;
    auto again = parse(again_body);
    EXPECT_EQ(str_at(again, "/0/id"), ids[0]);
    EXPECT_FALSE(at(again, "/0/created")->GetBool());
    std::set<std::string> all(ids.begin(), ids.end());
    for (const char* p : {"/1", "/2"}) {
        std::string id = str_at(again, (std::string(p) + "/id").c_str());
        EXPECT_TRUE(at(again, (std::string(p) + "/created").c_str())->GetBool()) << again_body;
        EXPECT_EQ(id.size(), 18u) << id;
        EXPECT_TRUE(all.insert(id).second) << "id " << id << " reused: " << again_body;  // e2 comes back anew
    }
    EXPECT_EQ(del(std::string(kSalesforceDelete) + "e3"), 204);  // e3 is there after the restart
    auto s = parse(get("/_mock/state"));
    EXPECT_EQ(str_at(s, "/Contact/e1/LastName"), "Uno");
    EXPECT_EQ(str_at(s, "/Contact/e1/Ext_Id__c"), "e1");
}

TEST_F(StateFileProcessTest, WebhookDuplicatesAndOrderViolationsAreDetectedAcrossRestart) {
    ASSERT_NO_FATAL_FAILURE(start());
    const std::vector<std::string> first = {
        upsert_event("0/16B37A0", 1, "ann@example.com", R"({"name":"Ann","n":3.14159265358979323846})"),
        upsert_event("0/16B37A0", 2, "bob@example.com", R"({"name":"Bob"})"),
        delete_event("0/16B3800", 1, "bob@example.com"),
        upsert_event("0/16B3880", 1, "x1", R"({"amount":100.10})", "deals"),
        truncate_event("0/16B3900", 1, "deals"),
        message_event("0/16B3A00", 1),
    };
    auto [status, body] = post("/webhook", events(first));
    ASSERT_EQ(status, 200) << body;
    EXPECT_EQ(int_at(parse(body), "/accepted"), 6);
    const std::string before = get("/_mock/state");

    ASSERT_NO_FATAL_FAILURE(restart(SIGINT));
    EXPECT_EQ(get("/_mock/state"), before);
    EXPECT_NE(before.find(R"("n":3.14159265358979323846)"), npos) << before;

    // A redelivery of everything after the restart: all duplicates, nothing applied again.
    auto [dup_status, dup_body] = post("/webhook", events(first));
    ASSERT_EQ(dup_status, 200) << dup_body;
    auto dup = parse(dup_body);
    EXPECT_EQ(int_at(dup, "/accepted"), 0) << dup_body;
    EXPECT_EQ(int_at(dup, "/duplicates"), 6) << dup_body;
    EXPECT_EQ(int_at(dup, "/order_violations"), 0) << dup_body;
    EXPECT_EQ(get("/_mock/state"), before);

    // New ids behind each key's position: a live record, a deleted key, a truncated object.
    auto [late_status, late_body] =
        post("/webhook", events({upsert_event("0/16B3000", 1, "ann@example.com", R"({"name":"Old"})"),
                                 upsert_event("0/16B37FF", 1, "bob@example.com", R"({"name":"Old Bob"})"),
                                 upsert_event("0/16B38FF", 1, "x1", "{}", "deals"),
                                 upsert_event("0/16B4000", 1, "carol@example.com", R"({"name":"Carol"})")}));
    ASSERT_EQ(late_status, 200) << late_body;
    auto late = parse(late_body);
    EXPECT_EQ(int_at(late, "/accepted"), 4) << late_body;
    EXPECT_EQ(int_at(late, "/duplicates"), 0) << late_body;
    EXPECT_EQ(int_at(late, "/order_violations"), 3) << late_body;
    auto stats = parse(get("/_mock/stats"));
    EXPECT_EQ(int_at(stats, "/records/duplicates"), 6);
    EXPECT_EQ(int_at(stats, "/records/order_violations"), 3);
}

TEST_F(StateFileProcessTest, CorruptStateFileIsAStartupError) {
    const std::string head = R"({"format":"crmsync-mock-crm state","version":1,)";
    struct Case {
        std::string text;
        std::string expected;
    };
    const std::vector<Case> cases = {
        {"", "invalid JSON at line 1, column 1"},
        {head + R"("objects":{"contacts":{"next_index":1,)", "invalid JSON at line 1"},
        {R"({"contacts":{}})", "not a crmsync-mock-crm state file"},
        {head + R"("objects":{"contacts":{"next_index":1,"records":[{"index":1,"key":"a","properties":{}}]}},)"
                R"("applied_events":[]})",
         R"(objects["contacts"].records[0].index: required, an integer below next_index (1))"},
        {head + R"("objects":{},"applied_events":["0/16B37A0"]})", "applied_events[0]: must be an event id"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.text);
        write_file(state_path(), c.text);
        spawn({"--listen", "127.0.0.1:0", "--port-file", (dir_ / "port").string(), "--state-file",
               state_path().string()});
        int status = wait_for_exit();
        ASSERT_TRUE(WIFEXITED(status)) << status;
        EXPECT_EQ(WEXITSTATUS(status), 2) << stderr_text();
        EXPECT_NE(stderr_text().find("cannot load state file " + state_path().string() + ": " + c.expected), npos)
            << stderr_text();
        EXPECT_FALSE(fs::exists(dir_ / "port")) << "listened despite the bad state file";
        EXPECT_EQ(read_file(state_path()), c.text) << "the bad file must be left for inspection";
    }
}

TEST_F(StateFileProcessTest, UnreadableStateFileIsAStartupError) {
    fs::create_directories(state_path());
    spawn({"--listen", "127.0.0.1:0", "--port-file", (dir_ / "port").string(), "--state-file",
           state_path().string()});
    int status = wait_for_exit();
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 2);
    EXPECT_NE(stderr_text().find("cannot load state file " + state_path().string() + ": not a regular file"), npos)
        << stderr_text();

    spawn({"--listen", "127.0.0.1:0", "--state-file", (dir_ / "no" / "such" / "dir" / "state.json").string()});
    status = wait_for_exit();
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 2);
    EXPECT_NE(stderr_text().find("is not writable"), npos) << stderr_text();
}

// --- in process ---------------------------------------------------------------------------

class StateFileTest : public MockCrmTest {
protected:
    void SetUp() override {
        MockCrmTest::SetUp();
        dir_ = fs::temp_directory_path() / ("mock_crm_state_" + std::to_string(getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override {
        MockCrmTest::TearDown();
        fs::remove_all(dir_);
    }
    fs::path dir_;
};

TEST_F(StateFileTest, SaveLoadSaveIsByteIdentical) {
    ASSERT_EQ(post(kHubSpotUpsert, join(R"({"inputs":[)",
                                        {hubspot_input("ann@example.com", R"({"firstname":"Ann"})"),
                                         hubspot_input("bob@example.com", "{}")},
                                        "]}"))
                  ->status,
              200);
    ASSERT_EQ(post("/_mock/salesforce/fields", kSalesforceFields)->status, 200);
    ASSERT_EQ(patch(kSalesforceUpsert, join(R"({"allOrNone":false,"records":[)", {salesforce_record("e1", R"("N__c":1.0E+2)")}, "]}"))
                  ->status,
              200);
    // Tombstones: one for a key never seen, one for a key revived after its delete.
    ASSERT_EQ(post("/webhook", events({upsert_event("0/1", 1, "k1", R"({"a":[1.50,{"b":null}],"s":"\u00e9\"\\"})"),
                                       delete_event("0/1", 2, "k2"), upsert_event("0/1", 3, "k3", "{}"),
                                       delete_event("0/2", 1, "k3"), upsert_event("0/3", 1, "k3", R"({"x":1})"),
                                       truncate_event("A/B", 1, "gone")}))
                  ->status,
              200);
    const std::string state_before = get("/_mock/state")->body;
    server_->save_state((dir_ / "a.json").string());
    const std::string saved = read_file(dir_ / "a.json");

    start_server({});
    auto loaded = server_->load_state((dir_ / "a.json").string());
    ASSERT_TRUE(loaded);
    EXPECT_EQ(loaded->records, 5u);         // ann, bob, e1, k1, k3
    EXPECT_EQ(loaded->applied_events, 6u);  // every webhook event
    EXPECT_EQ(get("/_mock/state")->body, state_before);
    server_->save_state((dir_ / "b.json").string());
    EXPECT_EQ(read_file(dir_ / "b.json"), saved);
    EXPECT_NE(saved.find(R"("truncated_at":"A/B/1")"), npos) << saved;
    EXPECT_NE(saved.find(R"("key":"k2","deleted":true,"high_water":"0/1/2")"), npos) << saved;

    // The revived key kept its position through delete, revival, save and load.
    auto res = post("/webhook", events({upsert_event("0/2", 5, "k3", "{}"), upsert_event("0/0", 9, "k2", "{}")}));
    ASSERT_TRUE(res);
    EXPECT_EQ(int_at(parse(res->body), "/order_violations"), 2) << res->body;

    EXPECT_FALSE(server_->load_state((dir_ / "missing.json").string()));
}

TEST_F(StateFileTest, SaveLoadSaveWithLinksIsByteIdentical) {
    auto up = post(kHubSpotUpsert, join(R"({"inputs":[)",
                                        {hubspot_input("ann@example.com", "{}"), hubspot_input("bob@example.com", "{}")},
                                        "]}"));
    ASSERT_EQ(up->status, 200);
    const std::string ann = str_at(parse(up->body), "/results/0/id"), bob = str_at(parse(up->body), "/results/1/id");
    // Labels between contacts: a paired one (two types) and a plain one (one type, its own inverse).
    ASSERT_EQ(post("/crm/v4/associations/contacts/contacts/labels",
                   R"({"name":"manager","label":"Manager","inverseLabel":"Employee"})")->status, 200);
    ASSERT_EQ(post("/crm/v4/associations/contacts/contacts/labels", R"({"name":"peer","label":"Peer"})")->status, 200);
    auto res = post("/crm/v4/associations/contacts/contacts/batch/create",
                    R"({"inputs":[{"from":{"id":")" + ann + R"("},"to":{"id":")" + bob +
                        R"("},"types":[{"associationCategory":"USER_DEFINED","associationTypeId":1},)"
                        R"({"associationCategory":"USER_DEFINED","associationTypeId":3}]}]})");
    ASSERT_EQ(res->status, 201) << res->body;
    server_->save_state((dir_ / "a.json").string());
    const std::string saved = read_file(dir_ / "a.json");
    const std::string labels = get("/crm/v4/associations/contacts/contacts/labels")->body;

    start_server({});
    ASSERT_TRUE(server_->load_state((dir_ / "a.json").string()));
    server_->save_state((dir_ / "b.json").string());
    EXPECT_EQ(read_file(dir_ / "b.json"), saved);
    EXPECT_EQ(get("/crm/v4/associations/contacts/contacts/labels")->body, labels);
    // The next label gets a fresh id, after the loaded ones.
    auto next = post("/crm/v4/associations/contacts/contacts/labels", R"({"name":"buddy","label":"Buddy"})");
    ASSERT_EQ(next->status, 200) << next->body;
    EXPECT_EQ(int_at(parse(next->body), "/results/0/typeId"), 4);
}

TEST_F(StateFileTest, RestoreNamesWhatIsWrongAndLeavesTheStateAlone) {
    const std::string head = R"({"format":"crmsync-mock-crm state","version":1,"objects":)";
    auto file = [&](const std::string& objects, const std::string& applied = "[]") {
        return head + objects + R"(,"applied_events":)" + applied + "}";
    };
    SharedState shared;
    const std::string good =
        file(R"({"c":{"next_index":2,"records":[{"index":1,"key":"k","properties":{"n":1.10}}]}})", R"(["0/1/1"])");
    ASSERT_EQ(restore_state(good, shared), "");
    const std::string good_saved = state_file_text(shared);
    EXPECT_NE(good_saved.find(R"("n":1.10)"), npos) << good_saved;

    const std::vector<std::pair<std::string, std::string>> cases = {
        {R"([1])", "expected a JSON object, got an array"},
        {R"({"format":"crmsync-mock-crm state","version":2,"objects":{},"applied_events":[]})",
         "version: this mock reads version 1, got 2"},
        {file("{}") + " x", "invalid JSON"},
        {R"({"format":"crmsync-mock-crm state","version":1,"objects":{},"applied_events":[],"extra":1})",
         R"(unknown member "extra")"},
        {file("[]"), "objects: must be an object, got an array"},
        {file(R"({"c":{"records":[]}})"), R"(objects["c"].next_index: required)"},
        {file(R"({"c":{"next_index":-1,"records":[]}})"), R"(objects["c"].next_index: required)"},
        {file(R"({"c":{"next_index":0,"records":[{}]}})"), R"(objects["c"]: 1 records but next_index is 0)"},
        {file(R"({"c":{"next_index":1,"truncated_at":"0/1","records":[]}})"), R"(objects["c"].truncated_at: must be)"},
        {file(R"({"c":{"next_index":2,"records":[{"index":0,"key":"a","properties":{}},{"index":0,"key":"b","properties":{}}]}})"),
         R"(objects["c"].records[1].index: 0 is used twice)"},
        {file(R"({"c":{"next_index":2,"records":[{"index":0,"key":"a","properties":{}},{"index":1,"key":"a","properties":{}}]}})"),
         R"(objects["c"].records[1].key: "a" is listed twice)"},
        {file(R"({"c":{"next_index":1,"records":[{"index":0,"key":7,"properties":{}}]}})"),
         R"(objects["c"].records[0].key: required, a string)"},
        {file(R"({"c":{"next_index":1,"records":[{"index":0,"key":"a"}]}})"),
         R"(objects["c"].records[0].properties: required for a live record)"},
        {file(R"({"c":{"next_index":1,"records":[{"index":0,"key":"a","deleted":true,"properties":{}}]}})"),
         R"(objects["c"].records[0].properties: a deleted record has none)"},
        {file(R"({"c":{"next_index":1,"records":[{"index":0,"key":"a","properties":{"p":1,"p":2}}]}})"),
         R"(objects["c"].records[0].properties: "p" is listed twice)"},
        {file(R"({"c":{"next_index":1,"records":[{"index":0,"key":"a","properties":{},"high_water":"0/1/0"}]}})"),
         R"(objects["c"].records[0].high_water: must be)"},
        {file(R"({"c":{"next_index":1,"records":[{"index":0,"key":"a","propertys":{}}]}})"),
         R"(objects["c"].records[0]: unknown member "propertys")"},
        {file("{}", R"(["0/1/1","0/1/1"])"), R"(applied_events[1]: "0/1/1" is listed twice)"},
        {file("{}", R"([7])"), "applied_events[0]: must be an event id"},
        {head + R"({},"applied_events":[],"associations":[["contacts",0,"companies",0,"HUBSPOT_DEFINED",279]]})",
         R"(associations[0]: "contacts" has no live record 0)"},
        {head + R"({},"applied_events":[],"associations":[["contacts",0]]})", "associations[0]: must be [fromObject"},
        {head + R"({},"applied_events":[],"hubspot_association_labels":[{"from":"contacts"}]})",
         "hubspot_association_labels[0]: needs from, to, typeId"},
    };
    for (const auto& [text, expected] : cases) {
        std::string error = restore_state(text, shared);
        EXPECT_NE(error.find(expected), npos) << text << "\n -> " << error;
        EXPECT_EQ(state_file_text(shared), good_saved) << text;
    }
}

}  // namespace
}  // namespace crmsync::mock_crm::testing
