// The auth layer: the JWT verifies with the key's public half and carries exactly the claims
// Salesforce documents, the form body is encoded right, token answers and OAuth errors are
// read as documented, sessions are renewed at 90 % (injected clock), a static token file is
// re-read on refresh, and no secret ever appears in an error or in describe().
#include "auth/jwt.hpp"
#include "auth/make_token_source.hpp"
#include "auth/salesforce_oauth.hpp"
#include "auth/static_token_source.hpp"

#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <unistd.h>

#include <fstream>
#include <memory>

using namespace crmsync::sender;
using namespace crmsync::sender::auth;
using namespace std::chrono_literals;

namespace {

struct PkeyFree {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string pem_of(EVP_PKEY* key, bool traditional = false) {
    BIO* bio = BIO_new(BIO_s_mem());
    const int ok = traditional ? PEM_write_bio_PrivateKey_traditional(bio, key, nullptr, nullptr, 0, nullptr, nullptr)
                               : PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    EXPECT_EQ(ok, 1);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return pem;
}

std::string public_pem_of(EVP_PKEY* key) {
    BIO* bio = BIO_new(BIO_s_mem());
    EXPECT_EQ(PEM_write_bio_PUBKEY(bio, key), 1);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    return pem;
}

std::string base64url_decode(std::string_view text) {
    std::string out;
    unsigned buffer = 0;
    int bits = 0;
    for (char c : text) {
        int v = -1;
        if (c >= 'A' && c <= 'Z') v = c - 'A';
        else if (c >= 'a' && c <= 'z') v = c - 'a' + 26;
        else if (c >= '0' && c <= '9') v = c - '0' + 52;
        else if (c == '-') v = 62;
        else if (c == '_') v = 63;
        EXPECT_NE(v, -1) << "not base64url: " << c;
        buffer = buffer << 6 | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out += static_cast<char>(buffer >> bits & 0xFF);
        }
    }
    return out;
}

std::vector<std::string> split_jwt(const std::string& jwt) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    for (std::size_t dot; (dot = jwt.find('.', start)) != std::string::npos; start = dot + 1)
        parts.push_back(jwt.substr(start, dot - start));
    parts.push_back(jwt.substr(start));
    return parts;
}

bool verifies(EVP_PKEY* key, const std::string& signed_part, const std::string& signature) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool ok = EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key) == 1 &&
                    EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                                     reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
    EVP_MD_CTX_free(ctx);
    return ok;
}

// One throwaway 2048-bit key for the whole binary: generating it is the slow part.
EVP_PKEY* test_key() {
    static Pkey key(EVP_RSA_gen(2048));
    return key.get();
}

const WallClock::time_point kNow = WallClock::time_point(1'700'000'000s);

void expect_no_secret(std::string_view text, std::initializer_list<std::string_view> secrets) {
    for (auto secret : secrets) EXPECT_EQ(text.find(secret), std::string_view::npos) << "secret \"" << secret << "\" in: " << text;
}

}  // namespace

// ---- base64url, JWT ----------------------------------------------------------------

TEST(Base64Url, Rfc4648VectorsWithoutPaddingAndWithTheUrlAlphabet) {
    EXPECT_EQ(base64url(""), "");
    EXPECT_EQ(base64url("f"), "Zg");
    EXPECT_EQ(base64url("fo"), "Zm8");
    EXPECT_EQ(base64url("foo"), "Zm9v");
    EXPECT_EQ(base64url("foob"), "Zm9vYg");
    EXPECT_EQ(base64url("fooba"), "Zm9vYmE");
    EXPECT_EQ(base64url("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64url("\xfb\xff"), "-_8");  // "+/8=" in standard base64
}

TEST(Jwt, SignedAssertionVerifiesWithThePublicKeyAndCarriesExactlyTheClaims) {
    const Secret pem(pem_of(test_key()));
    const JwtClaims claims{"3MVG9consumerKey", "integration@example.com", "https://login.salesforce.com", kNow + kJwtLifetime};
    auto jwt = sign_jwt_rs256(claims, pem);
    ASSERT_TRUE(jwt) << jwt.error();
    const auto parts = split_jwt(*jwt);
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(jwt->find('='), std::string::npos);  // no padding anywhere
    EXPECT_EQ(base64url_decode(parts[0]), R"({"alg":"RS256"})");
    EXPECT_EQ(base64url_decode(parts[1]), R"({"iss":"3MVG9consumerKey","sub":"integration@example.com",)"
                                          R"("aud":"https://login.salesforce.com","exp":1700000180})");
    EXPECT_EQ(parts[0] + "." + parts[1], jwt_signing_input(claims));
    const std::string signature = base64url_decode(parts[2]);
    EXPECT_EQ(signature.size(), 256u);  // RSA-2048
    EXPECT_TRUE(verifies(test_key(), parts[0] + "." + parts[1], signature));

    // The signature covers the claims: another subject does not verify with it.
    JwtClaims other = claims;
    other.subject = "someone-else@example.com";
    EXPECT_FALSE(verifies(test_key(), jwt_signing_input(other), signature));
}

TEST(Jwt, ExpiryIsAtMostThreeMinutesAndTruncatedToSeconds) {
    EXPECT_LE(kJwtLifetime, 180s);
    const JwtClaims claims{"k", "u", "https://test.salesforce.com", kNow + 1500ms};
    EXPECT_NE(base64url_decode(split_jwt(jwt_signing_input(claims))[1]).find(R"("exp":1700000001})"), std::string::npos);
}

TEST(Jwt, ClaimsAreJsonEscaped) {
    const JwtClaims claims{"k\"ey", "us\\er", "https://login.salesforce.com", kNow};
    EXPECT_EQ(base64url_decode(split_jwt(jwt_signing_input(claims))[1]),
              R"({"iss":"k\"ey","sub":"us\\er","aud":"https://login.salesforce.com","exp":1700000000})");
}

TEST(Jwt, TraditionalPkcs1PemIsAcceptedToo) {
    const Secret pem(pem_of(test_key(), /*traditional=*/true));
    ASSERT_NE(pem.reveal().find("BEGIN RSA PRIVATE KEY"), std::string::npos);
    EXPECT_TRUE(check_rsa_private_key(pem));
    auto jwt = sign_jwt_rs256({"k", "u", "https://login.salesforce.com", kNow}, pem);
    ASSERT_TRUE(jwt) << jwt.error();
    const auto parts = split_jwt(*jwt);
    EXPECT_TRUE(verifies(test_key(), parts[0] + "." + parts[1], base64url_decode(parts[2])));
}

TEST(Jwt, UnusableKeysSayWhatIsWrongWithoutTheirContent) {
    const std::string pem = pem_of(test_key());
    const std::string body_line = pem.substr(pem.find('\n') + 1, 40);  // a piece of the key material

    auto not_pem = check_rsa_private_key(Secret("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"));
    ASSERT_FALSE(not_pem);
    EXPECT_NE(not_pem.error().find("is not a PEM file"), std::string::npos);
    expect_no_secret(not_pem.error(), {"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"});

    auto public_only = check_rsa_private_key(Secret(public_pem_of(test_key())));
    ASSERT_FALSE(public_only);
    EXPECT_NE(public_only.error().find("holds no private key"), std::string::npos);

    auto encrypted = check_rsa_private_key(Secret("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n"));
    ASSERT_FALSE(encrypted);
    EXPECT_NE(encrypted.error().find("passphrase"), std::string::npos);

    std::string damaged = pem;
    damaged.replace(damaged.find('\n') + 5, 20, "!!!!!!!!!!!!!!!!!!!!");
    auto broken = sign_jwt_rs256({"k", "u", "a", kNow}, Secret(damaged));
    ASSERT_FALSE(broken);
    EXPECT_NE(broken.error().find("not a readable PEM private key"), std::string::npos);
    expect_no_secret(broken.error(), {body_line});

    Pkey ec(EVP_EC_gen("P-256"));
    auto not_rsa = check_rsa_private_key(Secret(pem_of(ec.get())));
    ASSERT_FALSE(not_rsa);
    EXPECT_NE(not_rsa.error().find("is not an RSA key"), std::string::npos);
}

// ---- the request body ----------------------------------------------------------------

TEST(FormEncode, ReservedCharactersArePercentEncodedAndSpaceIsPlus) {
    EXPECT_EQ(form_encode({{"a b", "x&y=z+%/?#~:@!$'()[],;"}}),
              "a+b=x%26y%3Dz%2B%25%2F%3F%23%7E%3A%40%21%24%27%28%29%5B%5D%2C%3B");
    EXPECT_EQ(form_encode({{"k", "AZaz09*-._"}}), "k=AZaz09*-._");
    EXPECT_EQ(form_encode({{"k", "\xc3\xa9\n\x01"}}), "k=%C3%A9%0A%01");
    EXPECT_EQ(form_encode({{"a", ""}, {"b", "1"}}), "a=&b=1");
    EXPECT_EQ(form_encode({}), "");
}

TEST(TokenRequestBody, RefreshTokenFlow) {
    SalesforceLogin login;
    login.method = AuthMethod::salesforce_refresh_token;
    login.client_id = "3MVG9.id";
    login.client_secret = Secret("s3cr+t/=");
    login.refresh_token = Secret("5Aep861..x=");
    auto body = token_request_body(login, kNow);
    ASSERT_TRUE(body);
    EXPECT_EQ(body->reveal(), "grant_type=refresh_token&client_id=3MVG9.id&client_secret=s3cr%2Bt%2F%3D"
                              "&refresh_token=5Aep861..x%3D");
    login.client_secret.reset();  // an app that does not require the secret
    EXPECT_EQ(token_request_body(login, kNow)->reveal(), "grant_type=refresh_token&client_id=3MVG9.id&refresh_token=5Aep861..x%3D");
}

TEST(TokenRequestBody, ClientCredentialsFlow) {
    SalesforceLogin login;
    login.method = AuthMethod::salesforce_client_credentials;
    login.login_url = "https://example.my.salesforce.com";
    login.client_id = "cid";
    login.client_secret = Secret("a&b");
    EXPECT_EQ(token_request_body(login, kNow)->reveal(), "grant_type=client_credentials&client_id=cid&client_secret=a%26b");
}

TEST(TokenRequestBody, JwtBearerFlowCarriesAVerifiableAssertion) {
    SalesforceLogin login;
    login.method = AuthMethod::salesforce_jwt;
    login.login_url = "https://test.salesforce.com";
    login.client_id = "cid";
    login.username = "u@example.com.sandbox";
    login.private_key = Secret(pem_of(test_key()));
    auto body = token_request_body(login, kNow);
    ASSERT_TRUE(body) << body.error();
    const std::string prefix = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=";
    ASSERT_EQ(body->reveal().rfind(prefix, 0), 0u) << body->reveal();
    const auto parts = split_jwt(body->reveal().substr(prefix.size()));  // base64url and dots need no encoding
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(base64url_decode(parts[1]),
              R"({"iss":"cid","sub":"u@example.com.sandbox","aud":"https://test.salesforce.com","exp":1700000180})");
    EXPECT_TRUE(verifies(test_key(), parts[0] + "." + parts[1], base64url_decode(parts[2])));
}

// ---- the answer ----------------------------------------------------------------------

TEST(TokenAnswerParsing, TheDocumentedSuccessAnswer) {
    auto answer = parse_token_answer(200, R"({"access_token":"00Dxx0000001gPL!AR8AQJXg5oj8jXSgxJfA0lBog.39AsX.LVpxezPwuX5VAIrrbbHMuol7GQxnMeYMN7cj8EoWr78nt1u44zU31IbYNNJguseu",
        "signature":"bGpQjXzKiWhPqvRbKk6dVp5QshMKWH9WpyG3rDtCN2E=","scope":"web openid api id",
        "instance_url":"https://yourInstance.salesforce.com/","id":"https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS",
        "token_type":"Bearer","issued_at":"1700000000123"})",
                                     AuthMethod::salesforce_jwt);
    ASSERT_TRUE(answer) << answer.error();
    EXPECT_EQ(answer->access_token.reveal().substr(0, 18), "00Dxx0000001gPL!AR");
    EXPECT_EQ(answer->instance_url, "https://yourInstance.salesforce.com");  // trailing slash dropped
    EXPECT_EQ(answer->token_type, "Bearer");
    EXPECT_EQ(answer->scope, "web openid api id");
    EXPECT_EQ(answer->id, "https://login.salesforce.com/id/00Dxx0000001gPLEAY/005xx000001SwiUAAS");
    EXPECT_EQ(answer->signature, "bGpQjXzKiWhPqvRbKk6dVp5QshMKWH9WpyG3rDtCN2E=");
    ASSERT_TRUE(answer->issued_at);
    EXPECT_EQ(*answer->issued_at, WallClock::time_point(1'700'000'000'123ms));
    EXPECT_FALSE(answer->refresh_token);
}

TEST(TokenAnswerParsing, ARotatedRefreshTokenIsKept) {
    auto answer = parse_token_answer(
        200, R"({"access_token":"AT","instance_url":"https://x.my.salesforce.com","refresh_token":"RT2"})",
        AuthMethod::salesforce_refresh_token);
    ASSERT_TRUE(answer) << answer.error();
    ASSERT_TRUE(answer->refresh_token);
    EXPECT_EQ(answer->refresh_token->reveal(), "RT2");
}

TEST(TokenAnswerParsing, IncompleteSuccessAnswersAreErrors) {
    auto no_token = parse_token_answer(200, R"({"instance_url":"https://x.my.salesforce.com"})", AuthMethod::salesforce_jwt);
    ASSERT_FALSE(no_token);
    EXPECT_NE(no_token.error().find("without an access_token"), std::string::npos);
    auto no_instance = parse_token_answer(200, R"({"access_token":"AT-SECRET"})", AuthMethod::salesforce_jwt);
    ASSERT_FALSE(no_instance);
    EXPECT_NE(no_instance.error().find("instance_url"), std::string::npos);
    expect_no_secret(no_instance.error(), {"AT-SECRET"});
    auto mac = parse_token_answer(200, R"({"access_token":"AT","instance_url":"https://x","token_type":"MAC"})",
                                  AuthMethod::salesforce_jwt);
    ASSERT_FALSE(mac);
    EXPECT_NE(mac.error().find("expected Bearer"), std::string::npos);
}

TEST(TokenAnswerParsing, OAuthErrorsSayWhatToFix) {
    struct Case {
        AuthMethod method;
        std::string body;
        std::vector<std::string> fragments;
    };
    const std::vector<Case> cases = {
        {AuthMethod::salesforce_jwt, R"({"error":"invalid_grant","error_description":"user hasn't approved this consumer"})",
         {"HTTP 400 invalid_grant", "\"user hasn't approved this consumer\"", "not pre-authorized", "Admin approved users are pre-authorized", "profile"}},
        {AuthMethod::salesforce_jwt, R"({"error":"invalid_client_id","error_description":"client identifier invalid"})",
         {"invalid_client_id", "auth.client_id is not the consumer key"}},
        {AuthMethod::salesforce_jwt, R"({"error":"invalid_grant","error_description":"audience is invalid"})",
         {"audience", "https://test.salesforce.com for sandboxes"}},
        {AuthMethod::salesforce_jwt, R"({"error":"invalid_grant","error_description":"invalid assertion"})",
         {"certificate uploaded to the connected app", "auth.private_key_file", "clock", "NTP"}},
        {AuthMethod::salesforce_jwt, R"({"error":"invalid_grant","error_description":"invalid user ID"})",
         {"auth.username is not a user of this org"}},
        {AuthMethod::salesforce_refresh_token, R"({"error":"invalid_grant","error_description":"expired access/refresh token"})",
         {"refresh token was revoked or expired", "auth.refresh_token_file"}},
        {AuthMethod::salesforce_client_credentials, R"({"error":"invalid_client","error_description":"invalid client credentials"})",
         {"auth.client_secret_file does not hold"}},
        {AuthMethod::salesforce_client_credentials, R"({"error":"invalid_grant","error_description":"no client credentials user enabled"})",
         {"run-as user", "Run As"}},
        {AuthMethod::salesforce_client_credentials, R"({"error":"unsupported_grant_type","error_description":"grant type not supported"})",
         {"does not allow this flow", "Enable Client Credentials Flow", "My Domain"}},
        {AuthMethod::salesforce_jwt, R"({"error":"inactive_user","error_description":"user is inactive"})", {"inactive or frozen"}},
        {AuthMethod::salesforce_jwt, R"({"error":"something_new"})", {"something_new", "OAuth 2.0 Authorization Errors"}},
    };
    for (const auto& c : cases) {
        auto answer = parse_token_answer(400, c.body, c.method);
        ASSERT_FALSE(answer) << c.body;
        for (const auto& fragment : c.fragments)
            EXPECT_NE(answer.error().find(fragment), std::string::npos) << "missing \"" << fragment << "\" in " << answer.error();
    }
}

TEST(TokenAnswerParsing, NonJsonAnswersNameTheStatus) {
    auto outage = parse_token_answer(503, "<html>Service Unavailable</html>", AuthMethod::salesforce_jwt);
    ASSERT_FALSE(outage);
    EXPECT_NE(outage.error().find("HTTP 503"), std::string::npos);
    EXPECT_NE(outage.error().find("not a JSON object"), std::string::npos);
    EXPECT_NE(outage.error().find("retries"), std::string::npos);
    auto not_found = parse_token_answer(404, "Not Found\r\n\x01", AuthMethod::salesforce_jwt);
    ASSERT_FALSE(not_found);
    EXPECT_NE(not_found.error().find("check auth.login_url"), std::string::npos);
    EXPECT_EQ(not_found.error().find('\x01'), std::string::npos);
}

// ---- SalesforceOAuth: timing and failures ---------------------------------------------

namespace {

// A token endpoint in memory: answers in order, records each request.
struct FakeTokenEndpoint {
    std::vector<Result<TokenHttpAnswer>> answers;
    std::vector<std::pair<std::string, std::string>> requests;  // url, body
    int logins = 0;

    TokenPost post() {
        return [this](const std::string& url, const Secret& body) -> Result<TokenHttpAnswer> {
            requests.emplace_back(url, body.reveal());
            ++logins;
            if (answers.empty()) return ok("AT-" + std::to_string(logins));
            auto next = answers.front();
            answers.erase(answers.begin());
            return next;
        };
    }
    static TokenHttpAnswer ok(const std::string& token) {
        return {200, R"({"access_token":")" + token + R"(","instance_url":"https://acme.my.salesforce.com",)"
                                                    R"("token_type":"Bearer","issued_at":"1700000000000"})"};
    }
};

SalesforceLogin refresh_login() {
    SalesforceLogin login;
    login.method = AuthMethod::salesforce_refresh_token;
    login.client_id = "cid";
    login.client_secret = Secret("CS-SECRET-123");
    login.refresh_token = Secret("RT-SECRET-456");
    return login;
}

}  // namespace

TEST(SalesforceOAuth, LogsInOnFirstUseAndRenewsAtNinetyPercentOfTheLifetime) {
    FakeTokenEndpoint endpoint;
    SalesforceOAuth source(refresh_login(), endpoint.post());

    auto first = source.token(kNow);
    ASSERT_TRUE(first) << first.error();
    EXPECT_EQ(endpoint.logins, 1);
    EXPECT_EQ(endpoint.requests[0].first, "https://login.salesforce.com/services/oauth2/token");
    EXPECT_EQ(first->value.reveal(), "AT-1");
    EXPECT_EQ(first->instance_url, "https://acme.my.salesforce.com");
    ASSERT_TRUE(first->expires_at);
    EXPECT_EQ(*first->expires_at, kNow + 2h);

    EXPECT_EQ(source.token(kNow + 1h)->value.reveal(), "AT-1");
    EXPECT_EQ(source.token(kNow + 6479s)->value.reveal(), "AT-1");  // 90 % of 7200 s is 6480 s
    EXPECT_EQ(endpoint.logins, 1);
    EXPECT_EQ(source.token(kNow + 6480s)->value.reveal(), "AT-2");
    EXPECT_EQ(endpoint.logins, 2);
    EXPECT_EQ(*source.token(kNow + 6480s)->expires_at, kNow + 6480s + 2h);
}

TEST(SalesforceOAuth, TheConfiguredLifetimeIsUsed) {
    FakeTokenEndpoint endpoint;
    SalesforceLogin login = refresh_login();
    login.session_lifetime = 1000s;
    SalesforceOAuth source(login, endpoint.post());
    ASSERT_TRUE(source.token(kNow));
    EXPECT_EQ(source.token(kNow + 899s)->value.reveal(), "AT-1");
    EXPECT_EQ(source.token(kNow + 900s)->value.reveal(), "AT-2");
}

TEST(SalesforceOAuth, ForcedRefreshLogsInAgainButNotForABurstOf401s) {
    FakeTokenEndpoint endpoint;
    SalesforceOAuth source(refresh_login(), endpoint.post());
    ASSERT_TRUE(source.token(kNow));
    ASSERT_TRUE(source.refresh(kNow + 60s, "HTTP 401 INVALID_SESSION_ID"));
    EXPECT_EQ(endpoint.logins, 2);
    EXPECT_EQ(source.token(kNow + 61s)->value.reveal(), "AT-2");
    // Other requests sent with AT-1 come back 401 right after: no second login.
    ASSERT_TRUE(source.refresh(kNow + 65s, "HTTP 401 INVALID_SESSION_ID"));
    EXPECT_EQ(endpoint.logins, 2);
    ASSERT_TRUE(source.refresh(kNow + 71s, "SIGHUP"));
    EXPECT_EQ(endpoint.logins, 3);
    // The renewal point moves with the forced login.
    EXPECT_EQ(source.token(kNow + 71s + 6479s)->value.reveal(), "AT-3");
}

TEST(SalesforceOAuth, AFailedRenewalKeepsTheValidTokenAndRetriesAfterAPause) {
    FakeTokenEndpoint endpoint;
    SalesforceOAuth source(refresh_login(), endpoint.post());
    ASSERT_TRUE(source.token(kNow));
    endpoint.answers = {TokenHttpAnswer{503, "<html>down</html>"}, Error{"Connection timed out after 10000 milliseconds"}};

    const auto renew = kNow + 6480s;
    auto kept = source.token(renew);  // renewal fails: the session has 12 minutes left
    ASSERT_TRUE(kept);
    EXPECT_EQ(kept->value.reveal(), "AT-1");
    EXPECT_EQ(endpoint.logins, 2);
    EXPECT_TRUE(source.token(renew + 29s));  // within the pause: no new attempt
    EXPECT_EQ(endpoint.logins, 2);
    auto forced = source.refresh(renew + 29s, "HTTP 401");
    ASSERT_FALSE(forced);  // also paused, with the reason of the last failure
    EXPECT_NE(forced.error().find("HTTP 503"), std::string::npos);
    EXPECT_EQ(endpoint.logins, 2);

    EXPECT_TRUE(source.token(renew + 30s));  // second attempt: transport error, token still valid
    EXPECT_EQ(endpoint.logins, 3);
    auto expired = source.token(kNow + 2h + 1s);  // third attempt: succeeds
    ASSERT_TRUE(expired) << expired.error();
    EXPECT_EQ(expired->value.reveal(), "AT-4");
}

TEST(SalesforceOAuth, AfterAFailedForcedRefreshTokenRetriesWithoutWaitingForTheRenewalPoint) {
    FakeTokenEndpoint endpoint;
    SalesforceOAuth source(refresh_login(), endpoint.post());
    ASSERT_TRUE(source.token(kNow));
    endpoint.answers = {TokenHttpAnswer{503, "down"}};
    EXPECT_FALSE(source.refresh(kNow + 1h, "HTTP 401 INVALID_SESSION_ID"));
    EXPECT_EQ(source.token(kNow + 1h + 10s)->value.reveal(), "AT-1");  // nothing better within the pause
    EXPECT_EQ(endpoint.logins, 2);
    EXPECT_EQ(source.token(kNow + 1h + 30s)->value.reveal(), "AT-3");  // long before the 90 % point
    EXPECT_EQ(endpoint.logins, 3);
    EXPECT_EQ(source.token(kNow + 1h + 31s)->value.reveal(), "AT-3");
    EXPECT_EQ(endpoint.logins, 3);
}

TEST(SalesforceOAuth, NoUsableTokenIsAnErrorThatSaysWhy) {
    FakeTokenEndpoint endpoint;
    endpoint.answers = {Error{"Could not resolve host: login.salesforce.com"}};
    SalesforceOAuth source(refresh_login(), endpoint.post());
    auto none = source.token(kNow);
    ASSERT_FALSE(none);
    EXPECT_NE(none.error().find("Salesforce login (salesforce_refresh_token login at login.salesforce.com"), std::string::npos)
        << none.error();
    EXPECT_NE(none.error().find("after start failed: cannot reach https://login.salesforce.com/services/oauth2/token: "
                                "Could not resolve host"),
              std::string::npos)
        << none.error();
    EXPECT_FALSE(source.token(kNow + 10s));  // paused, same error
    EXPECT_EQ(endpoint.logins, 1);
    EXPECT_TRUE(source.token(kNow + 30s));
}

TEST(SalesforceOAuth, ARotatedRefreshTokenIsUsedForTheNextRenewal) {
    FakeTokenEndpoint endpoint;
    endpoint.answers = {TokenHttpAnswer{200, R"({"access_token":"AT-1","instance_url":"https://x.my.salesforce.com","refresh_token":"RT-NEW"})"}};
    SalesforceOAuth source(refresh_login(), endpoint.post());
    ASSERT_TRUE(source.token(kNow));
    ASSERT_TRUE(source.refresh(kNow + 1h, "HTTP 401"));
    ASSERT_EQ(endpoint.requests.size(), 2u);
    EXPECT_NE(endpoint.requests[0].second.find("refresh_token=RT-SECRET-456"), std::string::npos);
    EXPECT_NE(endpoint.requests[1].second.find("refresh_token=RT-NEW"), std::string::npos);
}

TEST(SalesforceOAuth, NoSecretInAnyErrorOrDescription) {
    FakeTokenEndpoint endpoint;
    // A hostile or broken endpoint echoes the request body and the issued token back.
    endpoint.answers = {TokenHttpAnswer{200, R"({"access_token":"AT-SECRET-789","instance_url":"https://x.my.salesforce.com"})"}};
    SalesforceOAuth source(refresh_login(), endpoint.post());
    ASSERT_TRUE(source.token(kNow));
    const std::string echoed = "grant_type=refresh_token&client_id=cid&client_secret=CS-SECRET-123&refresh_token=RT-SECRET-456 AT-SECRET-789";
    endpoint.answers = {TokenHttpAnswer{400, R"({"error":"invalid_request","error_description":")" + echoed + R"("})"},
                        TokenHttpAnswer{502, echoed}, Error{echoed}};
    auto first = source.refresh(kNow + 1h, "HTTP 401");
    auto second = source.refresh(kNow + 2h, "SIGHUP");
    auto third = source.refresh(kNow + 3h, "SIGHUP");
    for (const Status* status : {&first, &second, &third}) {
        ASSERT_FALSE(*status);
        expect_no_secret(status->error(), {"CS-SECRET-123", "RT-SECRET-456", "AT-SECRET-789"});
        EXPECT_NE(status->error().find("***"), std::string::npos) << status->error();
    }
    expect_no_secret(source.describe(), {"CS-SECRET-123", "RT-SECRET-456", "AT-SECRET-789", "cid"});
    EXPECT_EQ(source.describe(), "salesforce_refresh_token login at login.salesforce.com (session assumed 7200 s, renewed at 90 %)");

    SalesforceLogin jwt;
    jwt.method = AuthMethod::salesforce_jwt;
    jwt.login_url = "https://test.salesforce.com";
    jwt.client_id = "cid";
    jwt.username = "u@example.com";
    jwt.private_key = Secret(pem_of(test_key()));
    FakeTokenEndpoint echo;
    SalesforceOAuth jwt_source(jwt, [&](const std::string& url, const Secret& body) -> Result<TokenHttpAnswer> {
        echo.requests.emplace_back(url, body.reveal());
        return TokenHttpAnswer{400, R"({"error":"invalid_grant","error_description":")" + body.reveal() + R"("})"};
    });
    auto rejected = jwt_source.token(kNow);
    ASSERT_FALSE(rejected);
    const std::string& key = jwt.private_key.reveal();
    expect_no_secret(rejected.error(), {key.substr(key.find('\n') + 1, 40)});
    const std::string assertion = echo.requests[0].second.substr(echo.requests[0].second.find("assertion=") + 10);
    expect_no_secret(rejected.error(), {assertion.substr(0, 150)});  // the form body is scrubbed as a whole

    // An endpoint that echoes only the assertion, or only the form-encoded secret.
    SalesforceOAuth assertion_echo(jwt, [&](const std::string&, const Secret& body) -> Result<TokenHttpAnswer> {
        const std::string sent = body.reveal().substr(body.reveal().find("assertion=") + 10);
        return TokenHttpAnswer{400, R"({"error":"invalid_grant","error_description":"bad: )" + sent + R"("})"};
    });
    auto echoed_assertion = assertion_echo.token(kNow);
    ASSERT_FALSE(echoed_assertion);
    EXPECT_NE(echoed_assertion.error().find("bad: ***"), std::string::npos) << echoed_assertion.error();
    SalesforceLogin encoded = refresh_login();
    encoded.client_secret = Secret("CS+SECRET/999");  // sent as CS%2BSECRET%2F999
    SalesforceOAuth secret_echo(encoded, [&](const std::string&, const Secret&) -> Result<TokenHttpAnswer> {
        return TokenHttpAnswer{401, R"({"error":"invalid_client","error_description":"secret CS%2BSECRET%2F999 is wrong"})"};
    });
    auto echoed_secret = secret_echo.token(kNow);
    ASSERT_FALSE(echoed_secret);
    expect_no_secret(echoed_secret.error(), {"CS%2BSECRET%2F999", "SECRET"});
    EXPECT_EQ(jwt_source.describe(), "salesforce_jwt login at test.salesforce.com as u@example.com (session assumed 7200 s, renewed at 90 %)");
}

// ---- StaticTokenSource -----------------------------------------------------------------

namespace {

class StaticTokenTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = std::filesystem::temp_directory_path() /
               ("crmsync_auth_test_" + std::to_string(::getpid()) + "_" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        std::filesystem::create_directories(dir_);
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    std::filesystem::path write(const std::string& name, const std::string& content) {
        std::ofstream(dir_ / name) << content;
        return dir_ / name;
    }
    std::filesystem::path dir_;
};

}  // namespace

TEST_F(StaticTokenTest, AFileIsReReadOnRefresh) {
    const auto path = write("crm.token", "pat-OLD-111\n");
    auto source = StaticTokenSource::from_file(path, Secret("pat-OLD-111"));
    EXPECT_EQ(source.token(kNow)->value.reveal(), "pat-OLD-111");
    EXPECT_FALSE(source.token(kNow)->expires_at);
    EXPECT_FALSE(source.token(kNow)->instance_url);

    write("crm.token", "  pat-NEW-222\r\n");
    ASSERT_TRUE(source.refresh(kNow, "SIGHUP"));
    EXPECT_EQ(source.token(kNow)->value.reveal(), "pat-NEW-222");
    EXPECT_EQ(source.describe(), "static token from file \"" + path.string() + "\" (re-read on SIGHUP and on HTTP 401)");
}

TEST_F(StaticTokenTest, ABrokenFileKeepsThePreviousTokenAndSaysWhatIsWrong) {
    const auto path = write("crm.token", "pat-GOOD-333");
    auto source = StaticTokenSource::from_file(path, Secret("pat-GOOD-333"));

    write("crm.token", "\n");
    auto empty = source.refresh(kNow, "HTTP 401");
    ASSERT_FALSE(empty);
    EXPECT_NE(empty.error().find("token_file \"" + path.string() + "\" is empty"), std::string::npos) << empty.error();
    EXPECT_NE(empty.error().find("after HTTP 401, keeping the previous token"), std::string::npos) << empty.error();
    EXPECT_EQ(source.token(kNow)->value.reveal(), "pat-GOOD-333");

    write("crm.token", "pat-BAD 444");
    auto spaced = source.refresh(kNow, "SIGHUP");
    ASSERT_FALSE(spaced);
    EXPECT_NE(spaced.error().find("whitespace or control characters"), std::string::npos);
    expect_no_secret(spaced.error(), {"pat-BAD", "444", "pat-GOOD-333"});
    EXPECT_EQ(source.token(kNow)->value.reveal(), "pat-GOOD-333");

    std::filesystem::remove(path);
    auto missing = source.refresh(kNow, "SIGHUP");
    ASSERT_FALSE(missing);
    EXPECT_NE(missing.error().find("cannot be read: No such file or directory"), std::string::npos) << missing.error();
    expect_no_secret(missing.error() + source.describe(), {"pat-GOOD-333"});
    EXPECT_EQ(source.token(kNow)->value.reveal(), "pat-GOOD-333");

    std::filesystem::create_directories(path);
    auto directory = source.refresh(kNow, "SIGHUP");
    ASSERT_FALSE(directory);
    EXPECT_NE(directory.error().find("is a directory"), std::string::npos);
}

TEST_F(StaticTokenTest, EnvironmentAndNoTokenKeepTheirValue) {
    auto env = StaticTokenSource::from_environment("HUBSPOT_TOKEN", Secret("pat-ENV-555"));
    EXPECT_TRUE(env.refresh(kNow, "SIGHUP"));
    EXPECT_EQ(env.token(kNow)->value.reveal(), "pat-ENV-555");
    EXPECT_EQ(env.describe(), "static token from environment variable HUBSPOT_TOKEN");

    StaticTokenSource none;
    EXPECT_TRUE(none.refresh(kNow, "SIGHUP"));
    EXPECT_TRUE(none.token(kNow)->value.empty());
    EXPECT_EQ(none.describe(), "no token (no Authorization header)");
}

TEST_F(StaticTokenTest, TheFactoryFollowsTheConfig) {
    const auto path = write("crm.token", "pat-F-666");
    std::ofstream(dir_ / "key.pem") << pem_of(test_key());
    std::ofstream(dir_ / "crm.toml") << "";
    const auto parse = [&](const std::string& text, const Environment& env = {}) {
        auto load = parse_config(text, (dir_ / "crm.toml").string(), env);
        EXPECT_TRUE(load.config) << (load.errors.empty() ? "" : load.errors[0]);
        return load;
    };
    auto file = parse("[source]\ncrm = \"c\"\n[target]\nformat = \"hubspot\"\ntoken_file = \"crm.token\"\n");
    ASSERT_TRUE(file.config);
    EXPECT_EQ(make_token_source(*file.config, nullptr)->describe(),
              "static token from file \"" + path.string() + "\" (re-read on SIGHUP and on HTTP 401)");
    auto env = parse("[source]\ncrm = \"c\"\n[target]\nformat = \"hubspot\"\ntoken_env = \"T\"\n", {{"T", "pat-E"}});
    ASSERT_TRUE(env.config);
    EXPECT_EQ(make_token_source(*env.config, nullptr)->describe(), "static token from environment variable T");
    auto none = parse("[source]\ncrm = \"c\"\n[target]\nformat = \"hubspot\"\n");
    ASSERT_TRUE(none.config);
    EXPECT_TRUE(make_token_source(*none.config, nullptr)->token(kNow)->value.empty());

    auto jwt = parse("[source]\ncrm = \"c\"\n[target]\nformat = \"salesforce\"\n[auth]\nmethod = \"salesforce_jwt\"\n"
                     "client_id = \"cid\"\nusername = \"u@example.com\"\nprivate_key_file = \"key.pem\"\n"
                     "session_lifetime_s = 3600\n");
    ASSERT_TRUE(jwt.config);
    FakeTokenEndpoint endpoint;
    auto source = make_token_source(*jwt.config, endpoint.post());
    EXPECT_EQ(source->describe(), "salesforce_jwt login at login.salesforce.com as u@example.com (session assumed 3600 s, renewed at 90 %)");
    auto token = source->token(kNow);
    ASSERT_TRUE(token) << token.error();
    EXPECT_EQ(*token->expires_at, kNow + 1h);
    ASSERT_EQ(endpoint.requests.size(), 1u);
    EXPECT_EQ(endpoint.requests[0].second.rfind("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=", 0), 0u);
}
