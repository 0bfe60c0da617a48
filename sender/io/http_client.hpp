// HTTP to the CRM: libcurl multi, driven by the sender's one event loop. Keep-alive
// connections are reused across requests, HTTP/2 is used where the server offers it over
// TLS, and TLS peers are always verified. Every handle lives in a unique_ptr with its C
// deleter; every setopt result is checked.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/http_exchange.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"

namespace crmsync::sender {

struct HttpClientOptions {
    std::chrono::milliseconds timeout{10000};
    std::chrono::milliseconds connect_timeout{5000};
    Secret bearer_token;   // empty: no Authorization header
    long max_connections = 4;
    std::string user_agent = "crmsync-sender";
};

class HttpClient final : public HttpTransport {
public:
    explicit HttpClient(HttpClientOptions options);
    ~HttpClient();
    HttpClient(const HttpClient&) = delete;
    HttpClient& operator=(const HttpClient&) = delete;

    void submit(HttpRequest request) override;
    // A renewed token (sender/auth/) applies to requests submitted from now on; requests
    // already in flight keep the header they were built with. An empty Secret removes the
    // Authorization header.
    void set_bearer_token(Secret token) { options_.bearer_token = std::move(token); }
    size_t in_flight() const { return transfers_.size(); }

    // Waits up to `timeout` for curl's sockets or the extra fds, then advances transfers.
    // `extra` entries' revents are filled in.
    void poll(std::vector<curl_waitfd>& extra, std::chrono::milliseconds timeout);
    // Wakes a poll() from another thread or a signal handler.
    void wakeup();

    std::vector<HttpResponse> take_completed();

private:
    struct Transfer;
    static size_t on_body(char* data, size_t size, size_t count, void* user);
    static size_t on_header(char* data, size_t size, size_t count, void* user);
    void collect_finished();

    HttpClientOptions options_;
    std::unique_ptr<CURLM, CURLMcode (*)(CURLM*)> multi_;
    std::map<CURL*, std::unique_ptr<Transfer>> transfers_;
    std::vector<HttpResponse> completed_;
    bool added_since_perform_ = false;  // a request waits for curl_multi_perform to start it
};

// Thrown only on setup that cannot fail in a sane process (curl refusing an option).
struct CurlSetupError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

}  // namespace crmsync::sender
