#include "app/credentials.hpp"

#include "auth/make_token_source.hpp"
#include "auth/token_http.hpp"

namespace crmsync::sender {

Credentials::Credentials(const Config& config, HttpClient& http)
    : config_(config),
      http_(http),
      source_(auth::make_token_source(config, auth::curl_token_post(config.target.timeout))),
      base_url_(config.target.url) {}

Status Credentials::apply(const auth::AccessToken& token) {
    http_.set_bearer_token(token.value);
    if (config_.target.url.empty()) {
        if (!token.instance_url)
            return Error{"the login answer has no instance_url and target.url is not set: set target.url to the "
                         "org's API address (https://<my-domain>.my.salesforce.com)"};
        base_url_ = *token.instance_url;
    }
    have_token_ = true;
    return ok_status();
}

Status Credentials::keep_current() {
    const auto now = std::chrono::steady_clock::now();
    if (have_token_ && now - last_check_ < std::chrono::seconds(1)) return ok_status();
    last_check_ = now;
    auto token = source_->token(auth::WallClock::now());
    if (!token) return Error{token.error()};
    return apply(*token);
}

bool Credentials::renew(std::string_view reason, std::string& why) {
    if (auto refreshed = source_->refresh(auth::WallClock::now(), reason); !refreshed) {
        why = refreshed.error();
        return false;
    }
    auto token = source_->token(auth::WallClock::now());
    if (!token) {
        why = token.error();
        return false;
    }
    if (auto applied = apply(*token); !applied) {
        why = applied.error();
        return false;
    }
    last_check_ = std::chrono::steady_clock::now();
    return true;
}

}  // namespace crmsync::sender
