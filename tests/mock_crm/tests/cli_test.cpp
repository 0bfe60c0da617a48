// The crmsync-mock-crm process as end-to-end tests use it: --port-file, the listening line,
// --token, and a clean exit 0 on SIGTERM.
#include <gtest/gtest.h>
#include <httplib.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

class MockCrmProcessTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("mock_crm_cli_" + std::to_string(getpid()));
        fs::create_directories(dir_);
    }
    void TearDown() override {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        fs::remove_all(dir_);
    }

    void spawn(std::vector<std::string> args) {
        args.insert(args.begin(), CRMSYNC_MOCK_CRM_BINARY);
        pid_ = fork();
        ASSERT_GE(pid_, 0);
        if (pid_ == 0) {
            std::string err = (dir_ / "stderr").string();
            freopen(err.c_str(), "w", stderr);
            std::vector<char*> argv;
            for (auto& a : args) argv.push_back(a.data());
            argv.push_back(nullptr);
            execv(argv[0], argv.data());
            _exit(127);
        }
    }

    // Polls for the port file; a generous deadline, not a timing assertion.
    int wait_for_port() {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (std::chrono::steady_clock::now() < deadline) {
            if (fs::exists(dir_ / "port")) return std::stoi(read_file(dir_ / "port"));
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        return -1;
    }

    int stop_and_wait(int sig) {
        kill(pid_, sig);
        int status = 0;
        waitpid(pid_, &status, 0);
        pid_ = -1;
        return status;
    }

    fs::path dir_;
    pid_t pid_ = -1;
};

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
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_NE(WEXITSTATUS(status), 0);
    EXPECT_NE(read_file(dir_ / "stderr").find("--listen"), std::string::npos);
}

}  // namespace
