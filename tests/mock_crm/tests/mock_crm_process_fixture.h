// The real crmsync-mock-crm binary in a child process, as end-to-end tests start it: spawn
// with arguments, wait for --port-file, stop with a signal, read what it wrote.
#pragma once

#include <gtest/gtest.h>
#include <httplib.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace crmsync::mock_crm::testing {

namespace fs = std::filesystem;

inline std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

inline void write_file(const fs::path& p, const std::string& text) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out << text;
}

class MockCrmProcessTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() / ("mock_crm_cli_" + std::to_string(getpid()));
        fs::remove_all(dir_);
        fs::create_directories(dir_);
    }
    void TearDown() override {
        if (pid_ > 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
        fs::remove_all(dir_);
    }

    // Starts the binary; its stderr goes to dir_/stderr (replaced on each spawn). A port file
    // left by an earlier run is removed first, so wait_for_port sees this run's.
    void spawn(std::vector<std::string> args) {
        fs::remove(dir_ / "port");
        args.insert(args.begin(), CRMSYNC_MOCK_CRM_BINARY);
        pid_ = fork();
        ASSERT_GE(pid_, 0);
        if (pid_ == 0) {
            std::string err = (dir_ / "stderr").string();
            if (!freopen(err.c_str(), "w", stderr)) _exit(126);
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
        return wait_for_exit();
    }

    // For a process expected to exit by itself (a startup error). One still running after
    // the deadline is killed: the test fails on its status instead of hanging.
    int wait_for_exit() {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        int status = 0;
        while (waitpid(pid_, &status, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                ADD_FAILURE() << "the mock did not exit; stderr: " << stderr_text();
                kill(pid_, SIGKILL);
                waitpid(pid_, &status, 0);
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        pid_ = -1;
        return status;
    }

    std::string stderr_text() const { return read_file(dir_ / "stderr"); }

    fs::path dir_;
    pid_t pid_ = -1;
};

}  // namespace crmsync::mock_crm::testing
