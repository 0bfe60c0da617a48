// The crmsync-mock-crm process as end-to-end tests use it: --port-file, the listening line,
// --token, and a clean exit 0 on SIGTERM.
#include "mock_crm_process_fixture.h"

namespace crmsync::mock_crm::testing {
namespace {

TEST_F(MockCrmProcessTest, ServesOnEphemeralPortAndExitsCleanlyOnSigterm) {
    spawn({"--listen", "127.0.0.1:0", "--port-file", (dir_ / "port").string(), "--token", "t0k",
           "--seed", "7", "--quiet"});
    int port = wait_for_port();
    ASSERT_GT(port, 0);
    httplib::Client client("127.0.0.1", port);
    auto health = client.Get("/_mock/health");
    ASSERT_TRUE(health);
    EXPECT_EQ(health->status, 200);
    auto unauth = client.Post("/webhook", R"({"events":[]})", "application/json");
    ASSERT_TRUE(unauth);
    EXPECT_EQ(unauth->status, 401);
    auto faults = client.Get("/_mock/faults");
    ASSERT_TRUE(faults);
    EXPECT_NE(faults->body.find("\"seed\":7"), std::string::npos) << faults->body;

    int status = stop_and_wait(SIGTERM);
    ASSERT_TRUE(WIFEXITED(status)) << status;
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_NE(read_file(dir_ / "stderr").find("crmsync-mock-crm listening on 127.0.0.1:" + std::to_string(port)),
              std::string::npos)
        << read_file(dir_ / "stderr");
    // Written by rename: no temporary file left beside it.
    for (const auto& entry : fs::directory_iterator(dir_))
        EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
}

TEST_F(MockCrmProcessTest, SigintAlsoExitsZero) {
    spawn({"--listen", "127.0.0.1:0", "--port-file", (dir_ / "port").string()});
    ASSERT_GT(wait_for_port(), 0);
    int status = stop_and_wait(SIGINT);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST_F(MockCrmProcessTest, BadListenAddressFails) {
    spawn({"--listen", "127.0.0.1"});
    int status = wait_for_exit();
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_NE(WEXITSTATUS(status), 0);
    EXPECT_NE(read_file(dir_ / "stderr").find("--listen"), std::string::npos);
}

}  // namespace
}  // namespace crmsync::mock_crm::testing
