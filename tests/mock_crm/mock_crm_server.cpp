#include "mock_crm_server.h"

#include <httplib.h>

#include <cctype>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "commit_time.h"
#include "connection_drop.h"
#include "control_api.h"
#include "hubspot_api.h"
#include "hubspot_associations_api.h"
#include "hubspot_properties_api.h"
#include "hubspot_scopes.h"
#include "salesforce_api.h"
#include "webhook_api.h"

namespace crmsync::mock_crm {
namespace {

enum class ApiFormat { kHubSpot, kSalesforce, kWebhook, kNone };

using ApiHandler = HttpReply (*)(const ApiRequest&, ApiContext&);

struct Route {
    std::string name;  // stats key
    ApiFormat format = ApiFormat::kNone;
    ApiHandler handler = nullptr;
    std::vector<std::string> params;
};

std::string bearer_token(const std::string& authorization) {
    static const std::string kBearer = "Bearer ";
    return authorization.rfind(kBearer, 0) == 0 ? authorization.substr(kBearer.size()) : std::string();
}

bool is_api_version(const std::string& s) {  // "v59.0"
    return s.size() >= 4 && s[0] == 'v' && s.find('.') != std::string::npos &&
           s.find_first_not_of("0123456789.", 1) == std::string::npos;
}

Route route_of(const std::string& method, const std::vector<std::string>& s,
               std::string_view raw_path, const std::string& webhook_path) {
    if (method == "POST" && raw_path == webhook_path) return {"webhook", ApiFormat::kWebhook, webhook_deliver, {}};
    if (s.size() == 6 && s[0] == "crm" && s[1] == "v3" && s[2] == "objects" && s[4] == "batch") {
        if (method == "POST" && s[5] == "upsert")
            return {"hubspot.batch_upsert", ApiFormat::kHubSpot, hubspot_batch_upsert, {s[3]}};
        if (method == "POST" && s[5] == "read")
            return {"hubspot.batch_read", ApiFormat::kHubSpot, hubspot_batch_read, {s[3]}};
        if (method == "POST" && s[5] == "archive")
            return {"hubspot.batch_archive", ApiFormat::kHubSpot, hubspot_batch_archive, {s[3]}};
        return {"hubspot.unknown", ApiFormat::kHubSpot, nullptr, {}};
    }
    if (s.size() >= 4 && s.size() <= 5 && s[0] == "crm" && s[1] == "v3" && s[2] == "properties") {
        if (method == "GET" && s.size() == 4)
            return {"hubspot.properties_list", ApiFormat::kHubSpot, hubspot_list_properties, {s[3]}};
        if (method == "GET" && s.size() == 5)
            return {"hubspot.properties_get", ApiFormat::kHubSpot, hubspot_get_property, {s[3], s[4]}};
        if (method == "POST" && s.size() == 4)
            return {"hubspot.properties_create", ApiFormat::kHubSpot, hubspot_create_property, {s[3]}};
        return {"hubspot.unknown", ApiFormat::kHubSpot, nullptr, {}};
    }
    if (s.size() >= 6 && s[0] == "crm" && s[1] == "v4" && s[2] == "associations") {
        std::vector<std::string> pair{s[3], s[4]};
        if (method == "POST" && s.size() == 7 && s[5] == "batch" && s[6] == "create")
            return {"hubspot.associations_create", ApiFormat::kHubSpot, hubspot_associations_create, pair};
        if (method == "POST" && s.size() == 8 && s[5] == "batch" && s[6] == "associate" && s[7] == "default")
            return {"hubspot.associations_default", ApiFormat::kHubSpot, hubspot_associations_default, pair};
        if (method == "POST" && s.size() == 7 && s[5] == "batch" && s[6] == "archive")
            return {"hubspot.associations_archive", ApiFormat::kHubSpot, hubspot_associations_archive, pair};
        if (method == "POST" && s.size() == 7 && s[5] == "batch" && s[6] == "read")
            return {"hubspot.associations_read", ApiFormat::kHubSpot, hubspot_associations_read, pair};
        if (method == "GET" && s.size() == 6 && s[5] == "labels")
            return {"hubspot.association_labels_list", ApiFormat::kHubSpot, hubspot_association_labels_list, pair};
        if (method == "POST" && s.size() == 6 && s[5] == "labels")
            return {"hubspot.association_labels_create", ApiFormat::kHubSpot, hubspot_association_labels_create, pair};
        return {"hubspot.unknown", ApiFormat::kHubSpot, nullptr, {}};
    }
    if (method == "POST" && raw_path == "/oauth/v2/private-apps/get/access-token-info")
        return {"hubspot.access_token_info", ApiFormat::kHubSpot, nullptr, {}};
    if (method == "POST" && s.size() == 3 && s[0] == "services" && s[1] == "oauth2" && s[2] == "token")
        return {"salesforce.oauth_token", ApiFormat::kSalesforce, nullptr, {}};
    if (s.size() >= 3 && s[0] == "services" && s[1] == "data" && is_api_version(s[2])) {
        if (method == "PATCH" && s.size() == 7 && s[3] == "composite" && s[4] == "sobjects")
            return {"salesforce.upsert", ApiFormat::kSalesforce, salesforce_upsert, {s[5], s[6]}};
        if (method == "DELETE" && s.size() == 7 && s[3] == "sobjects")
            return {"salesforce.delete", ApiFormat::kSalesforce, salesforce_delete, {s[4], s[5], s[6], s[2]}};
        if (method == "GET" && s.size() == 6 && s[3] == "sobjects" && s[5] == "describe")
            return {"salesforce.describe", ApiFormat::kSalesforce, salesforce_describe, {s[4]}};
        if (method == "POST" && s.size() == 4 && s[3] == "composite")
            return {"salesforce.composite", ApiFormat::kSalesforce, salesforce_composite, {}};
        return {"salesforce.unknown", ApiFormat::kSalesforce, nullptr, {}};
    }
    return {"unknown", ApiFormat::kNone, nullptr, {}};
}

// Each API answers errors in its own shape, so a sender's error parsing is exercised too.
std::string error_body(ApiFormat format, std::string_view code, std::string_view message) {
    switch (format) {
    case ApiFormat::kSalesforce: return salesforce_error_body(code, message);
    case ApiFormat::kWebhook: return webhook_error_body(message);
    default: return hubspot_error_body(code, message);
    }
}

FaultSettings initial_faults(const MockCrmOptions& o) {
    FaultSettings s;
    s.hubspot_per_10s = o.hubspot_per_10s;
    s.hubspot_daily = o.hubspot_daily;
    s.salesforce_daily = o.salesforce_daily;
    return s;
}

// 401 in each API's documented shape.
//   Salesforce ("Status Codes and Error Responses": 401 "The session ID or OAuth token used has
//   expired or is invalid. The response body contains the message and errorCode"):
//   [{"message":"Session expired or invalid","errorCode":"INVALID_SESSION_ID"}] for a missing,
//   unknown or expired token alike.
//   HubSpot ("Authentication overview" / error handling): category INVALID_AUTHENTICATION with
//   "Authentication credentials not found. This API supports OAuth 2.0 authentication ..." for a
//   missing or unknown token; an expired one: category EXPIRED_AUTHENTICATION, "The OAuth token
//   used to make this call expired N second(s) ago." (the documents give no exact text; these are
//   the texts real responses carry). The webhook answers HubSpot's shape, as before.
HttpReply unauthorized(ApiFormat format, TokenCheck check, int64_t expired_for_s) {
    if (format == ApiFormat::kSalesforce)
        return {401, salesforce_error_body("INVALID_SESSION_ID", "Session expired or invalid"), {}};
    if (check == TokenCheck::kExpired)
        return {401,
                hubspot_error_body("EXPIRED_AUTHENTICATION", "The OAuth token used to make this call expired " +
                                                                 std::to_string(expired_for_s) + " second(s) ago."),
                {}};
    return {401,
            hubspot_error_body("INVALID_AUTHENTICATION",
                               "Authentication credentials not found. This API supports OAuth 2.0 authentication and "
                               "you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"),
            {}};
}

// Over a quota. HubSpot ("API usage guidelines and limits", https://developers.hubspot.com/docs/api/usage-details):
//   429 {"status":"error","message":"You have reached your ten_secondly_rolling limit.",
//        "errorType":"RATE_LIMIT","correlationId":...,"policyName":"TEN_SECONDLY_ROLLING","requestId":...}
// (DAILY: "You have reached your daily limit."). No Retry-After: the page does not list one.
// Salesforce ("API Request Limits and Allocations"; "Status Codes and Error Responses": 403
// "The request has been refused... or the daily API limit has been exceeded"):
//   403 [{"message":"TotalRequests Limit exceeded.","errorCode":"REQUEST_LIMIT_EXCEEDED"}]
HttpReply over_quota(ApiFormat format, const std::string& policy) {
    if (format == ApiFormat::kSalesforce)
        return {403, salesforce_error_body("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."), {}};
    std::string lower = policy;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    w.StartObject();
    write_key(w, "status");
    write_string(w, "error");
    write_key(w, "message");
    write_string(w, "You have reached your " + lower + " limit.");
    write_key(w, "errorType");
    write_string(w, "RATE_LIMIT");
    write_key(w, "correlationId");
    write_string(w, hubspot_correlation_id());
    write_key(w, "policyName");
    write_string(w, policy);
    write_key(w, "requestId");
    write_string(w, hubspot_correlation_id());
    w.EndObject();
    return {429, writer_text(buf), {}};
}

// One lognormal draw: median * exp(sigma * z), sigma from the 99th percentile (z = 2.3263).
int64_t latency_ms(double median, double p99) {
    if (median <= 0) return 0;
    thread_local std::mt19937_64 rng{std::random_device{}()};
    double sigma = p99 > median ? std::log(p99 / median) / 2.3263478740 : 0.0;
    std::lognormal_distribution<double> dist(std::log(median), sigma);
    return static_cast<int64_t>(std::min(dist(rng), 600000.0));
}

void send(httplib::Response& res, const HttpReply& reply) {
    res.status = reply.status;
    if (!reply.retry_after.empty()) res.set_header("Retry-After", reply.retry_after);
    for (const auto& [name, value] : reply.headers) res.set_header(name, value);
    if (!reply.body.empty()) {
        res.set_content(reply.body, "application/json;charset=UTF-8");
    } else {
        res.body.clear();
    }
}

}  // namespace

MockCrmServer::MockCrmServer(MockCrmOptions options)
    : options_(std::move(options)),
      http_(std::make_unique<httplib::Server>()),
      faults_(options_.seed, initial_faults(options_)),
      tokens_(options_.token.empty() ? std::vector<std::string>{} : std::vector<std::string>{options_.token},
              options_.token_ttl_s, wall_clock_now_us() / 1000000) {
    // A dropped connection makes the server's own write fail; without this that write would
    // raise SIGPIPE and kill the process (cpp-httplib sends without MSG_NOSIGNAL).
    std::signal(SIGPIPE, SIG_IGN);

    size_t threads = options_.threads;
    http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http_->set_keep_alive_max_count(1000000);
    http_->set_keep_alive_timeout(options_.keep_alive_timeout_s);
    http_->set_tcp_nodelay(true);
    http_->set_payload_max_length(size_t{512} << 20);
    auto handler = [this](const httplib::Request& req, httplib::Response& res) { handle(req, res); };
    // One catch-all route per method: the mock routes on the raw target itself, so that
    // percent-encoded path segments (external ids like ann%40example.com) decode exactly once.
    http_->Get(".*", handler);
    http_->Post(".*", handler);
    http_->Put(".*", handler);
    http_->Patch(".*", handler);
    http_->Delete(".*", handler);
    // cpp-httplib answers some requests itself before any handler (notably 413 for an
    // application/x-www-form-urlencoded body over 8 KB, what libcurl sends when no
    // Content-Type is set); give those a body that says what happened.
    http_->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req,
                                                                     httplib::Response& res) {
        if (!res.body.empty() || res.status < 400) return httplib::Server::HandlerResponse::Unhandled;
        std::string message = "HTTP " + std::to_string(res.status) + " for " + req.method + " " + req.path;
        if (res.status == 413)
            message += ": body too large for its Content-Type (form-encoded bodies are limited to 8 KB); "
                       "CRM endpoints take Content-Type: application/json";
        res.set_content(hubspot_error_body("VALIDATION_ERROR", message), "application/json;charset=UTF-8");
        return httplib::Server::HandlerResponse::Handled;
    }));
}

MockCrmServer::~MockCrmServer() { stop(); }

int MockCrmServer::bind(const std::string& host, int port) {
    if (port == 0) {
        port_ = http_->bind_to_any_port(host);
    } else {
        port_ = http_->bind_to_port(host, port) ? port : -1;
    }
    if (port_ < 0) throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port));
    return port_;
}

void MockCrmServer::run() { http_->listen_after_bind(); }

void MockCrmServer::start() {
    thread_ = std::thread([this] { run(); });
    // stop() before the accept loop is up would be a no-op and the join would hang.
    while (!http_->is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

void MockCrmServer::stop() {
    http_->stop();
    if (thread_.joinable()) thread_.join();
}

std::optional<LoadedState> MockCrmServer::load_state(const std::string& path) {
    return load_state_file(path, shared_);
}

void MockCrmServer::save_state(const std::string& path, bool stay_frozen) {
    std::unique_lock lock(shared_.mutex);
    save_state_file(path, shared_);
    if (stay_frozen) lock.release();  // never unlocked: handlers waiting for it never apply
}

void MockCrmServer::handle(const httplib::Request& req, httplib::Response& res) {
    try {
        std::string_view path(req.target);
        path = path.substr(0, path.find('?'));
        if (path == "/_mock" || path.starts_with("/_mock/")) {
            ControlContext ctx{shared_, stats_, faults_, tokens_, quotas_};
            ControlRequest control{req.method, path.substr(std::min<size_t>(path.size(), 7)), req.body, {}, {}};
            if (req.has_param("object")) control.object = req.get_param_value("object");
            if (req.has_param("key")) control.key = req.get_param_value("key");
            send(res, control_request(control, ctx));
            return;
        }
        handle_crm_request(req, res);
    } catch (const std::exception& e) {
        // A bug in the mock: answer 500 with the reason rather than take every test down.
        res.status = 500;
        res.set_content(webhook_error_body(std::string("mock CRM internal error: ") + e.what()),
                        "application/json;charset=UTF-8");
    }
}

void MockCrmServer::drop(const httplib::Request& req, httplib::Response& res) {
    if (!shut_down_connection(req.local_port, req.remote_addr, req.remote_port)) {
        std::fprintf(stderr, "crmsync-mock-crm: could not find the connection to drop\n");
    }
    // Never reaches the client: the socket is shut down, so writing this fails.
    res.status = 503;
    res.set_header("Connection", "close");
    if (options_.log_requests)
        std::fprintf(stderr, "%s %s -> connection dropped\n", req.method.c_str(), req.target.c_str());
}

void MockCrmServer::handle_crm_request(const httplib::Request& req, httplib::Response& res) {
    // Latency is commit to arrival: an injected slow response must not add to it.
    const int64_t received_us = wall_clock_now_us();
    std::string_view raw_path(req.target);
    raw_path = raw_path.substr(0, raw_path.find('?'));
    auto segments = split_path(req.target);
    Route route = segments ? route_of(req.method, *segments, raw_path, options_.webhook_path)
                           : Route{"unknown", ApiFormat::kNone, nullptr, {}};

    if (req.has_header("Idempotency-Key")) stats_.note_idempotency_key(req.get_header_value("Idempotency-Key"));
    FaultDecision fault = faults_.decide();
    if (fault.down || fault.drop) {
        stats_.count_fault(route.name, fault.down ? InjectedFault::kDown : InjectedFault::kDrop);
        drop(req, res);
        return;
    }

    HttpReply reply;
    const int64_t now_s = received_us / 1000000;
    // Both take the credential in their body, not as a bearer token.
    const bool token_endpoint = route.name == "salesforce.oauth_token" || route.name == "hubspot.access_token_info";
    int64_t expired_for_s = 0;
    TokenCheck auth = tokens_.required() && !token_endpoint
                          ? tokens_.check(req.get_header_value("Authorization"), now_s, &expired_for_s)
                          : TokenCheck::kValid;
    QuotaVerdict quota;
    if (auth == TokenCheck::kValid && !token_endpoint) {
        FaultSettings settings = faults_.settings();
        QuotaSettings q{settings.hubspot_per_10s, settings.hubspot_daily, settings.salesforce_daily};
        if (route.format == ApiFormat::kHubSpot) quota = quotas_.take_hubspot(q, received_us / 1000);
        if (route.format == ApiFormat::kSalesforce) quota = quotas_.take_salesforce(q, received_us / 1000);
    }
    if (route.format == ApiFormat::kHubSpot || route.format == ApiFormat::kSalesforce) {
        if (int64_t ms = latency_ms(options_.latency_median_ms, options_.latency_p99_ms); ms > 0)
            std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
    if (auth != TokenCheck::kValid) {
        reply = unauthorized(route.format, auth, expired_for_s);
    } else if (!quota.allowed) {
        reply = over_quota(route.format, quota.policy);
    } else if (route.name == "hubspot.access_token_info") {
        reply = access_token_info(req.body, tokens_);
    } else if (token_endpoint) {
        reply = salesforce_oauth_token(req.body, options_.oauth, tokens_,
                                       "http://" + req.local_addr + ":" + std::to_string(req.local_port), now_s);
    } else if (auto scope = route.format == ApiFormat::kHubSpot && !route.params.empty() && tokens_.required()
                                ? required_hubspot_scope(route.name, route.params.front())
                                : std::nullopt;
               scope && !has_scope(tokens_.scopes_of(bearer_token(req.get_header_value("Authorization"))), *scope)) {
        reply = missing_scopes_reply(*scope);
    } else {
        if (fault.slow_ms > 0) {
            stats_.count_fault(route.name, InjectedFault::kSlow);
            std::this_thread::sleep_for(std::chrono::milliseconds(fault.slow_ms));
        }
        if (fault.rate_limit) {
            stats_.count_fault(route.name, InjectedFault::kRateLimit);
            reply = {429,
                     error_body(route.format, "RATE_LIMITS",
                                "You have reached your secondly limit (injected by the mock CRM)."),
                     std::to_string(fault.retry_after_s)};
        } else if (fault.server_error) {
            stats_.count_fault(route.name, InjectedFault::kServerError);
            reply = {500, error_body(route.format, "INTERNAL_ERROR", "Internal error (injected by the mock CRM)."), {}};
        } else if (!route.handler) {
            reply = {404,
                     error_body(route.format, "NOT_FOUND",
                                "no such endpoint: " + req.method + " " + std::string(raw_path)),
                     {}};
        } else if ((!req.body.empty() || req.has_header("Content-Type")) &&
                   !req.get_header_value("Content-Type").starts_with("application/json")) {
            // The real APIs refuse other media types; catching a sender that forgot the header
            // here beats a puzzling failure once bodies grow past the form-encoding limit.
            reply = {415,
                     error_body(route.format, "UNSUPPORTED_MEDIA_TYPE",
                                "Content-Type must be application/json, got \"" +
                                    req.get_header_value("Content-Type") + "\""),
                     {}};
        } else {
            ApiRequest api;
            api.body = req.body;
            api.path_params = std::move(route.params);
            api.received_us = received_us;
            if (req.has_header("X-Crmsync-Commit-Time"))
                api.commit_time_us = parse_commit_time_us(req.get_header_value("X-Crmsync-Commit-Time"));
            api.reject_value = fault.reject_value;
            api.lock_row_rate = fault.lock_row_rate;
            api.omit_result_rate = fault.omit_result_rate;
            api.lock_row_seed = fault.lock_row_seed;
            ApiContext ctx{shared_, stats_};
            reply = route.handler(api, ctx);
        }
    }

    if (fault.drop_after_apply) {
        // The batch is applied but the sender never learns it: it must redeliver.
        stats_.count_fault(route.name, InjectedFault::kDrop);
        drop(req, res);
        return;
    }
    reply.headers.insert(reply.headers.end(), quota.headers.begin(), quota.headers.end());
    stats_.count_response(route.name, reply.status);
    if (options_.log_requests)
        std::fprintf(stderr, "%s %s -> %d\n", req.method.c_str(), req.target.c_str(), reply.status);
    send(res, reply);
}

}  // namespace crmsync::mock_crm
