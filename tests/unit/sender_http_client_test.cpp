// HttpClient::set_bearer_token: a renewed token goes on the requests submitted after it;
// a request already submitted keeps the header it was built with.
#include "io/http_client.hpp"

#include <gtest/gtest.h>

#include "one_shot_server.hpp"

using namespace crmsync::sender;
using crmsync::test::OneShotServer;
using namespace std::chrono_literals;

namespace {

std::string authorization_of(const std::string& request) {
    const auto at = request.find("Authorization: ");
    if (at == std::string::npos) return "";
    return request.substr(at + 15, request.find("\r\n", at) - at - 15);
}

}  // namespace

TEST(HttpClientBearerToken, ARenewedTokenAppliesToTheNextRequestOnly) {
    const std::string ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    OneShotServer first(ok), second(ok), third(ok);
    HttpClientOptions options;
    options.timeout = 5s;
    options.bearer_token = Secret("token-A");
    HttpClient http(options);
    const auto request = [](uint64_t id, int port) {
        HttpRequest r;
        r.id = id;
        r.url = "http://127.0.0.1:" + std::to_string(port) + "/x";
        r.body = "{}";
        return r;
    };
    http.submit(request(1, first.port()));   // in flight when the token changes
    http.set_bearer_token(Secret("token-B"));
    http.submit(request(2, second.port()));
    http.set_bearer_token(Secret());         // empty: no header at all
    http.submit(request(3, third.port()));

    std::vector<HttpResponse> done;
    std::vector<curl_waitfd> none;
    for (auto deadline = std::chrono::steady_clock::now() + 10s; done.size() < 3 && std::chrono::steady_clock::now() < deadline;) {
        http.poll(none, 100ms);
        for (auto& response : http.take_completed()) done.push_back(std::move(response));
    }
    ASSERT_EQ(done.size(), 3u);
    for (const auto& response : done) EXPECT_EQ(response.status, 200) << response.transport_error;
    EXPECT_EQ(authorization_of(first.request()), "Bearer token-A");
    EXPECT_EQ(authorization_of(second.request()), "Bearer token-B");
    EXPECT_EQ(first.request().find("token-B"), std::string::npos);
    EXPECT_EQ(third.request().find("Authorization"), std::string::npos) << third.request();
}
