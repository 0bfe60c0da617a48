// The libcurl token POST against a one-shot HTTP server on 127.0.0.1 (no network): the
// request line, the form content type, the body as given, and the answer's status and body;
// a refused connection is an Error, not an answer.
#include "auth/token_http.hpp"

#include <gtest/gtest.h>

#include "one_shot_server.hpp"

using namespace crmsync::sender;
using namespace crmsync::sender::auth;
using namespace std::chrono_literals;
using crmsync::test::OneShotServer;


TEST(CurlTokenPost, PostsTheFormAndReturnsTheAnswer) {
    const std::string json = R"({"error":"invalid_grant","error_description":"expired access/refresh token"})";
    OneShotServer server("HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(json.size()) + "\r\nConnection: close\r\n\r\n" + json);
    const auto post = curl_token_post(5s);
    auto answer = post("http://127.0.0.1:" + std::to_string(server.port()) + "/services/oauth2/token",
                       Secret("grant_type=refresh_token&client_id=c&refresh_token=RT%2B1"));
    ASSERT_TRUE(answer) << answer.error();
    EXPECT_EQ(answer->status, 400);
    EXPECT_EQ(answer->body, json);
    const std::string& request = server.request();
    EXPECT_EQ(request.rfind("POST /services/oauth2/token HTTP/1.1\r\n", 0), 0u) << request;
    EXPECT_NE(request.find("Content-Type: application/x-www-form-urlencoded\r\n"), std::string::npos) << request;
    EXPECT_NE(request.find("Accept: application/json\r\n"), std::string::npos) << request;
    EXPECT_EQ(request.find("Authorization"), std::string::npos) << request;
    EXPECT_EQ(request.substr(request.find("\r\n\r\n") + 4), "grant_type=refresh_token&client_id=c&refresh_token=RT%2B1");
}

TEST(CurlTokenPost, NoAnswerIsAnError) {
    int port = 0;
    {
        OneShotServer closed("");  // a port that was just free; nothing listens once it is gone
        port = closed.port();
        auto connection = ::socket(AF_INET, SOCK_STREAM, 0);  // let the server's accept() return
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        address.sin_port = htons(static_cast<uint16_t>(port));
        ::connect(connection, reinterpret_cast<sockaddr*>(&address), sizeof address);
        ::close(connection);
    }
    auto answer = curl_token_post(2s)("http://127.0.0.1:" + std::to_string(port) + "/services/oauth2/token", Secret("x=1"));
    ASSERT_FALSE(answer);
    EXPECT_FALSE(answer.error().empty());
}
