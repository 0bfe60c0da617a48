// A one-shot HTTP server on 127.0.0.1 for tests of the libcurl code (no network): accepts one
// connection, keeps the request (headers and Content-Length body), sends a canned answer.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>
#include <thread>

namespace crmsync::test {

class OneShotServer {
public:
    explicit OneShotServer(std::string answer) : answer_(std::move(answer)) {
        listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
        EXPECT_EQ(::listen(listener_, 1), 0);
        socklen_t length = sizeof address;
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
        port_ = ntohs(address.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~OneShotServer() {
        ::shutdown(listener_, SHUT_RDWR);
        thread_.join();
        ::close(listener_);
    }
    int port() const { return port_; }
    const std::string& request() const { return request_; }

private:
    void serve() {
        const int connection = ::accept(listener_, nullptr, nullptr);
        if (connection < 0) return;
        char buffer[4096];
        std::size_t expected = std::string::npos;
        while (true) {
            const ssize_t n = ::recv(connection, buffer, sizeof buffer, 0);
            if (n <= 0) break;
            request_.append(buffer, static_cast<std::size_t>(n));
            const auto end = request_.find("\r\n\r\n");
            if (end == std::string::npos) continue;
            if (expected == std::string::npos) {
                const auto at = request_.find("Content-Length: ");
                expected = end + 4 + (at == std::string::npos ? 0 : std::stoul(request_.substr(at + 16)));
            }
            if (request_.size() >= expected) break;
        }
        ::send(connection, answer_.data(), answer_.size(), MSG_NOSIGNAL);
        ::close(connection);
    }

    std::string answer_;
    std::string request_;
    int listener_ = -1;
    int port_ = 0;
    std::thread thread_;
};

}  // namespace crmsync::test
