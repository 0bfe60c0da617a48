// A mock CRM served in-process on an ephemeral loopback port, and HTTP helpers to talk to it.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <memory>
#include <string>

#include "json.h"
#include "mock_crm_server.h"

#include <rapidjson/pointer.h>

namespace crmsync::mock_crm::testing {

inline rapidjson::Document parse(const std::string& body) {
    rapidjson::Document doc;
    doc.Parse(body.c_str(), body.size());
    EXPECT_FALSE(doc.HasParseError()) << "not JSON: " << body;
    return doc;
}

// The value at a JSON pointer ("/contacts/ann@example.com/firstname"), or nullptr.
inline const rapidjson::Value* at(const rapidjson::Value& doc, const char* pointer) {
    return rapidjson::Pointer(pointer).Get(doc);
}

inline std::string str_at(const rapidjson::Value& doc, const char* pointer) {
    const rapidjson::Value* v = at(doc, pointer);
    return v && v->IsString() ? std::string(v->GetString(), v->GetStringLength()) : "<absent>";
}

inline int64_t int_at(const rapidjson::Value& doc, const char* pointer) {
    const rapidjson::Value* v = at(doc, pointer);
    return v && v->IsInt64() ? v->GetInt64() : -1;
}

class MockCrmTest : public ::testing::Test {
protected:
    void SetUp() override { start_server({}); }
    void TearDown() override { server_.reset(); }

    void start_server(MockCrmOptions options) {
        server_.reset();
        server_ = std::make_unique<MockCrmServer>(std::move(options));
        port_ = server_->bind("127.0.0.1", 0);
        server_->start();
    }

    httplib::Client client() const {
        httplib::Client c("127.0.0.1", port_);
        c.set_read_timeout(10, 0);
        return c;
    }

    httplib::Result post(const std::string& path, const std::string& body,
                         const httplib::Headers& headers = {}) const {
        return client().Post(path.c_str(), headers, body, "application/json");
    }
    httplib::Result patch(const std::string& path, const std::string& body,
                          const httplib::Headers& headers = {}) const {
        return client().Patch(path.c_str(), headers, body, "application/json");
    }
    httplib::Result del(const std::string& path, const httplib::Headers& headers = {}) const {
        return client().Delete(path.c_str(), headers);
    }
    httplib::Result get(const std::string& path) const { return client().Get(path.c_str()); }

    rapidjson::Document state() const { return get_json("/_mock/state"); }
    rapidjson::Document stats() const { return get_json("/_mock/stats"); }

    rapidjson::Document get_json(const std::string& path) const {
        auto res = get(path);
        EXPECT_TRUE(res) << "GET " << path << " failed";
        if (!res) return rapidjson::Document{};
        EXPECT_EQ(res->status, 200) << res->body;
        return parse(res->body);
    }

    // Creates a custom HubSpot property the way a user would (POST /crm/v3/properties/{object}).
    void create_property(const std::string& object, const std::string& json) const {
        auto res = post("/crm/v3/properties/" + object, json);
        ASSERT_TRUE(res);
        ASSERT_EQ(res->status, 201) << res->body;
    }

    // Declares Salesforce custom fields (the mock's stand-in for Setup).
    void declare_fields(const std::string& json) const {
        auto res = post("/_mock/salesforce/fields", json);
        ASSERT_TRUE(res);
        ASSERT_EQ(res->status, 200) << res->body;
    }

    void set_faults(const std::string& json) const {
        auto res = post("/_mock/faults", json);
        ASSERT_TRUE(res);
        ASSERT_EQ(res->status, 200) << res->body;
    }

    std::unique_ptr<MockCrmServer> server_;
    int port_ = 0;
};

}  // namespace crmsync::mock_crm::testing
