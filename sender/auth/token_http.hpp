// The token request over libcurl: one blocking POST on its own easy handle (logins are rare:
// at start, every ~2 h, after a 401), TLS peer and host verified, no redirects followed (a
// redirect would carry the credentials to another host), bounded by the target timeout.
#pragma once

#include <chrono>

#include "auth/salesforce_oauth.hpp"

namespace crmsync::sender::auth {

TokenPost curl_token_post(std::chrono::milliseconds timeout, std::string user_agent = "crmsync-sender");

}  // namespace crmsync::sender::auth
