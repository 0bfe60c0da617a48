// The signed assertion of Salesforce's OAuth 2.0 JWT bearer flow, built without any I/O so it
// can be checked byte for byte.
//
// Salesforce Help, "OAuth 2.0 JWT Bearer Flow for Server-to-Server Integration"
// (https://help.salesforce.com/s/articleView?id=sf.remoteaccess_oauth_jwt_flow.htm):
//   header  {"alg":"RS256"}
//   claims  iss = the connected app's consumer key, sub = the username, aud = the login URL
//           (https://login.salesforce.com, https://test.salesforce.com, or the My Domain / site
//           URL), exp = expiry in seconds since the epoch, at most 3 minutes ahead
//   base64url(header) "." base64url(claims), signed with RSA SHA-256, the signature appended as
//   "." base64url(signature); base64url without "=" padding.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/secret.hpp"

namespace crmsync::sender::auth {

// RFC 4648 section 5, without padding (as JWS requires).
std::string base64url(std::string_view bytes);

struct JwtClaims {
    std::string issuer;    // iss: consumer key
    std::string subject;   // sub: username
    std::string audience;  // aud: login URL
    std::chrono::system_clock::time_point expires;  // exp, truncated to whole seconds
};

// The longest lifetime Salesforce accepts for the assertion; using all of it tolerates the
// most clock skew between this host and Salesforce (a behind clock makes exp look past).
inline constexpr std::chrono::seconds kJwtLifetime{180};

// The unsigned part: base64url(header) "." base64url(claims JSON).
std::string jwt_signing_input(const JwtClaims& claims);

// The complete assertion. `private_key_pem` is an unencrypted PEM RSA private key (PKCS#1 or
// PKCS#8). Errors say what is wrong with the key, never its content.
Result<std::string> sign_jwt_rs256(const JwtClaims& claims, const Secret& private_key_pem);

// Whether the PEM text is an RSA private key the signer can use: for the config loader, so a
// wrong file is reported at start with its file:line:column.
Status check_rsa_private_key(const Secret& private_key_pem);

}  // namespace crmsync::sender::auth
