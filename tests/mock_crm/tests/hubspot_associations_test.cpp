// HubSpot associations v4: batch create/default/archive/read, labels, documented errors and
// limits, both-way storage, removal with an archived record, scopes, /_mock/state.
#include "mock_crm_fixture.h"

#include "hubspot_associations_api.h"

namespace crmsync::mock_crm::testing {
namespace {

const std::string kContactsToCompanies = "/crm/v4/associations/contacts/companies";
const std::string kCompaniesToContacts = "/crm/v4/associations/companies/contacts";

std::string spec(int type_id, const char* category = "HUBSPOT_DEFINED") {
    return R"({"associationCategory":")" + std::string(category) + R"(","associationTypeId":)" +
           std::to_string(type_id) + "}";
}

std::string create_input(const std::string& from, const std::string& to, const std::string& types) {
    return R"({"from":{"id":")" + from + R"("},"to":{"id":")" + to + R"("},"types":[)" + types + "]}";
}

std::string pair_input(const std::string& from, const std::string& to) {
    return R"({"from":{"id":")" + from + R"("},"to":{"id":")" + to + R"("}})";
}

std::string inputs(const std::vector<std::string>& list) {
    std::string body = R"({"inputs":[)";
    for (size_t i = 0; i < list.size(); ++i) body += (i ? "," : "") + list[i];
    return body + "]}";
}

class HubSpotAssociationsTest : public MockCrmTest {
protected:
    // Upserts a record and returns the HubSpot id batch upsert answers.
    std::string upsert(const std::string& object, const std::string& id_property, const std::string& id) {
        auto res = post("/crm/v3/objects/" + object + "/batch/upsert",
                        R"({"inputs":[{"idProperty":")" + id_property + R"(","id":")" + id + R"(","properties":{}}]})");
        EXPECT_TRUE(res);
        if (!res) return {};
        EXPECT_EQ(res->status, 200) << res->body;
        return str_at(parse(res->body), "/results/0/id");
    }

    void SetUp() override {
        MockCrmTest::SetUp();
        create_property("companies", R"({"name":"ext_id","label":"Ext","type":"string","fieldType":"text",)"
                                     R"("groupName":"companyinformation","hasUniqueValue":true})");
        create_property("deals", R"({"name":"ext_id","label":"Ext","type":"string","fieldType":"text",)"
                                 R"("groupName":"dealinformation","hasUniqueValue":true})");
        ann_ = upsert("contacts", "email", "ann@example.com");
        bob_ = upsert("contacts", "email", "bob@example.com");
        acme_ = upsert("companies", "ext_id", "acme");
        initech_ = upsert("companies", "ext_id", "initech");
    }

    rapidjson::Document read(const std::string& path, const std::vector<std::string>& ids, int expect_status) {
        std::vector<std::string> list;
        for (const auto& id : ids) list.push_back(R"({"id":")" + id + R"("})");
        auto res = post(path + "/batch/read", inputs(list));
        EXPECT_TRUE(res);
        if (!res) return rapidjson::Document{};
        EXPECT_EQ(res->status, expect_status) << res->body;
        return parse(res->body);
    }

    std::string ann_, bob_, acme_, initech_;
};

TEST_F(HubSpotAssociationsTest, CreateAnswers201AndStoresBothWays) {
    auto res = post(kContactsToCompanies + "/batch/create", inputs({create_input(ann_, acme_, spec(279))}));
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 201) << res->body;
    auto body = parse(res->body);
    EXPECT_EQ(str_at(body, "/status"), "COMPLETE");
    EXPECT_EQ(str_at(body, "/results/0/fromObjectTypeId"), "0-1");
    EXPECT_EQ(str_at(body, "/results/0/fromObjectId"), ann_);
    EXPECT_EQ(str_at(body, "/results/0/toObjectTypeId"), "0-2");
    EXPECT_EQ(str_at(body, "/results/0/toObjectId"), acme_);
    EXPECT_EQ(at(body, "/results/0/labels")->Size(), 0u);
    EXPECT_FALSE(str_at(body, "/startedAt").empty());

    // Seen from the company, with the reverse type (280).
    auto from_company = read(kCompaniesToContacts, {acme_}, 200);
    EXPECT_EQ(str_at(from_company, "/results/0/from/id"), acme_);
    EXPECT_EQ(str_at(from_company, "/results/0/to/0/toObjectId"), ann_);
    EXPECT_EQ(int_at(from_company, "/results/0/to/0/associationTypes/0/typeId"), 280);
    EXPECT_EQ(str_at(from_company, "/results/0/to/0/associationTypes/0/category"), "HUBSPOT_DEFINED");
    EXPECT_TRUE(at(from_company, "/results/0/to/0/associationTypes/0/label")->IsNull());

    // /_mock/state lists the links by the other record's key, on both sides.
    auto s = state();
    EXPECT_EQ(str_at(s, "/contacts/ann@example.com/@associations/companies/0/key"), "acme");
    EXPECT_EQ(str_at(s, "/contacts/ann@example.com/@associations/companies/0/id"), acme_);
    EXPECT_EQ(int_at(s, "/contacts/ann@example.com/@associations/companies/0/types/0/typeId"), 279);
    EXPECT_EQ(str_at(s, "/companies/acme/@associations/contacts/0/key"), "ann@example.com");
    EXPECT_EQ(at(s, "/contacts/bob@example.com/@associations"), nullptr);
}

TEST_F(HubSpotAssociationsTest, PrimaryBringsUnlabeledAndMovesToTheNewCompany) {
    ASSERT_EQ(post(kContactsToCompanies + "/batch/create", inputs({create_input(ann_, acme_, spec(1))}))->status, 201);
    auto body = read(kContactsToCompanies, {ann_}, 200);
    ASSERT_EQ(at(body, "/results/0/to/0/associationTypes")->Size(), 2u);  // 1 (Primary) and 279
    EXPECT_EQ(int_at(body, "/results/0/to/0/associationTypes/0/typeId"), 1);
    EXPECT_EQ(str_at(body, "/results/0/to/0/associationTypes/0/label"), "Primary");
    EXPECT_EQ(int_at(body, "/results/0/to/0/associationTypes/1/typeId"), 279);

    // A new Primary company: the old one keeps only the unlabeled association.
    ASSERT_EQ(post(kContactsToCompanies + "/batch/create", inputs({create_input(ann_, initech_, spec(1))}))->status, 201);
    body = read(kContactsToCompanies, {ann_}, 200);
    ASSERT_EQ(at(body, "/results/0/to")->Size(), 2u);
    EXPECT_EQ(str_at(body, "/results/0/to/0/toObjectId"), acme_);
    EXPECT_EQ(at(body, "/results/0/to/0/associationTypes")->Size(), 1u);
    EXPECT_EQ(int_at(body, "/results/0/to/0/associationTypes/0/typeId"), 279);
    EXPECT_EQ(at(body, "/results/0/to/1/associationTypes")->Size(), 2u);
    auto acme_side = read(kCompaniesToContacts, {acme_}, 200);
    EXPECT_EQ(at(acme_side, "/results/0/to/0/associationTypes")->Size(), 1u);
    EXPECT_EQ(int_at(acme_side, "/results/0/to/0/associationTypes/0/typeId"), 280);
}

TEST_F(HubSpotAssociationsTest, MissingRecordsAndUnknownTypesFailTheirInputWith207) {
    auto res = post(kContactsToCompanies + "/batch/create",
                    inputs({create_input(ann_, acme_, spec(279)), create_input(ann_, "999999999", spec(279)),
                            create_input(bob_, acme_, spec(280)),  // 280 is company -> contact
                            create_input(bob_, acme_, spec(279, "USER_DEFINED"))}));
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 207) << res->body;
    auto body = parse(res->body);
    EXPECT_EQ(at(body, "/results")->Size(), 1u);
    EXPECT_EQ(int_at(body, "/numErrors"), 3);
    EXPECT_EQ(str_at(body, "/errors/0/status"), "error");
    EXPECT_EQ(str_at(body, "/errors/0/category"), "OBJECT_NOT_FOUND");
    EXPECT_EQ(str_at(body, "/errors/0/context/toObjectId/0"), "999999999");
    EXPECT_EQ(str_at(body, "/errors/1/category"), "VALIDATION_ERROR");
    EXPECT_EQ(str_at(body, "/errors/1/context/associationTypeId/0"), "280");
    EXPECT_EQ(str_at(body, "/errors/2/context/associationTypeId/0"), "279");
    // Only the good input was applied.
    read(kContactsToCompanies, {bob_}, 207);
    read(kContactsToCompanies, {ann_}, 200);
}

TEST_F(HubSpotAssociationsTest, MalformedInputsAndUnknownObjectTypesAre400) {
    const std::pair<std::string, std::string> cases[] = {
        {"{oops", "Invalid input JSON"},
        {"{}", "inputs"},
        {inputs({R"({"to":{"id":"1"},"types":[]})"}), "inputs[0].from.id"},
        {inputs({create_input(ann_, acme_, "")}), "inputs[0].types"},
        {inputs({create_input(ann_, acme_, R"({"associationCategory":"NOPE","associationTypeId":1})")}),
         "associationCategory"},
        {inputs({create_input(ann_, acme_, R"({"associationCategory":"HUBSPOT_DEFINED","associationTypeId":"x"})")}),
         "associationTypeId"},
    };
    for (const auto& [body, expect] : cases) {
        auto res = post(kContactsToCompanies + "/batch/create", body);
        ASSERT_TRUE(res);
        EXPECT_EQ(res->status, 400) << body;
        EXPECT_EQ(str_at(parse(res->body), "/category"), "VALIDATION_ERROR") << res->body;
        EXPECT_NE(res->body.find(expect), std::string::npos) << body << " -> " << res->body;
    }
    auto res = post("/crm/v4/associations/contacts/widgets/batch/create", inputs({}));
    ASSERT_EQ(res->status, 400);
    EXPECT_NE(res->body.find("Unable to infer object type from: widgets"), std::string::npos) << res->body;
}

TEST_F(HubSpotAssociationsTest, BatchLimits) {
    std::vector<std::string> many(kHubSpotMaxAssociationWriteInputs + 1, create_input(ann_, acme_, spec(279)));
    auto res = post(kContactsToCompanies + "/batch/create", inputs(many));
    ASSERT_EQ(res->status, 400);
    EXPECT_NE(res->body.find("2001"), std::string::npos) << res->body;
    many.pop_back();
    EXPECT_EQ(post(kContactsToCompanies + "/batch/create", inputs(many))->status, 201);

    std::vector<std::string> ids(kHubSpotMaxAssociationReadInputs + 1, R"({"id":")" + ann_ + R"("})");
    res = post(kContactsToCompanies + "/batch/read", inputs(ids));
    ASSERT_EQ(res->status, 400);
    EXPECT_NE(res->body.find("1001"), std::string::npos) << res->body;
    ids.pop_back();
    EXPECT_EQ(post(kContactsToCompanies + "/batch/read", inputs(ids))->status, 200);
}

TEST_F(HubSpotAssociationsTest, DefaultAssociationIsTheUnlabeledType) {
    auto res = post(kContactsToCompanies + "/batch/associate/default",
                    inputs({pair_input(ann_, acme_), pair_input(ann_, "123")}));
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << res->body;
    auto body = parse(res->body);
    EXPECT_EQ(str_at(body, "/results/0/from/id"), ann_);
    EXPECT_EQ(str_at(body, "/results/0/to/id"), acme_);
    EXPECT_EQ(str_at(body, "/results/0/associationSpec/associationCategory"), "HUBSPOT_DEFINED");
    EXPECT_EQ(int_at(body, "/results/0/associationSpec/associationTypeId"), 279);
    EXPECT_EQ(int_at(body, "/numErrors"), 1);
    EXPECT_EQ(str_at(body, "/errors/0/category"), "OBJECT_NOT_FOUND");

    // Deal to company: 341.
    std::string deal = upsert("deals", "ext_id", "d1");
    res = post("/crm/v4/associations/deals/companies/batch/associate/default", inputs({pair_input(deal, acme_)}));
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(int_at(parse(res->body), "/results/0/associationSpec/associationTypeId"), 341);
    // Object names in the singular and type ids name the same objects.
    res = post("/crm/v4/associations/0-3/contact/batch/associate/default", inputs({pair_input(deal, bob_)}));
    ASSERT_EQ(res->status, 200) << res->body;
    EXPECT_EQ(int_at(parse(res->body), "/results/0/associationSpec/associationTypeId"), 3);
}

TEST_F(HubSpotAssociationsTest, ArchiveRemovesEveryTypeBothWaysAndIs204) {
    ASSERT_EQ(post(kContactsToCompanies + "/batch/create",
                   inputs({create_input(ann_, acme_, spec(1)), create_input(bob_, acme_, spec(279))}))
                  ->status,
              201);
    auto res = post(kContactsToCompanies + "/batch/archive",
                    R"({"inputs":[{"from":{"id":")" + ann_ + R"("},"to":[{"id":")" + acme_ + R"("},{"id":"77"}]}]})");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 204);
    EXPECT_TRUE(res->body.empty());
    read(kContactsToCompanies, {ann_}, 207);
    auto acme_side = read(kCompaniesToContacts, {acme_}, 200);
    ASSERT_EQ(at(acme_side, "/results/0/to")->Size(), 1u);
    EXPECT_EQ(str_at(acme_side, "/results/0/to/0/toObjectId"), bob_);
    // Again: nothing to remove, still 204.
    EXPECT_EQ(post(kContactsToCompanies + "/batch/archive",
                   R"({"inputs":[{"from":{"id":")" + ann_ + R"("},"to":[{"id":")" + acme_ + R"("}]}]})")
                  ->status,
              204);
    EXPECT_EQ(post(kContactsToCompanies + "/batch/archive", R"({"inputs":[{"from":{"id":"1"}}]})")->status, 400);
}

TEST_F(HubSpotAssociationsTest, ReadReportsRecordsWithoutAssociationsAsErrors) {
    ASSERT_EQ(post(kContactsToCompanies + "/batch/create", inputs({create_input(ann_, acme_, spec(279))}))->status, 201);
    auto body = read(kContactsToCompanies, {ann_, bob_}, 207);
    ASSERT_EQ(at(body, "/results")->Size(), 1u);
    EXPECT_EQ(str_at(body, "/errors/0/category"), "OBJECT_NOT_FOUND");
    EXPECT_EQ(str_at(body, "/errors/0/subCategory"), "crm.associations.NO_ASSOCIATIONS_FOUND");
    EXPECT_EQ(str_at(body, "/errors/0/context/fromObjectId/0"), bob_);
    EXPECT_EQ(post(kContactsToCompanies + "/batch/read", R"({"inputs":[{}]})")->status, 400);
}

TEST_F(HubSpotAssociationsTest, ArchivingARecordRemovesItsAssociations) {
    ASSERT_EQ(post(kContactsToCompanies + "/batch/create",
                   inputs({create_input(ann_, acme_, spec(279)), create_input(bob_, acme_, spec(279))}))
                  ->status,
              201);
    ASSERT_EQ(post("/crm/v3/objects/companies/batch/archive", R"({"inputs":[{"id":")" + acme_ + R"("}]})")->status, 204);
    read(kContactsToCompanies, {ann_, bob_}, 207);
    auto s = state();
    EXPECT_EQ(at(s, "/contacts/ann@example.com/@associations"), nullptr);
    // The company comes back as a new record (new id), with no associations.
    std::string acme_again = upsert("companies", "ext_id", "acme");
    EXPECT_NE(acme_again, acme_);
    read(kCompaniesToContacts, {acme_again}, 207);
}

TEST_F(HubSpotAssociationsTest, LabelsListTheDefinedTypesAndCreateAddsAUserDefinedPair) {
    auto list = get("/crm/v4/associations/contacts/companies/labels");
    ASSERT_TRUE(list);
    ASSERT_EQ(list->status, 200) << list->body;
    auto body = parse(list->body);
    ASSERT_EQ(at(body, "/results")->Size(), 2u);
    EXPECT_EQ(int_at(body, "/results/0/typeId"), 279);
    EXPECT_TRUE(at(body, "/results/0/label")->IsNull());
    EXPECT_EQ(int_at(body, "/results/1/typeId"), 1);
    EXPECT_EQ(str_at(body, "/results/1/label"), "Primary");

    auto created = post("/crm/v4/associations/contacts/companies/labels",
                        R"({"name":"billing_contact","label":"Billing contact","inverseLabel":"Billed company"})");
    ASSERT_TRUE(created);
    ASSERT_EQ(created->status, 200) << created->body;
    body = parse(created->body);
    ASSERT_EQ(at(body, "/results")->Size(), 2u);
    EXPECT_EQ(str_at(body, "/results/0/category"), "USER_DEFINED");
    EXPECT_EQ(str_at(body, "/results/0/label"), "Billing contact");
    EXPECT_EQ(str_at(body, "/results/1/label"), "Billed company");
    int64_t billing = int_at(body, "/results/0/typeId");
    int64_t billed = int_at(body, "/results/1/typeId");

    // Usable in batch/create under its category; the reverse side shows the inverse label.
    auto res = post(kContactsToCompanies + "/batch/create",
                    inputs({create_input(ann_, acme_, spec(static_cast<int>(billing), "USER_DEFINED"))}));
    ASSERT_EQ(res->status, 201) << res->body;
    EXPECT_EQ(str_at(parse(res->body), "/results/0/labels/0"), "Billing contact");
    auto acme_side = read(kCompaniesToContacts, {acme_}, 200);
    ASSERT_EQ(at(acme_side, "/results/0/to/0/associationTypes")->Size(), 2u);  // 280 and the label
    bool found = false;
    for (const auto& t : at(acme_side, "/results/0/to/0/associationTypes")->GetArray())
        found |= t["typeId"].GetInt64() == billed && std::string(t["category"].GetString()) == "USER_DEFINED";
    EXPECT_TRUE(found) << "no inverse label on the company side";

    // Errors: required fields, a second definition with the same name.
    EXPECT_EQ(post("/crm/v4/associations/contacts/companies/labels", R"({"label":"x"})")->status, 400);
    EXPECT_EQ(post("/crm/v4/associations/contacts/companies/labels", R"({"name":"x"})")->status, 400);
    EXPECT_EQ(post("/crm/v4/associations/contacts/companies/labels", R"({"name":"billing_contact","label":"y"})")->status,
              409);
}

TEST_F(HubSpotAssociationsTest, AtMostTenLabelsPerPair) {
    for (int i = 0; i < 10; ++i) {
        auto res = post("/crm/v4/associations/deals/companies/labels",
                        R"({"name":"l)" + std::to_string(i) + R"(","label":"L)" + std::to_string(i) + R"("})");
        ASSERT_EQ(res->status, 200) << res->body;
    }
    auto res = post("/crm/v4/associations/deals/companies/labels", R"({"name":"l10","label":"L10"})");
    ASSERT_EQ(res->status, 400);
    EXPECT_NE(res->body.find("10"), std::string::npos) << res->body;
}

TEST_F(HubSpotAssociationsTest, ResetClearsAssociationsButKeepsLabels) {
    ASSERT_EQ(post("/crm/v4/associations/contacts/companies/labels", R"({"name":"n","label":"L"})")->status, 200);
    ASSERT_EQ(post(kContactsToCompanies + "/batch/create", inputs({create_input(ann_, acme_, spec(279))}))->status, 201);
    ASSERT_EQ(post("/_mock/reset", "")->status, 200);
    EXPECT_TRUE(state().ObjectEmpty());
    EXPECT_EQ(at(parse(get("/crm/v4/associations/contacts/companies/labels")->body), "/results")->Size(), 3u);  // 279, 1 and the label
}

class HubSpotAssociationScopesTest : public HubSpotAssociationsTest {
protected:
    void SetUp() override {
        MockCrmOptions options;
        options.token = "pat-all";
        start_server(options);
        ASSERT_EQ(post("/_mock/tokens", R"({"tokens":["pat-all","pat-read"],)"
                                        R"("scopes":{"pat-read":["crm.objects.contacts.read"]}})")
                      ->status,
                  200);
    }
    httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }
};

TEST_F(HubSpotAssociationScopesTest, WritesNeedTheFromObjectsWriteScope) {
    auto refused = post(kContactsToCompanies + "/batch/create", inputs({}), bearer("pat-read"));
    ASSERT_EQ(refused->status, 403);
    EXPECT_EQ(str_at(parse(refused->body), "/category"), "MISSING_SCOPES");
    EXPECT_EQ(str_at(parse(refused->body), "/errors/0/context/requiredGranularScopes/0"), "crm.objects.contacts.write");
    EXPECT_EQ(post(kContactsToCompanies + "/batch/read", inputs({}), bearer("pat-read"))->status, 200);
    EXPECT_EQ(post(kContactsToCompanies + "/batch/create", inputs({}), bearer("pat-all"))->status, 201);
    EXPECT_EQ(post(kContactsToCompanies + "/batch/create", inputs({}))->status, 401);
}

}  // namespace
}  // namespace crmsync::mock_crm::testing
