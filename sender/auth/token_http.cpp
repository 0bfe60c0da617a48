#include "auth/token_http.hpp"

#include <curl/curl.h>

#include <algorithm>
#include <memory>

namespace crmsync::sender::auth {

namespace {

struct EasyDeleter {
    void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
    auto* body = static_cast<std::string*>(user);
    constexpr size_t kMaxBody = 1 << 20;  // a token answer is a few hundred bytes
    const size_t n = size * count;
    if (body->size() < kMaxBody) body->append(data, std::min(n, kMaxBody - body->size()));
    return n;
}

}  // namespace

TokenPost curl_token_post(std::chrono::milliseconds timeout, std::string user_agent) {
    return [timeout, user_agent](const std::string& url, const Secret& form_body) -> Result<TokenHttpAnswer> {
        // Without an earlier curl_global_init (the HttpClient's constructor does it),
        // curl_easy_init does it itself; either way on the event loop's thread only.
        std::unique_ptr<CURL, EasyDeleter> easy(curl_easy_init());
        if (!easy) return Error{"curl_easy_init failed"};
        std::unique_ptr<curl_slist, SlistDeleter> headers;
        for (const char* header : {"Content-Type: application/x-www-form-urlencoded", "Accept: application/json"}) {
            curl_slist* head = curl_slist_append(headers.get(), header);
            if (!head) return Error{"curl_slist_append failed"};
            if (!headers) headers.reset(head);
        }
        TokenHttpAnswer answer;
        char error[CURL_ERROR_SIZE] = {};
        const std::string& body = form_body.reveal();
        CURL* h = easy.get();
        CURLcode rc = CURLE_OK;
        const auto set = [&](CURLoption option, auto value) {
            if (rc == CURLE_OK) rc = curl_easy_setopt(h, option, value);
        };
        set(CURLOPT_URL, url.c_str());
        set(CURLOPT_POST, 1L);
        set(CURLOPT_POSTFIELDS, body.data());
        set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
        set(CURLOPT_HTTPHEADER, headers.get());
        set(CURLOPT_USERAGENT, user_agent.c_str());
        set(CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
        set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min<long long>(timeout.count(), 5000)));
        set(CURLOPT_NOSIGNAL, 1L);
        set(CURLOPT_SSL_VERIFYPEER, 1L);
        set(CURLOPT_SSL_VERIFYHOST, 2L);
        set(CURLOPT_FOLLOWLOCATION, 0L);
        set(CURLOPT_WRITEFUNCTION, &on_body);
        set(CURLOPT_WRITEDATA, &answer.body);
        set(CURLOPT_ERRORBUFFER, error);
        if (rc != CURLE_OK) return Error{std::string("curl_easy_setopt failed: ") + curl_easy_strerror(rc)};
        rc = curl_easy_perform(h);
        if (rc != CURLE_OK) return Error{error[0] ? std::string(error) : std::string(curl_easy_strerror(rc))};
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &answer.status);
        return answer;
    };
}

}  // namespace crmsync::sender::auth
