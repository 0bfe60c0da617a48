#include "auth/make_token_source.hpp"

#include "auth/static_token_source.hpp"

namespace crmsync::sender::auth {

std::unique_ptr<TokenSource> make_token_source(const Config& config, TokenPost post) {
    if (config.auth.method != AuthMethod::static_token)
        return std::make_unique<SalesforceOAuth>(SalesforceLogin::from(config.auth), std::move(post));
    if (!config.target.token) return std::make_unique<StaticTokenSource>();
    if (!config.target.token_file.empty())
        return std::make_unique<StaticTokenSource>(StaticTokenSource::from_file(config.target.token_file, *config.target.token));
    return std::make_unique<StaticTokenSource>(StaticTokenSource::from_environment(config.target.token_env, *config.target.token));
}

}  // namespace crmsync::sender::auth
