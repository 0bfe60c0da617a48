// Logging in to Salesforce and renewing the session before it expires, with the server-to-
// server OAuth 2.0 flows Salesforce documents (Salesforce Help):
//   JWT bearer          "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration"
//                       https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm
//                       grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer, assertion=<JWT>
//   refresh token       "OAuth 2.0 Refresh Token Flow for Renewed Sessions"
//                       https://help.salesforce.com/apex/HTViewHelpDoc?id=remoteaccess_oauth_refresh_token_flow.htm
//                       grant_type=refresh_token, client_id, client_secret (optional), refresh_token
//   client credentials  "OAuth 2.0 Client Credentials Flow for Server-to-Server Integration"
//                       (Salesforce Help, search by that title)
//                       grant_type=client_credentials, client_id, client_secret; only at the My Domain
// Each is one POST of application/x-www-form-urlencoded to <login_url>/services/oauth2/token.
// The answer (access_token, instance_url, issued_at, token_type, scope, id, signature) carries
// no lifetime: the session timeout is set in the org, so the lifetime is configured
// ([auth] session_lifetime_s, default 2 h) and the session is renewed at 90 % of it, or at once
// when the CRM rejects it. Errors ("OAuth 2.0 Authorization Errors",
// https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_flow_errors.htm) are
// {"error":"invalid_grant","error_description":"..."}; they are turned into what to fix.
//
// The pure parts (form encoding, the request body, answer parsing) are free functions; the
// HTTP call is an injected TokenPost so tests need no network (auth/token_http.hpp has the
// libcurl one).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "auth/token_source.hpp"

namespace crmsync::sender::auth {

// application/x-www-form-urlencoded, as the WHATWG URL standard serializes it: letters, digits
// and *-._ as they are, space as +, every other byte %XX (upper-case hex).
std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields);

// The settings of one login; the secrets as loaded by the config.
struct SalesforceLogin {
    AuthMethod method = AuthMethod::salesforce_jwt;
    std::string login_url = "https://login.salesforce.com";
    std::string client_id;
    std::string username;                 // JWT only
    Secret private_key;                   // JWT only: PEM
    std::optional<Secret> client_secret;  // refresh token (optional), client credentials
    Secret refresh_token;                 // refresh token only
    std::chrono::seconds session_lifetime{7200};

    static SalesforceLogin from(const AuthConfig& auth);
};

// The form body of the token request at `now` (the JWT's exp is now + 3 min). A Secret: it
// holds the credentials.
Result<Secret> token_request_body(const SalesforceLogin& login, WallClock::time_point now);

// A successful answer, as documented.
struct TokenAnswer {
    Secret access_token;
    std::string instance_url;
    std::optional<WallClock::time_point> issued_at;  // Salesforce's clock, milliseconds since the epoch
    std::string token_type;                          // "Bearer"
    std::string scope;
    std::string id;                                  // identity URL
    std::string signature;
    std::optional<Secret> refresh_token;             // a rotated refresh token, when the app rotates them
};

// `status` and `body` of the token endpoint's answer. An error answer becomes a message with
// the OAuth error code, Salesforce's description and what to change for `method`.
Result<TokenAnswer> parse_token_answer(long status, std::string_view body, AuthMethod method);

struct TokenHttpAnswer {
    long status = 0;
    std::string body;
};
// One blocking POST of a form body; an Error only when no HTTP answer came (DNS, TLS, timeout).
using TokenPost = std::function<Result<TokenHttpAnswer>(const std::string& url, const Secret& form_body)>;

class SalesforceOAuth final : public TokenSource {
public:
    // Renewal point within the assumed session lifetime.
    static constexpr double kRenewAtFraction = 0.9;
    // After a failed login, the next attempt waits this long (token() and refresh() alike): a
    // burst of 401s or a broken connected app does not hammer the login endpoint (Salesforce
    // limits logins per user and hour).
    static constexpr std::chrono::seconds kRetryAfterFailure{30};
    // A forced refresh this soon after a successful login is answered with the fresh token: the
    // 401s of requests sent with the previous token arrive after it was already renewed.
    static constexpr std::chrono::seconds kFreshEnough{10};

    SalesforceOAuth(SalesforceLogin login, TokenPost post);

    Result<AccessToken> token(WallClock::time_point now) override;
    Status refresh(WallClock::time_point now, std::string_view reason) override;
    std::string describe() const override;

    std::string token_url() const { return login_.login_url + "/services/oauth2/token"; }

private:
    Status log_in(WallClock::time_point now, std::string_view reason);
    // Every secret this login knows, and those in the request body, replaced by ***.
    std::string scrubbed(std::string message, const std::optional<Secret>& form_body = std::nullopt) const;

    SalesforceLogin login_;
    TokenPost post_;
    std::optional<AccessToken> current_;
    WallClock::time_point obtained_at_{};
    WallClock::time_point renew_at_{};
    std::optional<WallClock::time_point> failed_at_;
    std::string last_error_;
};

}  // namespace crmsync::sender::auth
