// Where the sender's bearer token comes from, and when it is renewed.
//
// The delivery engine asks token(now) before building a request (cheap: the cached token
// unless it is about to expire), calls refresh(now, reason) when the CRM says the token is no
// longer good (HTTP 401, Salesforce INVALID_SESSION_ID) or on SIGHUP, and puts the result into
// HttpClient::set_bearer_token(). Requests already in flight keep the token they were built
// with. Single-threaded: call from the event loop only. Calls may block for one login request
// (at most [target] timeout_ms).
//
// Invariant: no error text and no describe() contains a secret (token, client secret, refresh
// token, private key); they may be logged as they are.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/config.hpp"
#include "core/result.hpp"
#include "core/secret.hpp"

namespace crmsync::sender::auth {

using WallClock = std::chrono::system_clock;  // JWT exp and Salesforce issued_at are wall time

struct AccessToken {
    Secret value;                              // empty: send no Authorization header
    std::optional<std::string> instance_url;   // Salesforce: the org's API base URL, e.g. https://x.my.salesforce.com
    std::optional<WallClock::time_point> expires_at;  // assumed (Salesforce does not say); none: until refreshed
};

class TokenSource {
public:
    virtual ~TokenSource() = default;

    // The current token, renewed first when it expires within the source's margin. When a
    // renewal fails but the current token has not expired yet, the current token is returned
    // (the failure is retried later); an Error only when there is no usable token.
    virtual Result<AccessToken> token(WallClock::time_point now) = 0;

    // Renew now, whatever the expiry says. `reason` is for the error text ("HTTP 401",
    // "SIGHUP"). On an Error the previous token is kept: token() returns it while it has not
    // expired, and tries to renew again (SalesforceOAuth: after a 30 s pause).
    virtual Status refresh(WallClock::time_point now, std::string_view reason) = 0;

    // For logs: the method and where the token comes from (file name, variable name, login
    // host, user). Never a secret.
    virtual std::string describe() const = 0;
};

}  // namespace crmsync::sender::auth
