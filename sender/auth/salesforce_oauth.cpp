#include "auth/salesforce_oauth.hpp"

#include "auth/jwt.hpp"
#include "core/rapidjson.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace crmsync::sender::auth {

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// Text from the server, made safe for one log line and kept short.
std::string printable(std::string_view text, std::size_t max = 200) {
    std::string out;
    for (char c : text.substr(0, max)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) ? ' ' : c;
    if (text.size() > max) out += "...";
    return out;
}

std::string host_of(std::string_view url) {
    const auto scheme = url.find("://");
    return std::string(scheme == std::string_view::npos ? url : url.substr(scheme + 3));
}

// What to change, for the error codes and descriptions Salesforce documents or is known to
// send. The description is matched loosely (lower case, substrings): its wording varies.
std::string what_to_fix(std::string_view code, std::string_view description, AuthMethod method) {
    const std::string d = lower(description);
    const auto has = [&](std::string_view part) { return d.find(part) != std::string::npos; };
    if (has("approve") || code == "invalid_app_access")
        return "the user is not pre-authorized for the connected app: in its OAuth policies set Permitted Users to "
               "\"Admin approved users are pre-authorized\" and add the user's profile or a permission set to the app";
    if (has("audience"))
        return "the JWT audience (auth.login_url) is not what this org expects: https://login.salesforce.com for "
               "production, https://test.salesforce.com for sandboxes";
    if (code == "invalid_client_id" || has("client identifier"))
        return "auth.client_id is not the consumer key of a connected app of this org (copy it from the app's "
               "\"Consumer Key\"; a sandbox has its own copy of the app after a refresh only)";
    if (has("client credentials user") || has("run-as") || has("run as"))
        return "the connected app has no run-as user for the client credentials flow: enable \"Client Credentials "
               "Flow\" and set \"Run As\" in its policies";
    if (code == "invalid_client" || has("client secret") || has("client credentials"))
        return "auth.client_secret_file does not hold this connected app's consumer secret (or auth.client_id "
               "names another app)";
    if (code == "unsupported_grant_type" || has("grant type not supported"))
        return std::string("the connected app does not allow this flow: enable it in the app's OAuth settings") +
               (method == AuthMethod::salesforce_client_credentials
                    ? " (\"Enable Client Credentials Flow\"), and use the My Domain login URL"
                    : "");
    if (has("ip restrict") || has("ip address"))
        return "this host's IP address is not allowed: relax the connected app's IP restrictions or add the "
               "address to the user's profile login IP ranges";
    if (code == "inactive_user" || has("inactive user") || has("frozen"))
        return "the Salesforce user is inactive or frozen: reactivate it or use another integration user";
    if (code == "inactive_org" || has("inactive org") || has("organization is locked"))
        return "the org is locked, inactive or has no API access in its edition";
    if (code == "rate_limit_exceeded" || has("rate limit"))
        return "too many logins: Salesforce limits logins per user per hour; the sender retries later";
    if (code == "invalid_request" && has("secret"))
        return "the connected app requires its consumer secret: set auth.client_secret_file";
    if (code == "invalid_grant") {
        switch (method) {
            case AuthMethod::salesforce_jwt:
                if (has("user"))
                    return "auth.username is not a user of this org (sandbox usernames end in .<sandbox name>; "
                           "sandboxes log in at https://test.salesforce.com)";
                return "the JWT was rejected: the certificate uploaded to the connected app must match "
                       "auth.private_key_file, auth.client_id must be that app's consumer key, and this host's "
                       "clock must be right (NTP; the assertion expires 3 minutes after it is made)";
            case AuthMethod::salesforce_refresh_token:
                return "the refresh token was revoked or expired (the app's refresh token policy, a revoked "
                       "connection, or a rotated token): obtain a new one and write it to auth.refresh_token_file";
            case AuthMethod::salesforce_client_credentials:
                return "the client credentials were rejected: check auth.client_id, auth.client_secret_file and "
                       "the app's run-as user";
            case AuthMethod::static_token: break;
        }
    }
    return "see Salesforce Help \"OAuth 2.0 Authorization Errors\"";
}

std::string string_member(const rapidjson::Value& object, const char* name) {
    auto found = object.FindMember(name);
    if (found == object.MemberEnd() || !found->value.IsString()) return "";
    return std::string(found->value.GetString(), found->value.GetStringLength());
}

}  // namespace

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    std::string out;
    const auto encode = [&](std::string_view text) {
        for (char ch : text) {
            const auto c = static_cast<unsigned char>(ch);
            if (std::isalnum(c) || c == '*' || c == '-' || c == '.' || c == '_') out += ch;
            else if (c == ' ') out += '+';
            else {
                out += '%';
                out += kHex[c >> 4];
                out += kHex[c & 15];
            }
        }
    };
    for (std::size_t i = 0; i < fields.size(); ++i) {
        if (i) out += '&';
        encode(fields[i].first);
        out += '=';
        encode(fields[i].second);
    }
    return out;
}

SalesforceLogin SalesforceLogin::from(const AuthConfig& auth) {
    SalesforceLogin login;
    login.method = auth.method;
    login.login_url = auth.login_url;
    login.client_id = auth.client_id;
    login.username = auth.username;
    if (auth.private_key) login.private_key = *auth.private_key;
    login.client_secret = auth.client_secret;
    if (auth.refresh_token) login.refresh_token = *auth.refresh_token;
    login.session_lifetime = auth.session_lifetime;
    return login;
}

Result<Secret> token_request_body(const SalesforceLogin& login, WallClock::time_point now) {
    switch (login.method) {
        case AuthMethod::salesforce_jwt: {
            const JwtClaims claims{login.client_id, login.username, login.login_url, now + kJwtLifetime};
            auto assertion = sign_jwt_rs256(claims, login.private_key);
            if (!assertion) return Error{assertion.error()};
            return Secret(form_encode({{"grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"},
                                       {"assertion", *assertion}}));
        }
        case AuthMethod::salesforce_refresh_token: {
            std::vector<std::pair<std::string, std::string>> fields{{"grant_type", "refresh_token"},
                                                                    {"client_id", login.client_id}};
            if (login.client_secret) fields.emplace_back("client_secret", login.client_secret->reveal());
            fields.emplace_back("refresh_token", login.refresh_token.reveal());
            return Secret(form_encode(fields));
        }
        case AuthMethod::salesforce_client_credentials:
            return Secret(form_encode({{"grant_type", "client_credentials"},
                                       {"client_id", login.client_id},
                                       {"client_secret", login.client_secret ? login.client_secret->reveal() : ""}}));
        case AuthMethod::static_token: break;
    }
    return Error{"no Salesforce login method configured"};
}

Result<TokenAnswer> parse_token_answer(long status, std::string_view body, AuthMethod method) {
    rapidjson::Document document;
    bool parsed = false;
    try {
        document.Parse(body.data(), body.size());
        parsed = !document.HasParseError() && document.IsObject();
    } catch (const std::logic_error&) {
        parsed = false;
    }
    const std::string http = "HTTP " + std::to_string(status);
    if (!parsed) {
        // A proxy's or load balancer's page, or an outage: no OAuth error to interpret.
        return Error{http + " from the token endpoint with a body that is not a JSON object (" +
                     printable(body, 120) + ")" +
                     (status >= 500 || status == 0 ? "; Salesforce is unavailable, the sender retries"
                                                   : "; check auth.login_url")};
    }
    const std::string code = string_member(document, "error");
    if (status < 200 || status >= 300 || !code.empty()) {
        const std::string description = string_member(document, "error_description");
        return Error{http + " " + (code.empty() ? std::string("(no error code)") : printable(code, 60)) +
                     (description.empty() ? "" : " \"" + printable(description) + "\"") + ": " +
                     what_to_fix(code, description, method)};
    }
    TokenAnswer answer;
    answer.access_token = Secret(string_member(document, "access_token"));
    answer.instance_url = string_member(document, "instance_url");
    answer.token_type = string_member(document, "token_type");
    answer.scope = string_member(document, "scope");
    answer.id = string_member(document, "id");
    answer.signature = string_member(document, "signature");
    if (std::string refresh = string_member(document, "refresh_token"); !refresh.empty())
        answer.refresh_token = Secret(std::move(refresh));
    if (const std::string issued = string_member(document, "issued_at"); !issued.empty()) {
        long long ms = 0;
        auto [end, ec] = std::from_chars(issued.data(), issued.data() + issued.size(), ms);
        if (ec == std::errc() && end == issued.data() + issued.size())
            answer.issued_at = WallClock::time_point(std::chrono::milliseconds(ms));
    }
    if (answer.access_token.empty()) return Error{http + " answer without an access_token"};
    for (unsigned char c : answer.access_token.reveal())
        if (c < 0x21 || c > 0x7E) return Error{http + " answer whose access_token is not one line of visible ASCII"};
    // The API calls go to instance_url: only an absolute http(s) URL is accepted.
    while (answer.instance_url.ends_with('/')) answer.instance_url.pop_back();
    if (answer.instance_url.rfind("https://", 0) != 0 && answer.instance_url.rfind("http://", 0) != 0)
        return Error{http + " answer without a usable instance_url (" + printable(answer.instance_url, 80) + ")"};
    if (!answer.token_type.empty() && lower(answer.token_type) != "bearer")
        return Error{http + " answer with token_type " + printable(answer.token_type, 40) + "; expected Bearer"};
    return answer;
}

SalesforceOAuth::SalesforceOAuth(SalesforceLogin login, TokenPost post) : login_(std::move(login)), post_(std::move(post)) {}

std::string SalesforceOAuth::describe() const {
    std::string out = std::string(auth_method_name(login_.method)) + " login at " + host_of(login_.login_url);
    if (login_.method == AuthMethod::salesforce_jwt) out += " as " + login_.username;
    return out + " (session assumed " + std::to_string(login_.session_lifetime.count()) + " s, renewed at 90 %)";
}

std::string SalesforceOAuth::scrubbed(std::string message, const std::optional<Secret>& form_body) const {
    std::vector<std::string_view> secrets{login_.private_key.reveal(), login_.refresh_token.reveal()};
    if (login_.client_secret) secrets.push_back(login_.client_secret->reveal());
    if (current_) secrets.push_back(current_->value.reveal());
    if (form_body) {
        // The body as a whole, and each credential in it as sent (form-encoded; the JWT
        // assertion exists nowhere else): a server may echo any of them.
        const std::string_view body = form_body->reveal();
        secrets.push_back(body);
        for (std::string_view rest = body; !rest.empty();) {
            const std::string_view field = rest.substr(0, rest.find('&'));
            rest.remove_prefix(std::min(rest.size(), field.size() + 1));
            const auto eq = field.find('=');
            if (eq == std::string_view::npos) continue;
            const std::string_view name = field.substr(0, eq);
            if (name == "assertion" || name == "client_secret" || name == "refresh_token") secrets.push_back(field.substr(eq + 1));
        }
    }
    for (std::string_view text : secrets) {
        if (text.empty()) continue;
        for (auto at = message.find(text); at != std::string::npos; at = message.find(text, at + 3))
            message.replace(at, text.size(), "***");
    }
    return message;
}

Status SalesforceOAuth::log_in(WallClock::time_point now, std::string_view reason) {
    const std::string context = "Salesforce login (" + describe() + ") after " + std::string(reason) + " failed: ";
    auto fail = [&](const std::string& detail, const std::optional<Secret>& body) -> Status {
        failed_at_ = now;
        last_error_ = scrubbed(context + detail, body);
        return Error{last_error_};
    };
    auto body = token_request_body(login_, now);
    if (!body) return fail(body.error(), std::nullopt);
    if (!post_) return fail("no HTTP client to reach " + token_url(), *body);
    auto answer = post_(token_url(), *body);
    if (!answer) return fail("cannot reach " + token_url() + ": " + answer.error(), *body);
    auto parsed = parse_token_answer(answer->status, answer->body, login_.method);
    if (!parsed) {
        // The message quotes the server's text shortened: scrub the text before it is cut, or
        // an echoed secret would survive as a prefix.
        auto clean = parse_token_answer(answer->status, scrubbed(answer->body, *body), login_.method);
        return fail(clean ? parsed.error() : clean.error(), *body);
    }

    // A connected app with refresh token rotation answers with a new refresh token and
    // invalidates the old one: the next renewal must use the new one.
    if (parsed->refresh_token) login_.refresh_token = *parsed->refresh_token;
    current_ = AccessToken{parsed->access_token, parsed->instance_url, now + login_.session_lifetime};
    obtained_at_ = now;
    renew_at_ = now + std::chrono::duration_cast<WallClock::duration>(login_.session_lifetime * kRenewAtFraction);
    failed_at_.reset();
    last_error_.clear();
    return ok_status();
}

Result<AccessToken> SalesforceOAuth::token(WallClock::time_point now) {
    if (current_ && now < renew_at_) return *current_;
    const bool still_valid = current_ && current_->expires_at && now < *current_->expires_at;
    if (failed_at_ && now < *failed_at_ + kRetryAfterFailure) {
        if (still_valid) return *current_;
        return Error{last_error_};
    }
    Status renewed = log_in(now, current_ ? "the session reached 90 % of its assumed lifetime" : "start");
    if (renewed || still_valid) return *current_;
    return Error{renewed.error()};
}

Status SalesforceOAuth::refresh(WallClock::time_point now, std::string_view reason) {
    if (current_ && now >= obtained_at_ && now < obtained_at_ + kFreshEnough) return ok_status();
    // The session was rejected: if this login fails, token() tries again after the pause
    // instead of waiting for the 90 % point.
    renew_at_ = std::min(renew_at_, now);
    if (failed_at_ && now < *failed_at_ + kRetryAfterFailure) return Error{last_error_};
    return log_in(now, reason);
}

}  // namespace crmsync::sender::auth
