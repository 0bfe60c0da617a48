// The token source a loaded config asks for: the one place that maps [auth] method to a class.
//
//   auto source = auth::make_token_source(config, auth::curl_token_post(config.target.timeout));
//
// The config loader has already checked every key and loaded every secret, so this cannot fail.
#pragma once

#include <memory>

#include "auth/salesforce_oauth.hpp"
#include "auth/token_source.hpp"
#include "core/config.hpp"

namespace crmsync::sender::auth {

// `post` is used by the Salesforce methods only (static never makes a request).
std::unique_ptr<TokenSource> make_token_source(const Config& config, TokenPost post);

}  // namespace crmsync::sender::auth
