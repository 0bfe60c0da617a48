// Keeps the HTTP client's bearer token and the CRM's base URL current (docs/security.md,
// "Authentication"): asks the token source before expiry, renews on the CRM's 401 and on
// SIGHUP, and for a Salesforce login takes the API base URL from the token answer's
// instance_url when target.url is not set. Event-loop thread only.
#pragma once
#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "auth/token_source.hpp"
#include "core/config.hpp"
#include "core/result.hpp"
#include "io/http_client.hpp"

namespace crmsync::sender {

class Credentials {
public:
    Credentials(const Config& config, HttpClient& http);

    // The current token onto the client (renewing it first when it is about to expire). Cheap
    // when nothing changed; called every event-loop turn, at most once a second.
    Status keep_current();
    // Renew now (the CRM refused the token, or SIGHUP): true when a new token is in use.
    bool renew(std::string_view reason, std::string& why);
    // Where requests go: target.url, else the login's instance_url.
    const std::string& base_url() const { return base_url_; }
    std::string describe() const { return source_->describe(); }

private:
    Status apply(const auth::AccessToken& token);

    const Config& config_;
    HttpClient& http_;
    std::unique_ptr<auth::TokenSource> source_;
    std::string base_url_;
    std::chrono::steady_clock::time_point last_check_{};
    bool have_token_ = false;
};

}  // namespace crmsync::sender
