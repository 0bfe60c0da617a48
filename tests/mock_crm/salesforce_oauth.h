// Salesforce's OAuth 2.0 token endpoint, POST /services/oauth2/token (form-encoded), for the
// three server-to-server flows:
//   grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer  assertion=<RS256 JWT>
//     "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration"
//     https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm
//     (iss = consumer key, sub = username, aud = login URL, exp within 3 minutes, RS256 signed
//     with the certificate uploaded to the connected app)
//   grant_type=refresh_token  refresh_token, client_id, client_secret
//     "OAuth 2.0 Refresh Token Flow" https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_refresh_token_flow.htm
//   grant_type=client_credentials  client_id, client_secret
//     "OAuth 2.0 Client Credentials Flow" https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_client_credentials_flow.htm
// Success: 200 {"access_token","instance_url","id","token_type":"Bearer","issued_at",
// "signature","scope"}; errors: 400 {"error":...,"error_description":...} ("OAuth 2.0 Token
// Endpoint errors", the flows' pages: invalid_grant, invalid_client_id, invalid_client,
// unsupported_grant_type). Issued tokens go to the TokenStore and expire with --token-ttl-s.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "api_common.h"
#include "tokens.h"

namespace crmsync::mock_crm {

struct OAuthOptions {
    std::string client_id;      // the connected app's consumer key
    std::string client_secret;  // its consumer secret
    std::string refresh_token;  // the one refresh token the mock honours
    std::string username;       // the integration user (JWT sub)
    std::string jwt_cert_path;  // PEM certificate or public key that verifies JWT assertions
    std::string audience = "https://login.salesforce.com";  // JWT aud
    bool configured() const { return !client_id.empty(); }
};

// body: the form-encoded request body; instance_url: the mock's own base URL.
HttpReply salesforce_oauth_token(std::string_view body, const OAuthOptions& options, TokenStore& tokens,
                                 const std::string& instance_url, int64_t now_s);

// Parses application/x-www-form-urlencoded text ('+' is a space); exposed for tests.
std::vector<std::pair<std::string, std::string>> parse_form(std::string_view body);

}  // namespace crmsync::mock_crm
