// One HTTP request to a CRM and its answer, and the transport that carries them. The delivery
// engine talks to this interface; io/http_client implements it with libcurl, unit tests with
// a scripted fake.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace crmsync::sender {

struct HttpRequest {
    uint64_t id = 0;  // the caller's handle for matching the response
    std::string method = "POST";
    std::string url;
    std::string body;
    std::vector<std::string> headers;  // "Name: value"
};

struct HttpResponse {
    uint64_t id = 0;
    long status = 0;         // 0 when no HTTP answer came (transport_error says why)
    std::string body;
    std::optional<std::string> retry_after;
    // Every header of the final answer, names in lower case (quota headers, ...).
    std::vector<std::pair<std::string, std::string>> headers;
    std::string transport_error;  // curl's message: timeout, refused, reset ...
    std::chrono::microseconds elapsed{0};
};

class HttpTransport {
public:
    virtual ~HttpTransport() = default;
    // Starts the request; its HttpResponse (same id) comes back through the owner's loop.
    virtual void submit(HttpRequest request) = 0;
};

}  // namespace crmsync::sender
