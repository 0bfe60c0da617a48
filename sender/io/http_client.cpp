#include "io/http_client.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace crmsync::sender {
namespace {

struct GlobalCurl {
    GlobalCurl() { curl_global_init(CURL_GLOBAL_DEFAULT); }
    ~GlobalCurl() { curl_global_cleanup(); }
};

void global_init_once() { static GlobalCurl global; }

template <typename T>
void set(CURL* easy, CURLoption option, T value) {
    if (CURLcode rc = curl_easy_setopt(easy, option, value); rc != CURLE_OK)
        throw CurlSetupError(std::string("curl_easy_setopt failed: ") + curl_easy_strerror(rc));
}

template <typename T>
void set(CURLM* multi, CURLMoption option, T value) {
    if (CURLMcode rc = curl_multi_setopt(multi, option, value); rc != CURLM_OK)
        throw CurlSetupError(std::string("curl_multi_setopt failed: ") + curl_multi_strerror(rc));
}

struct SlistDeleter {
    void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
struct EasyDeleter {
    void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};

}  // namespace

struct HttpClient::Transfer {
    std::unique_ptr<CURL, EasyDeleter> easy;
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    std::string body;  // the request body must outlive the transfer
    HttpResponse response;
    char error[CURL_ERROR_SIZE] = {};
    std::chrono::steady_clock::time_point started;
};

HttpClient::HttpClient(HttpClientOptions options)
    : options_(std::move(options)), multi_((global_init_once(), curl_multi_init()), curl_multi_cleanup) {
    if (!multi_) throw CurlSetupError("curl_multi_init failed");
    set(multi_.get(), CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
    set(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS, options_.max_connections);
    set(multi_.get(), CURLMOPT_MAXCONNECTS, options_.max_connections * 2);
}

HttpClient::~HttpClient() {
    for (auto& [easy, transfer] : transfers_) curl_multi_remove_handle(multi_.get(), easy);
}

size_t HttpClient::on_body(char* data, size_t size, size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    // A CRM's error body is useful up to a point; never let a broken server fill memory.
    constexpr size_t kMaxBody = 4 << 20;
    size_t n = size * count;
    if (transfer->response.body.size() < kMaxBody)
        transfer->response.body.append(data, std::min(n, kMaxBody - transfer->response.body.size()));
    return n;
}

size_t HttpClient::on_header(char* data, size_t size, size_t count, void* user) {
    auto* transfer = static_cast<Transfer*>(user);
    size_t n = size * count;
    std::string_view line(data, n);
    // A new status line starts the headers of another answer (after a 100 Continue): keep
    // only the final answer's.
    if (line.rfind("HTTP/", 0) == 0) {
        transfer->response.headers.clear();
        transfer->response.retry_after.reset();
        return n;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return n;
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
    // A misbehaving server must not fill memory with headers.
    constexpr size_t kMaxHeaders = 100;
    if (name == "retry-after") transfer->response.retry_after = std::string(value);
    if (transfer->response.headers.size() < kMaxHeaders) transfer->response.headers.emplace_back(std::move(name), value);
    return n;
}

void HttpClient::submit(HttpRequest request) {
    auto transfer = std::make_unique<Transfer>();
    transfer->easy.reset(curl_easy_init());
    if (!transfer->easy) throw CurlSetupError("curl_easy_init failed");
    CURL* easy = transfer->easy.get();
    transfer->body = std::move(request.body);
    transfer->response.id = request.id;

    auto add_header = [&](const std::string& h) {
        curl_slist* head = curl_slist_append(transfer->headers.get(), h.c_str());
        if (!head) throw CurlSetupError("curl_slist_append failed");
        if (!transfer->headers) transfer->headers.reset(head);
    };
    add_header("Content-Type: application/json");
    add_header("Accept: application/json");
    add_header("Expect:");  // no 100-continue round trip on large bodies
    if (!options_.bearer_token.empty()) add_header("Authorization: Bearer " + options_.bearer_token.reveal());
    for (const auto& h : request.headers) add_header(h);

    set(easy, CURLOPT_URL, request.url.c_str());
    set(easy, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    set(easy, CURLOPT_POSTFIELDS, transfer->body.data());
    set(easy, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(transfer->body.size()));
    set(easy, CURLOPT_HTTPHEADER, transfer->headers.get());
    set(easy, CURLOPT_USERAGENT, options_.user_agent.c_str());
    set(easy, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
    set(easy, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
    // A stalled transfer (under 1 byte/s for the timeout) is abandoned and retried.
    set(easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
    set(easy, CURLOPT_LOW_SPEED_TIME, std::max(1L, static_cast<long>(options_.timeout.count() / 1000)));
    set(easy, CURLOPT_NOSIGNAL, 1L);
    set(easy, CURLOPT_TCP_KEEPALIVE, 1L);
    set(easy, CURLOPT_TCP_NODELAY, 1L);
    set(easy, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    set(easy, CURLOPT_SSL_VERIFYPEER, 1L);
    set(easy, CURLOPT_SSL_VERIFYHOST, 2L);
    set(easy, CURLOPT_FOLLOWLOCATION, 0L);
    set(easy, CURLOPT_WRITEFUNCTION, &HttpClient::on_body);
    set(easy, CURLOPT_WRITEDATA, transfer.get());
    set(easy, CURLOPT_HEADERFUNCTION, &HttpClient::on_header);
    set(easy, CURLOPT_HEADERDATA, transfer.get());
    set(easy, CURLOPT_ERRORBUFFER, transfer->error);
    set(easy, CURLOPT_PRIVATE, transfer.get());

    transfer->started = std::chrono::steady_clock::now();
    if (CURLMcode rc = curl_multi_add_handle(multi_.get(), easy); rc != CURLM_OK)
        throw CurlSetupError(std::string("curl_multi_add_handle failed: ") + curl_multi_strerror(rc));
    transfers_.emplace(easy, std::move(transfer));
    added_since_perform_ = true;
}

void HttpClient::poll(std::vector<curl_waitfd>& extra, std::chrono::milliseconds timeout) {
    int running = 0;
    // Transfers already running were driven by the perform after the last wait; only new
    // requests need one before this wait (one perform per turn instead of two).
    if (added_since_perform_) {
        curl_multi_perform(multi_.get(), &running);
        collect_finished();
    }
    if (!completed_.empty()) timeout = std::chrono::milliseconds(0);
    int ready = 0;
    for (auto& fd : extra) fd.revents = 0;
    curl_multi_poll(multi_.get(), extra.data(), static_cast<unsigned>(extra.size()),
                    static_cast<int>(std::max<int64_t>(0, timeout.count())), &ready);
    curl_multi_perform(multi_.get(), &running);
    added_since_perform_ = false;
    collect_finished();
}

void HttpClient::wakeup() { curl_multi_wakeup(multi_.get()); }

void HttpClient::collect_finished() {
    int left = 0;
    while (CURLMsg* message = curl_multi_info_read(multi_.get(), &left)) {
        if (message->msg != CURLMSG_DONE) continue;
        CURL* easy = message->easy_handle;
        auto it = transfers_.find(easy);
        if (it == transfers_.end()) continue;
        Transfer& transfer = *it->second;
        if (message->data.result == CURLE_OK) {
            curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &transfer.response.status);
        } else {
            transfer.response.status = 0;
            transfer.response.transport_error =
                transfer.error[0] ? transfer.error : curl_easy_strerror(message->data.result);
        }
        transfer.response.elapsed = std::chrono::duration_cast<std::chrono::microseconds>(
            std::chrono::steady_clock::now() - transfer.started);
        curl_multi_remove_handle(multi_.get(), easy);
        completed_.push_back(std::move(transfer.response));
        transfers_.erase(it);
    }
}

std::vector<HttpResponse> HttpClient::take_completed() {
    std::vector<HttpResponse> out;
    out.swap(completed_);
    return out;
}

}  // namespace crmsync::sender
